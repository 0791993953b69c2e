import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { type FleetConfig, loadFleetFile, parseFleet } from '../../infra/config/load-fleet';
import { addFleet, type FleetAppOptions, type FleetStacks } from '../../infra/fleet-app';
import { StackName } from '../../contracts/names';
import { writeProvenance } from '../../infra/shared/provenance';
import { generateFleetYaml } from './fleet-generator';

export interface SynthesizedFleet {
  readonly app: App;
  readonly fleet: FleetConfig;
  readonly stacks: FleetStacks;
  readonly outdir: string;
  /** Template of a site's stack. */
  site(id: string): Template;
  /** Raw template JSON of a site's stack. */
  siteJson(id: string): CfnTemplate;
  /** Every stack's raw template JSON, by stack name. */
  readonly json: ReadonlyMap<string, CfnTemplate>;
}

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string[] | string;
}

export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown; Export?: { Name: string } }>;
}

/** Synthesizes a fleet into a temporary cloud assembly, as `cdk synth` would. */
export function synthFleet(
  fleet: FleetConfig,
  options: FleetAppOptions & {
    cloudFormationValidation?: boolean;
    /**
     * Bundle the Lambda functions (esbuild), as `cdk synth` does. Off by default: the templates
     * are the same but for the code assets' hashes, and bundling is most of a synthesis's time
     * (the example fleet: about 9-16 s with it, 2-3 s without, on this 2-core machine). Tests that
     * run the bundled code (test/emulator) turn it on.
     */
    bundle?: boolean;
    /** The fleet file it was read from (recorded in the assembly's provenance, as bin/bulkhead.ts does). */
    fleetFile?: string;
    /** The fleet file's text, when it was generated in memory. */
    fleetText?: string;
  } = {},
): SynthesizedFleet {
  const outdir = mkdtempSync(path.join(tmpdir(), 'bulkhead-synth-'));
  const app = new App({
    outdir,
    // "aws:cdk:bundling-stacks": the stacks whose assets are bundled (an empty list: none).
    context: { ...cdkJsonContext(), ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
    builtinCloudFormationValidation: options.cloudFormationValidation ?? true,
  });
  const stacks = addFleet(app, fleet, options);
  const assembly = app.synth();
  const text = options.fleetText ?? (options.fleetFile ? undefined : JSON.stringify(fleet));
  writeProvenance(outdir, {
    fleetFile: options.fleetFile ?? `${fleet.environment}.yaml`,
    environment: fleet.environment,
    ...(options.site !== undefined ? { site: options.site } : {}),
    ...(text !== undefined ? { fleetSha256: createHash('sha256').update(text).digest('hex') } : {}),
  });
  const json = new Map<string, CfnTemplate>(
    assembly.stacks.map((stack) => [stack.stackName, stack.template as CfnTemplate]),
  );
  return {
    app,
    fleet,
    stacks,
    outdir,
    json,
    site(id) {
      return Template.fromJSON(this.siteJson(id) as unknown as Record<string, unknown>);
    },
    siteJson(id) {
      const template = json.get(StackName.site(fleet.environment, id));
      if (!template) throw new Error(`no synthesized stack for site ${id}`);
      return template;
    },
  };
}

/**
 * The feature flags and context of cdk.json, which the CLI passes to the app: tests must
 * synthesize exactly what `cdk synth` does.
 */
export function cdkJsonContext(): Record<string, unknown> {
  return (JSON.parse(readFileSync('cdk.json', 'utf8')) as { context: Record<string, unknown> }).context;
}

const examples = new Map<boolean, SynthesizedFleet>();

/**
 * The shipped example fleet, synthesized once per test file (with `bundle`, its functions
 * bundled as `cdk synth` bundles them: see {@link synthFleet}).
 */
export function synthExample(options: { readonly bundle?: boolean } = {}): SynthesizedFleet {
  const bundle = options.bundle ?? false;
  let example = examples.get(bundle);
  if (!example) {
    example = synthFleet(loadFleetFile('config/example.yaml'), { fleetFile: 'config/example.yaml', bundle });
    examples.set(bundle, example);
  }
  return example;
}

/** A generated fleet of `sites` sites, synthesized without cdk-nag (it has its own tests). */
export function synthGenerated(sites: number, options: FleetAppOptions = {}): SynthesizedFleet {
  const text = generateFleetYaml({ sites });
  const fleetFile = `generated-${sites}.yaml`;
  const fleet = parseFleet(text, fleetFile);
  return synthFleet(fleet, { nag: false, cloudFormationValidation: false, fleetFile, fleetText: text, ...options });
}
