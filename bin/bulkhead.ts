#!/usr/bin/env node
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { FleetConfigError, loadFleetFile } from '../lib/config/load-fleet';
import { addFleet, UnknownSiteError } from '../lib/fleet-app';

/**
 * The CDK app: `-c env=<name>` picks config/<name>.yaml (default example), `-c fleet=<path>`
 * names any fleet file, `-c site=<id>` synthesizes only that site's stack.
 */
const app = new App();
const envName = String(app.node.tryGetContext('env') ?? 'example');
const fleetPath = app.node.tryGetContext('fleet') as string | undefined;
const siteContext = app.node.tryGetContext('site') as string | undefined;
const file = fleetPath ?? path.join('config', `${envName}.yaml`);

try {
  const fleet = loadFleetFile(file);
  addFleet(app, fleet, { site: siteContext, nag: app.node.tryGetContext('nag') !== 'false' });
} catch (error) {
  if (error instanceof FleetConfigError || error instanceof UnknownSiteError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
