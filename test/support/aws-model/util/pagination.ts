/** A page of results and the token for the next one. */
export interface Page<T> {
  items: T[];
  nextToken?: string;
}

/**
 * Offset pagination with opaque tokens. Returns undefined when `token` was not issued by
 * this function (services answer that with their own "invalid token" error).
 */
export function paginate<T>(
  items: readonly T[],
  maxResults: number | undefined,
  token: string | undefined,
  defaultPageSize: number,
): Page<T> | undefined {
  let start = 0;
  if (token !== undefined) {
    const decoded = decodeToken(token);
    if (decoded === undefined) return undefined;
    start = decoded;
  }
  const size = maxResults ?? defaultPageSize;
  const end = Math.min(items.length, start + size);
  return {
    items: items.slice(start, end),
    nextToken: end < items.length ? encodeToken(end) : undefined,
  };
}

function encodeToken(offset: number): string {
  return Buffer.from(JSON.stringify({ aws_model_offset: offset })).toString('base64');
}

function decodeToken(token: string): number | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as {
      aws_model_offset?: unknown;
    };
    return typeof parsed.aws_model_offset === 'number' ? parsed.aws_model_offset : undefined;
  } catch {
    return undefined;
  }
}
