import { Fn, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as r53r from 'aws-cdk-lib/aws-route53resolver';
import type { Construct } from 'constructs';
import type { CellConfig, FleetConfig } from '../config/load-fleet';
import { strictRange } from '../config/network-layout';
import { exportCellVpcValues } from '../shared/stack-exports';
import { Component, TAG_CELL, tagComponent } from '../shared/tags';
import { fleetAvailabilityZones } from './availability-zones';
import { SiteVpc } from './site-vpc';

/** What a cell's own VPC reaches in the platform VPC, as interfaces. */
export interface PlatformReach {
  /** The platform VPC: the database and uploads live in its isolated subnets. */
  readonly vpc: ec2.IVpc;
  /** The platform VPC's isolated subnets (the database's and the uploads' mount targets'). */
  readonly isolatedSubnets: readonly ec2.ISubnet[];
  /** The uploads file system's id and its mount targets' addresses, one per AZ. */
  readonly uploads: { readonly fileSystemId: string; readonly mountTargetAddresses: readonly string[] };
  /** The DNS firewall rule groups every VPC of sites is associated with. */
  readonly dnsFirewall: { readonly threatsGroupId: string; readonly awsNamesOnlyGroupId: string };
}

/** The addresses of a file system's mount targets, in subnet (AZ) order. */
export function mountTargetAddresses(fileSystem: efs.FileSystem): string[] {
  return fileSystem.node
    .findAll()
    .filter((c): c is efs.CfnMountTarget => c instanceof efs.CfnMountTarget)
    .map((m) => m.attrIpAddress);
}

export interface CellNetworkStackProps extends StackProps {
  /** The validated fleet. */
  readonly fleet: FleetConfig;
  /** The cell; its `network` is the VPC this stack builds. */
  readonly cell: CellConfig;
  /** What the cell's sites reach in the platform VPC. */
  readonly platform: PlatformReach;
}

/**
 * A cell's own VPC (docs/network.md, "A VPC per cell"): the same layout as the platform VPC
 * (infra/platform/site-vpc.ts: shared subnets, watch subnets, endpoints, the quarantine ACL,
 * the site range) for at most one cell of sites, so that 1,000 sites fit one account within
 * the default 200 subnets and 200 network ACLs per VPC. Its sites reach the database and the
 * uploads in the platform VPC through one peering connection, routed to the platform's
 * isolated subnets only; the uploads file system's name resolves here through a private hosted
 * zone (EFS names do not resolve across peering).
 */
export class CellNetworkStack extends Stack {
  readonly siteVpc: SiteVpc;
  readonly peering: ec2.CfnVPCPeeringConnection;

  private readonly fleetAzs: string[];

  constructor(scope: Construct, id: string, props: CellNetworkStackProps) {
    super(scope, id, props);
    const { fleet, cell, platform } = props;
    if (!cell.network) throw new Error(`cell ${cell.id} has no network of its own (cells[].network.cidr)`);
    Tags.of(this).add(TAG_CELL, cell.id);
    this.fleetAzs = fleetAvailabilityZones(this, fleet);
    const needsInternet = fleet.sites.some((s) => s.cell === cell.id && s.internetEgress);
    this.siteVpc = new SiteVpc(this, {
      layout: cell.network,
      availabilityZones: this.fleetAzs,
      needsInternet,
      containerPort: fleet.containerPort,
    });
    this.peering = this.peerWithPlatform(cell.network.vpcCidr, platform);
    this.resolveUploads(platform.uploads);
    this.associateDnsFirewall(fleet.environment, cell.id, platform.dnsFirewall, !needsInternet);
    exportCellVpcValues(this, fleet.environment, cell.id, this.siteVpc.exports());
  }

  /**
   * One peering connection to the platform VPC, accepted without a role: "If the requester and
   * acceptor VPCs are in the same account, the peering request is accepted without a peering
   * role" (CloudFormation template reference, AWS::EC2::VPCPeeringConnection). Routes: the cell's
   * app route tables reach the platform's isolated subnets (database 3306, uploads 2049; their
   * groups admit the cell's site range through the platform's app-subnets prefix list), and the
   * platform's isolated route tables send the answers back to the cell's site range. Peering
   * is not transitive, so cells never reach each other through it.
   */
  private peerWithPlatform(cellCidr: string, platform: PlatformReach): ec2.CfnVPCPeeringConnection {
    const vpc = this.siteVpc.vpc;
    const peering = new ec2.CfnVPCPeeringConnection(this, 'PlatformPeering', {
      vpcId: vpc.vpcId,
      peerVpcId: platform.vpc.vpcId,
    });
    tagComponent(peering, Component.network);
    const cellRouteTables = [...vpc.isolatedSubnets, ...vpc.privateSubnets].map((s) => s.routeTable.routeTableId);
    cellRouteTables.forEach((routeTableId, t) =>
      platform.isolatedSubnets.forEach((subnet, i) => {
        new ec2.CfnRoute(this, `ToPlatform${t}x${i}`, {
          routeTableId,
          destinationCidrBlock: subnet.ipv4CidrBlock,
          vpcPeeringConnectionId: peering.ref,
        });
      }),
    );
    platform.isolatedSubnets.forEach((subnet, i) => {
      new ec2.CfnRoute(this, `FromPlatform${i}`, {
        routeTableId: subnet.routeTable.routeTableId,
        destinationCidrBlock: strictRange(cellCidr),
        vpcPeeringConnectionId: peering.ref,
      });
    });
    return peering;
  }

  /**
   * "You can't use DNS name resolution for EFS mount points in another VPC ... Alternatively,
   * you can use Amazon Route 53 as your DNS service. In Route 53, you can resolve the EFS mount
   * target IP addresses from another VPC by creating a private hosted zone and resource record
   * set" (EFS User Guide, "Mounting EFS file systems from another VPC"). The zone is the file
   * system's DNS name, associated with this VPC only; its record lists the mount targets.
   */
  private resolveUploads(uploads: PlatformReach['uploads']): void {
    const name = Fn.join('', [uploads.fileSystemId, '.efs.', this.region, '.amazonaws.com']);
    const zone = new route53.CfnHostedZone(this, 'UploadsZone', {
      name,
      vpcs: [{ vpcId: this.siteVpc.vpc.vpcId, vpcRegion: this.region }],
      hostedZoneConfig: { comment: 'Bulkhead: the uploads file system, reached through peering' },
    });
    tagComponent(zone, Component.network);
    new route53.CfnRecordSet(this, 'UploadsMountTargets', {
      hostedZoneId: zone.ref,
      name,
      type: 'A',
      ttl: '60',
      resourceRecords: [...uploads.mountTargetAddresses],
    });
  }

  /** The platform's DNS firewall rule groups, on this VPC too ("DNS Firewall works per VPC"). */
  private associateDnsFirewall(
    environment: string,
    cellId: string,
    groups: PlatformReach['dnsFirewall'],
    awsNamesOnly: boolean,
  ): void {
    const associate = (id: string, groupId: string, priority: number, name: string) => {
      const association = new r53r.CfnFirewallRuleGroupAssociation(this, id, {
        firewallRuleGroupId: groupId,
        vpcId: this.siteVpc.vpc.vpcId,
        priority,
        name,
        mutationProtection: 'ENABLED',
      });
      tagComponent(association, Component.dnsFirewall);
    };
    associate('DnsThreatsOnVpc', groups.threatsGroupId, 101, `bulkhead-${environment}-${cellId}-dns`);
    if (awsNamesOnly) {
      associate(
        'DnsAwsNamesOnlyOnVpc',
        groups.awsNamesOnlyGroupId,
        201,
        `bulkhead-${environment}-${cellId}-dns-aws-only`,
      );
    }
  }

  /** The fleet's AZs, decided from its config: no account lookup at synth time. */
  override get availabilityZones(): string[] {
    return this.fleetAzs;
  }
}
