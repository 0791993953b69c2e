import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { isIgnored, parseResponseEvent } from '../../runtime/contain/events';
import { containHandler } from '../../runtime/contain/index';
import { type ResponseWorld, ecsFindingEvent, setUpResponseWorld } from '../support/response-world';

/**
 * Issue 11 item 3: GuardDuty's API reference requires only AccountId, Arn, CreatedAt, Id,
 * Region, Resource, SchemaVersion, Severity, Type and UpdatedAt of a Finding, and no member
 * of Resource, EcsClusterDetails, EcsTaskDetails, Tag or Service (the shapes in
 * `@aws-sdk/client-guardduty`); real findings carry `null` for absent optional fields.
 * Containment validates only what decides the response. Every other field of the public ECS
 * sample, nulled or deleted one at a time, still contains the site.
 */

let world: ResponseWorld;
afterEach(() => world?.aws.restore());

/** Paths (under `detail`) containment decides on: never nulled here. */
const DECISIVE = new Set([
  'id',
  'type',
  'severity',
  'accountId',
  'region',
  'resource',
  'resource.ecsClusterDetails',
  'resource.ecsClusterDetails.arn',
  'resource.ecsClusterDetails.taskDetails',
  'resource.ecsClusterDetails.taskDetails.arn',
]);

type Path = readonly (string | number)[];

/** Every path to a value inside `value` (objects, arrays and leaves), parents first. */
function paths(value: unknown, prefix: Path = []): Path[] {
  if (value === null || typeof value !== 'object') return [];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return entries.flatMap(([key, child]) => [[...prefix, key], ...paths(child, [...prefix, key])]);
}

const text = (path: Path) => path.join('.');

/** A copy of the event with the field at `path` of its detail set to null or deleted. */
function without(event: Record<string, unknown>, path: Path, how: 'null' | 'delete'): Record<string, unknown> {
  const copy = structuredClone(event);
  let parent = copy.detail as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (how === 'null') parent[last] = null;
  else if (Array.isArray(parent)) parent.splice(last as number, 1);
  else delete parent[last];
  return copy;
}

function optionalPaths(event: Record<string, unknown>): Path[] {
  return paths(event.detail).filter((p) => !DECISIVE.has(text(p)));
}

describe('a GuardDuty ECS finding with optional fields null or absent', () => {
  it('parses: every optional field of the sample, nulled or deleted, with and without task tags (pure)', () => {
    // Prepare
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    const failures: string[] = [];
    let cases = 0;

    // Act
    for (const withTaskTags of [true, false]) {
      const event = ecsFindingEvent(world, 'acme', { withTaskTags });
      for (const path of optionalPaths(event)) {
        for (const how of ['null', 'delete'] as const) {
          cases++;
          const result = parseResponseEvent(without(event, path, how));
          if (isIgnored(result)) failures.push(`${how} ${text(path)}: ${result.code} ${result.message}`);
        }
      }
    }

    // Assess
    expect(cases).toBeGreaterThan(200);
    expect(failures).toEqual([]);
  });

  it('contains the site: each optional field nulled, then deleted, one at a time (the task tags in the finding)', async () => {
    // Prepare
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    const event = ecsFindingEvent(world, 'acme', { withTaskTags: true });
    const cases = optionalPaths(event).flatMap((path) => (['null', 'delete'] as const).map((how) => ({ path, how })));
    world.aws.restore();
    const failures: string[] = [];

    // Act
    for (const { path, how } of cases) {
      world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
      const outcome = await containHandler(without(ecsFindingEvent(world, 'acme', { withTaskTags: true }), path, how));
      const snapshot = world.aws.snapshot('acme');
      if (outcome.outcome !== 'contained' || snapshot.securityGroup.ingress.length > 0) {
        failures.push(`${how} ${text(path)}: ${outcome.outcome} ${'reason' in outcome ? outcome.reason : ''}`);
      }
      world.aws.restore();
    }

    // Assess
    expect(cases.length).toBeGreaterThan(150);
    expect(failures).toEqual([]);
  }, 120_000);

  it('contains the site with any set of optional fields nulled or deleted at once (property, 40 cases)', async () => {
    // Prepare
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    const optional = optionalPaths(ecsFindingEvent(world, 'acme', { withTaskTags: true }));
    world.aws.restore();

    // Act / Assess
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.record({ at: fc.nat(optional.length - 1), how: fc.constantFrom('null', 'delete') }), {
          selector: (c) => c.at,
          minLength: 1,
          maxLength: 12,
        }),
        fc.boolean(),
        async (changes, withTaskTags) => {
          world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
          try {
            let event = ecsFindingEvent(world, 'acme', { withTaskTags });
            // Deepest first, so that deleting an array element does not move a path still to change.
            const ordered = [...changes].sort((a, b) => (optional[b.at]?.length ?? 0) - (optional[a.at]?.length ?? 0));
            for (const { at, how } of ordered) {
              const path = optional[at] as Path;
              if (!exists(event.detail, path)) continue; // a parent was already nulled or deleted
              event = without(event, path, how as 'null' | 'delete');
            }
            const outcome = await containHandler(event);
            expect(outcome.outcome).toBe('contained');
            expect(world.aws.snapshot('acme').securityGroup.ingress).toEqual([]);
          } finally {
            world.aws.restore();
          }
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000);
});

function exists(value: unknown, path: Path): boolean {
  let node = value;
  for (const key of path) {
    if (node === null || typeof node !== 'object' || !(key in (node as object))) return false;
    node = (node as Record<string | number, unknown>)[key];
  }
  return true;
}
