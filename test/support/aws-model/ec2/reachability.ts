import { cidrContains } from '../util/cidr';
import type { Ec2Model } from './ec2-model';
import type { SgRuleRecord } from './types';

/** One end of a TCP connection inside a VPC. */
export interface Endpoint {
  ip: string;
  subnetId: string;
  /** Security groups of the interface. */
  groups: readonly string[];
}

/** Why a connection is refused, or undefined when it is allowed. */
export type Verdict = undefined | { layer: 'security-group' | 'network-acl'; detail: string };

/** Security group rules by group id (build once with {@link indexRules} for many checks). */
export type RuleIndex = Map<string, SgRuleRecord[]>;

export function indexRules(ec2: Ec2Model): RuleIndex {
  const index: RuleIndex = new Map();
  for (const rule of Object.values(ec2.state.rules)) {
    const list = index.get(rule.GroupId);
    if (list) list.push(rule);
    else index.set(rule.GroupId, [rule]);
  }
  return index;
}

/** A port in the range clients pick their source ports from (ALB uses 1024-65535). */
export const EPHEMERAL_PORT = 49152;

function ruleCoversPort(rule: SgRuleRecord, port: number): boolean {
  if (rule.IpProtocol === '-1') return true;
  if (rule.IpProtocol !== 'tcp') return false;
  return rule.FromPort <= port && port <= rule.ToPort;
}

function rulePeerMatches(ec2: Ec2Model, rule: SgRuleRecord, peer: Endpoint): boolean {
  if (rule.CidrIpv4) return cidrContains(rule.CidrIpv4, peer.ip);
  if (rule.ReferencedGroupId) return peer.groups.includes(rule.ReferencedGroupId);
  if (rule.PrefixListId) {
    return (ec2.state.prefixLists[rule.PrefixListId]?.Cidrs ?? []).some((c) => cidrContains(c, peer.ip));
  }
  return false;
}

/**
 * Whether any of `groups` has a rule in the direction that lets TCP `port` to/from `peer`.
 * Security groups are stateful, so only the initiating direction is checked.
 */
export function securityGroupsAllow(
  ec2: Ec2Model,
  groups: readonly string[],
  egress: boolean,
  peer: Endpoint,
  port: number,
  index: RuleIndex = indexRules(ec2),
): boolean {
  return groups.some((group) =>
    (index.get(group) ?? []).some(
      (rule) => rule.IsEgress === egress && ruleCoversPort(rule, port) && rulePeerMatches(ec2, rule, peer),
    ),
  );
}

/**
 * Network ACLs are stateless and evaluated in rule-number order; the first entry that
 * matches decides, and the `*` entry denies everything else.
 */
export function networkAclAllows(
  ec2: Ec2Model,
  subnetId: string,
  egress: boolean,
  peerIp: string,
  port: number,
): boolean {
  const acl = ec2.aclOf(subnetId);
  if (!acl) return false;
  const entries = acl.Entries.filter((e) => e.Egress === egress).sort((a, b) => a.RuleNumber - b.RuleNumber);
  for (const entry of entries) {
    if (!cidrContains(entry.CidrBlock, peerIp)) continue;
    if (entry.Protocol !== '-1') {
      if (entry.Protocol !== '6') continue;
      const range = entry.PortRange;
      if (range && (port < range.From || port > range.To)) continue;
    }
    return entry.RuleAction === 'allow';
  }
  return false;
}

/**
 * Whether `from` can open a TCP connection to `to` on `port` and get answers back: the
 * source's egress rules, the destination's ingress rules, and (when the ends are in
 * different subnets) both subnets' ACLs in both directions, the reply travelling to an
 * ephemeral port.
 */
export function tcpReachable(
  ec2: Ec2Model,
  from: Endpoint,
  to: Endpoint,
  port: number,
  index: RuleIndex = indexRules(ec2),
): Verdict {
  if (!securityGroupsAllow(ec2, from.groups, true, to, port, index)) {
    return {
      layer: 'security-group',
      detail: `egress from ${from.ip} to ${to.ip}:${port} not allowed`,
    };
  }
  if (!securityGroupsAllow(ec2, to.groups, false, from, port, index)) {
    return {
      layer: 'security-group',
      detail: `ingress to ${to.ip}:${port} from ${from.ip} not allowed`,
    };
  }
  if (from.subnetId !== to.subnetId) {
    const checks: Array<[string, boolean, string, number]> = [
      [from.subnetId, true, to.ip, port],
      [to.subnetId, false, from.ip, port],
      [to.subnetId, true, from.ip, EPHEMERAL_PORT],
      [from.subnetId, false, to.ip, EPHEMERAL_PORT],
    ];
    for (const [subnet, egress, peer, p] of checks) {
      if (!networkAclAllows(ec2, subnet, egress, peer, p)) {
        return {
          layer: 'network-acl',
          detail: `network ACL of ${subnet} denies ${egress ? 'outbound' : 'inbound'} ${peer}:${p}`,
        };
      }
    }
  }
  return undefined;
}
