import { type App, type Environment, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { FleetConfig } from './config/load-fleet';
import { CellStack } from './platform/cell-stack';
import { DataStack } from './platform/data-stack';
import { NetworkStack } from './platform/network-stack';
import { ResponseStack } from './response/response-stack';
import { StackName } from './shared/contract';
import { TAG_ENV } from './shared/tags';
import { SiteStack } from './site/site-stack';

export interface FleetAppOptions {
  /** Build only this site's stack (`-c site=<id>`). */
  readonly site?: string;
  /**
   * Run the cdk-nag AwsSolutions pack on every stack.
   * @default true
   */
  readonly nag?: boolean;
}

export interface FleetStacks {
  readonly network?: NetworkStack;
  readonly data?: DataStack;
  readonly cells: readonly CellStack[];
  readonly response?: ResponseStack;
  readonly sites: readonly SiteStack[];
}

/** Thrown for a `-c site=<id>` that names no site in the fleet. */
export class UnknownSiteError extends Error {
  override readonly name = 'UnknownSiteError';
}

/**
 * Adds the fleet's stacks to an app: network, data, one per cell, one per site. With
 * `site`, only that site's stack: it imports the platform by export name, so it needs
 * nothing else and its synthesis does not grow with the fleet.
 */
export function addFleet(app: App, fleet: FleetConfig, options: FleetAppOptions = {}): FleetStacks {
  const env: Environment | undefined =
    fleet.account || fleet.region ? { account: fleet.account, region: fleet.region } : undefined;
  Tags.of(app).add(TAG_ENV, fleet.environment);
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const siteStack = (site: FleetConfig['sites'][number]) =>
    new SiteStack(app, StackName.site(fleet.environment, site.id), {
      env,
      fleet,
      site,
      description: `Bulkhead ${fleet.environment}: site ${site.id} (cell ${site.cell})`,
    });

  if (options.site !== undefined) {
    const site = fleet.sites.find((s) => s.id === options.site);
    if (!site) {
      throw new UnknownSiteError(
        `-c site=${options.site}: no site with that id in ${fleet.source}. Sites: ${fleet.sites.map((s) => s.id).join(', ')}`,
      );
    }
    return { cells: [], sites: [siteStack(site)] };
  }

  const network = new NetworkStack(app, StackName.network(fleet.environment), {
    env,
    fleet,
    description: `Bulkhead ${fleet.environment}: VPC, endpoints, quarantine ACL`,
  });
  const data = new DataStack(app, StackName.data(fleet.environment), {
    env,
    fleet,
    vpc: network.vpc,
    appSubnets: network.appSubnets,
    endpointSecurityGroup: network.endpointSecurityGroup,
    description: `Bulkhead ${fleet.environment}: database cluster, uploads file system, database-user provider`,
  });
  const cells = fleet.cells.map(
    (cell) =>
      new CellStack(app, StackName.cell(fleet.environment, cell.id), {
        env,
        fleet,
        cell,
        vpc: network.vpc,
        appSubnets: network.appSubnets,
        accessLogs: network.accessLogs,
        description: `Bulkhead ${fleet.environment}: cell ${cell.id} (cluster and load balancer)`,
      }),
  );
  const response = new ResponseStack(app, StackName.response(fleet.environment), {
    env,
    fleet,
    logsEndpointSecurityGroup: network.logsEndpointSecurityGroup,
    quarantineAcl: network.quarantineAcl,
    accessLogs: network.accessLogs,
    description: `Bulkhead ${fleet.environment}: response plane (containment, incidents, evidence, workflow)`,
  });
  // The response stack names the cells' clusters and listeners by export name.
  for (const cell of cells) response.addStackDependency(cell);
  const sites = fleet.sites.map((site) => {
    const stack = siteStack(site);
    // Deploy order only: the site stack imports by export name, never by reference.
    stack.addStackDependency(network);
    stack.addStackDependency(data);
    stack.addStackDependency(response);
    const cell = cells[fleet.cells.findIndex((c) => c.id === site.cell)];
    if (cell) stack.addStackDependency(cell);
    return stack;
  });
  return { network, data, cells, response, sites };
}
