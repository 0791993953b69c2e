import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterEach, describe, expect, it } from 'vitest';
import { containHandler } from '../../runtime/contain/index';
import { type ResponseWorld, ecsFindingEvent, setUpResponseWorld, siteAlarmEvent } from '../support/response-world';

/**
 * Issue 11 item 2: a qualifying trigger must never be lost to a trigger for the same site
 * that turns out to be ignored (below the threshold, or its record unreadable). Every AWS
 * call takes `LATENCY_MS` of real time, and the qualifying trigger starts a little after the
 * other, so its lock attempt lands while the other holds the lock (at every offset tried).
 */
const LATENCY_MS = 30;
const OFFSETS_MS = [0, 5, 15, 35, 70];

let world: ResponseWorld;
afterEach(() => world?.aws.restore());

/** Sets the site record's threshold (a deploy raised it) without touching the running task's tags. */
async function raiseRecordThreshold(site: string, threshold: number): Promise<void> {
  const name = `/bulkhead/${world.fleet.environment}/sites/${site}`;
  const value = (await new SSMClient({}).send(new GetParameterCommand({ Name: name }))).Parameter?.Value ?? '{}';
  const record = JSON.parse(value) as { response: { severityThreshold: number } };
  record.response.severityThreshold = threshold;
  world.aws.ssm.putParameter(name, JSON.stringify(record));
}

async function race(first: () => Promise<unknown>, second: () => Promise<unknown>, offsetMs: number) {
  const a = first().then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  await new Promise((resolve) => setTimeout(resolve, offsetMs));
  const b = await second();
  return { first: await a, second: b };
}

function expectContained(siteId: string) {
  const snapshot = world.aws.snapshot(siteId);
  expect(snapshot.securityGroup.ingress).toEqual([]);
  expect(snapshot.listenerRule.actions).toEqual([expect.objectContaining({ Type: 'fixed-response' })]);
}

describe('a qualifying trigger racing one that is ignored', () => {
  it.each(OFFSETS_MS)(
    'a High finding %i ms after a finding under the threshold (the task’s tags stale): the High one is contained',
    async (offset) => {
      // Prepare: the task's tags say 5, the record (after a deploy) says 8.
      world = setUpResponseWorld([{ id: 'acme', cell: 'c1', severityThreshold: 5 }], { latencyMs: LATENCY_MS });
      await raiseRecordThreshold('acme', 8);
      const low = ecsFindingEvent(world, 'acme', { findingId: 'low', severity: 6, withTaskTags: true });
      const high = ecsFindingEvent(world, 'acme', { findingId: 'high', severity: 9, withTaskTags: true });

      // Act
      const { first, second } = await race(
        () => containHandler(low),
        () => containHandler(high),
        offset,
      );

      // Assess
      expect(first).toMatchObject({ ok: true, value: { outcome: 'ignored', code: 'below-threshold' } });
      expect(second).toMatchObject({ outcome: 'contained' });
      expectContained('acme');
    },
  );

  it.each(OFFSETS_MS)(
    'the site’s alarm %i ms after a finding under the threshold: the alarm is contained',
    async (offset) => {
      // Prepare
      world = setUpResponseWorld([{ id: 'acme', cell: 'c1', severityThreshold: 5 }], { latencyMs: LATENCY_MS });
      await raiseRecordThreshold('acme', 8);
      const low = ecsFindingEvent(world, 'acme', { findingId: 'low', severity: 6, withTaskTags: true });

      // Act
      const { first, second } = await race(
        () => containHandler(low),
        () => containHandler(siteAlarmEvent(world, 'acme', 'egress')),
        offset,
      );

      // Assess
      expect(first).toMatchObject({ ok: true, value: { outcome: 'ignored', code: 'below-threshold' } });
      expect(second).toMatchObject({ outcome: 'contained' });
      expectContained('acme');
    },
  );

  it.each(OFFSETS_MS)(
    'a finding under the threshold (tags right) %i ms after a High finding: it never takes the lock',
    async (offset) => {
      // Prepare
      world = setUpResponseWorld([{ id: 'acme', cell: 'c1', severityThreshold: 8 }], { latencyMs: LATENCY_MS });
      const high = ecsFindingEvent(world, 'acme', { findingId: 'high', severity: 9, withTaskTags: true });
      const low = ecsFindingEvent(world, 'acme', { findingId: 'low', severity: 6, withTaskTags: true });

      // Act
      const { first, second } = await race(
        () => containHandler(high),
        () => containHandler(low),
        offset,
      );

      // Assess
      expect(first).toMatchObject({ ok: true, value: { outcome: 'contained' } });
      expect(second).toMatchObject({ outcome: 'ignored', code: 'below-threshold' });
      // The one below the threshold decided so before any lock: it wrote nothing.
      const locks = world.aws.calls
        .find({ service: 'DynamoDB', command: 'PutItem' })
        .filter((c) => JSON.stringify(c.input).includes('"LOCK"'));
      expect(locks).toHaveLength(1);
      expectContained('acme');
    },
  );

  it.each(OFFSETS_MS)(
    'a High finding %i ms after an alarm whose site record could not be read (the alarm’s handler throws): the finding is contained',
    async (offset) => {
      // Prepare: the first read of the record is refused.
      world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }], { latencyMs: LATENCY_MS });
      world.aws.faults.add({ service: 'SSM', command: 'GetParameter', kind: 'denied', times: 1 });
      const high = ecsFindingEvent(world, 'acme', { findingId: 'high', severity: 9, withTaskTags: true });

      // Act
      const { first, second } = await race(
        () => containHandler(siteAlarmEvent(world, 'acme', 'error-rate')),
        () => containHandler(high),
        offset,
      );

      // Assess
      expect(first).toMatchObject({ ok: false });
      expect(second).toMatchObject({ outcome: 'contained' });
      expectContained('acme');
    },
  );
});
