import * as path from 'node:path';
import { CustomResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as r53r from 'aws-cdk-lib/aws-route53resolver';
import { Construct } from 'constructs';
import { lambdaBundling } from '../shared/lambda-defaults';
import { acknowledge, LAMBDA_BASIC_EXECUTION } from '../shared/nag';
import { Component, tagComponent } from '../shared/tags';

/**
 * Route 53 Resolver DNS Firewall on the fleet's VPC, so that names are not a way out. Security
 * groups and network ACLs do not filter the VPC's own resolver ("Security groups ... don't filter
 * traffic destined to and from the following: Amazon Domain Name Services (DNS)": Amazon VPC
 * User Guide, "Security group rules"), so a contained site could still send data out in the
 * names it asks for. DNS Firewall works per VPC: "When you associate a rule group with a VPC,
 * DNS Firewall compares your DNS queries against the domain lists that are used in the rules"
 * (Route 53 Developer Guide, "Route 53 Resolver DNS Firewall domain lists"); it has no per-subnet
 * or per-source rule, so what it blocks it blocks for every site.
 *
 * - **Threats** (rule group `bulkhead-<env>-dns`, always associated): block AWS's managed
 *   `AWSManagedDomainsAggregateThreatList` (malware, botnet command and control, and the other
 *   managed threat lists together), and DNS Firewall Advanced's `DNS_TUNNELING` ("DNS tunneling
 *   is used by attackers to exfiltrate data from the client by using the DNS tunnel without
 *   making a network connection to the client") and `DGA` (domain generation algorithms) rules.
 * - **AWS names only** (rule group `bulkhead-<env>-dns-aws-only`): answer AWS service names
 *   (`amazonaws.com`, `*.amazonaws.com`, the VPC's `*.compute.internal`) and nothing else. Sites
 *   without internet egress need no other name (their endpoints, database and file system are
 *   all AWS names), so when no site of the fleet has `internetEgress` the group is associated
 *   too, after the threats group, and a quarantined site cannot resolve anything else either.
 *   With an internet-egress site in the VPC it is not associated (it would stop that site's
 *   HTTPS out); docs/design.md says what that leaves.
 */

/** The AWS managed list the threats group blocks (a superset of the other managed threat lists). */
export const MANAGED_THREAT_LIST = 'AWSManagedDomainsAggregateThreatList';

/** The names the AWS-names-only group answers. */
export function awsServiceNames(): string[] {
  return ['amazonaws.com', '*.amazonaws.com', '*.compute.internal'];
}

export interface DnsFirewallProps {
  /** The VPC the rule groups are associated with. */
  readonly vpc: ec2.IVpc;
  /** The fleet's environment name: it prefixes the rule groups' and domain lists' names. */
  readonly environment: string;
  /** Associate the AWS-names-only group with the VPC (no site of the fleet may reach the internet). */
  readonly awsNamesOnly: boolean;
}

export class DnsFirewall extends Construct {
  readonly threats: r53r.CfnFirewallRuleGroup;
  readonly awsOnly: r53r.CfnFirewallRuleGroup;
  readonly associations: r53r.CfnFirewallRuleGroupAssociation[] = [];

  constructor(scope: Construct, id: string, props: DnsFirewallProps) {
    super(scope, id);
    const env = props.environment;
    const managed = this.managedListIds([MANAGED_THREAT_LIST]);

    this.threats = new r53r.CfnFirewallRuleGroup(this, 'Threats', {
      name: `bulkhead-${env}-dns`,
      firewallRules: [
        {
          priority: 100,
          action: 'BLOCK',
          blockResponse: 'NXDOMAIN',
          firewallDomainListId: managed.getAttString(MANAGED_THREAT_LIST),
        },
        {
          priority: 200,
          action: 'BLOCK',
          blockResponse: 'NXDOMAIN',
          dnsThreatProtection: 'DNS_TUNNELING',
          confidenceThreshold: 'MEDIUM',
        },
        {
          priority: 300,
          action: 'BLOCK',
          blockResponse: 'NXDOMAIN',
          dnsThreatProtection: 'DGA',
          confidenceThreshold: 'MEDIUM',
        },
      ],
    });
    tagComponent(this.threats, Component.dnsFirewall);

    const awsNames = new r53r.CfnFirewallDomainList(this, 'AwsServiceNames', {
      name: `bulkhead-${env}-aws-service-names`,
      domains: awsServiceNames(),
    });
    tagComponent(awsNames, Component.dnsFirewall);
    const everything = new r53r.CfnFirewallDomainList(this, 'EveryName', {
      name: `bulkhead-${env}-every-name`,
      domains: ['*'],
    });
    tagComponent(everything, Component.dnsFirewall);
    this.awsOnly = new r53r.CfnFirewallRuleGroup(this, 'AwsNamesOnly', {
      name: `bulkhead-${env}-dns-aws-only`,
      firewallRules: [
        { priority: 100, action: 'ALLOW', firewallDomainListId: awsNames.attrId },
        {
          priority: 200,
          action: 'BLOCK',
          blockResponse: 'NXDOMAIN',
          firewallDomainListId: everything.attrId,
        },
      ],
    });
    tagComponent(this.awsOnly, Component.dnsFirewall);

    // "Priority ... DNS Firewall processes the rule groups ... starting from the lowest priority
    // setting"; 100 and 9900 are reserved (CloudFormation, FirewallRuleGroupAssociation Priority).
    this.associations.push(this.associate('ThreatsOnVpc', this.threats, props.vpc, 101, `bulkhead-${env}-dns`));
    if (props.awsNamesOnly) {
      this.associations.push(
        this.associate('AwsNamesOnlyOnVpc', this.awsOnly, props.vpc, 201, `bulkhead-${env}-dns-aws-only`),
      );
    }
  }

  private associate(
    id: string,
    group: r53r.CfnFirewallRuleGroup,
    vpc: ec2.IVpc,
    priority: number,
    name: string,
  ): r53r.CfnFirewallRuleGroupAssociation {
    const association = new r53r.CfnFirewallRuleGroupAssociation(this, id, {
      firewallRuleGroupId: group.attrId,
      vpcId: vpc.vpcId,
      priority,
      name,
      // "If you enable mutation protection, you can't disassociate the rule group from the VPC."
      mutationProtection: 'ENABLED',
    });
    tagComponent(association, Component.dnsFirewall);
    return association;
  }

  /** A custom resource whose attributes are the managed lists' ids (runtime/dns-lists, answering CloudFormation itself). */
  private managedListIds(names: readonly string[]): CustomResource {
    const logGroup = new logs.LogGroup(this, 'ManagedListLookupLogs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    tagComponent(logGroup, Component.dnsFirewall);
    const fn = new nodejs.NodejsFunction(this, 'ManagedListLookup', {
      description:
        'Bulkhead: the ids of Route 53 Resolver DNS Firewall managed domain lists in this region (read-only)',
      entry: path.join(__dirname, '../../runtime/dns-lists/index.ts'),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.minutes(1),
      logGroup,
      bundling: lambdaBundling(),
    });
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ListDnsFirewallDomainLists',
        actions: ['route53resolver:ListFirewallDomainLists'],
        resources: ['*'],
      }),
    );
    tagComponent(fn, Component.dnsFirewall);
    acknowledge(
      fn,
      `AwsSolutions-IAM4[${LAMBDA_BASIC_EXECUTION}]`,
      "AWS-managed policy for writing the function's own logs only.",
    );
    acknowledge(
      fn,
      'AwsSolutions-IAM5[Resource::*]',
      'route53resolver:ListFirewallDomainLists supports no resource-level permissions (Service Authorization Reference: no resource type); the call is read-only.',
    );
    acknowledge(
      fn,
      'AwsSolutions-L1',
      'Pinned to nodejs22.x, the runtime the project bundles for and tests against; a newer runtime is a deliberate, tested upgrade.',
    );
    return new CustomResource(this, 'ManagedLists', {
      // The function answers CloudFormation itself (no provider framework, no role of its own that may invoke it).
      serviceToken: fn.functionArn,
      resourceType: 'Custom::BulkheadDnsManagedLists',
      properties: { Names: [...names] },
    });
  }
}
