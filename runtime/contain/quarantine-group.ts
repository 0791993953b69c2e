import {
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  type EC2Client,
  type IpPermission,
  ModifySecurityGroupRulesCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroupRule,
  type SecurityGroupRuleRequest,
} from '@aws-sdk/client-ec2';
import { Component, TAG_COMPONENT, TAG_ENV, TAG_SITE } from '../../contracts/tag-names';
import { authorizeRules, revokeRules } from '../shared/security-group-writes';
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
  readonly ingress: 'revoked' | 'rewritten' | 'held' | 'none';
  readonly egress: 'revoked' | 'rewritten' | 'none';
  readonly logsRuleAdded: boolean;
  /** Rules rewritten to the interim form, to be revoked once EC2's buckets allow. */
  readonly interimRuleIds: readonly string[];
  /** Why the one-call rewrite was refused (other than throttling), when the revokes did the job instead. */
  readonly fastPathFailure?: string;
}

function toInput(what: { readonly ruleIds: string[] } | { readonly permissions: IpPermission[] }) {
  return 'ruleIds' in what ? { SecurityGroupRuleIds: what.ruleIds } : { IpPermissions: what.permissions };
}

function isThrottle(error: unknown): boolean {
  return (error as { name?: string })?.name === 'RequestLimitExceeded';
}

/**
 * Puts the site's group at the quarantine set with as few calls on the critical path as
 * EC2's per-API token buckets allow (50 requests each, refilling 5 a second).
 *
 * With the rule ids known, one ModifySecurityGroupRules call rewrites every rule to remove,
 * ingress and egress at once, to its interim form (`interimRule`: same type of peer, a peer
 * that is nobody or the Logs endpoint's group, an unused port): nothing can reach the task
 * and it can reach nothing but the logs endpoint, which listens on 443 only. If that call
 * fails for any reason, both revokes go at once without waiting; only if one of those is empty too does the patient client wait for
 * the bucket to refill. In a burst, 50 sites take the first path and 50 the second, so 100
 * sites are isolated without anybody waiting. The interim rules are revoked afterwards
 * (`finishQuarantine`), off the critical path.
 */
export async function quarantineGroup(
  fast: EC2Client,
  patient: EC2Client,
  group: SiteGroupState,
  logsEndpointGroupId: string,
  options: { readonly holdIngress?: boolean } = {},
): Promise<GroupQuarantineOutcome> {
  const full = planQuarantine({ IpPermissions: group.ingress, IpPermissionsEgress: group.egress }, logsEndpointGroupId);
  // Ingress held back (closeIngress, once the listener no longer forwards): taking it away
  // first would fail the load balancer's health checks, and ECS would replace the task.
  const plan = options.holdIngress ? { ...full, revokeIngress: [] } : full;
  const GroupId = group.groupId;
  const count = (n: number, how: 'revoked' | 'rewritten') => (n === 0 ? 'none' : how);
  const addLogs = authorizeRules(patient, GroupId, 'egress', plan.authorizeEgress);
  const logsKey = permissionKey(atomicPermissions([quarantineEgress(logsEndpointGroupId)])[0] as IpPermission);
  const toRewrite = (group.rules ?? []).filter((r) =>
    r.IsEgress ? permissionKey(ruleToPermission(r)) !== logsKey : !options.holdIngress,
  );
  let fastPathFailure: string | undefined;
  if (group.rules && toRewrite.length > 0) {
    const ports = interimPorts();
    const rewrite = fast.send(
      new ModifySecurityGroupRulesCommand({
        GroupId,
        SecurityGroupRules: toRewrite.map((rule) => ({
          SecurityGroupRuleId: rule.SecurityGroupRuleId,
          SecurityGroupRule: interimRule(rule, ports.next().value as number, logsEndpointGroupId),
        })),
      }),
    );
    const [rewritten, logs] = await Promise.allSettled([rewrite, addLogs]);
    if (logs.status === 'rejected') throw logs.reason;
    if (rewritten.status === 'fulfilled') {
      return {
        ingress:
          options.holdIngress && full.revokeIngress.length ? 'held' : count(plan.revokeIngress.length, 'rewritten'),
        egress: count(plan.revokeEgress.length, 'rewritten'),
        logsRuleAdded: plan.authorizeEgress.length > 0,
        interimRuleIds: toRewrite.map((r) => r.SecurityGroupRuleId as string),
      };
    }
    // Any failure of the rewrite (throttled, refused, or a response lost after the change was
    // made) falls back to revoking, in this same invocation. By rule id when the ids are
    // known: that revokes the rules whatever the rewrite did to them.
    if (!isThrottle(rewritten.reason)) {
      const e = rewritten.reason as Error;
      fastPathFailure = `${e.name}: ${e.message}`;
    }
  } else {
    await addLogs;
  }
  const byIds = group.rules !== undefined;
  const ingressIds = toRewrite.filter((r) => !r.IsEgress).map((r) => r.SecurityGroupRuleId as string);
  const egressIds = toRewrite.filter((r) => r.IsEgress).map((r) => r.SecurityGroupRuleId as string);
  const ingressRules = byIds ? { ruleIds: ingressIds } : { permissions: plan.revokeIngress };
  const egressRules = byIds ? { ruleIds: egressIds } : { permissions: plan.revokeEgress };
  const haveIngress = byIds ? ingressIds.length > 0 : plan.revokeIngress.length > 0;
  const haveEgress = byIds ? egressIds.length > 0 : plan.revokeEgress.length > 0;
  const revokeOnce = (direction: 'ingress' | 'egress', what: typeof ingressRules) =>
    direction === 'ingress'
      ? fast.send(new RevokeSecurityGroupIngressCommand({ GroupId, ...toInput(what) }))
      : fast.send(new RevokeSecurityGroupEgressCommand({ GroupId, ...toInput(what) }));
  const [ingress, egress] = await Promise.allSettled([
    haveIngress ? revokeOnce('ingress', ingressRules) : undefined,
    haveEgress ? revokeOnce('egress', egressRules) : undefined,
  ]);
  // A bucket was empty, a 5xx, or a response lost after the change: the patient client
  // carries on, and a refusal that says the rules are gone is checked against the group.
  await Promise.all([
    ingress.status === 'rejected' ? revokeRules(patient, GroupId, 'ingress', ingressRules) : undefined,
    egress.status === 'rejected' ? revokeRules(patient, GroupId, 'egress', egressRules) : undefined,
  ]);
  return {
    ingress: options.holdIngress && full.revokeIngress.length ? 'held' : count(plan.revokeIngress.length, 'revoked'),
    egress: count(plan.revokeEgress.length, 'revoked'),
    logsRuleAdded: plan.authorizeEgress.length > 0,
    interimRuleIds: [],
    fastPathFailure,
  };
}

/**
 * Takes every ingress rule out of the site's group (the rules `quarantineGroup` held back):
 * at once if EC2's bucket allows, else with the patient client; a not-found refusal is
 * checked against the group. Returns how many rules went.
 */
export async function closeIngress(fast: EC2Client, patient: EC2Client, group: SiteGroupState): Promise<number> {
  const GroupId = group.groupId;
  const what: { readonly ruleIds: string[] } | { readonly permissions: IpPermission[] } = group.rules
    ? { ruleIds: group.rules.filter((r) => !r.IsEgress).map((r) => r.SecurityGroupRuleId as string) }
    : { permissions: planQuarantine({ IpPermissions: group.ingress }, '').revokeIngress };
  const n = 'ruleIds' in what ? what.ruleIds.length : what.permissions.length;
  if (n === 0) return 0;
  try {
    await fast.send(new RevokeSecurityGroupIngressCommand({ GroupId, ...toInput(what) }));
  } catch {
    await revokeRules(patient, GroupId, 'ingress', what);
  }
  return n;
}

/**
 * Peers for the interim form of a rule that keep its type. EC2 API Reference,
 * SecurityGroupRuleRequest (ModifySecurityGroupRules): "When you modify a rule, you cannot
 * change the rule type. For example, if the rule uses an IPv4 address range, you must use
 * CidrIpv4 to specify a new IPv4 address range." So each rule keeps its kind of peer:
 * - a group reference points at the Logs endpoint's group (it listens on 443 only);
 * - an IPv4 range becomes 192.0.2.0/32, in TEST-NET-1 (RFC 5737: for documentation, never
 *   routed), an IPv6 range 100::/128, in the discard-only block (RFC 6666): no peer has them;
 * - a prefix list stays the same prefix list (a rule may only name another prefix list, and
 *   the site has no prefix list of its own), on an unused port (the prefix lists a site names
 *   are AWS services' gateway endpoints, which listen on 80 and 443 only).
 * Every rule gets its own port (never 80 or 443), so no two interim rules are the same rule.
 */
export const INTERIM_IPV4_PEER = '192.0.2.0/32';
export const INTERIM_IPV6_PEER = '100::/128';

function* interimPorts(): Generator<number> {
  for (let port = 1; port < 65_536; port++) if (port !== 80 && port !== 443) yield port;
}

function interimRule(rule: SecurityGroupRule, port: number, logsEndpointGroupId: string): SecurityGroupRuleRequest {
  const base = { IpProtocol: 'tcp', FromPort: port, ToPort: port, Description: INTERIM_DESCRIPTION };
  if (rule.CidrIpv4 !== undefined) return { ...base, CidrIpv4: INTERIM_IPV4_PEER };
  if (rule.CidrIpv6 !== undefined) return { ...base, CidrIpv6: INTERIM_IPV6_PEER };
  if (rule.PrefixListId !== undefined) return { ...base, PrefixListId: rule.PrefixListId };
  return { ...base, ReferencedGroupId: logsEndpointGroupId };
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
    revokeRules(patient, group.groupId, 'ingress', { ruleIds: ingress }),
    revokeRules(patient, group.groupId, 'egress', { ruleIds: egress }),
  ]);
}
