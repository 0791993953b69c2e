#!/usr/bin/env node
/**
 * `npm start`: synthesizes the fleet offline with the project's own CDK CLI (no AWS
 * account, no Docker) into cdk.out, then prints what was built per site and runs the
 * isolation audit over it (cdk.out/audit.html); a failed audit exits non-zero.
 * Extra arguments go to `cdk synth`, e.g. `npm start -- -c env=prod` or `-c site=acme-shop`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { formatAuditSummary, runAudit } from '../tools/audit';
import { exitQuietlyOnBrokenPipe } from '../tools/cli/broken-pipe';
import { formatTable, summarizeAssembly } from '../tools/report/synth-summary';

exitQuietlyOnBrokenPipe();
const root = path.join(__dirname, '..');
const cdk = path.join(root, 'node_modules', '.bin', 'cdk');
const outdir = path.join(root, 'cdk.out');
const given = process.argv.slice(2);
// The example fleet is small: include CloudFormation's own template validation by default.
const args = given.some((a) => a.startsWith('validate=')) ? given : [...given, '-c', 'validate=true'];

if (!existsSync(cdk)) {
  console.error('The CDK CLI is not installed here: run `npm ci` first.');
  process.exit(1);
}

console.log(
  `Synthesizing ${args.length ? args.join(' ') : 'the example fleet (config/example.yaml)'} into cdk.out ...`,
);
const started = Date.now();
const synth = spawnSync(cdk, ['synth', '--quiet', '--output', outdir, ...args], {
  cwd: root,
  stdio: ['ignore', 'inherit', 'inherit'],
  env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' },
});
if (synth.status !== 0) {
  console.error(`cdk synth failed (exit ${synth.status ?? synth.signal}); nothing was summarized.`);
  process.exit(synth.status ?? 1);
}
const seconds = ((Date.now() - started) / 1000).toFixed(1);

const { sites, stacks } = summarizeAssembly(outdir);
const checks = [
  args.includes('nag=false') ? 'cdk-nag off' : 'cdk-nag AwsSolutions: no unacknowledged finding',
  args.includes('validate=true')
    ? 'CloudFormation template validation: passed'
    : 'CloudFormation template validation off',
];
console.log(`\nSynthesized ${stacks.length} stacks in ${seconds} s (${checks.join('; ')}).\n`);
console.log(
  formatTable(
    ['site', 'cell', 'isolation', 'cpu/mem', 'image', 'sg in/out', 'internet', 'uploads uid', 'resources'],
    sites.map((s) => [
      s.site,
      s.cell,
      s.isolation,
      s.size,
      s.image,
      `${s.ingressRules}/${s.egressRules}`,
      s.internet ? 'https' : 'no',
      s.uploadsUid,
      String(s.resources),
    ]),
  ),
);
const platform = stacks.filter((s) => !sites.some((site) => site.stack === s.stack));
if (platform.length > 0) {
  console.log(`\nPlatform: ${platform.map((s) => `${s.stack} (${s.resources})`).join(', ')}`);
}
console.log('\nTemplates are in cdk.out/. Deploy to an account with: npx cdk deploy --all -c env=<env>');

const htmlOut = path.join(outdir, 'audit.html');
const audit = runAudit({ cdkOut: outdir, htmlOut });
console.log(`\n${formatAuditSummary(audit)}`);
console.log(`\nAudit report: ${path.relative(process.cwd(), htmlOut)}`);
if (!audit.passed) process.exit(1);
