#!/usr/bin/env node
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { FleetConfigError, loadFleetFile } from '../infra/config/load-fleet';
import { writeProvenance } from '../infra/shared/provenance';
import { fleetQuotaWarnings } from '../infra/config/quotas';
import { UnknownSiteError } from '../infra/site/site-app';

/**
 * The CDK app: `-c env=<name>` picks config/<name>.yaml (default example), `-c fleet=<path>`
 * names any fleet file, `-c site=<id>` synthesizes only that site's stack (loading no
 * platform code at all), `-c nag=false` skips cdk-nag, `-c validate=true` adds CloudFormation's
 * own template validation (about 40 ms a template; `npm start` and the tests run it).
 * Beside the templates it writes bulkhead-provenance.json: the fleet file, environment and
 * commit the assembly comes from (infra/shared/provenance.ts).
 */
async function main(): Promise<void> {
  // Context is readable only from an App; this one is never synthesized.
  const probe = new App({ autoSynth: false });
  const context = (key: string) => probe.node.tryGetContext(key) as string | undefined;
  const app = new App({ builtinCloudFormationValidation: String(context('validate') ?? 'false') === 'true' });
  const file = context('fleet') ?? path.join('config', `${context('env') ?? 'example'}.yaml`);
  const site = context('site');
  const nag = String(context('nag') ?? 'true') !== 'false';
  const fleet = loadFleetFile(file);
  for (const warning of fleetQuotaWarnings(fleet)) console.error(`warning: ${warning}`);
  if (site !== undefined) {
    const { addSingleSite } = await import('../infra/site/site-app');
    addSingleSite(app, fleet, site, { nag });
  } else {
    const { addFleet } = await import('../infra/fleet-app');
    addFleet(app, fleet, { nag });
  }
  app.synth();
  // What the assembly was synthesized from, for the isolation audit to print and check.
  writeProvenance(app.outdir, { fleetFile: file, environment: fleet.environment, ...(site ? { site } : {}) });
}

main().catch((error: unknown) => {
  if (error instanceof FleetConfigError || error instanceof UnknownSiteError) {
    console.error(error.message);
    process.exit(1);
  }
  console.error(error);
  process.exit(1);
});
