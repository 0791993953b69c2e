import { RemovalPolicy, type Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { SiteVpcExportKey } from '../../contracts/names';
import { type NetworkLayout, strictRange, watchSubnetCidrs } from '../config/network-layout';
import { acknowledge, LAMBDA_BASIC_EXECUTION } from '../shared/nag';
import { Component, tagComponent } from '../shared/tags';
import { ecrEndpointStatements, ownAccountStatements, s3EndpointStatements } from './endpoint-policies';

/** Construct id CDK gives the one Lambda behind every AwsCustomResource in a stack. */
const AWS_CUSTOM_RESOURCE_SINGLETON = 'AWS679f53fac002430cb0da5b7982bd2287';

export interface SiteVpcProps {
  /** The VPC's address plan (infra/config/network-layout.ts). */
  readonly layout: NetworkLayout;
  /** The VPC's AZs, decided from the fleet file (infra/platform/availability-zones.ts). */
  readonly availabilityZones: string[];
  /** A site in this VPC may reach the internet: the VPC gets an egress tier and NAT gateways. */
  readonly needsInternet: boolean;
  /** The port every site's container listens on (the quarantine ACL admits health checks to it). */
  readonly containerPort: number;
  /**
   * Site ranges outside this VPC whose tasks reach what lives here (the database and uploads
   * in the platform VPC, from the cells' own VPCs through peering).
   * @default none
   */
  readonly peeredSiteRanges?: readonly string[];
}

/**
 * Everything a VPC that holds site compartments needs, built into `stack` with the construct
 * ids the Network stack has always used (so the platform VPC's logical ids do not change): the
 * VPC with public, isolated and (with internet sites) egress subnets, its flow log, the S3
 * gateway endpoint, the interface endpoints (ECR, Secrets Manager, and the Logs and GuardDuty
 * data endpoints in the watch subnets), the app-subnets prefix list, the endpoint groups and
 * the quarantine ACL. The Network stack builds one for the platform VPC and the cell network
 * stacks one each for the cells with a VPC of their own (docs/network.md).
 */
export class SiteVpc {
  readonly vpc: ec2.Vpc;
  /** CIDRs of every subnet a site task may run in (shared app subnets and the site range, and peered site ranges). */
  readonly appSubnets: ec2.PrefixList;
  readonly endpointSecurityGroup: ec2.SecurityGroup;
  readonly logsEndpointSecurityGroup: ec2.SecurityGroup;
  readonly quarantineAcl: ec2.NetworkAcl;
  /** The subnets of the CloudWatch Logs and GuardDuty data endpoints, one per AZ (docs/network.md). */
  readonly watchSubnets: ec2.ISubnet[];
  /** The region's S3 managed prefix list (looked up at deploy time). */
  readonly s3PrefixListId: string;

  constructor(
    private readonly stack: Stack,
    private readonly props: SiteVpcProps,
  ) {
    const { layout } = props;
    this.vpc = this.createVpc();
    this.appSubnets = this.createAppSubnets();
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
    // The Logs and GuardDuty data endpoints have subnets of their own, so the quarantine ACL
    // admits exactly them and nothing else on 443 (docs/network.md, "Watch subnets").
    this.watchSubnets = this.createWatchSubnets(watchSubnetCidrs(layout));
    this.createInterfaceEndpoints();
    this.quarantineAcl = this.quarantineAclFor(
      watchSubnetCidrs(layout),
      this.vpc.publicSubnets.map((s) => s.ipv4CidrBlock),
      props.containerPort,
    );
    this.s3PrefixListId = this.lookUpS3PrefixList();
  }

  /** The values site stacks import from this VPC (contracts/names.ts `SITE_VPC_EXPORT_KEYS`). */
  exports(): Partial<Record<SiteVpcExportKey, string>> {
    const values: Partial<Record<SiteVpcExportKey, string>> = {
      vpcId: this.vpc.vpcId,
      vpcCidr: this.vpc.vpcCidrBlock,
      isolatedSubnetIds: this.vpc.isolatedSubnets.map((s) => s.subnetId).join(','),
      isolatedRouteTableIds: this.vpc.isolatedSubnets.map((s) => s.routeTable.routeTableId).join(','),
      endpointSecurityGroupId: this.endpointSecurityGroup.securityGroupId,
      logsEndpointSecurityGroupId: this.logsEndpointSecurityGroup.securityGroupId,
      s3PrefixListId: this.s3PrefixListId,
      quarantineAclId: this.quarantineAcl.networkAclId,
      appSubnetsPrefixListId: this.appSubnets.prefixListId,
    };
    if (this.props.needsInternet) {
      values.egressSubnetIds = this.vpc.privateSubnets.map((s) => s.subnetId).join(',');
      values.egressRouteTableIds = this.vpc.privateSubnets.map((s) => s.routeTable.routeTableId).join(',');
    }
    return values;
  }

  private createVpc(): ec2.Vpc {
    const { layout, needsInternet } = this.props;
    const subnetConfiguration: ec2.SubnetConfiguration[] = [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: layout.sharedSubnetPrefix },
      { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: layout.sharedSubnetPrefix },
    ];
    if (needsInternet) {
      subnetConfiguration.push({
        name: 'egress',
        subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS,
        cidrMask: layout.sharedSubnetPrefix,
      });
    }
    const vpc = new ec2.Vpc(this.stack, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(layout.vpcCidr),
      availabilityZones: this.props.availabilityZones,
      natGateways: needsInternet ? layout.maxAzs : 0,
      subnetConfiguration,
      restrictDefaultSecurityGroup: true,
    });
    // The S3 gateway endpoint (the same construct id CDK's `gatewayEndpoints` prop would give it),
    // held so it can carry its policy.
    const s3Endpoint = vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3 });
    for (const statement of s3EndpointStatements(this.stack)) s3Endpoint.addToPolicy(statement);
    tagComponent(s3Endpoint, Component.vpcEndpoint);
    tagComponent(vpc, Component.network);
    Validations.of(vpc).acknowledge({
      id: 'AwsSolutions-VPC7',
      reason: 'Flow logs are attached below as a separate FlowLog resource to a retained log group.',
    });
    const flowLogGroup = new logs.LogGroup(this.stack, 'FlowLogs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    tagComponent(flowLogGroup, Component.flowLogs);
    vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });
    return vpc;
  }

  private createAppSubnets(): ec2.PrefixList {
    const appCidrs = [
      ...this.vpc.isolatedSubnets.map((s) => s.ipv4CidrBlock),
      ...this.vpc.privateSubnets.map((s) => s.ipv4CidrBlock),
      strictRange(this.props.layout.vpcCidr),
      ...(this.props.peeredSiteRanges ?? []),
    ];
    const appSubnets = new ec2.PrefixList(this.stack, 'AppSubnets', {
      addressFamily: ec2.AddressFamily.IP_V4,
      maxEntries: appCidrs.length,
      entries: appCidrs.map((cidr) => ({ cidr, description: 'Bulkhead app subnet' })),
    });
    tagComponent(appSubnets, Component.network);
    return appSubnets;
  }

  private createInterfaceEndpoints(): void {
    const isolated = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
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
      for (const statement of ecrEndpointStatements(this.stack)) created.get(name)?.addToPolicy(statement);
    for (const name of ['SecretsManager', 'Logs'])
      for (const statement of ownAccountStatements(this.stack)) created.get(name)?.addToPolicy(statement);
    this.restrictGuardDutyEndpoint(created.get('GuardDutyData'));
  }

  /**
   * The watch subnets: one per AZ, in the last block of the lower half that CDK never
   * allocates (infra/config/network-layout.ts), on the isolated route tables and the VPC's
   * default ACL. Only the CloudWatch Logs and GuardDuty data endpoints live there.
   */
  private createWatchSubnets(cidrs: readonly string[]): ec2.ISubnet[] {
    return cidrs.map((cidrBlock, i) => {
      const availabilityZone = this.props.availabilityZones[i] as string;
      const subnet = new ec2.CfnSubnet(this.stack, `WatchSubnet${i}`, {
        vpcId: this.vpc.vpcId,
        cidrBlock,
        availabilityZone,
        mapPublicIpOnLaunch: false,
      });
      tagComponent(subnet, Component.network);
      const routeTableId = (this.vpc.isolatedSubnets[i] as ec2.ISubnet).routeTable.routeTableId;
      new ec2.CfnSubnetRouteTableAssociation(this.stack, `WatchSubnetRoutes${i}`, {
        subnetId: subnet.ref,
        routeTableId,
      });
      return ec2.Subnet.fromSubnetAttributes(this.stack, `WatchSubnetRef${i}`, {
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
   * An ACL belongs to one VPC, so every VPC of sites has its own quarantine ACL.
   */
  private quarantineAclFor(
    endpointSubnetCidrs: readonly string[],
    loadBalancerSubnetCidrs: readonly string[],
    containerPort: number,
  ): ec2.NetworkAcl {
    const acl = new ec2.NetworkAcl(this.stack, 'QuarantineAcl', { vpc: this.vpc });
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
        conditions: { StringNotEquals: { 'aws:PrincipalAccount': this.stack.account } },
      }),
    );
  }

  private endpointGroup(id: string, description: string, component: (typeof Component)[keyof typeof Component]) {
    const group = new ec2.SecurityGroup(this.stack, id, {
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
    const lookup = new cr.AwsCustomResource(this.stack, 'S3PrefixListLookup', {
      onUpdate: {
        service: 'EC2',
        action: 'describeManagedPrefixLists',
        parameters: {
          Filters: [{ Name: 'prefix-list-name', Values: [`com.amazonaws.${this.stack.region}.s3`] }],
        },
        physicalResourceId: cr.PhysicalResourceId.of(`s3-prefix-list-${this.stack.region}`),
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
    const singleton = this.stack.node.tryFindChild(AWS_CUSTOM_RESOURCE_SINGLETON);
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
