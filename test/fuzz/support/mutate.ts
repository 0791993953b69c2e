/**
 * Structure-aware mutation of JSON documents for property tests: start from a valid value,
 * then remove, replace, retype or corrupt a few of its fields. Paths are picked by index into
 * the document's current list of paths, so every mutation applies to whatever is there.
 */
import fc from 'fast-check';
import { hostileJson, hostileString, nested, POLLUTION_KEYS, pollutionObject } from './hostile';
import { printable } from './json';

export type Path = readonly (string | number)[];

export type Mutation =
  | { readonly kind: 'delete'; readonly at: number; readonly focus: boolean }
  | { readonly kind: 'replace'; readonly at: number; readonly focus: boolean; readonly value: unknown }
  | { readonly kind: 'retype'; readonly at: number; readonly focus: boolean; readonly how: number }
  | {
      readonly kind: 'string';
      readonly at: number;
      readonly focus: boolean;
      readonly how: 'replace' | 'prefix' | 'suffix' | 'middle' | 'case';
      readonly text: string;
    }
  | {
      readonly kind: 'add-key';
      readonly at: number;
      readonly focus: boolean;
      readonly key: string;
      readonly value: unknown;
    }
  | { readonly kind: 'nest'; readonly at: number; readonly focus: boolean; readonly depth: number }
  | { readonly kind: 'pollute'; readonly at: number; readonly focus: boolean }
  /** Replaces a known value inside a string field by another of its group (see `swaps`). */
  | { readonly kind: 'swap'; readonly at: number; readonly focus: boolean; readonly pick: number };

export interface MutationOptions {
  /** Paths (as `a.b[0].c`) that deserve more attention: ids, ARNs, tags, names. */
  readonly focus?: readonly RegExp[];
  /**
   * Groups of interchangeable values (site ids, cells, environments, accounts...): a `swap`
   * mutation replaces one value found in a string by another of its group. This makes
   * plausible-but-wrong events, which random strings almost never are.
   */
  readonly swaps?: readonly (readonly string[])[];
  /** The largest huge string to generate. */
  readonly maxHuge?: number;
  /** The deepest nesting to generate (default 1,200, past EventBridge's 1,100 levels). */
  readonly maxNest?: number;
  readonly maxMutations?: number;
  readonly minMutations?: number;
  /** Only these kinds of mutation (default: all). */
  readonly kinds?: readonly Mutation['kind'][];
}

export function formatPath(path: Path): string {
  return path.reduce<string>(
    (acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part),
    '',
  );
}

interface PathEntry {
  readonly path: Path;
  /** The path as `a.b[0].c`, for matching focus patterns. */
  readonly text: string;
}

/** Every path inside a JSON value (not the root), parents before children. */
function listEntries(value: unknown, limit = 5_000): PathEntry[] {
  const out: PathEntry[] = [];
  const walk = (v: unknown, path: Path, text: string, depth: number) => {
    if (out.length >= limit || depth > 60 || v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length && out.length < limit; i++) {
        const entry = { path: [...path, i], text: `${text}[${i}]` };
        out.push(entry);
        walk(v[i], entry.path, entry.text, depth + 1);
      }
    } else {
      for (const key of Object.keys(v)) {
        if (out.length >= limit) break;
        const entry = { path: [...path, key], text: text ? `${text}.${key}` : key };
        out.push(entry);
        walk((v as Record<string, unknown>)[key], entry.path, entry.text, depth + 1);
      }
    }
  };
  walk(value, [], '', 0);
  return out;
}

export function listPaths(value: unknown, limit = 5_000): Path[] {
  return listEntries(value, limit).map((e) => e.path);
}

function getAt(root: unknown, path: Path): unknown {
  let v = root;
  for (const part of path) v = (v as Record<string | number, unknown>)[part];
  return v;
}

/** Sets an own property, even one called `__proto__` (plain assignment would change the prototype). */
function setOwn(target: object, key: string | number, value: unknown): void {
  if (Array.isArray(target) && typeof key === 'number') {
    target[key] = value;
    return;
  }
  Object.defineProperty(target, String(key), { value, enumerable: true, writable: true, configurable: true });
}

function setAt(root: unknown, path: Path, value: unknown): void {
  const parent = getAt(root, path.slice(0, -1)) as object;
  setOwn(parent, path[path.length - 1] as string | number, value);
}

function deleteAt(root: unknown, path: Path): void {
  const parent = getAt(root, path.slice(0, -1));
  const key = path[path.length - 1] as string | number;
  if (Array.isArray(parent) && typeof key === 'number') parent.splice(key, 1);
  else delete (parent as Record<string, unknown>)[key];
}

/** A different type for the same value. */
function retype(value: unknown, how: number): unknown {
  const options: unknown[] = [];
  if (typeof value === 'string')
    options.push(Number(value), value.length, value === '' ? false : true, [value], { value });
  else if (typeof value === 'number') options.push(String(value), [value], value === 0, null, { value });
  else if (typeof value === 'boolean') options.push(String(value), value ? 1 : 0, [value], null);
  else if (value === null || value === undefined) options.push({}, [], '', 0, 'null', null);
  else if (Array.isArray(value))
    options.push(
      Object.fromEntries(value.map((v, i) => [String(i), v])),
      value[0] ?? null,
      JSON.stringify(value),
      value.length,
      [value],
    );
  else options.push(Object.values(value as object), JSON.stringify(value), [value], '', 1);
  return options[how % options.length];
}

function deepCopy<T>(value: T): T {
  // JSON round trip keeps own `__proto__` keys as own keys (JSON.parse defines them).
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Applies mutations in order; each picks its path in the document as it is by then. */
export function applyMutations(base: unknown, mutations: readonly Mutation[], options: MutationOptions = {}): unknown {
  const holder = { root: deepCopy(base) };
  for (const m of mutations) {
    const swaps = options.swaps ?? [];
    const all =
      m.kind === 'swap'
        ? listEntries(holder.root).filter((e) => {
            const v = getAt(holder.root, e.path);
            return typeof v === 'string' && swaps.some((group) => group.some((s) => s !== '' && v.includes(s)));
          })
        : listEntries(holder.root);
    const focused = m.focus && options.focus ? all.filter((e) => options.focus?.some((re) => re.test(e.text))) : [];
    const pool = focused.length > 0 ? focused : all;
    const picked = pool.length > 0 ? pool[m.at % pool.length] : undefined;
    const path: Path = picked ? ['root', ...picked.path] : ['root'];
    const current = getAt(holder, path);
    switch (m.kind) {
      case 'delete':
        if (path.length > 1) deleteAt(holder, path);
        else holder.root = undefined;
        break;
      case 'replace':
        setAt(holder, path, m.value);
        break;
      case 'retype':
        setAt(holder, path, retype(current, m.how));
        break;
      case 'string': {
        const text = typeof current === 'string' ? current : String(JSON.stringify(current) ?? '');
        const next =
          m.how === 'replace'
            ? m.text
            : m.how === 'prefix'
              ? `${m.text}${text}`
              : m.how === 'suffix'
                ? `${text}${m.text}`
                : m.how === 'middle'
                  ? `${text.slice(0, text.length >> 1)}${m.text}${text.slice(text.length >> 1)}`
                  : m.how === 'case'
                    ? text.toUpperCase()
                    : swaps.length > 0
                      ? swapOne(text, swaps, m.text.length)
                      : text;
        setAt(holder, path, next);
        break;
      }
      case 'add-key':
        if (current !== null && typeof current === 'object' && !Array.isArray(current)) setOwn(current, m.key, m.value);
        else if (Array.isArray(current)) current.push(m.value);
        else setAt(holder, path, { [m.key]: m.value });
        break;
      case 'nest':
        setAt(holder, path, nested(current, m.depth, m.depth % 2 === 0 ? 'array' : 'object'));
        break;
      case 'swap':
        if (typeof current === 'string') setAt(holder, path, swapOne(current, swaps, m.pick));
        break;
      case 'pollute': {
        const target = current !== null && typeof current === 'object' ? current : holder.root;
        if (target !== null && typeof target === 'object' && !Array.isArray(target)) {
          for (const [k, v] of Object.entries(pollutionObject() as object)) setOwn(target, k, v);
        } else setAt(holder, path, pollutionObject());
        break;
      }
    }
  }
  return holder.root;
}

/** Replaces one of the known values found in `text` by another of its group (a neighbour's id, say). */
function swapOne(text: string, groups: readonly (readonly string[])[], pick: number): string {
  const present = groups.flatMap((group) =>
    group.filter((v) => v !== '' && text.includes(v)).map((v) => ({ v, group })),
  );
  if (present.length === 0) return text;
  const { v: from, group } = present[pick % present.length] as { v: string; group: readonly string[] };
  const to = group[(group.indexOf(from) + 1 + pick) % group.length] as string;
  return to === from ? text : text.split(from).join(to);
}

export function mutationArb(options: MutationOptions = {}): fc.Arbitrary<Mutation> {
  const at = fc.nat({ max: 10_000 });
  const focus = fc.boolean();
  const text = hostileString({ maxHuge: options.maxHuge });
  const value = hostileJson({ maxHuge: options.maxHuge, maxNest: options.maxNest });
  const all: { arbitrary: fc.Arbitrary<Mutation>; weight: number; kind: Mutation['kind'] }[] = [
    { kind: 'delete', arbitrary: fc.record({ kind: fc.constant('delete' as const), at, focus }), weight: 3 },
    { kind: 'replace', arbitrary: fc.record({ kind: fc.constant('replace' as const), at, focus, value }), weight: 3 },
    {
      kind: 'retype',
      arbitrary: fc.record({ kind: fc.constant('retype' as const), at, focus, how: fc.nat({ max: 20 }) }),
      weight: 2,
    },
    {
      kind: 'string',
      arbitrary: fc.record({
        kind: fc.constant('string' as const),
        at,
        focus,
        how: fc.constantFrom(
          'replace' as const,
          'prefix' as const,
          'suffix' as const,
          'middle' as const,
          'case' as const,
        ),
        text,
      }),
      weight: 5,
    },
    {
      kind: 'add-key',
      arbitrary: fc.record({
        kind: fc.constant('add-key' as const),
        at,
        focus,
        key: fc.oneof(fc.constantFrom(...POLLUTION_KEYS), fc.string({ maxLength: 12 })),
        value,
      }),
      weight: 1,
    },
    {
      kind: 'nest',
      arbitrary: fc.record({
        kind: fc.constant('nest' as const),
        at,
        focus,
        depth: fc.integer({ min: 1, max: options.maxNest ?? 1_200 }),
      }),
      weight: 1,
    },
    { kind: 'pollute', arbitrary: fc.record({ kind: fc.constant('pollute' as const), at, focus }), weight: 1 },
    {
      kind: 'swap',
      arbitrary: fc.record({ kind: fc.constant('swap' as const), at, focus, pick: fc.nat({ max: 1_000 }) }),
      weight: options.swaps && options.swaps.length > 0 ? 5 : 0,
    },
  ];
  const chosen = all.filter((a) => a.weight > 0 && (!options.kinds || options.kinds.includes(a.kind)));
  return fc.oneof(...chosen.map(({ arbitrary, weight }) => ({ arbitrary, weight })));
}

export interface Mutated<B> {
  readonly base: B;
  readonly mutations: readonly Mutation[];
  readonly value: unknown;
}

/** A base picked from `bases`, with 0..maxMutations mutations applied. */
export function mutatedArb<B>(
  bases: readonly B[],
  options: MutationOptions & { toValue?: (b: B) => unknown } = {},
): fc.Arbitrary<Mutated<B>> {
  const toValue = Object.hasOwn(options, 'toValue') && options.toValue ? options.toValue : (b: B) => b;
  return fc
    .tuple(
      fc.constantFrom(...bases),
      fc.array(mutationArb(options), { minLength: options.minMutations ?? 0, maxLength: options.maxMutations ?? 3 }),
    )
    .map(([base, mutations]) =>
      printable({ base, mutations, value: applyMutations(toValue(base), mutations, options) }, (m) => ({
        base: (m.base as { name?: unknown })?.name ?? m.base,
        mutations: m.mutations,
        value: m.value,
      })),
    );
}
