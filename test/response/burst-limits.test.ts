import { afterEach, describe, expect, it } from 'vitest';
import { containHandler } from '../../lambdas/contain/index';
import { ecsFindingEvent, type ResponseWorld, setUpResponseWorld } from '../support/response-world';

/**
 * Issue 11 item 7: every containment reads its site record with SSM GetParameter. Parameter
 * Store's default throughput is 40 transactions a second for the account and Region, shared
 * by GetParameter, GetParameters and GetParametersByPath (test/support/aws-model/ssm-throughput.ts
 * quotes the quotas page); 100 containments at once read 100 records. The response stack
 * turns on the documented higher throughput (lib/response/response-stack.ts); the model
 * applies each setting's rate.
 */
let world: ResponseWorld;
afterEach(() => world?.aws.restore());

const SITES = 100;

async function burst(setting: 'default' | 'higher') {
  const ids = Array.from({ length: SITES }, (_, i) => `site-${String(i + 1).padStart(3, '0')}`);
  world = setUpResponseWorld(
    ids.map((id, i) => ({ id, cell: `c${Math.floor(i / 50) + 1}` })),
    { latencyMs: 2, parameterStoreThroughput: setting },
  );
  const outcomes = await Promise.all(
    ids.map((id) => containHandler(ecsFindingEvent(world, id, { findingId: `f-${id}`, withTaskTags: true }))),
  );
  const reads = world.aws.calls.find({ service: 'SSM', command: 'GetParameter' });
  return {
    contained: outcomes.filter((o) => o.outcome === 'contained').length,
    throttled: reads.filter((c) => c.outcome === 'error' && c.injected === 'rate-limit').length,
  };
}

describe('100 containments at once read 100 site records', () => {
  it('with Parameter Store’s default throughput (40 a second), the reads are throttled', async () => {
    // Act
    const { throttled } = await burst('default');

    // Assess: this is why the stack turns the higher throughput on. (One Node thread starts
    // the 100 handlers over some milliseconds, so the bucket refills a little meanwhile;
    // 100 Lambdas would start closer together.)
    expect(throttled).toBeGreaterThan(0);
  }, 60_000);

  it('with the higher throughput the response stack turns on, none is throttled and every site is contained', async () => {
    // Act
    const { contained, throttled } = await burst('higher');

    // Assess
    expect(throttled).toBe(0);
    expect(contained).toBe(SITES);
  }, 60_000);
});
