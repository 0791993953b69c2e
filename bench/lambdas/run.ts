/**
 * Lambda bundles and cold starts: each function bundled as it is deployed (esbuild,
 * node22 target, minified, AWS SDK v3 left to the runtime; infra/shared/lambda-defaults.ts),
 * its size, and in a fresh Node process per function the time to load the bundle and run
 * one invocation against the AWS model, next to an empty handler's.
 *
 *   npm run bench:lambdas
 *
 * Writes bench/out/lambdas.json. This machine runs Node 20 where Lambda runs nodejs22.x,
 * and a Lambda cold start also includes the runtime's own start (not measured here).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { formatTable } from '../../tools/report/synth-summary';

const root = path.join(__dirname, '..', '..');
const out = path.join(__dirname, '..', 'out');
const bundles = path.join(out, 'bundles');

export interface LambdaResult {
  readonly name: string;
  readonly bundleKB: number;
  readonly loadMs: number;
  readonly invokeMs: number;
  readonly firstInvocation: string;
  readonly awsCalls: number;
}

const FUNCTIONS = ['contain', 'incident', 'recovery', 'ledger', 'db-user', 'console'];
const INVOCATION: Record<string, string> = {
  // db-user: refused before any SQL (no database here); its SQL runs in the tests against MariaDB.
  empty: 'empty handler',
  contain: 'GuardDuty finding -> contained',
  incident: 'notify step',
  recovery: 'approval-timed-out step',
  ledger: 'deployment completed -> ledger',
  'db-user': 'password request refused before SQL',
  console: 'status of the fleet',
};

function bundle(name: string, entry: string): string {
  const outfile = path.join(bundles, name, 'index.js');
  buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    minify: true,
    sourcemap: true,
    external: ['@aws-sdk/*'],
    outfile,
    logLevel: 'silent',
  });
  return outfile;
}

/** The cold-start driver (and the AWS model) bundled too, so the child runs on plain Node, no TypeScript loader. */
function driver(): string {
  const outfile = path.join(bundles, 'cold-start-driver.js');
  buildSync({
    entryPoints: [path.join(__dirname, 'cold-start.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // Shared with the function bundles, so the model's stubs are the ones they call.
    external: ['@aws-sdk/*', '@smithy/*', 'aws-sdk-client-mock'],
    outfile,
    logLevel: 'silent',
  });
  return outfile;
}

function coldStart(name: string, file: string, runs: number, driverFile: string) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const line = execFileSync(process.execPath, [driverFile, name, file], {
      cwd: root,
      encoding: 'utf8',
      env: {
        ...process.env,
        NODE_NO_WARNINGS: '1',
        BULKHEAD_SAMPLE_EVENTS: path.join(root, 'test', 'fixtures', 'events'),
      },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    samples.push(
      JSON.parse(line.trim().split('\n').pop() as string) as {
        loadMs: number;
        invokeMs: number;
        ok: boolean;
        error?: string;
        calls: number;
      },
    );
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
  return {
    loadMs: median(samples.map((s) => s.loadMs)),
    invokeMs: median(samples.map((s) => s.invokeMs)),
    ok: samples.every((s) => s.ok),
    error: samples.find((s) => s.error)?.error,
    calls: samples[0]?.calls ?? 0,
  };
}

export function benchLambdas(runs = 3): LambdaResult[] {
  mkdirSync(bundles, { recursive: true });
  const emptyEntry = path.join(bundles, 'empty.ts');
  writeFileSync(emptyEntry, 'export const handler = async () => ({});\n');
  const entries: [string, string][] = [
    ['empty', emptyEntry],
    ...FUNCTIONS.filter((f) => existsSync(path.join(root, 'runtime', f, 'index.ts'))).map(
      (f) => [f, path.join(root, 'runtime', f, 'index.ts')] as [string, string],
    ),
  ];
  const driverFile = driver();
  return entries.map(([name, entry]) => {
    const file = bundle(name, entry);
    const cold = coldStart(name, file, runs, driverFile);
    return {
      name,
      bundleKB: statSync(file).size / 1024,
      loadMs: cold.loadMs,
      invokeMs: cold.invokeMs,
      firstInvocation: `${INVOCATION[name] ?? ''}${cold.ok ? '' : ` (threw ${cold.error?.split(':')[0]})`}`,
      awsCalls: cold.calls,
    };
  });
}

function main() {
  const results = benchLambdas();
  console.log(
    '\nLambda bundles and cold starts (median of 3 fresh Node processes each; the AWS SDK is loaded before timing, as the Lambda runtime provides it)\n',
  );
  console.log(
    formatTable(
      ['function', 'bundle KB', 'load ms', 'first invoke ms', 'invocation', 'AWS calls'],
      results.map((r) => [
        r.name,
        r.bundleKB.toFixed(0),
        r.loadMs.toFixed(0),
        r.invokeMs.toFixed(0),
        r.firstInvocation,
        String(r.awsCalls),
      ]),
    ),
  );
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'lambdas.json'), `${JSON.stringify(results, null, 2)}\n`);
}

if (require.main === module) main();
