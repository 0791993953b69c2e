import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { isFargateSize } from '../../infra/config/fargate';
import { type FleetConfig, FleetConfigError, parseFleet } from '../../infra/config/load-fleet';
import { LIMITS, SITE_ID_PATTERN } from '../../infra/config/fleet-schema';
import { hostileJson, prototypeFingerprint } from './support/hostile';
import { preview, printable } from './support/json';
import { mutatedArb } from './support/mutate';

/**
 * Property tests of the fleet file parser (`parseFleet(text, file)`, infra/config/load-fleet.ts).
 * Whatever the text, it either returns a fleet that keeps every documented invariant, or
 * throws a FleetConfigError whose problems say where (a path inside the file or a line).
 *
 * parseFleet costs about 2 ms on the example fleet (most of it the yaml package's parse), and
 * generating a mutated example and stringifying it about as much again, so the example-based
 * properties run 1,200 (structured, about 4 s) and 1,000 (text, about 3 s) cases; the small
 * random documents run 10,000 cases in about 4 s. See docs/hostile-input.md for timings.
 */

const FILE = 'fleet.yaml';
const EXAMPLE_TEXT = readFileSync('config/example.yaml', 'utf8');
const EXAMPLE = parse(EXAMPLE_TEXT) as Record<string, unknown>;

const STRUCTURED_RUNS = 1_200;
const TEXT_RUNS = 1_000;
const RANDOM_RUNS = 10_000;
/**
 * Nesting depth in the generated documents. The yaml package parses nested block mappings in
 * quadratic time (600 levels: ~0.4 s) and overflows the stack past ~1,000 levels (reported as
 * "not valid YAML", see the deep-nesting test below), so the properties stay shallow.
 */
const MAX_NEST = 40;

/** The only problem allowed without a path or a line: the whole file is not a mapping. */
const WHOLE_FILE = /must be a YAML mapping/;

function checkedParse(text: string): FleetConfig | FleetConfigError {
  const prototypes = prototypeFingerprint();
  let result: FleetConfig | FleetConfigError;
  try {
    result = parseFleet(text, FILE);
  } catch (error) {
    if (!(error instanceof FleetConfigError)) {
      throw new Error(
        `parseFleet threw ${(error as Error)?.name}: ${(error as Error)?.message} (not a FleetConfigError) for ${preview(text, 600)}`,
      );
    }
    result = error;
  }
  expect(prototypeFingerprint()).toBe(prototypes);
  if (result instanceof FleetConfigError) expectLocatedProblems(result, text);
  else expectInvariants(result);
  return result;
}

function expectLocatedProblems(error: FleetConfigError, text: string): void {
  expect(error.file).toBe(FILE);
  expect(error.message.startsWith(`${FILE}: `)).toBe(true);
  expect(error.problems.length).toBeGreaterThan(0);
  const lines = text.split(/\r\n|\r|\n/).length;
  for (const p of error.problems) {
    expect(typeof p.path).toBe('string');
    expect(p.message.trim().length).toBeGreaterThan(5);
    if (p.line !== undefined) {
      expect(Number.isInteger(p.line) && p.line >= 1 && p.line <= lines + 1, `line ${p.line} of ${lines}`).toBe(true);
    }
  }
  const located = error.problems.some((p) => p.path !== '' || (p.line ?? 0) >= 1 || WHOLE_FILE.test(p.message));
  expect(located, `no problem names a path or line: ${error.message.slice(0, 500)}`).toBe(true);
}

/** What an accepted fleet guarantees to the stacks built from it. */
function expectInvariants(fleet: FleetConfig): void {
  expect(fleet.sites.length).toBeGreaterThan(0);
  const ids = fleet.sites.map((s) => s.id);
  expect(new Set(ids).size).toBe(ids.length);
  const domains = fleet.sites.flatMap((s) => s.domains);
  expect(new Set(domains).size).toBe(domains.length);
  for (const site of fleet.sites) {
    expect(site.id).toMatch(SITE_ID_PATTERN);
    expect(site.database).toEqual({
      schema: `wp_${site.id.replaceAll('-', '_')}`,
      user: `site_${site.id.replaceAll('-', '_')}`,
    });
    expect(isFargateSize(site.cpu, site.memory)).toBe(true);
    expect(site.image.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(site.image.uri).toBe(`${site.image.repository}@${site.image.digest}`);
    expect(site.listenerPriority).toBeGreaterThanOrEqual(1);
    expect(site.listenerPriority).toBeLessThanOrEqual(LIMITS.maxListenerPriority);
    expect(fleet.cells.some((c) => c.id === site.cell && c.siteIds.includes(site.id))).toBe(true);
    expect(site.subnetCidrs.length).toBe(fleet.network.maxAzs);
  }
  for (const cell of fleet.cells) {
    expect(cell.siteIds.length).toBeLessThanOrEqual(fleet.cellSize);
    const priorities = fleet.sites.filter((s) => s.cell === cell.id).map((s) => s.listenerPriority);
    expect(new Set(priorities).size).toBe(priorities.length);
  }
  const posix = fleet.sites.map((s) => s.uploadsPosixId);
  expect(new Set(posix).size).toBe(posix.length);
  const own = fleet.sites.flatMap((s) => s.subnetCidrs);
  expect(new Set(own).size).toBe(own.length);
}

const FLEET_FOCUS = [
  /^(environment|account|region|containerPort|cellSize)$/,
  /^network(\.(cidr|maxAzs|strictSubnetPrefix|availabilityZones))?/,
  /^cells(\[\d+\](\.(id|certificateArn))?)?$/,
  /^operators/,
  /^defaults/,
  /^sites(\[\d+\])?$/,
  /^sites\[\d+\]\.(id|cell|domains|image|contact|cpu|memory|isolation|subnetSlot|listenerPriority|uploadsPosixId|response)/,
];

const FLEET_SWAPS = [
  ['acme-shop', 'bakery', 'clinic', 'dentist', 'Acme-Shop', 'acme_shop'],
  ['blue', 'green', 'red'],
  ['standard', 'strict'],
  ['contain', 'shed', 'notify'],
  ['111122223333', '444455556666'],
  ['eu-west-1', 'us-east-1', 'eu-west-1a'],
  ['shop.acme.example', 'bakery.example', 'clinic.example', '*.acme.example'],
  ['10.40.0.0/16', '10.40.0.0/8', '10.40.0.0/28', '256.0.0.0/16'],
];

/** Text-level damage: YAML syntax characters, anchors and aliases, tags, indentation, lines. */
const YAML_TOKENS = [
  ':',
  ': ',
  '- ',
  '-',
  '[',
  ']',
  '{',
  '}',
  ',',
  '#',
  '&a ',
  '*a',
  ' *nowhere',
  '\nextra: *nowhere\n',
  '*b',
  '&b [*a, *a] ',
  '<<: ',
  '!!binary ',
  '!!str ',
  '!!int ',
  '!!float ',
  '!!set ',
  '!!omap ',
  '!foo ',
  '? ',
  '|',
  '>',
  '"',
  "'",
  '\\',
  '`',
  '@',
  '%',
  '\t',
  '\n',
  '\r',
  '\n  ',
  '\n    - ',
  '---\n',
  '...\n',
  '%YAML 1.1\n',
  '\u0000',
  '\ufeff',
  '__proto__: ',
  'constructor: ',
  'environment: ',
  'sites: ',
  '0x1F',
  '1e9999',
  '.nan',
  'null',
  '~',
  'yes',
];

/** YAML text for a value; JSON (also YAML) when the yaml package cannot stringify it (deep nesting). */
function toYaml(value: unknown, collectionStyle: 'any' | 'flow'): string {
  try {
    return stringify(value, { collectionStyle, aliasDuplicateObjects: false });
  } catch {
    return JSON.stringify(value) ?? 'null';
  }
}

interface TextEdit {
  readonly at: number;
  readonly remove: number;
  readonly insert: string;
}

function applyEdits(text: string, edits: readonly TextEdit[]): string {
  let out = text;
  for (const e of edits) {
    const at = e.at % (out.length + 1);
    out = `${out.slice(0, at)}${e.insert}${out.slice(at + e.remove)}`;
  }
  return out;
}

const textEdit: fc.Arbitrary<TextEdit> = fc.record({
  at: fc.nat({ max: 100_000 }),
  remove: fc.oneof({ arbitrary: fc.constant(0), weight: 3 }, { arbitrary: fc.nat({ max: 40 }), weight: 1 }),
  insert: fc.oneof(
    { arbitrary: fc.constantFrom(...YAML_TOKENS), weight: 6 },
    // An alias in a value position (a new top-level key), which the tokens rarely make.
    { arbitrary: fc.constantFrom('\nextra: *nowhere\n', '\nextra: &x [*x]\n'), weight: 4 },
    { arbitrary: fc.string({ maxLength: 12 }), weight: 2 },
    { arbitrary: fc.constant(''), weight: 1 },
  ),
});

describe('parseFleet: a fleet or a located FleetConfigError, never anything else', () => {
  it('sanity: the example fleet parses, and passes the invariants', () => {
    expect(checkedParse(EXAMPLE_TEXT)).not.toBeInstanceOf(FleetConfigError);
  });

  it('structured mutations of config/example.yaml (fields removed, replaced, retyped, swapped; hostile strings; __proto__ keys; deep nesting), re-stringified as YAML or JSON: 1,200 cases', () => {
    // Prepare
    const documents = fc
      .tuple(
        mutatedArb([EXAMPLE], {
          focus: FLEET_FOCUS,
          swaps: FLEET_SWAPS,
          maxMutations: 4,
          maxHuge: 20_000,
          maxNest: MAX_NEST,
        }),
        fc.constantFrom('yaml' as const, 'json' as const, 'flow' as const),
      )
      .map(([m, format]) => {
        const text =
          format === 'json'
            ? (JSON.stringify(m.value, null, 2) ?? '')
            : toYaml(m.value, format === 'flow' ? 'flow' : 'any');
        return printable({ text, mutations: m.mutations }, (d) => ({ mutations: d.mutations, text: d.text }));
      });

    // Act / Assess
    fc.assert(
      fc.property(documents, (d) => {
        checkedParse(d.text);
      }),
      { numRuns: STRUCTURED_RUNS },
    );
  });

  it('random documents (any JSON value as YAML or JSON, hostile strings, deep nesting): 10,000 cases', () => {
    const documents = fc
      .tuple(hostileJson({ maxHuge: 20_000, maxNest: MAX_NEST }), fc.boolean())
      .map(([value, asJson]) => (asJson ? (JSON.stringify(value) ?? 'null') : toYaml(value, 'any')));
    fc.assert(
      fc.property(documents, (text) => {
        checkedParse(text);
      }),
      { numRuns: RANDOM_RUNS },
    );
  });

  /**
   * Found by this property: `*a` before any `&a` (an unresolved alias) and aliases that expand
   * past the yaml package's limit (a "billion laughs" file) make `doc.toJS()` throw a
   * ReferenceError; parseFleet only turns `doc.errors` into problems, so the ReferenceError
   * escapes. The two regressions below pin both.
   */
  it('text mutations of config/example.yaml (YAML syntax, anchors, aliases, tags, indentation): 1,000 cases', () => {
    const documents = fc
      .array(textEdit, { minLength: 1, maxLength: 4 })
      .map((edits) => printable({ text: applyEdits(EXAMPLE_TEXT, edits), edits }, (d) => ({ edits: d.edits })));
    fc.assert(
      fc.property(documents, (d) => {
        checkedParse(d.text);
      }),
      { numRuns: TEXT_RUNS },
    );
  });

  it('a fleet file nested 500 levels deep (block mappings, flow sequences) is a located FleetConfigError within a second', () => {
    for (const text of [
      `sites:\n${Array.from({ length: 500 }, (_, i) => `${'  '.repeat(i + 1)}a:`).join('\n')} x\n`,
      `sites: ${'['.repeat(500)}x${']'.repeat(500)}\n`,
    ]) {
      const started = Date.now();
      expect(checkedParse(text)).toBeInstanceOf(FleetConfigError);
      expect(Date.now() - started).toBeLessThan(1_000);
    }
  });

  it('an alias without its anchor is a FleetConfigError that names the line', () => {
    // Act
    const result = (() => {
      try {
        return parseFleet(`${EXAMPLE_TEXT}\nextra: *nowhere\n`, FILE);
      } catch (error) {
        return error;
      }
    })();

    // Assess
    expect(result).toBeInstanceOf(FleetConfigError);
    expect((result as FleetConfigError).problems[0]?.line).toBe(EXAMPLE_TEXT.split('\n').length + 1);
  });

  it('an alias bomb (billion laughs) is a FleetConfigError, not a ReferenceError', () => {
    // Prepare
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]',
      'e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]',
    ].join('\n');

    // Act
    const result = (() => {
      try {
        return parseFleet(bomb, FILE);
      } catch (error) {
        return error;
      }
    })();

    // Assess
    expect((result as Error).name).toBe('FleetConfigError');
    expect((result as FleetConfigError).problems.length).toBeGreaterThan(0);
  });
});
