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
  /** The VPC the site's cell runs in (the cell's own, or the platform's), with its CIDR block. */
  readonly vpc: ec2.IVpc;
  /**
   * The shared subnets of the site's tier (isolated, or with NAT egress when it may reach the
   * internet), one per AZ, in AZ order. The compartment does not use them: every site's tasks
   * run in subnets of its own (docs/network.md).
   */
  readonly serviceSubnets: ec2.ISubnet[];
  /** Route tables of the site's tier that its own subnets use, one per AZ, in AZ order. */
  readonly routeTableIds: string[];
  /** The fleet's availability zones, in order: the site's own subnets are one per AZ, in this order. */
  readonly availabilityZones: string[];
  /** The cell's ECS cluster, which runs the site's service. */
  readonly cluster: ecs.ICluster;
  /** The cell's HTTPS listener: the site adds its own rule and certificate to it. */
  readonly listener: elbv2.IApplicationListener;
  /** The cell load balancer's security group: the only source the site's group admits. */
  readonly loadBalancerSecurityGroup: ec2.ISecurityGroup;
  /** The cell load balancer's full name (`app/<name>/<id>`), the dimension of the site's 5xx alarm. */
  readonly loadBalancerFullName: string;
  /** The database's security group: the site's group may reach it on MySQL (3306). */
  readonly databaseSecurityGroup: ec2.ISecurityGroup;
  /** The ECR and Secrets Manager interface endpoints' security group (HTTPS from the site). */
  readonly endpointSecurityGroup: ec2.ISecurityGroup;
  /** The CloudWatch Logs and GuardDuty data endpoints' security group (HTTPS from the site). */
  readonly logsEndpointSecurityGroup: ec2.ISecurityGroup;
  /** The uploads file system's security group: the site's group may reach it on NFS (2049). */
  readonly uploadsSecurityGroup: ec2.ISecurityGroup;
  /** The uploads file system: the site gets its own access point on it. */
  readonly uploads: efs.IFileSystem;
  /** The S3 gateway endpoint's prefix list (ECR image layers come from S3). */
  readonly s3PrefixListId: string;
  /** The database's host name, written into the site's secret. */
  readonly databaseEndpoint: string;
  /** The database's port (a string, as the platform exports it), written into the site's secret. */
  readonly databasePort: string;
  /** The service token of the provider that creates the site's database user and schema. */
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
    /** The cell VPC's quarantine network ACL. */
    readonly quarantineAclId: string;
    /** The security group of the cell VPC's CloudWatch Logs and GuardDuty data endpoints. */
    readonly logsEndpointSecurityGroupId: string;
    /** The platform VPC's shared range (database and uploads), reached through peering. */
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
