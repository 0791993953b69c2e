/**
 * Synthesis benchmark: fleets of 10, 100, 300 and 1,000 sites (cdk-nag on, as `cdk synth`
 * runs it), then one site of the 1,000-site fleet with `-c site=<id>` through the real CLI.
 * Prints a table and writes bench/out/synth.json.
 *
 *   npm run bench:synth              # all sizes
 *   npm run bench:synth -- 10 100    # chosen sizes
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { formatTable, readAssembly } from '../../tools/report/synth-summary';
import { generateFleetYaml } from '../../test/kit';

const root = path.join(__dirname, '..', '..');
const out = path.join(root, 'bench', 'out');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
const cdk = path.join(root, 'node_modules', '.bin', 'cdk');
const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const fleetSizes = sizes.length > 0 ? sizes : [10, 100, 300, 1000];
const TARGET_MS_PER_SITE = 33 * 1.5;
const MAX_RESOURCES = 500;
const SINGLE_SITE_TARGET_MS = 5000;

interface Row {
  sites: number;
  stacks: number;
  wallMs: number;
  msPerSite: number;
  maxRssMb: number;
  largestStack: string;
  largestResources: number;
  largestTemplateKb: number;
  largestSiteResources: number;
  singleSiteCliMs?: number;
  singleSiteAppMs?: number;
}

function fleetFile(sites: number): string {
  const file = path.join(out, `fleet-${sites}.yaml`);
  writeFileSync(file, generateFleetYaml({ sites }));
  return file;
}

function synthOnce(file: string, outdir: string, site?: string): { wallMs: number; maxRssMb: number } {
  rmSync(outdir, { recursive: true, force: true });
  const stdout = execFileSync(tsx, [path.join(__dirname, 'synth-once.ts'), file, outdir, ...(site ? [site] : [])], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const last = stdout.trim().split('\n').pop() ?? '{}';
  return JSON.parse(last) as { wallMs: number; maxRssMb: number };
}

function cliSingleSite(file: string, site: string): number {
  const outdir = path.join(out, 'cdk.out-single');
  rmSync(outdir, { recursive: true, force: true });
  const started = performance.now();
  const result = spawnSync(cdk, ['synth', '--quiet', '--output', outdir, '-c', `fleet=${file}`, '-c', `site=${site}`], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' },
  });
  if (result.status !== 0) throw new Error(`cdk synth -c site=${site} failed: ${result.stderr}`);
  return performance.now() - started;
}

mkdirSync(out, { recursive: true });
const rows: Row[] = [];
for (const sites of fleetSizes) {
  process.stdout.write(`synthesizing ${sites} sites ... `);
  const file = fleetFile(sites);
  const outdir = path.join(out, `cdk.out-${sites}`);
  const run = synthOnce(file, outdir);
  const stacks = readAssembly(outdir).map((s) => ({
    name: s.name,
    resources: Object.keys(s.template.Resources).length,
    bytes: s.bytes,
  }));
  const largest = stacks.reduce((a, b) => (b.resources > a.resources ? b : a));
  const row: Row = {
    sites,
    stacks: stacks.length,
    wallMs: run.wallMs,
    msPerSite: run.wallMs / sites,
    maxRssMb: run.maxRssMb,
    largestStack: largest.name,
    largestResources: largest.resources,
    largestTemplateKb: Math.max(...stacks.map((s) => s.bytes)) / 1024,
    largestSiteResources: Math.max(...stacks.filter((s) => s.name.includes('-Site-')).map((s) => s.resources)),
  };
  const site = `site-${String(sites).padStart(4, '0')}`;
  row.singleSiteAppMs = synthOnce(file, path.join(out, 'cdk.out-single-app'), site).wallMs;
  row.singleSiteCliMs = cliSingleSite(file, site);
  rmSync(outdir, { recursive: true, force: true });
  rows.push(row);
  console.log(`${(run.wallMs / 1000).toFixed(1)} s`);
}

const fmt = (n: number, digits = 0) => n.toFixed(digits);
/** Cost of one more site: the slope between two fleet sizes (fixed platform cost cancels out). */
const marginal = (a: Row, b: Row) => (b.wallMs - a.wallMs) / (b.sites - a.sites);
console.log(
  `\nSynthesis benchmark (cdk-nag on; node ${process.version}; target <= ${fmt(TARGET_MS_PER_SITE, 1)} ms/site, < ${MAX_RESOURCES} resources/stack, single site < ${SINGLE_SITE_TARGET_MS} ms)\n`,
);
console.log(
  formatTable(
    [
      'sites',
      'stacks',
      'wall s',
      'ms/site',
      'marginal ms/site',
      'peak RSS MB',
      'largest stack (resources)',
      'largest template KB',
      'largest site stack',
      '-c site app ms',
      '-c site CLI ms',
    ],
    rows.map((r, i) => [
      String(r.sites),
      String(r.stacks),
      fmt(r.wallMs / 1000, 1),
      fmt(r.msPerSite, 1),
      i === 0 ? '-' : fmt(marginal(rows[i - 1] as Row, r), 1),
      fmt(r.maxRssMb),
      `${r.largestStack} (${r.largestResources})`,
      fmt(r.largestTemplateKb, 1),
      String(r.largestSiteResources),
      fmt(r.singleSiteAppMs ?? 0),
      fmt(r.singleSiteCliMs ?? 0),
    ]),
  ),
);
// Per-site cost is judged on the slope (small fleets are dominated by the fixed platform
// cost) and, for the largest fleet, on the whole-fleet average too.
const verdicts = rows.map((r, i) => ({
  sites: r.sites,
  underResourceLimit: r.largestResources < MAX_RESOURCES,
  perSiteWithinTarget:
    i > 0 &&
    marginal(rows[i - 1] as Row, r) <= TARGET_MS_PER_SITE &&
    (i < rows.length - 1 || r.msPerSite <= TARGET_MS_PER_SITE),
  singleSiteUnder5s: (r.singleSiteCliMs ?? Number.POSITIVE_INFINITY) < SINGLE_SITE_TARGET_MS,
}));
console.log('\nTargets:');
for (const v of verdicts) {
  console.log(
    `  ${String(v.sites).padStart(5)} sites: resources ${v.underResourceLimit ? 'ok' : 'OVER'}, ms/site ${v.sites === rows[0]?.sites ? 'n/a (first size)' : v.perSiteWithinTarget ? 'ok' : 'over target'}, single-site ${v.singleSiteUnder5s ? 'ok' : 'over 5 s'}`,
  );
}
writeFileSync(path.join(out, 'synth.json'), `${JSON.stringify({ node: process.version, rows, verdicts }, null, 2)}\n`);
console.log('\nWritten: bench/out/synth.json');
