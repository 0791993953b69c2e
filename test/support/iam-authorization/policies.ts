import { createHash } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { parseFleet } from '../../../infra/config/load-fleet';
import { addFleet } from '../../../infra/fleet-app';
import { cdkJsonContext } from '../synth-fleet';
import type { RESPONSE_FUNCTIONS } from './callers';

/**
 * The IAM policies of the response plane's functions, from templates synthesized for the
 * fleet a model world seeds (its environment, account, region and cells), as `cdk synth`
 * writes them. Synthesis takes seconds, so the templates are cached on disk by the hash of
 * everything that shapes them (infra/, bin/, cdk.json, the lockfile) and the fleet's shape.
 */

export type FunctionName = (typeof RESPONSE_FUNCTIONS)[number];

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}
export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }>;
}

export interface FleetShape {
  readonly environment: string;
  readonly account: string;
  readonly region: string;
  readonly cells: readonly string[];
}

export interface SynthesizedPolicies {
  readonly shape: FleetShape;
  /** Every stack's template, by stack name. */
  readonly templates: Record<string, CfnTemplate>;
  /** Each function's role: its stack, and the policy documents attached to it (intrinsics unresolved). */
  readonly functions: Record<
    FunctionName,
    { stack: string; role: string; documents: { name: string; document: unknown }[] }
  >;
}

/** Logical-id prefixes of the functions (infra/response/response-stack.ts, infra/ops/ops-stack.ts). */
const FUNCTION_IDS: Record<FunctionName, string> = {
  contain: 'ContainFunction',
  incident: 'IncidentFunction',
  recovery: 'RecoveryFunction',
  ledger: 'LedgerFunction',
  coverage: 'CoverageFunction',
  console: 'ConsoleFunction',
};

const ROOT = path.resolve(__dirname, '..', '..', '..');

function hashTree(hash: ReturnType<typeof createHash>, dir: string): void {
  for (const entry of readdirSync(dir).sort()) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) hashTree(hash, full);
    else hash.update(full.slice(ROOT.length)).update(readFileSync(full));
  }
}

function cacheKey(shape: FleetShape): string {
  const hash = createHash('sha256');
  for (const dir of ['contracts', 'infra', 'bin']) hashTree(hash, path.join(ROOT, dir));
  for (const file of ['cdk.json', 'package-lock.json', 'config/example.yaml'])
    hash.update(readFileSync(path.join(ROOT, file)));
  hash.update(JSON.stringify(shape));
  return hash.digest('hex').slice(0, 32);
}

/** The example fleet file with the world's environment, account, region and cells. */
function fleetText(shape: FleetShape): string {
  const example = readFileSync(path.join(ROOT, 'config', 'example.yaml'), 'utf8');
  const head = example.slice(0, example.indexOf('\ncells:'));
  const between = example.slice(example.indexOf('\ndatabase:'), example.indexOf('\nsites:'));
  const cells = shape.cells
    .map(
      (id, i) =>
        `  - id: ${id}\n    certificateArn: arn:aws:acm:${shape.region}:${shape.account}:certificate/00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    )
    .join('\n');
  const sites = shape.cells
    .map(
      (id, i) =>
        `  - id: site-${i}\n    cell: ${id}\n    domains: [site-${i}.example]\n    image:\n      repository: ${shape.account}.dkr.ecr.${shape.region}.amazonaws.com/sites/site-${i}\n      digest: sha256:${'0'.repeat(63)}${i % 10}\n    contact: site-${i}@example.com`,
    )
    .join('\n');
  return `${head
    .replace(/^environment: .*$/m, `environment: ${shape.environment}`)
    .replace(/^account: .*$/m, `account: '${shape.account}'`)
    .replace(/^region: .*$/m, `region: ${shape.region}`)}\ncells:\n${cells}\n${between}\nsites:\n${sites}\n`;
}

function synthesize(shape: FleetShape): SynthesizedPolicies {
  const text = fleetText(shape);
  const fleet = parseFleet(text, `${shape.environment}.yaml`);
  const outdir = mkdtempSync(path.join(tmpdir(), 'bulkhead-iam-synth-'));
  try {
    // No bundling (the policies do not depend on the code), no cdk-nag, no validation: fast.
    const app = new App({
      outdir,
      context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] },
      builtinCloudFormationValidation: false,
    });
    addFleet(app, fleet, { nag: false });
    const assembly = app.synth();
    const templates = Object.fromEntries(assembly.stacks.map((s) => [s.stackName, s.template as CfnTemplate]));
    const functions = {} as SynthesizedPolicies['functions'];
    for (const [fn, prefix] of Object.entries(FUNCTION_IDS) as [FunctionName, string][]) {
      const found = Object.entries(templates).flatMap(([stack, t]) =>
        Object.entries(t.Resources)
          .filter(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith(prefix))
          .map(([, r]) => ({
            stack,
            role: (r.Properties?.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0],
          })),
      );
      const [entry] = found;
      if (found.length !== 1 || !entry) throw new Error(`${found.length} functions ${prefix} in the synthesized fleet`);
      const resources = templates[entry.stack]?.Resources ?? {};
      const role = resources[entry.role];
      const documents = [
        ...((role?.Properties?.Policies as { PolicyName: string; PolicyDocument: unknown }[] | undefined) ?? []).map(
          (p) => ({ name: p.PolicyName, document: p.PolicyDocument }),
        ),
        ...Object.entries(resources)
          .filter(
            ([, r]) =>
              r.Type === 'AWS::IAM::Policy' &&
              ((r.Properties?.Roles as { Ref?: string }[] | undefined) ?? []).some((x) => x.Ref === entry.role),
          )
          .map(([id, r]) => ({ name: id, document: r.Properties?.PolicyDocument })),
      ];
      functions[fn] = { stack: entry.stack, role: entry.role, documents };
    }
    return { shape, templates, functions };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

const memory = new Map<string, SynthesizedPolicies>();

/** The functions' policies for a fleet of this shape: from memory, the disk cache, or a synthesis. */
export function policiesFor(shape: FleetShape): SynthesizedPolicies {
  const key = cacheKey(shape);
  const known = memory.get(key);
  if (known) return known;
  const dir = path.join(tmpdir(), 'bulkhead-iam-policies');
  const file = path.join(dir, `${key}.json`);
  let policies: SynthesizedPolicies;
  try {
    policies = JSON.parse(readFileSync(file, 'utf8')) as SynthesizedPolicies;
  } catch {
    policies = synthesize(shape);
    mkdirSync(dir, { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(policies));
    renameSync(temporary, file);
  }
  memory.set(key, policies);
  return policies;
}
