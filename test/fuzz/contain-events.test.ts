import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DRILL_SOURCE,
  type IgnoreCode,
  isIgnored,
  parseResponseEvent,
  type Trigger,
  triggerKey,
} from '../../runtime/contain/events';
import { type EventBase, EVENT_FOCUS, eventBases, eventSwaps, fuzzWorld } from './support/contain-world';
import { hostileJson, prototypeFingerprint } from './support/hostile';
import { at, preview } from './support/json';
import { mutatedArb } from './support/mutate';

/**
 * Property tests of the pure event parser (runtime/contain/events.ts): 10,000 cases each.
 * The parser is the containment function's only gate: whatever EventBridge (or anyone with
 * PutEvents, for drills) delivers goes through it first. It must never throw, must say why it
 * ignores an event, and a Trigger it returns must be exactly what the event says.
 */

const RUNS = 10_000;
const CODES: readonly IgnoreCode[] = [
  'malformed-event',
  'foreign-event',
  'not-ecs-finding',
  'foreign-account',
  'foreign-cluster',
  'unknown-task',
  'untagged-task',
  'foreign-alarm',
  'not-alarm-state',
  'unknown-site',
  'below-threshold',
];

let bases: EventBase[];
let swaps: string[][];
beforeAll(() => {
  const world = fuzzWorld();
  bases = eventBases(world);
  swaps = eventSwaps(world);
  world.aws.restore();
});

/** Parses once and checks what must hold for any input at all. */
function parseChecked(event: unknown): ReturnType<typeof parseResponseEvent> {
  const prototypes = prototypeFingerprint();
  let result: ReturnType<typeof parseResponseEvent>;
  try {
    result = parseResponseEvent(event);
  } catch (error) {
    throw new Error(`parseResponseEvent threw ${(error as Error)?.name}: ${(error as Error)?.message}`);
  }
  expect(prototypeFingerprint()).toBe(prototypes);
  if (isIgnored(result)) {
    expect(CODES).toContain(result.code);
    expect(typeof result.message).toBe('string');
    expect(result.message.trim().length).toBeGreaterThan(10);
  } else {
    expectMirrors(result, event);
  }
  return result;
}

/** A Trigger says exactly what the event says: nothing invented, nothing from elsewhere. */
function expectMirrors(trigger: Trigger, event: unknown): void {
  expect(trigger.eventId).toBe(at(event, 'id'));
  expect(trigger.account).toBe(at(event, 'account'));
  expect(trigger.account).toMatch(/^\d{12}$/);
  expect(trigger.region).toBe(at(event, 'region'));
  const ecs = at(event, 'detail', 'resource', 'ecsClusterDetails');
  if (trigger.kind === 'guardduty') {
    const source = at(event, 'source');
    expect(trigger.drill).toBe(source === DRILL_SOURCE);
    expect(source === 'aws.guardduty' || source === DRILL_SOURCE).toBe(true);
    // GuardDuty's Resource requires no member: the ECS task's details decide; a resource type
    // given as a string must be ECSCluster (issue 11 item 3).
    const resourceType = at(event, 'detail', 'resource', 'resourceType');
    if (typeof resourceType === 'string') expect(resourceType).toBe('ECSCluster');
    expect(at(event, 'detail', 'accountId')).toBe(trigger.account);
    expect(trigger.findingId).toBe(at(event, 'detail', 'id'));
    expect(trigger.clusterArn).toBe(at(ecs, 'arn'));
    expect(trigger.taskArn).toBe(at(ecs, 'taskDetails', 'arn'));
    expect(Number.isFinite(trigger.severity) && trigger.severity >= 0 && trigger.severity <= 10).toBe(true);
    expect(Number.isInteger(trigger.count) && trigger.count >= 1).toBe(true);
    if (trigger.taskTags) {
      // Tags may be null, or lack a key or a value (GuardDuty's Tag requires neither): those say nothing.
      const tags = at(ecs, 'taskDetails', 'tags') as ({ key?: unknown; value?: unknown } | null)[];
      for (const [key, value] of Object.entries(trigger.taskTags)) {
        expect(tags.findLast((t) => t?.key === key && typeof t.value === 'string')?.value).toBe(value);
      }
    }
  } else {
    expect(at(event, 'source')).toBe('aws.cloudwatch');
    expect(at(event, 'detail', 'state', 'value')).toBe('ALARM');
    expect(trigger.alarmName).toBe(at(event, 'detail', 'alarmName'));
    expect(trigger.alarmArn).toBe(at(event, 'resources', 0));
  }
}

describe('parseResponseEvent (pure, 10,000 cases per property)', () => {
  it('sanity: every unmutated base parses as documented (the site events are triggers)', () => {
    for (const base of bases) {
      const result = parseChecked(base.event);
      // The shared alarm samples are well-formed alarm triggers too; resolveSite ignores them later.
      if (base.site !== undefined) expect(isIgnored(result), base.name).toBe(false);
    }
  });

  it('arbitrary values (JSON, hostile strings, pollution objects, deep nesting, non-JSON objects): 10,000 cases, never throws, always a reason', () => {
    // Prepare
    const anyValue = fc.oneof(
      hostileJson(),
      fc.anything({
        withBoxedValues: true,
        withMap: true,
        withSet: true,
        withNullPrototype: true,
        withObjectString: true,
        withDate: true,
        withTypedArray: true,
        withSparseArray: true,
        withBigInt: true,
      }),
      // An envelope that passes the first gate, with an arbitrary detail.
      fc
        .tuple(fc.constantFrom('aws.guardduty', 'aws.cloudwatch', DRILL_SOURCE), hostileJson())
        .map(([source, detail]) => ({
          version: '0',
          id: 'e-1',
          'detail-type':
            source === 'aws.cloudwatch'
              ? 'CloudWatch Alarm State Change'
              : source === DRILL_SOURCE
                ? 'Bulkhead Drill Finding'
                : 'GuardDuty Finding',
          source,
          account: '123456789012',
          time: '2026-01-01T00:00:00Z',
          region: 'eu-west-1',
          resources: [],
          detail,
        })),
    );

    // Act / Assess
    fc.assert(
      fc.property(anyValue, (event) => {
        parseChecked(event);
      }),
      { numRuns: RUNS },
    );
  });

  it('mutations of valid events and the public samples (fields removed, replaced, retyped; hostile ids, ARNs, tags, names; huge strings; deep nesting; __proto__ keys): 10,000 cases, never throws, a trigger mirrors its event, same answer twice', () => {
    // Prepare
    const mutated = mutatedArb(bases, {
      toValue: (b) => b.event,
      focus: EVENT_FOCUS,
      swaps,
      maxMutations: 4,
    });

    // Act / Assess
    fc.assert(
      fc.property(mutated, (m) => {
        const first = parseChecked(m.value);
        // No hidden state: the same event parses the same way again.
        expect(preview(parseResponseEvent(m.value), 1e9)).toBe(preview(first, 1e9));
      }),
      { numRuns: RUNS },
    );
  });

  /**
   * What the incident table needs from a trigger. `detectedAt` becomes the incident's
   * `detectedAt`, the sort key of the bySite index (`<detectedAt>#<incidentId>`) and, for
   * alarms, part of the trigger's sort key (`TRIGGER#alarm#<name>#<detectedAt>`). DynamoDB
   * refuses sort keys over 1,024 bytes and items over 400 KB, and a time that does not parse
   * makes DetectionToIsolation NaN. The envelope's `time` is validated as an ISO timestamp;
   * the fields `detectedAt` is taken from (`service.eventFirstSeen`, `createdAt`,
   * `state.timestamp`) are not.
   */
  it('detectedAt of every trigger is a bounded ISO timestamp (the incident keys fit DynamoDB): 10,000 cases', () => {
    // Prepare
    const mutated = mutatedArb(bases, {
      toValue: (b) => b.event,
      focus: [/eventFirstSeen$/, /createdAt$/, /state\.timestamp$/, /^time$/],
      kinds: ['string', 'delete', 'retype', 'replace'],
      minMutations: 1,
      maxMutations: 1,
    });

    // Act / Assess
    fc.assert(
      fc.property(mutated, (m) => {
        const trigger = parseResponseEvent(m.value);
        if (isIgnored(trigger)) return;
        // The longest incident id and Bulkhead alarm name there can be (16-char env, 24-char site).
        const incidentId = `20260101T000000Z-${'s'.repeat(24)}-abcdef`;
        const longestAlarm = `bulkhead.${'e'.repeat(16)}.${'s'.repeat(24)}.error-rate`;
        const key = triggerKey(trigger.kind === 'alarm' ? { ...trigger, alarmName: longestAlarm } : trigger);
        expect(Number.isFinite(Date.parse(trigger.detectedAt)), `detectedAt ${preview(trigger.detectedAt)}`).toBe(true);
        expect(Buffer.byteLength(`${trigger.detectedAt}#${incidentId}`)).toBeLessThanOrEqual(1_024);
        expect(Buffer.byteLength(`TRIGGER#${key}`)).toBeLessThanOrEqual(1_024);
      }),
      { numRuns: RUNS },
    );
  });
});
