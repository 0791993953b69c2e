/**
 * Wildcard matching the audit needs: IAM patterns (`*` any run, `?` one character), MySQL
 * GRANT database patterns (`%`, `_`, backslash escapes) and directory overlap. Pure.
 */

/**
 * In the ARN of a resource (never in a policy), a run of unknown characters within one ARN
 * field: anything but `:` (a region, an account, a log stream or secret name).
 */
export const SEGMENT = '\u0001';

function isWild(c: string | undefined): boolean {
  return c === '*' || c === '?' || c === SEGMENT;
}

function hasWild(text: string): boolean {
  return text.includes('*') || text.includes('?') || text.includes(SEGMENT);
}

/**
 * Whether some string matches both IAM-style patterns `a` and `b` (either may hold `*` and
 * `?`, and `b` also {@link SEGMENT}). Used to ask "could this policy resource name that
 * resource", where the resource's own ARN may have unknown parts (a secret's random suffix, a
 * log stream).
 */
export function patternsIntersect(a: string, b: string): boolean {
  // Literal prefix and suffix first: most pairs differ there and never reach the search.
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length && !isWild(a[i]) && !isWild(b[j])) {
    if (a[i] !== b[j]) return false;
    i++;
    j++;
  }
  let n = a.length;
  let m = b.length;
  while (n > i && m > j && !isWild(a[n - 1]) && !isWild(b[m - 1])) {
    if (a[n - 1] !== b[m - 1]) return false;
    n--;
    m--;
  }
  const x = a.slice(i, n);
  const y = b.slice(j, m);
  if (!hasWild(x) && !hasWild(y)) return x === y;
  if (!hasWild(y)) return patternMatches(x, y);
  return intersectSearch(x, y);
}

/** Product-automaton search: is there a path from (0,0) to (|x|,|y|)? */
function intersectSearch(x: string, y: string): boolean {
  const width = y.length + 1;
  const seen = new Uint8Array((x.length + 1) * width);
  const stack: number[] = [0];
  seen[0] = 1;
  const push = (i: number, j: number) => {
    const k = i * width + j;
    if (!seen[k]) {
      seen[k] = 1;
      stack.push(k);
    }
  };
  while (stack.length > 0) {
    const k = stack.pop() as number;
    const i = Math.floor(k / width);
    const j = k % width;
    if (i === x.length && j === y.length) return true;
    const ci = x[i];
    const cj = y[j];
    if (ci === '*') push(i + 1, j);
    if (cj === '*' || cj === SEGMENT) push(i, j + 1);
    if (ci === undefined || cj === undefined) continue;
    // Consume one character on both sides: a literal of one must be taken by the other.
    const star = (c: string) => c === '*' || c === SEGMENT;
    const literal = (c: string) => !star(c) && c !== '?';
    if (literal(ci) && literal(cj) && ci !== cj) continue;
    if (cj === SEGMENT && ci === ':') continue;
    const ni = star(ci) ? i : i + 1;
    const nj = star(cj) ? j : j + 1;
    if (ni !== i || nj !== j) push(ni, nj);
  }
  return false;
}

/** Whether `text` (taken literally) matches the IAM-style `pattern`. */
export function patternMatches(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    const c = pattern[p];
    if (c === '?' || (c !== undefined && c !== '*' && c === text[t])) {
      p++;
      t++;
    } else if (c === '*') {
      star = p++;
      mark = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/** Case-insensitive {@link patternMatches}, for IAM actions and condition operators. */
export function patternMatchesIgnoringCase(pattern: string, text: string): boolean {
  return patternMatches(pattern.toLowerCase(), text.toLowerCase());
}

/**
 * Whether a MySQL GRANT database pattern matches a schema name: `%` any run, `_` one
 * character, a backslash makes the next character literal.
 */
export function mysqlPatternMatches(pattern: string, name: string): boolean {
  const tokens: { literal?: string; any?: boolean; one?: boolean }[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\' && i + 1 < pattern.length) tokens.push({ literal: pattern[++i] as string });
    else if (c === '%') tokens.push({ any: true });
    else if (c === '_') tokens.push({ one: true });
    else tokens.push({ literal: c });
  }
  const memo = new Map<string, boolean>();
  const match = (ti: number, ni: number): boolean => {
    const key = `${ti}:${ni}`;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    const token = tokens[ti];
    if (!token) result = ni === name.length;
    else if (token.any) result = match(ti + 1, ni) || (ni < name.length && match(ti, ni + 1));
    else if (ni >= name.length) result = false;
    else if (token.one) result = match(ti + 1, ni + 1);
    else result = token.literal === name[ni] && match(ti + 1, ni + 1);
    memo.set(key, result);
    return result;
  };
  return match(0, 0);
}

/** Whether a MySQL pattern holds an unescaped wildcard. */
export function hasMysqlWildcard(pattern: string): boolean {
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] === '\\') i++;
    else if (pattern[i] === '%' || pattern[i] === '_') return true;
  }
  return false;
}

/** `/sites//a/./` → `/sites/a`. */
export function normalizeDirectory(path: string): string {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  const out: string[] = [];
  for (const part of parts) {
    if (part === '..') out.pop();
    else out.push(part);
  }
  return `/${out.join('/')}`;
}

/** Whether one directory is the other or lies inside it. */
export function directoriesOverlap(a: string, b: string): boolean {
  const x = normalizeDirectory(a);
  const y = normalizeDirectory(b);
  const inside = (inner: string, outer: string) => outer === '/' || inner === outer || inner.startsWith(`${outer}/`);
  return inside(x, y) || inside(y, x);
}

/** The part of a pattern before its first wildcard. */
function literalPrefix(pattern: string): string {
  let i = 0;
  while (i < pattern.length && !isWild(pattern[i])) i++;
  return pattern.slice(0, i);
}

/**
 * Patterns (resource ARNs) indexed by their literal prefix, so that a query pattern is only
 * compared with those whose prefix is compatible with its own: one of the two prefixes must
 * start with the other. Keeps a large fleet from comparing every statement with every ARN.
 */
export class PatternIndex<T> {
  private readonly byPrefix = new Map<string, { pattern: string; value: T }[]>();
  private sorted: string[] | undefined;
  /** Answers already given (a fleet asks the same pattern once per site). */
  private readonly answers = new Map<string, T[]>();

  add(pattern: string, value: T): void {
    const prefix = literalPrefix(pattern);
    const list = this.byPrefix.get(prefix);
    if (list) list.push({ pattern, value });
    else this.byPrefix.set(prefix, [{ pattern, value }]);
    this.sorted = undefined;
    this.answers.clear();
  }

  /** Every value whose pattern intersects `pattern`. */
  query(pattern: string): T[] {
    const known = this.answers.get(pattern);
    if (known) return known;
    const found = this.search(pattern);
    this.answers.set(pattern, found);
    return found;
  }

  private search(pattern: string): T[] {
    const prefix = literalPrefix(pattern);
    const sorted = (this.sorted ??= [...this.byPrefix.keys()].sort());
    const candidates: string[] = [];
    // Indexed prefixes that are a prefix of the query's (including the empty one).
    for (let k = 0; k < prefix.length; k++)
      if (this.byPrefix.has(prefix.slice(0, k))) candidates.push(prefix.slice(0, k));
    // Indexed prefixes that start with the query's (a contiguous run of the sorted keys).
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((sorted[mid] as string) < prefix) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < sorted.length && (sorted[i] as string).startsWith(prefix); i++)
      candidates.push(sorted[i] as string);
    const out: T[] = [];
    for (const key of candidates) {
      for (const { pattern: indexed, value } of this.byPrefix.get(key) ?? []) {
        if (patternsIntersect(pattern, indexed)) out.push(value);
      }
    }
    return out;
  }
}
