import type { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type { Construct } from 'constructs';
import type { FleetConfig, SiteConfig } from '../config/load-fleet';
import { fleetAvailabilityZones } from '../platform/availability-zones';
import type { SiteVpcExportKey } from '../../contracts/names';
import { sharedRange } from '../config/network-layout';
import { importCell, importPlatform, importSiteVpc, importSiteVpcList } from '../shared/stack-exports';

/**
 * What a site compartment needs from the platform, as interfaces. `fromExports` builds it
 * from the platform's named exports, so a site stack never references platform constructs.
 */
export interface CompartmentPlatform {
  readonly vpc: ec2.IVpc;
  /** Shared subnets a standard site runs in (isolated, or with NAT egress when it may reach the internet). */
  readonly serviceSubnets: ec2.ISubnet[];
  /** Route tables a strict site's own subnets use, one per AZ, in AZ order. */
  readonly routeTableIds: string[];
  readonly availabilityZones: string[];
  readonly cluster: ecs.ICluster;
  readonly listener: elbv2.IApplicationListener;
  readonly loadBalancerSecurityGroup: ec2.ISecurityGroup;
  readonly loadBalancerFullName: string;
  readonly databaseSecurityGroup: ec2.ISecurityGroup;
  readonly endpointSecurityGroup: ec2.ISecurityGroup;
  readonly logsEndpointSecurityGroup: ec2.ISecurityGroup;
  readonly uploadsSecurityGroup: ec2.ISecurityGroup;
  readonly uploads: efs.IFileSystem;
  readonly s3PrefixListId: string;
  readonly databaseEndpoint: string;
  readonly databasePort: string;
  readonly databaseUserServiceToken: string;
  /** The response plane's key: each site's notice topic is encrypted with it. */
  readonly responseKeyArn: string;
  /** The role VPC Flow Logs assumes to write the site's REJECT records. */
  readonly siteFlowLogsRoleArn: string;
  /**
   * Set when the site's cell has a VPC of its own (docs/network.md, "A VPC per cell"): that
   * VPC's quarantine ACL and Logs endpoint group, which the site record names for the response
   * plane (whose environment names the platform VPC's), and the platform VPC's shared range
   * (the database and uploads, reached through peering) that a strict site's ACL admits.
   * @default the site runs in the platform VPC
   */
  readonly cellVpc?: {
    readonly quarantineAclId: string;
    readonly logsEndpointSecurityGroupId: string;
    readonly platformSharedRange: string;
  };
}

/** Imports the platform for one site from the exports named in contracts/names.ts. */
export function compartmentPlatformFromExports(
  scope: Construct,
  stack: Stack,
  fleet: FleetConfig,
  site: SiteConfig,
): CompartmentPlatform {
  const env = fleet.environment;
  const azCount = fleet.network.maxAzs;
  const availabilityZones = fleetAvailabilityZones(stack, fleet);
  const tier = site.internetEgress ? 'egress' : 'isolated';
  // The VPC the site's cell runs in: the cell's own, or the platform's.
  const cellLayout = fleet.cells.find((c) => c.id === site.cell)?.network;
  const cellVpc = cellLayout ? site.cell : undefined;
  const fromVpc = (key: SiteVpcExportKey) => importSiteVpc(env, cellVpc, key);
  const subnetIds = importSiteVpcList(
    env,
    cellVpc,
    tier === 'egress' ? 'egressSubnetIds' : 'isolatedSubnetIds',
    azCount,
  );
  const routeTableIds = importSiteVpcList(
    env,
    cellVpc,
    tier === 'egress' ? 'egressRouteTableIds' : 'isolatedRouteTableIds',
    azCount,
  );
  const vpc = ec2.Vpc.fromVpcAttributes(scope, 'Vpc', {
    vpcId: fromVpc('vpcId'),
    vpcCidrBlock: (cellLayout ?? fleet.network).vpcCidr,
    availabilityZones,
  });
  const group = (id: string, securityGroupId: string) =>
    ec2.SecurityGroup.fromSecurityGroupId(scope, id, securityGroupId, {
      mutable: false,
      allowAllOutbound: false,
    });
  const loadBalancerSecurityGroup = group(
    'LoadBalancerSecurityGroup',
    importCell(env, site.cell, 'loadBalancerSecurityGroupId'),
  );
  const uploadsSecurityGroup = group('UploadsSecurityGroup', importPlatform(env, 'uploadsSecurityGroupId'));
  return {
    vpc,
    serviceSubnets: subnetIds.map((subnetId, i) =>
      ec2.Subnet.fromSubnetAttributes(scope, `ServiceSubnet${i}`, {
        subnetId,
        availabilityZone: availabilityZones[i],
        routeTableId: routeTableIds[i],
      }),
    ),
    routeTableIds,
    availabilityZones,
    cluster: ecs.Cluster.fromClusterAttributes(scope, 'Cluster', {
      clusterName: importCell(env, site.cell, 'clusterName'),
      clusterArn: importCell(env, site.cell, 'clusterArn'),
      vpc,
      securityGroups: [],
    }),
    listener: elbv2.ApplicationListener.fromApplicationListenerAttributes(scope, 'Listener', {
      listenerArn: importCell(env, site.cell, 'listenerArn'),
      securityGroup: loadBalancerSecurityGroup,
    }),
    loadBalancerSecurityGroup,
    loadBalancerFullName: importCell(env, site.cell, 'loadBalancerFullName'),
    databaseSecurityGroup: group('DatabaseSecurityGroup', importPlatform(env, 'databaseSecurityGroupId')),
    endpointSecurityGroup: group('EndpointSecurityGroup', fromVpc('endpointSecurityGroupId')),
    logsEndpointSecurityGroup: group('LogsEndpointSecurityGroup', fromVpc('logsEndpointSecurityGroupId')),
    uploadsSecurityGroup,
    uploads: efs.FileSystem.fromFileSystemAttributes(scope, 'Uploads', {
      fileSystemArn: importPlatform(env, 'uploadsFileSystemArn'),
      securityGroup: uploadsSecurityGroup,
    }),
    s3PrefixListId: fromVpc('s3PrefixListId'),
    databaseEndpoint: importPlatform(env, 'databaseEndpoint'),
    databasePort: importPlatform(env, 'databasePort'),
    databaseUserServiceToken: importPlatform(env, 'databaseUserServiceToken'),
    responseKeyArn: importPlatform(env, 'responseKeyArn'),
    siteFlowLogsRoleArn: importPlatform(env, 'siteFlowLogsRoleArn'),
    ...(cellVpc
      ? {
          cellVpc: {
            quarantineAclId: fromVpc('quarantineAclId'),
            logsEndpointSecurityGroupId: fromVpc('logsEndpointSecurityGroupId'),
            platformSharedRange: sharedRange(fleet.network.vpcCidr),
          },
        }
      : {}),
  };
}
