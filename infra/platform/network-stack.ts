import { ArnFormat, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import type { FleetConfig } from '../config/load-fleet';
import { strictRange, watchSubnetCidrs } from '../config/network-layout';
import { type PlatformExportKey } from '../../contracts/names';
import { exportPlatformValues } from '../shared/stack-exports';
import { acknowledge, LAMBDA_BASIC_EXECUTION, nagArn } from '../shared/nag';
import { Component, tagComponent } from '../shared/tags';
import { fleetAvailabilityZones } from './availability-zones';
import { DnsFirewall } from './dns-firewall';
import { ecrEndpointStatements, ownAccountStatements, s3EndpointStatements } from './endpoint-policies';

/** Construct id CDK gives the one Lambda behind every AwsCustomResource in a stack. */
const AWS_CUSTOM_RESOURCE_SINGLETON = 'AWS679f53fac002430cb0da5b7982bd2287';

export interface NetworkStackProps extends StackProps {
  /** The validated fleet. */
  readonly fleet: FleetConfig;
}

/**
 * The fleet's VPC: public subnets for the load balancers (and NAT, only when a site may
 * reach the internet), isolated subnets for sites, the database, uploads and endpoints, and
 * the VPC endpoints Fargate, Secrets Manager and CloudWatch Logs need. Shared security
 * groups admit the app subnets as one prefix list, so they never gain a rule per site.
 */
export class NetworkStack extends Stack {
  readonly vpc: ec2.Vpc;
  /** CIDRs of every subnet a site task may run in (shared app subnets and the strict range). */
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
    const layout = fleet.network;
    const subnetConfiguration: ec2.SubnetConfiguration[] = [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: layout.sharedSubnetPrefix },
      {
        name: 'isolated',
        subnetType: ec2.SubnetType.PRIVATE_ISOLATED,
        cidrMask: layout.sharedSubnetPrefix,
      },
    ];
    if (fleet.needsInternet) {
      subnetConfiguration.push({
        name: 'egress',
        subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS,
        cidrMask: layout.sharedSubnetPrefix,
      });
    }

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(layout.vpcCidr),
      availabilityZones: this.fleetAzs,
      natGateways: fleet.needsInternet ? layout.maxAzs : 0,
      subnetConfiguration,
      restrictDefaultSecurityGroup: true,
    });
    // The S3 gateway endpoint (the same construct id CDK's `gatewayEndpoints` prop would give it),
    // held so it can carry its policy.
    const s3Endpoint = this.vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3 });
    for (const statement of s3EndpointStatements(this)) s3Endpoint.addToPolicy(statement);
    tagComponent(s3Endpoint, Component.vpcEndpoint);
    tagComponent(this.vpc, Component.network);
    Validations.of(this.vpc).acknowledge({
      id: 'AwsSolutions-VPC7',
      reason: 'Flow logs are attached below as a separate FlowLog resource to a retained log group.',
    });
    const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    tagComponent(flowLogGroup, Component.flowLogs);
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });

    // The role VPC Flow Logs assumes to write each site's REJECT records (infra/site/site-compartment.ts
    // rejectAlarm) into that site's flow-log group; one role for the fleet, not one per site.
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
            resourceName: `/bulkhead/${fleet.environment}/flow-rejects/*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    tagComponent(siteFlowLogsRole, Component.flowLogs);
    acknowledge(
      siteFlowLogsRole,
      `AwsSolutions-IAM5[Resource::${nagArn(this, 'logs', `log-group:/bulkhead/${fleet.environment}/flow-rejects/*`)}]`,
      "The sites' flow-log groups (one per site, named by site and stack instance), and only those.",
    );
    this.siteFlowLogsRoleArn = siteFlowLogsRole.roleArn;

    const appCidrs = [
      ...this.vpc.isolatedSubnets.map((s) => s.ipv4CidrBlock),
      ...this.vpc.privateSubnets.map((s) => s.ipv4CidrBlock),
      strictRange(layout.vpcCidr),
    ];
    this.appSubnets = new ec2.PrefixList(this, 'AppSubnets', {
      addressFamily: ec2.AddressFamily.IP_V4,
      maxEntries: appCidrs.length,
      entries: appCidrs.map((cidr) => ({ cidr, description: 'Bulkhead app subnet' })),
    });
    tagComponent(this.appSubnets, Component.network);

    this.endpointSecurityGroup = this.endpointGroup(
      'EndpointSecurityGroup',
      'Bulkhead VPC endpoints (ECR, Secrets Manager): HTTPS from app subnets only',
      Component.endpointSecurityGroup,
    );
    // The Logs and GuardDuty data endpoints share one group: the quarantine set keeps HTTPS
    // to it, so a contained site still writes its logs and stays watched by GuardDuty.
    this.logsEndpointSecurityGroup = this.endpointGroup(
      'LogsEndpointSecurityGroup',
      'Bulkhead CloudWatch Logs and GuardDuty data endpoints: the only destinations a quarantined site keeps',
      Component.logsEndpointSecurityGroup,
    );
    const isolated = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
    // The Logs and GuardDuty data endpoints have subnets of their own, so the quarantine ACL
    // admits exactly them and nothing else on 443 (docs/network.md, "Watch subnets").
    this.watchSubnets = this.createWatchSubnets(watchSubnetCidrs(layout));
    const watch = { subnets: this.watchSubnets };
    const endpoints: [string, ec2.InterfaceVpcEndpointAwsService, ec2.SecurityGroup, ec2.SubnetSelection][] = [
      ['EcrApi', ec2.InterfaceVpcEndpointAwsService.ECR, this.endpointSecurityGroup, isolated],
      ['EcrDocker', ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER, this.endpointSecurityGroup, isolated],
      ['SecretsManager', ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER, this.endpointSecurityGroup, isolated],
      ['Logs', ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS, this.logsEndpointSecurityGroup, watch],
      ['GuardDutyData', ec2.InterfaceVpcEndpointAwsService.GUARDDUTY_DATA, this.logsEndpointSecurityGroup, watch],
    ];
    const created = new Map<string, ec2.InterfaceVpcEndpoint>();
    for (const [name, service, securityGroup, subnets] of endpoints) {
      const endpoint = this.vpc.addInterfaceEndpoint(`${name}Endpoint`, {
        service,
        subnets,
        securityGroups: [securityGroup],
        open: false,
        privateDnsEnabled: true,
      });
      tagComponent(endpoint, Component.vpcEndpoint);
      created.set(name, endpoint);
    }
    // Data through an endpoint stays in this account (infra/platform/endpoint-policies.ts).
    for (const name of ['EcrApi', 'EcrDocker'])
      for (const statement of ecrEndpointStatements(this)) created.get(name)?.addToPolicy(statement);
    for (const name of ['SecretsManager', 'Logs'])
      for (const statement of ownAccountStatements(this)) created.get(name)?.addToPolicy(statement);
    this.restrictGuardDutyEndpoint(created.get('GuardDutyData'));

    // Names are not a way out either (infra/platform/dns-firewall.ts).
    this.dnsFirewall = new DnsFirewall(this, 'DnsFirewall', {
      vpc: this.vpc,
      environment: fleet.environment,
      awsNamesOnly: !fleet.needsInternet,
    });

    this.quarantineAcl = this.quarantineAclFor(
      watchSubnetCidrs(layout),
      this.vpc.publicSubnets.map((s) => s.ipv4CidrBlock),
      fleet.containerPort,
    );

    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ expiration: Duration.days(400), noncurrentVersionExpiration: Duration.days(30) }],
    });
    tagComponent(this.accessLogs, Component.accessLogs);
    Validations.of(this.accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This bucket is itself the access-log destination of the load balancers; logging it to another bucket would only move the question.',
    });

    const s3PrefixList = this.lookUpS3PrefixList();

    const exports: Partial<Record<PlatformExportKey, string>> = {
      vpcId: this.vpc.vpcId,
      vpcCidr: this.vpc.vpcCidrBlock,
      isolatedSubnetIds: this.vpc.isolatedSubnets.map((s) => s.subnetId).join(','),
      isolatedRouteTableIds: this.vpc.isolatedSubnets.map((s) => s.routeTable.routeTableId).join(','),
      endpointSecurityGroupId: this.endpointSecurityGroup.securityGroupId,
      logsEndpointSecurityGroupId: this.logsEndpointSecurityGroup.securityGroupId,
      s3PrefixListId: s3PrefixList,
      quarantineAclId: this.quarantineAcl.networkAclId,
      siteFlowLogsRoleArn: this.siteFlowLogsRoleArn,
      appSubnetsPrefixListId: this.appSubnets.prefixListId,
    };
    if (fleet.needsInternet) {
      exports.egressSubnetIds = this.vpc.privateSubnets.map((s) => s.subnetId).join(',');
      exports.egressRouteTableIds = this.vpc.privateSubnets.map((s) => s.routeTable.routeTableId).join(',');
    }
    exportPlatformValues(this, fleet.environment, exports);
  }

  /**
   * The watch subnets: one per AZ, in the last block of the lower half that CDK never
   * allocates (infra/config/network-layout.ts), on the isolated route tables and the VPC's
   * default ACL. Only the CloudWatch Logs and GuardDuty data endpoints live there.
   */
  private createWatchSubnets(cidrs: readonly string[]): ec2.ISubnet[] {
    return cidrs.map((cidrBlock, i) => {
      const availabilityZone = this.fleetAzs[i] as string;
      const subnet = new ec2.CfnSubnet(this, `WatchSubnet${i}`, {
        vpcId: this.vpc.vpcId,
        cidrBlock,
        availabilityZone,
        mapPublicIpOnLaunch: false,
      });
      tagComponent(subnet, Component.network);
      const routeTableId = (this.vpc.isolatedSubnets[i] as ec2.ISubnet).routeTable.routeTableId;
      new ec2.CfnSubnetRouteTableAssociation(this, `WatchSubnetRoutes${i}`, { subnetId: subnet.ref, routeTableId });
      return ec2.Subnet.fromSubnetAttributes(this, `WatchSubnetRef${i}`, {
        subnetId: subnet.ref,
        availabilityZone,
        routeTableId,
        ipv4CidrBlock: cidrBlock,
      });
    });
  }

  /**
   * Quarantine swaps a site's own subnets to this ACL. Its default deny drops everything,
   * including connections already established, except HTTPS to the watch subnets (the Logs
   * and GuardDuty data endpoints, nothing else lives there) and the answers: exactly what the
   * quarantine security-group set admits, so the task keeps its logs and stays watched. ACLs are
   * stateless, so the answers need their own inbound entry ("Network ACLs are stateless,
   * which means that responses to allowed inbound traffic are subject to the rules for
   * outbound traffic (and vice versa)": https://docs.aws.amazon.com/vpc/latest/userguide/vpc-network-acls.html).
   */
  private quarantineAclFor(
    endpointSubnetCidrs: readonly string[],
    loadBalancerSubnetCidrs: readonly string[],
    containerPort: number,
  ): ec2.NetworkAcl {
    const acl = new ec2.NetworkAcl(this, 'QuarantineAcl', { vpc: this.vpc });
    tagComponent(acl, Component.quarantineAcl);
    // The load balancer's health checks (public subnets to the container port, and the
    // answers), so that a swap before the listener rule is shed does not fail them: after
    // UnhealthyThresholdCount failures ECS replaces the task and the evidence in it goes
    // (issue 16 item 9). The contained group refuses these once the shed is done (it has no
    // ingress), and a shed rule forwards nothing; NAT'd flows arrive from their internet
    // address, never from a public subnet, so this admits no way out.
    loadBalancerSubnetCidrs.forEach((cidr, i) => {
      acl.addEntry(`LoadBalancerToTasks${i}`, {
        ruleNumber: 200 + i,
        cidr: ec2.AclCidr.ipv4(cidr),
        traffic: ec2.AclTraffic.tcpPort(containerPort),
        direction: ec2.TrafficDirection.INGRESS,
        ruleAction: ec2.Action.ALLOW,
      });
      acl.addEntry(`AnswersToLoadBalancer${i}`, {
        ruleNumber: 200 + i,
        cidr: ec2.AclCidr.ipv4(cidr),
        traffic: ec2.AclTraffic.tcpPortRange(1024, 65535),
        direction: ec2.TrafficDirection.EGRESS,
        ruleAction: ec2.Action.ALLOW,
      });
    });
    endpointSubnetCidrs.forEach((cidr, i) => {
      acl.addEntry(`HttpsToEndpoints${i}`, {
        ruleNumber: 100 + i,
        cidr: ec2.AclCidr.ipv4(cidr),
        traffic: ec2.AclTraffic.tcpPort(443),
        direction: ec2.TrafficDirection.EGRESS,
        ruleAction: ec2.Action.ALLOW,
      });
      acl.addEntry(`AnswersFromEndpoints${i}`, {
        ruleNumber: 100 + i,
        cidr: ec2.AclCidr.ipv4(cidr),
        traffic: ec2.AclTraffic.tcpPortRange(1024, 65535),
        direction: ec2.TrafficDirection.INGRESS,
        ruleAction: ec2.Action.ALLOW,
      });
    });
    acknowledge(
      acl,
      'AwsSolutions-VPC3',
      'The quarantine ACL is the point: swapping a site onto it cuts even established connections, all but HTTPS to the Logs and GuardDuty endpoints.',
    );
    return acl;
  }

  /**
   * Only this account may use the GuardDuty data endpoint: the endpoint policy GuardDuty's
   * guide gives for it ("Add the following policy to restrict VPC endpoint usage to specified
   * account only": https://docs.aws.amazon.com/guardduty/latest/ug/eksrunmon-prereq-deploy-security-agent.html).
   */
  private restrictGuardDutyEndpoint(endpoint: ec2.InterfaceVpcEndpoint | undefined): void {
    if (!endpoint) return;
    endpoint.addToPolicy(
      new iam.PolicyStatement({ principals: [new iam.AnyPrincipal()], actions: ['*'], resources: ['*'] }),
    );
    endpoint.addToPolicy(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['*'],
        resources: ['*'],
        conditions: { StringNotEquals: { 'aws:PrincipalAccount': this.account } },
      }),
    );
  }

  /** The fleet's AZs, decided from its config: no account lookup at synth time. */
  override get availabilityZones(): string[] {
    return this.fleetAzs;
  }

  private endpointGroup(id: string, description: string, component: (typeof Component)[keyof typeof Component]) {
    const group = new ec2.SecurityGroup(this, id, {
      vpc: this.vpc,
      description,
      allowAllOutbound: false,
    });
    group.addIngressRule(
      ec2.Peer.prefixList(this.appSubnets.prefixListId),
      ec2.Port.tcp(443),
      'HTTPS from app subnets',
    );
    tagComponent(group, component);
    return group;
  }

  /**
   * Site groups allow HTTPS to S3 (ECR image layers come from S3 through the gateway
   * endpoint) by the region's managed prefix list, whose id CloudFormation cannot name.
   */
  private lookUpS3PrefixList(): string {
    const lookup = new cr.AwsCustomResource(this, 'S3PrefixListLookup', {
      onUpdate: {
        service: 'EC2',
        action: 'describeManagedPrefixLists',
        parameters: {
          Filters: [{ Name: 'prefix-list-name', Values: [`com.amazonaws.${this.region}.s3`] }],
        },
        physicalResourceId: cr.PhysicalResourceId.of(`s3-prefix-list-${this.region}`),
        outputPaths: ['PrefixLists.0.PrefixListId'],
      },
      policy: cr.AwsCustomResourcePolicy.fromSdkCalls({
        resources: cr.AwsCustomResourcePolicy.ANY_RESOURCE,
      }),
      installLatestAwsSdk: false,
    });
    acknowledge(
      lookup,
      'AwsSolutions-IAM5[Resource::*]',
      'ec2:DescribeManagedPrefixLists supports no resource-level permissions; the call is read-only.',
    );
    const singleton = this.node.tryFindChild(AWS_CUSTOM_RESOURCE_SINGLETON);
    if (singleton) {
      tagComponent(singleton, Component.network);
      acknowledge(
        singleton,
        `AwsSolutions-IAM4[${LAMBDA_BASIC_EXECUTION}]`,
        'CDK AwsCustomResource function: AWS-managed policy for writing its own logs only.',
      );
    }
    return lookup.getResponseField('PrefixLists.0.PrefixListId');
  }
}
