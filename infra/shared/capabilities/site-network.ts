import type { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { siteAclStatements, siteGroupRuleStatements } from '../iam-statements';

/**
 * A site's network: the rules of its security groups and the ACL its subnets are associated
 * with. Containment swaps them for the quarantine's, release and restore put them back, and the
 * ops console does both (it runs containment's and recovery's code). Each role holds the same
 * tag-scoped statements (infra/shared/iam-statements.ts), under its own Sids (docs/iam.md).
 */

/** What containment does to a site group's rules: take them out of play, allow only the logs endpoint. */
export const ISOLATE_SITE_GROUP_ACTIONS: readonly string[] = [
  'ec2:RevokeSecurityGroupIngress',
  'ec2:RevokeSecurityGroupEgress',
  'ec2:AuthorizeSecurityGroupEgress',
  'ec2:ModifySecurityGroupRules',
];

/** What release and restore do to a site group's rules: put the saved ones back, remove the quarantine's. */
export const PUT_SITE_GROUP_RULES_BACK_ACTIONS: readonly string[] = [
  'ec2:AuthorizeSecurityGroupIngress',
  'ec2:AuthorizeSecurityGroupEgress',
  'ec2:RevokeSecurityGroupIngress',
  'ec2:RevokeSecurityGroupEgress',
];

/** The Sids a role names its site-network statements by. */
export interface SiteNetworkSids {
  /** Sid of the site-group statement (and, with `ec2:ModifySecurityGroupRules`, of `<groupSid>ById`). */
  readonly groupSid: string;
  /** Prefix of the two ACL statements (`<aclSid>Subnets`, `<aclSid>Acls`). */
  readonly aclSid: string;
}

/** Rule changes on this environment's site groups (these actions) and ACL swaps of its sites' own subnets. */
export function siteNetworkStatements(
  stack: Stack,
  environment: string,
  groupActions: readonly string[],
  sids: SiteNetworkSids,
): iam.PolicyStatement[] {
  return [
    ...siteGroupRuleStatements(stack, environment, sids.groupSid, groupActions),
    ...siteAclStatements(stack, environment, sids.aclSid),
  ];
}

/** Containment: swap a site's group rules and subnets' ACL for the quarantine's. */
export function swapSiteNetworkStatements(stack: Stack, environment: string): iam.PolicyStatement[] {
  return siteNetworkStatements(stack, environment, ISOLATE_SITE_GROUP_ACTIONS, {
    groupSid: 'SwapSiteSecurityGroupRules',
    aclSid: 'SwapSiteAcls',
  });
}

/** Release and restore: put a site's saved group rules and ACL associations back. */
export function putSiteNetworkBackStatements(stack: Stack, environment: string): iam.PolicyStatement[] {
  return siteNetworkStatements(stack, environment, PUT_SITE_GROUP_RULES_BACK_ACTIONS, {
    groupSid: 'PutSiteRulesBack',
    aclSid: 'PutSiteAclsBack',
  });
}

/**
 * The ops console: both of the above (its quarantine is containment's code, its release
 * recovery's), one group statement with the union of their actions.
 */
export function quarantineAndRestoreSiteNetworkStatements(stack: Stack, environment: string): iam.PolicyStatement[] {
  const actions = [...new Set([...PUT_SITE_GROUP_RULES_BACK_ACTIONS, ...ISOLATE_SITE_GROUP_ACTIONS])];
  return siteNetworkStatements(stack, environment, actions, {
    groupSid: 'QuarantineAndRestoreSiteGroupRules',
    aclSid: 'SwapSiteAcls',
  });
}

/**
 * What containment (and the console's quarantine) reads before it swaps: groups, their rules,
 * ACLs and listener rules. Describe calls support no resource-level permissions (Service
 * Authorization Reference, Amazon EC2 and Elastic Load Balancing V2: no resource type).
 */
export function siteNetworkLookupsStatement(): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'ReadOnlyLookups',
    actions: [
      'ec2:DescribeSecurityGroups',
      'ec2:DescribeSecurityGroupRules',
      'ec2:DescribeNetworkAcls',
      'elasticloadbalancing:DescribeRules',
    ],
    resources: ['*'],
  });
}
