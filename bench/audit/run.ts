/**
 * Isolation audit benchmark: the example fleet and generated fleets of 300 and 1,000 sites
 * (synthesized once, without cdk-nag), each audited in a fresh process: reading the assembly,
 * the audit itself (cold: its reference data read for the first time, then warm), and the
 * HTML report. Target: the audit of 300 sites under 5 s. Prints a table and writes
 * bench/out/audit.json.
 *
 *   npm run bench:audit              # example, 300, 1000
 *   npm run bench:audit -- 300       # chosen generated sizes (the example is always measured)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatTable } from '../../tools/report/synth-summary';
import { synthExample, synthGenerated } from '../../test/kit';

const root = path.join(__dirname, '..', '..');
const out = path.join(root, 'bench', 'out');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
const TARGET_300_MS = 5000;
const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const generated = sizes.length > 0 ? sizes : [300, 1000];

interface Row {
  readonly fleet: string;
  readonly sites: number;
  readonly stacks: number;
  readonly resources: number;
  readonly pairs: number;
  readonly findings: number;
  readonly passed: boolean;
  readonly loadMs: number;
  readonly auditMs: number;
  readonly auditCpuMs: number;
  readonly warmAuditMs: number;
  readonly htmlMs: number;
  readonly htmlKb: number;
  readonly maxRssMb: number;
}

function measure(fleet: string, dir: string): Row {
  const stdout = execFileSync(tsx, [path.join(__dirname, 'audit-once.ts'), dir], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return { fleet, ...(JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Omit<Row, 'fleet'>) };
}

mkdirSync(out, { recursive: true });
const rows: Row[] = [];
process.stdout.write('synthesizing the example fleet ... ');
rows.push(measure('example (config/example.yaml)', synthExample().outdir));
console.log('audited');
for (const n of generated) {
  process.stdout.write(`synthesizing ${n} sites ... `);
  const { outdir } = synthGenerated(n);
  rows.push(measure(`generated ${n}`, outdir));
  console.log('audited');
}

const ms = (n: number) => n.toFixed(0);
console.log(`\nIsolation audit benchmark (node ${process.version}; target: 300 sites under ${TARGET_300_MS} ms)\n`);
console.log(
  formatTable(
    [
      'fleet',
      'sites',
      'stacks',
      'resources',
      'pairs',
      'paths',
      'read ms',
      'audit ms (cold)',
      'audit CPU ms',
      'audit ms (warm)',
      'html ms',
      'html KB',
      'peak RSS MB',
    ],
    rows.map((r) => [
      r.fleet,
      String(r.sites),
      String(r.stacks),
      String(r.resources),
      String(r.pairs),
      String(r.findings),
      ms(r.loadMs),
      ms(r.auditMs),
      ms(r.auditCpuMs),
      ms(r.warmAuditMs),
      ms(r.htmlMs),
      r.htmlKb.toFixed(0),
      ms(r.maxRssMb),
    ]),
  ),
);
const at300 = rows.find((r) => r.sites === 300);
const load = os.loadavg()[0] ?? 0;
const verdict = at300
  ? at300.auditMs < TARGET_300_MS
    ? `met: ${ms(at300.auditMs)} ms`
    : `NOT met: ${ms(at300.auditMs)} ms (${ms(at300.auditMs - TARGET_300_MS)} ms over; its CPU time was ${ms(at300.auditCpuMs)} ms)`
  : 'not measured (no 300-site fleet in this run)';
console.log(`\nTarget (300 sites under ${TARGET_300_MS} ms, cold, wall clock): ${verdict}`);
console.log(
  `Load average while measuring: ${load.toFixed(1)} on ${os.cpus().length} cores (wall time grows with it; CPU time does not).`,
);
writeFileSync(
  path.join(out, 'audit.json'),
  `${JSON.stringify({ node: process.version, targetMs: TARGET_300_MS, loadAverage: load, rows }, null, 2)}\n`,
);
console.log('\nWritten: bench/out/audit.json');
