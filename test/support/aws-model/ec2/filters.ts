import type { Filter } from '@aws-sdk/client-ec2';
import type { Tag } from '../util/tags';

/**
 * Values a resource exposes for one filter name, or `undefined` when the resource type
 * does not support that filter (EC2 then answers `InvalidParameterValue`).
 */
export type FilterResolver = (name: string) => readonly (string | undefined)[] | undefined;

/** EC2 filter values may use `*` (any run) and `?` (one character). */
function wildcard(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped.replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}

/**
 * EC2 filter semantics: every filter must match (AND); within a filter any value may match
 * (OR). Returns the first unsupported filter name instead of a boolean when there is one.
 */
export function matchesFilters(
  filters: readonly Filter[] | undefined,
  resolve: FilterResolver,
): boolean | { unsupported: string } {
  for (const filter of filters ?? []) {
    const name = filter.Name ?? '';
    const have = resolve(name);
    if (have === undefined) return { unsupported: name };
    const wanted = (filter.Values ?? []).map(wildcard);
    if (!have.some((v) => v !== undefined && wanted.some((w) => w.test(v)))) return false;
  }
  return true;
}

/** Resolves `tag:<key>`, `tag-key` and `tag-value`; undefined for other names. */
export function tagFilter(name: string, tags: readonly Tag[]): string[] | undefined {
  if (name.startsWith('tag:')) {
    const key = name.slice(4);
    return tags.filter((t) => t.Key === key).map((t) => t.Value);
  }
  if (name === 'tag-key') return tags.map((t) => t.Key);
  if (name === 'tag-value') return tags.map((t) => t.Value);
  return undefined;
}
