import type { App } from 'aws-cdk-lib';
import type { FleetConfig } from './config/load-fleet';
import { CellNetworkStack, mountTargetAddresses } from './platform/cell-network-stack';
import { CellStack } from './platform/cell-stack';
import { DataStack } from './platform/data-stack';
import { NetworkStack } from './platform/network-stack';
import { OpsStack } from './ops/ops-stack';
import { ResponseStack } from './response/response-stack';
import { StackName } from '../contracts/names';
import { addSingleSite, addSiteStack, prepareApp, stackEnvironment } from './site/site-app';
import type { SiteStack } from './site/site-stack';

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
  /** The cells' own VPCs (`cells[].network.cidr`), by cell id. */
  readonly cellNetworks: ReadonlyMap<string, CellNetworkStack>;
  readonly response?: ResponseStack;
  readonly ops?: OpsStack;
  readonly sites: readonly SiteStack[];
}

export { UnknownSiteError } from './site/site-app';

/**
 * Adds the fleet's stacks to an app: network, data, one per cell, one per site. With
 * `site`, only that site's stack: it imports the platform by export name, so it needs
 * nothing else and its synthesis does not grow with the fleet.
 */
export function addFleet(app: App, fleet: FleetConfig, options: FleetAppOptions = {}): FleetStacks {
  if (options.site !== undefined) {
    return { cells: [], cellNetworks: new Map(), sites: [addSingleSite(app, fleet, options.site, options)] };
  }
  const env = stackEnvironment(fleet);
  prepareApp(app, fleet, options.nag ?? true);
  const siteStack = (site: FleetConfig['sites'][number]) => addSiteStack(app, fleet, site);

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
  const cellNetworks = new Map<string, CellNetworkStack>();
  for (const cell of fleet.cells) {
    if (!cell.network) continue;
    const cellNetwork = new CellNetworkStack(app, StackName.cellNetwork(fleet.environment, cell.id), {
      env,
      fleet,
      cell,
      platform: {
        vpc: network.vpc,
        isolatedSubnets: network.vpc.isolatedSubnets,
        uploads: { fileSystemId: data.uploads.fileSystemId, mountTargetAddresses: mountTargetAddresses(data.uploads) },
        dnsFirewall: {
          threatsGroupId: network.dnsFirewall.threats.attrId,
          awsNamesOnlyGroupId: network.dnsFirewall.awsOnly.attrId,
        },
      },
      description: `Bulkhead ${fleet.environment}: cell ${cell.id}'s own VPC (endpoints, quarantine ACL, peering to the platform)`,
    });
    cellNetworks.set(cell.id, cellNetwork);
  }
  const cells = fleet.cells.map((cell) => {
    const own = cellNetworks.get(cell.id)?.siteVpc;
    return new CellStack(app, StackName.cell(fleet.environment, cell.id), {
      env,
      fleet,
      cell,
      vpc: own?.vpc ?? network.vpc,
      appSubnets: own?.appSubnets ?? network.appSubnets,
      accessLogs: network.accessLogs,
      description: `Bulkhead ${fleet.environment}: cell ${cell.id} (cluster and load balancer)`,
    });
  });
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
  const ops = new OpsStack(app, StackName.ops(fleet.environment), {
    env,
    fleet,
    incidents: response.incidents,
    workflow: response.workflow.stateMachine,
    containFunction: response.containFunction,
    logsEndpointSecurityGroup: network.logsEndpointSecurityGroup,
    quarantineAcl: network.quarantineAcl,
    description: `Bulkhead ${fleet.environment}: ops console (siteops), operator role, drills`,
  });
  // The console names the cells' listeners by export name.
  for (const cell of cells) ops.addStackDependency(cell);
  const sites = fleet.sites.map((site) => {
    const stack = siteStack(site);
    // Deploy order only: the site stack imports by export name, never by reference.
    stack.addStackDependency(network);
    stack.addStackDependency(data);
    stack.addStackDependency(response);
    const cell = cells[fleet.cells.findIndex((c) => c.id === site.cell)];
    if (cell) stack.addStackDependency(cell);
    const cellNetwork = cellNetworks.get(site.cell);
    if (cellNetwork) stack.addStackDependency(cellNetwork);
    return stack;
  });
  return { network, data, cells, cellNetworks, response, ops, sites };
}
