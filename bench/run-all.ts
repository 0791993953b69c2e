/**
 * Every benchmark, one after another, each in its own process (so one's memory does not
 * skew the next): synthesis (10, 100, 300, 1,000 sites and one site), containment (one
 * incident and 100 at once under EC2's request-rate limits), restore steps, Lambda bundles
 * and cold starts, the isolation audit (example, 300 and 1,000 sites). Prints a summary and
 * writes bench/results.json.
 *
 *   npm run bench                 # everything (about 3-4 minutes here)
 *   npm run bench -- --quick      # synthesis at 10 and 100 sites only
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatTable } from '../tools/report/synth-summary';

const root = path.join(__dirname, '..');
const out = path.join(root, 'bench', 'out');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
const quick = process.argv.includes('--quick');

function run(label: string, script: string, args: string[] = []): number {
  console.log(`\n=== ${label} (${script} ${args.join(' ')})`);
  const started = Date.now();
  execFileSync(tsx, [path.join(root, 'bench', script), ...args], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NODE_OPTIONS: [process.env.NODE_OPTIONS, '--expose-gc'].filter(Boolean).join(' ') },
  });
  return Date.now() - started;
}

const read = (name: string) => JSON.parse(readFileSync(path.join(out, name), 'utf8')) as Record<string, unknown>;

function main() {
  const durations = {
    synth: run('synthesis', 'synth/run.ts', quick ? ['10', '100'] : []),
    contain: run('containment', 'contain/run.ts'),
    restore: run('restore', 'restore/run.ts'),
    lambdas: run('Lambda bundles and cold starts', 'lambdas/run.ts'),
    storm: run('storm (memory)', 'storm/run.ts'),
    audit: run('isolation audit', 'audit/run.ts', quick ? ['300'] : []),
  };
  const synth = read('synth.json') as {
    rows: {
      sites: number;
      msPerSite: number;
      wallMs: number;
      maxRssMb: number;
      largestResources: number;
      singleSiteCliMs?: number;
    }[];
  };
  const contain = read('contain.json') as {
    runs: { scenario: string; latencyMs: number; p99: number; lost: number; target: string }[];
  };
  const restore = read('restore.json') as { totalRoundTrips: number; waitSeconds: number; latencyMs: number };
  const lambdas = JSON.parse(readFileSync(path.join(out, 'lambdas.json'), 'utf8')) as {
    name: string;
    bundleKB: number;
    loadMs: number;
    invokeMs: number;
  }[];
  const storm = read('storm.json') as {
    findings: number;
    sites: number;
    incidents: number;
    contained: number;
    threw: number;
    perEventKb: number;
    replayGrowthMb: number;
  };
  const audit = read('audit.json') as {
    rows: { fleet: string; sites: number; auditMs: number; auditCpuMs: number; loadMs: number; htmlMs: number }[];
  };
  const results = {
    generatedAt: new Date().toISOString(),
    machine: {
      node: process.version,
      platform: `${os.platform()} ${os.arch()}`,
      cpus: os.cpus().length,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    },
    durationsMs: durations,
    synth,
    contain,
    restore,
    lambdas,
    storm,
    audit,
  };
  writeFileSync(path.join(root, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);

  const rows: string[][] = [];
  for (const r of synth.rows) {
    rows.push([
      `synth ${r.sites} sites`,
      `${(r.wallMs / 1000).toFixed(1)} s, ${r.msPerSite.toFixed(1)} ms/site, ${Math.round(r.maxRssMb)} MB, largest stack ${r.largestResources}`,
      r.singleSiteCliMs ? `one site ${Math.round(r.singleSiteCliMs)} ms` : '',
    ]);
  }
  for (const r of contain.runs) {
    rows.push([
      `contain: ${r.scenario} @ ${r.latencyMs} ms`,
      `p99 ${r.p99.toFixed(2)} round trips, lost ${r.lost}`,
      r.target,
    ]);
  }
  rows.push([
    `restore @ ${restore.latencyMs} ms`,
    `${restore.totalRoundTrips.toFixed(1)} round trips + ${restore.waitSeconds.toFixed(0)} s ECS/ALB`,
    '',
  ]);
  for (const l of lambdas) {
    rows.push([
      `lambda ${l.name}`,
      `${l.bundleKB.toFixed(0)} KB, load ${l.loadMs.toFixed(0)} ms, first invoke ${l.invokeMs.toFixed(0)} ms`,
      '',
    ]);
  }
  rows.push([
    `storm ${storm.findings} findings / ${storm.sites} sites`,
    `${storm.incidents} incidents, ${storm.contained} contained, ${storm.threw} errors; replay heap ${storm.replayGrowthMb.toFixed(1)} MB`,
    'one incident per site; memory steady',
  ]);
  for (const r of audit.rows) {
    rows.push([
      `audit ${r.fleet}`,
      `${(r.auditMs / 1000).toFixed(2)} s (CPU ${(r.auditCpuMs / 1000).toFixed(2)} s), read ${(r.loadMs / 1000).toFixed(2)} s, html ${(r.htmlMs / 1000).toFixed(2)} s`,
      r.sites === 300 ? 'under 5 s' : '',
    ]);
  }
  console.log('\nSummary (bench/results.json)\n');
  console.log(formatTable(['benchmark', 'result', 'target / note'], rows));
}

main();
