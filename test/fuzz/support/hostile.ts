/**
 * Hostile values for the fuzz and injection tests: strings that break naive parsers, quoting,
 * ARNs, paths and logs; keys that pollute prototypes; huge and deeply nested values.
 */
import fc from 'fast-check';

/** Strings worth trying in every id, ARN, tag, name and free-text field. */
export const HOSTILE_STRINGS: readonly string[] = [
  '',
  ' ',
  '\t',
  '\n',
  '\r\n',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  '\u202e',
  '\u200b',
  '\ufeff',
  'аcme', // Cyrillic а
  'ａｃｍｅ', // fullwidth
  'ACME',
  ' acme',
  'acme ',
  '..',
  '../',
  '../../etc/passwd',
  '..%2f..%2f',
  '%00',
  '%',
  '_',
  '*',
  '?',
  ':',
  '/',
  '\\',
  '#',
  // A CloudFormation substitution and a dynamic reference (built so the linter sees no template slip).
  ['$', '{AWS::AccountId}'].join(''),
  '{{resolve:secretsmanager:x}}',
  "'",
  '"',
  '`',
  "'; DROP DATABASE x; --",
  '" OR "1"="1',
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '&amp;&lt;',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'NaN',
  'null',
  'undefined',
  'true',
  '0',
  '-1',
  '1e400',
  '9'.repeat(400),
  'arn:aws:ecs:eu-west-1:123456789012:cluster/../other',
  'arn:aws:ecs:*:*:cluster/*',
  'arn:aws:iam::123456789012:role/*',
  'bulkhead:site',
  'bulkhead-test-',
  'bulkhead-test--error-rate',
  'bulkhead.test..error-rate',
  'bulkhead.test.acme.error-rate.egress',
  'sha256:' + '0'.repeat(64),
  'ALARM',
  'OK',
  'ECSCluster',
  'aws.guardduty',
  'GuardDuty Finding',
  'bulkhead.drill',
];

/** Lengths of the huge strings: past DynamoDB's 1 KB key limit, and larger. */
export const HUGE_LENGTHS = [1_100, 20_000, 70_000] as const;

/**
 * Any code point (lone surrogates included), weighted towards ASCII. Cheaper than fast-check's
 * `unit: 'binary'`, which builds a reverse map of all 1.1 million code points per instance.
 */
const anyCodePoint = fc
  .oneof(
    { arbitrary: fc.integer({ min: 0, max: 0x7f }), weight: 4 },
    { arbitrary: fc.integer({ min: 0x80, max: 0xffff }), weight: 2 },
    { arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }), weight: 1 },
  )
  .map((cp) => String.fromCodePoint(cp));

/** A string: one of the hostile constants, random unicode, random binary, or a huge one. */
export function hostileString(options: { maxHuge?: number } = {}): fc.Arbitrary<string> {
  const maxHuge = options.maxHuge ?? 70_000;
  const lengths = HUGE_LENGTHS.filter((n) => n <= maxHuge);
  return fc.oneof(
    { arbitrary: fc.constantFrom(...HOSTILE_STRINGS), weight: 6 },
    { arbitrary: fc.string({ unit: anyCodePoint, maxLength: 40 }), weight: 3 },
    { arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 40 }), weight: 2 },
    { arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 300 }), weight: 1 },
    {
      arbitrary: fc
        .tuple(fc.constantFrom(...lengths), fc.constantFrom('x', 'é', '\u0000', 'a/', '😀', "'"))
        .map(([n, c]) => c.repeat(Math.ceil(n / c.length))),
      weight: lengths.length > 0 ? 1 : 0,
    },
  );
}

/** Keys that mean something to JavaScript objects. */
export const POLLUTION_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty'];

/** An object whose own keys try to pollute Object.prototype when merged or copied naively. */
export function pollutionObject(): unknown {
  return JSON.parse(
    '{"__proto__":{"polluted":"yes","isAdmin":true},"constructor":{"prototype":{"polluted":"yes"}},"prototype":{"polluted":"yes"}}',
  );
}

/** `value` wrapped in `depth` levels of arrays or objects. */
export function nested(value: unknown, depth: number, kind: 'array' | 'object'): unknown {
  let out = value;
  for (let i = 0; i < depth; i++) out = kind === 'array' ? [out] : { a: out };
  return out;
}

/** Any JSON value, hostile strings included, with the occasional pollution object or deep nesting. */
export function hostileJson(options: { maxHuge?: number; maxNest?: number } = {}): fc.Arbitrary<unknown> {
  const maxNest = options.maxNest ?? 1_500;
  const leaf = fc.oneof(
    { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 6 },
    { arbitrary: hostileString(options), weight: 4 },
    { arbitrary: fc.constantFrom(0, -0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, 7, 10, 11), weight: 2 },
    { arbitrary: fc.constant(null).map(() => pollutionObject()), weight: 1 },
  );
  return fc.oneof(
    { arbitrary: leaf, weight: 12 },
    {
      arbitrary: fc
        .tuple(
          leaf,
          fc.integer({ min: Math.min(50, maxNest), max: maxNest }),
          fc.constantFrom('array' as const, 'object' as const),
        )
        .map(([v, d, k]) => nested(v, d, k)),
      weight: 1,
    },
  );
}

/** What Object.prototype and Array.prototype look like now (to prove a run polluted nothing). */
export function prototypeFingerprint(): string {
  const describe = (o: object) =>
    Object.getOwnPropertyNames(o)
      .sort()
      .map((k) => `${k}:${typeof (o as Record<string, unknown>)[k]}`)
      .join(',');
  return `${describe(Object.prototype)}|${describe(Array.prototype)}|${String(({} as Record<string, unknown>).polluted)}`;
}
