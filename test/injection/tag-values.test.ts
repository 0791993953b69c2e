import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { containHandler } from '../../runtime/contain/index';
import { ecsFindingEvent, type ResponseWorld } from '../support/response-world';
import { fuzzWorld } from '../fuzz/support/contain-world';
import { prototypeFingerprint } from '../fuzz/support/hostile';
import { expectCleanSinks } from './support/sinks';

/**
 * Sink: tag values. Containment reads the `bulkhead:*` tags of the task a finding names,
 * from the finding itself (the fast path) or from ecs:DescribeTasks, and turns them into the
 * site id and hints (security group id, policy, threshold, isolation). A hostile value must
 * never become a site id, never widen an EC2 filter, never reach another call, and never
 * pollute an object; a malformed hint is dropped and the site record decides. Tag keys and
 * values are attacker-shaped here only in the sense that a finding (or a drill, which anyone
 * with events:PutEvents on the bus can send) carries them verbatim.
 *
 * (A well-formed hint that contradicts the record is a different problem, a known bug: see
 * the stale-hint tests in test/fuzz/contain-handler.test.ts.)
 */

type Tag = { key: string; value: string };

let world: ResponseWorld;
beforeEach(() => {
  world = fuzzWorld();
});
afterEach(() => world.aws.restore());

function tagsOf(event: Record<string, unknown>): Tag[] {
  return (event.detail as { resource: { ecsClusterDetails: { taskDetails: { tags: Tag[] } } } }).resource
    .ecsClusterDetails.taskDetails.tags;
}

function withTag(tags: Tag[], key: string, value: string): void {
  const existing = tags.find((t) => t.key === key);
  if (existing) existing.value = value;
  else tags.push({ key, value });
}

/** Malformed hints: dropped, so the record decides (acme: contain, threshold 7, standard). */
const MALFORMED_HINTS: [string, string][] = [
  ['bulkhead:response-policy', 'contain; shed'],
  ['bulkhead:response-policy', 'CONTAIN'],
  ['bulkhead:response-policy', '__proto__'],
  ['bulkhead:severity-threshold', '1e400'],
  ['bulkhead:severity-threshold', '-1'],
  ['bulkhead:severity-threshold', 'NaN'],
  ['bulkhead:severity-threshold', 'Infinity'],
  ['bulkhead:severity-threshold', '7; DROP'],
  ['bulkhead:isolation', 'STRICT'],
  ['bulkhead:isolation', 'standard '],
  ['bulkhead:isolation', '*'],
  ['bulkhead:security-group', 'sg-*'],
  ['bulkhead:security-group', 'sg-0123456789abcdef0 OR 1=1'],
  ['bulkhead:security-group', 'sg-0123456789abcdef0,sg-0fedcba9876543210'],
  ['bulkhead:security-group', 'sg-../../x'],
  ['bulkhead:security-group', 'SG-0123456789ABCDEF0'],
];

/**
 * The value, if it could not appear in a call for another reason (`CONTAIN` is in CONTAINED,
 * `-1` in every timestamp, `*` in the session-revocation policy).
 */
function distinctive(value: string): string[] {
  return value.length >= 4 && !['CONTAIN', 'NaN'].includes(value) ? [value] : [];
}

describe('tag values on the fast path (tags in the finding)', () => {
  it.each(MALFORMED_HINTS)(
    '%s=%j: the hint is dropped, the record decides, the value goes nowhere',
    async (key, value) => {
      // Prepare
      const event = ecsFindingEvent(world, 'acme', { withTaskTags: true });
      withTag(tagsOf(event), key, value);

      // Act
      const outcome = await containHandler(event);

      // Assess
      expect(outcome).toMatchObject({ outcome: 'contained', site: 'acme' });
      expect(world.aws.snapshot('acme').securityGroup.ingress).toEqual([]);
      expectCleanSinks(world.aws.calls.all(), 'test', distinctive(value));
    },
  );

  it.each([
    ['bulkhead:env', 'test*'],
    ['bulkhead:env', 'TEST'],
    ['bulkhead:env', 'test '],
    ['bulkhead:env', ''],
    ['bulkhead:site', ''],
    ['bulkhead:site', 'acme\nbakery'],
  ])('%s=%j: not a task of this environment’s sites, nothing changes', async (key, value) => {
    const event = ecsFindingEvent(world, 'acme', { withTaskTags: true });
    withTag(tagsOf(event), key, value);

    const outcome = await containHandler(event);

    expect(outcome).toMatchObject({ outcome: 'ignored', code: 'untagged-task' });
    expect(world.aws.mutatingCalls()).toEqual([]);
    expectCleanSinks(world.aws.calls.all(), 'test');
  });

  it('two bulkhead:site tags (acme, then bakery) on acme’s task: the service group check refuses it, nothing changes', async () => {
    const event = ecsFindingEvent(world, 'acme', { withTaskTags: true });
    tagsOf(event).push({ key: 'bulkhead:site', value: 'bakery' });

    const outcome = await containHandler(event);

    expect(outcome).toMatchObject({ outcome: 'ignored', code: 'untagged-task' });
    expect(world.aws.mutatingCalls()).toEqual([]);
  });

  it('tag keys __proto__, constructor, prototype, toString: no pollution, the real tags still decide', async () => {
    // Prepare
    const event = ecsFindingEvent(world, 'acme', { withTaskTags: true });
    const prototypes = prototypeFingerprint();
    for (const key of ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty']) {
      tagsOf(event).unshift({ key, value: 'polluted' });
    }

    // Act
    const outcome = await containHandler(JSON.parse(JSON.stringify(event)));

    // Assess
    expect(outcome).toMatchObject({ outcome: 'contained', site: 'acme' });
    expect(prototypeFingerprint()).toBe(prototypes);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('tag values read from ECS (no tags in the finding)', () => {
  it.each(MALFORMED_HINTS)('task tagged %s=%j in ECS: the hint is dropped, the record decides', async (key, value) => {
    // Prepare
    const task = world.aws.ecs.state.tasks?.[world.site('acme').taskArns[0] ?? ''] as { tags: Tag[] };
    withTag(task.tags, key, value);

    // Act
    const outcome = await containHandler(ecsFindingEvent(world, 'acme'));

    // Assess
    expect(outcome).toMatchObject({ outcome: 'contained', site: 'acme' });
    expectCleanSinks(world.aws.calls.all(), 'test', distinctive(value));
  });

  it('a task whose tags are all __proto__-like keys and empty values is refused, with no pollution', async () => {
    const task = world.aws.ecs.state.tasks?.[world.site('acme').taskArns[0] ?? ''] as { tags: Tag[] };
    const prototypes = prototypeFingerprint();
    task.tags = ['__proto__', 'constructor', 'bulkhead:env', 'bulkhead:site'].map((key) => ({ key, value: '' }));

    const outcome = await containHandler(ecsFindingEvent(world, 'acme'));

    expect(outcome).toMatchObject({ outcome: 'ignored', code: 'untagged-task' });
    expect(prototypeFingerprint()).toBe(prototypes);
    expect(world.aws.mutatingCalls()).toEqual([]);
  });
});
