/** A tag as EC2, ELBv2, IAM and Secrets Manager spell it. */
export interface Tag {
  Key: string;
  Value: string;
}

/** Adds or overwrites tags by key, keeping first-seen order. */
export function mergeTags(existing: readonly Tag[], added: readonly { Key?: string; Value?: string }[]): Tag[] {
  const out = existing.map((t) => ({ ...t }));
  for (const tag of added) {
    if (tag.Key === undefined) continue;
    const found = out.find((t) => t.Key === tag.Key);
    if (found) found.Value = tag.Value ?? '';
    else out.push({ Key: tag.Key, Value: tag.Value ?? '' });
  }
  return out;
}

/** Removes tags by key (and by value when given). */
export function removeTags(existing: readonly Tag[], removed: readonly { Key?: string; Value?: string }[]): Tag[] {
  return existing.filter(
    (t) => !removed.some((r) => r.Key === t.Key && (r.Value === undefined || r.Value === t.Value)),
  );
}

/** The value of a tag, if present. */
export function tagValue(tags: readonly Tag[] | undefined, key: string): string | undefined {
  return tags?.find((t) => t.Key === key)?.Value;
}

/** `{ key: value }` to a tag list. */
export function tagList(record: Record<string, string>): Tag[] {
  return Object.entries(record).map(([Key, Value]) => ({ Key, Value }));
}
