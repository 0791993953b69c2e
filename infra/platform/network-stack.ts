import { ArnFormat, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { FleetConfig } from '../config/load-fleet';
import { strictRange } from '../config/network-layout';
import { exportPlatformValues } from '../shared/stack-exports';
import { acknowledge, nagArn } from '../shared/nag';
import { Component, tagComponent } from '../shared/tags';
import { fleetAvailabilityZones } from './availability-zones';
import { DnsFirewall } from './dns-firewall';
import { SiteVpc } from './site-vpc';

export interface NetworkStackProps extends StackProps {
  /** The validated fleet. */
  readonly fleet: FleetConfig;
}

/**
 * The fleet's VPC: public subnets for the load balancers (and NAT, only when a site may
 * reach the internet), isolated subnets for sites, the database, uploads and endpoints, and
 * the VPC endpoints Fargate, Secrets Manager and CloudWatch Logs need (infra/platform/site-vpc.ts).
 * Shared security groups admit the app subnets as one prefix list, so they never gain a rule
 * per site; with cells in VPCs of their own, the list also holds those cells' site ranges
 * (their tasks reach the database and uploads here through peering). Also the fleet-wide
 * pieces: the DNS firewall's rule groups, the role that writes sites' REJECT flow logs, and the
 * load balancers' access-log bucket.
 */
export class NetworkStack extends Stack {
  readonly vpc: ec2.Vpc;
  /** CIDRs of every subnet a site task may run in (shared app subnets, the site range, cells' site ranges). */
  readonly appSubnets: ec2.PrefixList;
  readonly endpointSecurityGroup: ec2.SecurityGroup;
  readonly logsEndpointSecurityGroup: ec2.SecurityGroup;
  readonly quarantineAcl: ec2.NetworkAcl;
  /** The subnets of the CloudWatch Logs and GuardDuty data endpoints, one per AZ (docs/network.md). */
  readonly watchSubnets: ec2.ISubnet[];
  /** Receives the cells' load balancer access logs. */
  readonly accessLogs: s3.Bucket;
  readonly dnsFirewall: DnsFirewall;
  /** The role VPC Flow Logs assumes to write sites' REJECT records. */
  readonly siteFlowLogsRoleArn: string;

  private readonly fleetAzs: string[];

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    const { fleet } = props;
    this.fleetAzs = fleetAvailabilityZones(this, fleet);
    const siteVpc = new SiteVpc(this, {
      layout: fleet.network,
      availabilityZones: this.fleetAzs,
      needsInternet: fleet.needsInternet,
      containerPort: fleet.containerPort,
      peeredSiteRanges: fleet.cells.flatMap((c) => (c.network ? [strictRange(c.network.vpcCidr)] : [])),
    });
    this.vpc = siteVpc.vpc;
    this.appSubnets = siteVpc.appSubnets;
    this.endpointSecurityGroup = siteVpc.endpointSecurityGroup;
    this.logsEndpointSecurityGroup = siteVpc.logsEndpointSecurityGroup;
    this.watchSubnets = siteVpc.watchSubnets;
    this.quarantineAcl = siteVpc.quarantineAcl;
    this.siteFlowLogsRoleArn = this.createSiteFlowLogsRole(fleet.environment);

    // Names are not a way out either (infra/platform/dns-firewall.ts).
    this.dnsFirewall = new DnsFirewall(this, 'DnsFirewall', {
      vpc: this.vpc,
      environment: fleet.environment,
      awsNamesOnly: !fleet.needsInternet,
    });
    this.accessLogs = this.createAccessLogs();
    exportPlatformValues(this, fleet.environment, {
      ...siteVpc.exports(),
      siteFlowLogsRoleArn: this.siteFlowLogsRoleArn,
    });
  }

  /**
   * The role VPC Flow Logs assumes to write each site's REJECT records (infra/site/site-compartment.ts
   * rejectAlarm) into that site's flow-log group; one role for the fleet, not one per site.
   */
  private createSiteFlowLogsRole(environment: string): string {
    const siteFlowLogsRole = new iam.Role(this, 'SiteFlowLogsRole', {
      assumedBy: new iam.ServicePrincipal('vpc-flow-logs.amazonaws.com'),
      description: "Bulkhead: VPC Flow Logs writes each site's REJECT records to that site's flow-log group",
    });
    siteFlowLogsRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteSiteFlowLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: [
          this.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: `/bulkhead/${environment}/flow-rejects/*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    tagComponent(siteFlowLogsRole, Component.flowLogs);
    acknowledge(
      siteFlowLogsRole,
      `AwsSolutions-IAM5[Resource::${nagArn(this, 'logs', `log-group:/bulkhead/${environment}/flow-rejects/*`)}]`,
      "The sites' flow-log groups (one per site, named by site and stack instance), and only those.",
    );
    return siteFlowLogsRole.roleArn;
  }

  private createAccessLogs(): s3.Bucket {
    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ expiration: Duration.days(400), noncurrentVersionExpiration: Duration.days(30) }],
    });
    tagComponent(accessLogs, Component.accessLogs);
    Validations.of(accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This bucket is itself the access-log destination of the load balancers; logging it to another bucket would only move the question.',
    });
    return accessLogs;
  }

  /** The fleet's AZs, decided from its config: no account lookup at synth time. */
  override get availabilityZones(): string[] {
    return this.fleetAzs;
  }
}
