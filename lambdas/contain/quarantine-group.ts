import {
  AuthorizeSecurityGroupEgressCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  type EC2Client,
  type IpPermission,
  ModifySecurityGroupRulesCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import { Component, TAG_COMPONENT, TAG_ENV, TAG_SITE } from '../../lib/shared/tag-names';
import {
  atomicPermissions,
  INTERIM_DESCRIPTION,
  permissionKey,
  planQuarantine,
  quarantineEgress,
} from './quarantine-rules';

/**
 * The site's security group as containment reads it in its first round: by id when the
 * task's tags name it (DescribeSecurityGroupRules, which gives rule ids), otherwise by tags.
 */
/** EC2 filters for one of a site's resources by Bulkhead's tags. */
export function siteTagFilters(environment: string, site: string, component: string) {
  return [
    { Name: `tag:${TAG_ENV}`, Values: [environment] },
    { Name: `tag:${TAG_SITE}`, Values: [site] },
    { Name: `tag:${TAG_COMPONENT}`, Values: [component] },
  ];
}

export interface SiteGroupState {
  readonly groupId: string;
  readonly ingress: IpPermission[];
  readonly egress: IpPermission[];
  /** Rule ids, when read by id: what lets containment rewrite rules in one call if revoking is throttled. */
  readonly rules?: readonly SecurityGroupRule[];
}

function ruleToPermission(rule: SecurityGroupRule): IpPermission {
  const base = { IpProtocol: rule.IpProtocol, FromPort: rule.FromPort, ToPort: rule.ToPort };
  const Description = rule.Description;
  if (rule.CidrIpv4) return { ...base, IpRanges: [{ CidrIp: rule.CidrIpv4, Description }] };
  if (rule.CidrIpv6) return { ...base, Ipv6Ranges: [{ CidrIpv6: rule.CidrIpv6, Description }] };
  if (rule.PrefixListId) return { ...base, PrefixListIds: [{ PrefixListId: rule.PrefixListId, Description }] };
  return {
    ...base,
    UserIdGroupPairs: [
      { GroupId: rule.ReferencedGroupInfo?.GroupId, UserId: rule.ReferencedGroupInfo?.UserId, Description },
    ],
  };
}

export async function readSiteGroup(
  ec2: EC2Client,
  environment: string,
  site: string,
  groupIdHint?: string,
): Promise<SiteGroupState | undefined> {
  if (groupIdHint) {
    const rules =
      (
        await ec2.send(
          new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupIdHint] }] }),
        )
      ).SecurityGroupRules ?? [];
    return {
      groupId: groupIdHint,
      ingress: rules.filter((r) => !r.IsEgress).map(ruleToPermission),
      egress: rules.filter((r) => r.IsEgress).map(ruleToPermission),
      rules,
    };
  }
  const groups = await ec2.send(
    new DescribeSecurityGroupsCommand({ Filters: siteTagFilters(environment, site, Component.siteSecurityGroup) }),
  );
  const group = groups.SecurityGroups?.[0];
  return group?.GroupId
    ? { groupId: group.GroupId, ingress: group.IpPermissions ?? [], egress: group.IpPermissionsEgress ?? [] }
    : undefined;
}

export interface GroupQuarantineOutcome {
  /** How the rules left: revoked, or rewritten to the interim form because revoking was throttled. */
  readonly ingress: 'revoked' | 'rewritten' | 'none';
  readonly egress: 'revoked' | 'rewritten' | 'none';
  readonly logsRuleAdded: boolean;
  /** Rules rewritten to the interim form, to be revoked once EC2's buckets allow. */
  readonly interimRuleIds: readonly string[];
}

function isThrottle(error: unknown): boolean {
  return (error as { name?: string })?.name === 'RequestLimitExceeded';
}

/**
 * Puts the site's group at the quarantine set with as few calls on the critical path as
 * EC2's per-API token buckets allow (50 requests each, refilling 5 a second).
 *
 * With the rule ids known, one ModifySecurityGroupRules call rewrites every rule to remove,
 * ingress and egress at once, to point only at the CloudWatch Logs endpoint's group on an
 * unused port (the interim form: nothing can reach the task and it can reach nothing but
 * the logs endpoint, which listens on 443 only). If that bucket is empty, both revokes go at
 * once without waiting; only if one of those is empty too does the patient client wait for
 * the bucket to refill. In a burst, 50 sites take the first path and 50 the second, so 100
 * sites are isolated without anybody waiting. The interim rules are revoked afterwards
 * (`finishQuarantine`), off the critical path.
 */
export async function quarantineGroup(
  fast: EC2Client,
  patient: EC2Client,
  group: SiteGroupState,
  logsEndpointGroupId: string,
): Promise<GroupQuarantineOutcome> {
  const plan = planQuarantine({ IpPermissions: group.ingress, IpPermissionsEgress: group.egress }, logsEndpointGroupId);
  const GroupId = group.groupId;
  const count = (n: number, how: 'revoked' | 'rewritten') => (n === 0 ? 'none' : how);
  const addLogs = plan.authorizeEgress.length
    ? patient.send(new AuthorizeSecurityGroupEgressCommand({ GroupId, IpPermissions: plan.authorizeEgress }))
    : Promise.resolve(undefined);
  const logsKey = permissionKey(atomicPermissions([quarantineEgress(logsEndpointGroupId)])[0] as IpPermission);
  const toRewrite = (group.rules ?? []).filter((r) => !r.IsEgress || permissionKey(ruleToPermission(r)) !== logsKey);
  if (group.rules && toRewrite.length > 0) {
    let port = 0;
    const rewrite = fast.send(
      new ModifySecurityGroupRulesCommand({
        GroupId,
        SecurityGroupRules: toRewrite.map((rule) => {
          port += port === 442 ? 2 : 1;
          return {
            SecurityGroupRuleId: rule.SecurityGroupRuleId,
            SecurityGroupRule: {
              IpProtocol: 'tcp',
              FromPort: port,
              ToPort: port,
              ReferencedGroupId: logsEndpointGroupId,
              Description: INTERIM_DESCRIPTION,
            },
          };
        }),
      }),
    );
    const [rewritten, logs] = await Promise.allSettled([rewrite, addLogs]);
    if (logs.status === 'rejected') throw logs.reason;
    if (rewritten.status === 'fulfilled') {
      return {
        ingress: count(plan.revokeIngress.length, 'rewritten'),
        egress: count(plan.revokeEgress.length, 'rewritten'),
        logsRuleAdded: plan.authorizeEgress.length > 0,
        interimRuleIds: toRewrite.map((r) => r.SecurityGroupRuleId as string),
      };
    }
    if (!isThrottle(rewritten.reason)) throw rewritten.reason;
  } else {
    await addLogs;
  }
  const [ingress, egress] = await Promise.allSettled([
    plan.revokeIngress.length
      ? fast.send(new RevokeSecurityGroupIngressCommand({ GroupId, IpPermissions: plan.revokeIngress }))
      : undefined,
    plan.revokeEgress.length
      ? fast.send(new RevokeSecurityGroupEgressCommand({ GroupId, IpPermissions: plan.revokeEgress }))
      : undefined,
  ]);
  for (const result of [ingress, egress]) {
    if (result.status === 'rejected' && !isThrottle(result.reason)) throw result.reason;
  }
  // A bucket was empty: wait for it with the patient client.
  await Promise.all([
    ingress.status === 'rejected'
      ? patient.send(new RevokeSecurityGroupIngressCommand({ GroupId, IpPermissions: plan.revokeIngress }))
      : undefined,
    egress.status === 'rejected'
      ? patient.send(new RevokeSecurityGroupEgressCommand({ GroupId, IpPermissions: plan.revokeEgress }))
      : undefined,
  ]);
  return {
    ingress: count(plan.revokeIngress.length, 'revoked'),
    egress: count(plan.revokeEgress.length, 'revoked'),
    logsRuleAdded: plan.authorizeEgress.length > 0,
    interimRuleIds: [],
  };
}

/** Revokes the interim rules (after isolation, off the critical path), leaving the canonical quarantine set. */
export async function finishQuarantine(
  patient: EC2Client,
  group: SiteGroupState,
  interimRuleIds: readonly string[],
): Promise<void> {
  const rules = (group.rules ?? []).filter((r) => interimRuleIds.includes(r.SecurityGroupRuleId as string));
  const ingress = rules.filter((r) => !r.IsEgress).map((r) => r.SecurityGroupRuleId as string);
  const egress = rules.filter((r) => r.IsEgress).map((r) => r.SecurityGroupRuleId as string);
  await Promise.all([
    ingress.length
      ? patient.send(new RevokeSecurityGroupIngressCommand({ GroupId: group.groupId, SecurityGroupRuleIds: ingress }))
      : undefined,
    egress.length
      ? patient.send(new RevokeSecurityGroupEgressCommand({ GroupId: group.groupId, SecurityGroupRuleIds: egress }))
      : undefined,
  ]);
}
