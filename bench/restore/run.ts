/**
 * Restore benchmark: the real recovery steps for one contained incident, run in order
 * against the AWS model with a fixed latency per AWS call. For each step: wall time, round
 * trips (wall / latency: how many sequential AWS calls the step waits on), and AWS calls;
 * for the two health waits, the virtual time ECS and the load balancer take (task start,
 * health checks), which in AWS dominates a restore.
 *
 *   npm run bench:restore            # latency 50 ms
 *   npm run bench:restore -- 20      # latency 20 ms
 *
 * The database step (ALTER USER through the database-user function) is one Lambda invoke
 * here, answered by a stub: its SQL is measured against the real MariaDB in the tests, not
 * here. Writes bench/out/restore.json.
 */
import '../quiet-logs';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { containHandler } from '../../runtime/contain/index';
import { runWorkflowStep } from '../../runtime/incident/index';
import { runRecoveryStep } from '../../runtime/recovery/index';
import { Ledger } from '../../runtime/recovery/ledger';
import { IncidentStore } from '../../runtime/shared/incident-store';
import type { RestoreInput } from '../../runtime/recovery/restore';
import { formatTable } from '../../tools/report/synth-summary';
import { ecsFindingEvent, setUpResponseWorld } from '../../test/kit';

const latencyMs = Number(process.argv[2] ?? 50);
const POLL_MS = 15_000;

export interface RestoreStepResult {
  readonly step: string;
  readonly wallMs: number;
  readonly roundTrips: number;
  readonly awsCalls: number;
  readonly virtualSeconds?: number;
  readonly polls?: number;
}

export async function benchRestore(latency = latencyMs): Promise<{ latencyMs: number; steps: RestoreStepResult[] }> {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const world = setUpResponseWorld([{ id: 'acme', cell: 'c1', desiredCount: 2, forensicHoldMinutes: 0 }], {
    latencyMs: 0,
  });
  try {
    world.aws.lambda.register('bulkhead-test-db-user', async () => ({ loginVerified: true }));
    const db = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
      marshallOptions: { removeUndefinedValues: true },
    });
    const repository = world.site('acme').image.split('@')[0];
    await new Ledger(db, world.tableName).recordLive(
      'acme',
      `${repository}@sha256:${'b2'.repeat(32)}`,
      new Date(world.aws.clock.now() - 3 * 86_400_000).toISOString(),
    );
    const contained = (await containHandler(ecsFindingEvent(world, 'acme'))) as { incidentId: string };
    const start = world.aws.callsTo('SFN', 'StartExecution')[0];
    let input = JSON.parse((start?.input as { input: string }).input) as RestoreInput;
    input = (await runWorkflowStep({ step: 'keep-evidence', input })) as unknown as typeof input;
    input = { ...input, decision: { decision: 'restore', by: 'bench' } };
    world.aws.setLatency(latency);

    const steps: RestoreStepResult[] = [];
    const timed = async (step: string, run: () => Promise<unknown>) => {
      const calls = world.aws.calls.all().length;
      const started = performance.now();
      const result = await run();
      const wallMs = performance.now() - started;
      steps.push({
        step,
        wallMs,
        roundTrips: wallMs / latency,
        awsCalls: world.aws.calls.all().length - calls,
      });
      return result;
    };
    const recovery = (step: string) => async () => {
      input = (await runRecoveryStep({ step, input })) as typeof input;
      return input;
    };
    const waitHealthy = async (name: string) => {
      const virtualStart = world.aws.clock.now();
      let polls = 0;
      const calls = world.aws.calls.all().length;
      const started = performance.now();
      do {
        world.aws.advance(POLL_MS);
        polls++;
        input = (await runRecoveryStep({ step: 'check-health', input })) as typeof input;
      } while (input.restore?.health === 'waiting');
      if (input.restore?.health !== 'healthy') throw new Error(`${name}: ${input.restore?.healthReason}`);
      const wallMs = performance.now() - started;
      steps.push({
        step: name,
        wallMs,
        roundTrips: wallMs / latency,
        awsCalls: world.aws.calls.all().length - calls,
        virtualSeconds: (world.aws.clock.now() - virtualStart) / 1000,
        polls,
      });
    };
    await timed('begin-restore (choose digest)', recovery('begin-restore'));
    await timed('rotate-credentials', recovery('rotate-credentials'));
    await timed('deploy-known-good (protect, deregister, deploy, probe rule)', recovery('deploy-known-good'));
    await waitHealthy('wait: new tasks healthy (poll every 15 s)');
    await timed('reopen (listener back, probe rule gone)', recovery('reopen'));
    await timed('stop contained tasks (after the hold)', async () => {
      input = (await runWorkflowStep({ step: 'stop-contained-tasks', input })) as unknown as typeof input;
    });
    await timed('return-to-primary (rules back, redeploy)', recovery('return-to-primary'));
    await waitHealthy('wait: own group healthy (poll every 15 s)');
    await timed('close', recovery('close-restore'));
    const status = (await new IncidentStore(db, world.tableName).getIncident(contained.incidentId))?.status;
    if (status !== 'CLOSED') throw new Error(`restore did not close the incident (status ${String(status)})`);
    return { latencyMs: latency, steps };
  } finally {
    world.aws.restore();
  }
}

async function main() {
  // Warm-up (module loading and SDK initialization are not what this measures).
  await benchRestore(1);
  const result = await benchRestore();
  const total = result.steps.reduce((sum, s) => sum + s.roundTrips, 0);
  const virtual = result.steps.reduce((sum, s) => sum + (s.virtualSeconds ?? 0), 0);
  console.log(`\nRestore benchmark: one incident, ${result.latencyMs} ms per AWS call\n`);
  console.log(
    formatTable(
      ['step', 'wall ms', 'round trips', 'AWS calls', 'polls', 'ECS/ALB virtual s'],
      result.steps.map((s) => [
        s.step,
        s.wallMs.toFixed(0),
        s.roundTrips.toFixed(1),
        String(s.awsCalls),
        s.polls === undefined ? '' : String(s.polls),
        s.virtualSeconds === undefined ? '' : s.virtualSeconds.toFixed(0),
      ]),
    ),
  );
  console.log(
    `\nTotal: ${total.toFixed(1)} round trips of API calls, plus ${virtual.toFixed(0)} s waiting for ECS tasks and health checks (model timings).`,
  );
  const out = path.join(__dirname, '..', 'out');
  mkdirSync(out, { recursive: true });
  writeFileSync(
    path.join(out, 'restore.json'),
    `${JSON.stringify({ ...result, totalRoundTrips: total, waitSeconds: virtual }, null, 2)}\n`,
  );
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
