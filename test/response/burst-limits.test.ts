import { afterEach, describe, expect, it } from 'vitest';
import { containHandler } from '../../runtime/contain/index';
import { parameterStoreThroughput } from '../support/aws-model';
import { ecsFindingEvent, type ResponseWorld, setUpResponseWorld } from '../support/response-world';

/**
 * Issue 11 item 7: every containment reads its site record with SSM GetParameter. Parameter
 * Store's default throughput is 40 transactions a second for the account and Region, shared
 * by GetParameter, GetParameters and GetParametersByPath (test/support/aws-model/ssm-throughput.ts
 * quotes the quotas page); 100 containments at once read 100 records. The response stack
 * turns on the documented higher throughput (infra/response/response-stack.ts); the model
 * applies each setting's rate.
 */
let world: ResponseWorld;
afterEach(() => world?.aws.restore());

const SITES = 100;

async function burst(setting: 'default' | 'higher') {
  const ids = Array.from({ length: SITES }, (_, i) => `site-${String(i + 1).padStart(3, '0')}`);
  world = setUpResponseWorld(
    ids.map((id, i) => ({ id, cell: `c${Math.floor(i / 50) + 1}` })),
    { latencyMs: 2 },
  );
  // 100 Lambdas start together; this one Node thread starts the 100 handlers one after another,
  // which on a loaded machine takes more than a second (the bucket would refill meanwhile and
  // the burst would not be one). So the bucket's clock holds still until every containment's
  // first read has arrived (all at one instant, as 100 Lambdas' would), then runs in real time.
  const start = Date.now();
  const arrived = new Set<string | undefined>();
  let allArrivedAt: number | undefined;
  const policy = parameterStoreThroughput(setting);
  world.aws.setRateLimit(
    'SSM',
    (command, input) => {
      arrived.add((input as { Name?: string }).Name);
      return policy(command, input);
    },
    () => {
      if (allArrivedAt === undefined) {
        if (arrived.size < SITES) return start;
        allArrivedAt = Date.now();
      }
      return start + (Date.now() - allArrivedAt);
    },
  );
  // A containment whose record read stays throttled after the SDK's retries throws (EventBridge
  // redelivers): counted as not contained.
  const outcomes = await Promise.allSettled(
    ids.map((id) => containHandler(ecsFindingEvent(world, id, { findingId: `f-${id}`, withTaskTags: true }))),
  );
  const reads = world.aws.calls.find({ service: 'SSM', command: 'GetParameter' });
  return {
    contained: outcomes.filter((o) => o.status === 'fulfilled' && o.value.outcome === 'contained').length,
    throttled: reads.filter((c) => c.outcome === 'error' && c.injected === 'rate-limit').length,
  };
}

describe('100 containments at once read 100 site records', () => {
  it('with Parameter Store’s default throughput (40 a second), the reads are throttled', async () => {
    // Act
    const { throttled } = await burst('default');

    // Assess: this is why the stack turns the higher throughput on. 100 reads at one instant
    // against a 40-token second: at least 60 first attempts are refused.
    expect(throttled).toBeGreaterThanOrEqual(SITES - 40);
  }, 60_000);

  it('with the higher throughput the response stack turns on, none is throttled and every site is contained', async () => {
    // Act
    const { contained, throttled } = await burst('higher');

    // Assess
    expect(throttled).toBe(0);
    expect(contained).toBe(SITES);
  }, 60_000);
});
