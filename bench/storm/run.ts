/**
 * Storm benchmark: 1,000 findings over 200 sites (duplicates and out-of-order repeats,
 * shuffled, 50 at a time) against the AWS model, with EC2's request-rate limits. Reports
 * throughput, CPU, and heap after each fifth of the storm (after a full GC), to show memory
 * stays steady, then the same storm again (every delivery a join: the heap must not grow). The model's call log and the SDK stubs' call records are cleared before each
 * measurement (the bench's records, not the handler's memory); the incident table's items
 * stay (they are the record).
 *
 *   npm run bench:storm                  # 1,000 findings, 200 sites
 *   npm run bench:storm -- 2000 400      # 2,000 findings, 400 sites
 *
 * Writes bench/out/storm.json.
 */
import '../quiet-logs';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { formatTable } from '../../tools/report/synth-summary';
import { setUpResponseWorld } from '../../test/kit';
import { deliverStorm, planStorm } from '../../test/kit';

const total = Number(process.argv[2] ?? 1000);
const siteCount = Number(process.argv[3] ?? 200);

function heapMb(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

async function main() {
  if (!(globalThis as { gc?: () => void }).gc) console.warn('run with --expose-gc for exact heap figures');
  const sites = Array.from({ length: siteCount }, (_, i) => `s${String(i).padStart(3, '0')}`);
  const world = setUpResponseWorld(
    sites.map((id, i) => ({ id, cell: `c${Math.floor(i / 90) + 1}` })),
    { retries: 'sdk-no-delay', ec2RequestThrottling: true },
  );
  const plan = planStorm(world, sites, total);
  const slices = 5;
  const size = Math.ceil(plan.events.length / slices);
  const rows: { delivered: number; heapMb: number; heapWithoutCallLogMb: number; seconds: number }[] = [];
  const baseline = heapMb();
  const started = performance.now();
  const cpu = process.cpuUsage();
  let threw = 0;
  let calls = 0;
  for (let s = 0; s < slices; s++) {
    const part = { ...plan, events: plan.events.slice(s * size, (s + 1) * size) };
    threw += (await deliverStorm(part, 50)).threw;
    calls += world.aws.calls.all().length;
    // The model's call log and the SDK stubs keep every request, answer and error: the
    // bench's own records, not the handler's memory. Clear them before measuring.
    world.aws.clearHistory();
    const heap = heapMb();
    rows.push({
      delivered: Math.min((s + 1) * size, plan.events.length),
      heapMb: heap,
      heapWithoutCallLogMb: heap - baseline,
      seconds: (performance.now() - started) / 1000,
    });
  }
  // Phase 2: the same storm delivered again. Every delivery now joins an open incident and
  // finds its finding recorded: the table does not grow, so neither should the heap.
  for (let s = 0; s < slices; s++) {
    const part = { ...plan, events: plan.events.slice(s * size, (s + 1) * size) };
    threw += (await deliverStorm(part, 50)).threw;
    calls += world.aws.calls.all().length;
    world.aws.clearHistory();
    const heap = heapMb();
    rows.push({
      delivered: plan.events.length + Math.min((s + 1) * size, plan.events.length),
      heapMb: heap,
      heapWithoutCallLogMb: heap - baseline,
      seconds: (performance.now() - started) / 1000,
    });
  }
  const cpuUsed = process.cpuUsage(cpu);
  const items = world.aws.dynamodb.items(world.tableName);
  const incidents = items.filter((i) => i.sk?.S === 'META').length;
  const contained = items.filter((i) => i.sk?.S === 'META' && i.status?.S === 'CONTAINED').length;
  world.aws.restore();
  console.log(`\nStorm: ${plan.events.length} findings over ${siteCount} sites, 50 at a time, EC2 token buckets\n`);
  console.log(
    formatTable(
      ['delivered', 'elapsed s', 'heap MB (after GC)', 'growth since start MB'],
      rows.map((r) => [
        String(r.delivered),
        r.seconds.toFixed(1),
        r.heapMb.toFixed(1),
        r.heapWithoutCallLogMb.toFixed(1),
      ]),
    ),
  );
  const firstPass = rows[slices - 1]?.heapMb ?? 0;
  const perEventKb = ((rows[slices - 1]?.heapWithoutCallLogMb ?? 0) * 1024) / plan.events.length;
  const replayGrowthMb = (rows.at(-1)?.heapMb ?? 0) - firstPass;
  console.log(
    `\nincidents ${incidents} (sites ${siteCount}), contained ${contained}, handler errors ${threw}, AWS calls ${calls}, CPU ${((cpuUsed.user + cpuUsed.system) / 1000).toFixed(0)} ms, first pass: heap +${perEventKb.toFixed(1)} KB per finding (the model keeps every incident and trigger item, as the table does); second pass (all joins, nothing new to record): heap ${replayGrowthMb >= 0 ? '+' : ''}${replayGrowthMb.toFixed(1)} MB`,
  );
  const out = path.join(__dirname, '..', 'out');
  mkdirSync(out, { recursive: true });
  writeFileSync(
    path.join(out, 'storm.json'),
    `${JSON.stringify({ findings: plan.events.length, sites: siteCount, incidents, contained, threw, calls, rows, perEventKb, replayGrowthMb }, null, 2)}\n`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
