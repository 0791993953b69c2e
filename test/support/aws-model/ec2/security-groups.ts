import type {
  AuthorizeSecurityGroupEgressCommandInput,
  AuthorizeSecurityGroupEgressCommandOutput,
  AuthorizeSecurityGroupIngressCommandInput,
  AuthorizeSecurityGroupIngressCommandOutput,
  CreateSecurityGroupCommandInput,
  CreateSecurityGroupCommandOutput,
  DescribeSecurityGroupRulesCommandInput,
  ModifySecurityGroupRulesCommandInput,
  ModifySecurityGroupRulesCommandOutput,
  DescribeSecurityGroupRulesCommandOutput,
  DescribeSecurityGroupsCommandInput,
  DescribeSecurityGroupsCommandOutput,
  IpPermission,
  RevokedSecurityGroupRule,
  RevokeSecurityGroupEgressCommandInput,
  RevokeSecurityGroupEgressCommandOutput,
  RevokeSecurityGroupIngressCommandInput,
  RevokeSecurityGroupIngressCommandOutput,
  SecurityGroup,
  SecurityGroupRule,
  TagSpecification,
} from '@aws-sdk/client-ec2';
import type { Out } from '../service-model';
import { isIpv4Cidr, isIpv6Cidr } from '../util/cidr';
import { paginate } from '../util/pagination';
import type { Tag } from '../util/tags';
import type { Ec2Model } from './ec2-model';
import { matchesFilters, tagFilter } from './filters';
import type { SecurityGroupRecord, SgRuleRecord } from './types';

/** A rule without its id: what a request asks for and what duplicate checks compare. */
export interface RuleSpec {
  IpProtocol: string;
  FromPort: number;
  ToPort: number;
  CidrIpv4?: string;
  CidrIpv6?: string;
  PrefixListId?: string;
  ReferencedGroupId?: string;
  ReferencedUserId?: string;
  Description?: string;
}

const PROTOCOL_NAMES: Record<string, string> = {
  tcp: 'tcp',
  '6': 'tcp',
  udp: 'udp',
  '17': 'udp',
  icmp: 'icmp',
  '1': 'icmp',
  icmpv6: 'icmpv6',
  '58': 'icmpv6',
  '-1': '-1',
  all: '-1',
};

/** EC2 stores `6` as `tcp`, `17` as `udp` and so on; other numbers stay numbers. */
export function normalizeProtocol(ec2: Ec2Model, protocol: string | undefined): string {
  if (protocol === undefined || protocol === '') {
    return ec2.fail('MissingParameter', 'The request must contain the parameter ipProtocol');
  }
  const named = PROTOCOL_NAMES[protocol.toLowerCase()];
  if (named) return named;
  if (/^\d{1,3}$/.test(protocol) && Number(protocol) <= 255) return String(Number(protocol));
  return ec2.fail('InvalidParameterValue', `Invalid value '${protocol}' for IP protocol. Unknown protocol.`);
}

function portsFor(ec2: Ec2Model, protocol: string, from?: number, to?: number): [number, number] {
  if (protocol === 'tcp' || protocol === 'udp') {
    if (from === undefined || to === undefined) {
      return ec2.fail(
        'InvalidParameterValue',
        'Invalid value for portRange. Must specify both from and to ports with TCP/UDP.',
      );
    }
    if (from < 0 || to > 65535 || from > to) {
      return ec2.fail('InvalidParameterValue', `Invalid TCP/UDP port range ${from}-${to}`);
    }
    return [from, to];
  }
  if (protocol === 'icmp' || protocol === 'icmpv6') {
    const type = from ?? -1;
    const code = to ?? -1;
    if (type < -1 || type > 255 || code < -1 || code > 255) {
      return ec2.fail('InvalidParameterValue', `Invalid ICMP type/code ${type}/${code}`);
    }
    return [type, code];
  }
  // -1 and other protocols: all ports, whatever was asked.
  return [-1, -1];
}

/** Expands IpPermissions (and the legacy top-level fields) into one spec per rule. */
export function permissionsToSpecs(
  ec2: Ec2Model,
  permissions: readonly IpPermission[] | undefined,
  legacy: { IpProtocol?: string; FromPort?: number; ToPort?: number; CidrIp?: string } = {},
): RuleSpec[] {
  const perms: IpPermission[] = [...(permissions ?? [])];
  if (legacy.CidrIp !== undefined || legacy.IpProtocol !== undefined) {
    perms.push({
      IpProtocol: legacy.IpProtocol,
      FromPort: legacy.FromPort,
      ToPort: legacy.ToPort,
      IpRanges: legacy.CidrIp ? [{ CidrIp: legacy.CidrIp }] : [],
    });
  }
  if (perms.length === 0) {
    return ec2.fail('MissingParameter', 'The request must contain the parameter ipPermissions');
  }
  const specs: RuleSpec[] = [];
  for (const perm of perms) {
    const IpProtocol = normalizeProtocol(ec2, perm.IpProtocol);
    const [FromPort, ToPort] = portsFor(ec2, IpProtocol, perm.FromPort, perm.ToPort);
    const base = { IpProtocol, FromPort, ToPort };
    const before = specs.length;
    for (const range of perm.IpRanges ?? []) {
      const cidr = range.CidrIp ?? '';
      if (!isIpv4Cidr(cidr)) {
        ec2.fail('InvalidParameterValue', `CIDR block ${cidr} is malformed`);
      }
      specs.push({ ...base, CidrIpv4: cidr, Description: range.Description });
    }
    for (const range of perm.Ipv6Ranges ?? []) {
      const cidr = range.CidrIpv6 ?? '';
      if (!isIpv6Cidr(cidr)) {
        ec2.fail('InvalidParameterValue', `CIDR block ${cidr} is malformed`);
      }
      specs.push({ ...base, CidrIpv6: cidr, Description: range.Description });
    }
    for (const pl of perm.PrefixListIds ?? []) {
      const id = pl.PrefixListId ?? '';
      if (!ec2.state.prefixLists[id]) {
        ec2.fail('InvalidPrefixListID.NotFound', `The prefix list ID '${id}' does not exist`);
      }
      specs.push({ ...base, PrefixListId: id, Description: pl.Description });
    }
    for (const pair of perm.UserIdGroupPairs ?? []) {
      const group = pair.GroupId
        ? ec2.state.securityGroups[pair.GroupId]
        : Object.values(ec2.state.securityGroups).find((g) => g.GroupName === pair.GroupName);
      if (!group) {
        ec2.fail('InvalidGroup.NotFound', `The security group '${pair.GroupId ?? pair.GroupName}' does not exist`);
      }
      specs.push({
        ...base,
        ReferencedGroupId: group.GroupId,
        ReferencedUserId: pair.UserId ?? group.OwnerId,
        Description: pair.Description,
      });
    }
    if (specs.length === before) {
      ec2.fail(
        'MissingParameter',
        'The request must contain a source or destination: IpRanges, Ipv6Ranges, PrefixListIds or UserIdGroupPairs',
      );
    }
  }
  return specs;
}

/** Same protocol, ports and peer (descriptions do not count, as in EC2). */
export function sameRule(a: RuleSpec, b: RuleSpec): boolean {
  return (
    a.IpProtocol === b.IpProtocol &&
    a.FromPort === b.FromPort &&
    a.ToPort === b.ToPort &&
    a.CidrIpv4 === b.CidrIpv4 &&
    a.CidrIpv6 === b.CidrIpv6 &&
    a.PrefixListId === b.PrefixListId &&
    a.ReferencedGroupId === b.ReferencedGroupId
  );
}

/** The rule as EC2 words it in `InvalidPermission.Duplicate` messages. */
function ruleText(spec: RuleSpec): string {
  const peer = spec.CidrIpv4 ?? spec.CidrIpv6 ?? spec.PrefixListId ?? spec.ReferencedGroupId;
  if (spec.IpProtocol === '-1') return `peer: ${peer}, ALL, ALLOW`;
  return `peer: ${peer}, ${spec.IpProtocol.toUpperCase()}, from port: ${spec.FromPort}, to port: ${spec.ToPort}, ALLOW`;
}

/** The group by id, or by name in the default VPC (the only place EC2 accepts names). */
export function findGroup(ec2: Ec2Model, groupId?: string, groupName?: string): SecurityGroupRecord {
  if (groupId) {
    const group = ec2.state.securityGroups[groupId];
    if (!group) ec2.fail('InvalidGroup.NotFound', `The security group '${groupId}' does not exist`);
    return group;
  }
  if (groupName) {
    const defaultVpc = Object.values(ec2.state.vpcs).find((v) => v.IsDefault);
    const group = Object.values(ec2.state.securityGroups).find(
      (g) => g.GroupName === groupName && g.VpcId === defaultVpc?.VpcId,
    );
    if (!group) {
      ec2.fail(
        'InvalidGroup.NotFound',
        `The security group '${groupName}' does not exist in default VPC '${defaultVpc?.VpcId ?? 'none'}'`,
      );
    }
    return group;
  }
  return ec2.fail('MissingParameter', 'The request must contain the parameter groupId');
}

function tagsFor(specs: readonly TagSpecification[] | undefined, resourceType: string): Tag[] {
  return (specs ?? [])
    .filter((s) => s.ResourceType === resourceType)
    .flatMap((s) => s.Tags ?? [])
    .map((t) => ({ Key: t.Key ?? '', Value: t.Value ?? '' }));
}

/** The DescribeSecurityGroupRules shape of a stored rule. */
export function toSecurityGroupRule(ec2: Ec2Model, rule: SgRuleRecord): SecurityGroupRule {
  const group = ec2.state.securityGroups[rule.GroupId];
  return {
    SecurityGroupRuleId: rule.SecurityGroupRuleId,
    GroupId: rule.GroupId,
    GroupOwnerId: group?.OwnerId ?? ec2.accountId,
    IsEgress: rule.IsEgress,
    IpProtocol: rule.IpProtocol,
    FromPort: rule.FromPort,
    ToPort: rule.ToPort,
    CidrIpv4: rule.CidrIpv4,
    CidrIpv6: rule.CidrIpv6,
    PrefixListId: rule.PrefixListId,
    ReferencedGroupInfo: rule.ReferencedGroupId
      ? { GroupId: rule.ReferencedGroupId, UserId: rule.ReferencedUserId }
      : undefined,
    Description: rule.Description,
    Tags: rule.Tags.map((t) => ({ ...t })),
    SecurityGroupRuleArn: ec2.arn('ec2', `security-group-rule/${rule.SecurityGroupRuleId}`),
  };
}

/** Rules of one direction folded into IpPermissions, grouped by protocol and ports. */
export function toIpPermissions(rules: readonly SgRuleRecord[]): IpPermission[] {
  const out: IpPermission[] = [];
  for (const rule of rules) {
    let perm = out.find(
      (p) =>
        p.IpProtocol === rule.IpProtocol &&
        (rule.IpProtocol === '-1' || (p.FromPort === rule.FromPort && p.ToPort === rule.ToPort)),
    );
    if (!perm) {
      perm = {
        IpProtocol: rule.IpProtocol,
        ...(rule.IpProtocol === '-1' ? {} : { FromPort: rule.FromPort, ToPort: rule.ToPort }),
        IpRanges: [],
        Ipv6Ranges: [],
        PrefixListIds: [],
        UserIdGroupPairs: [],
      };
      out.push(perm);
    }
    if (rule.CidrIpv4) perm.IpRanges?.push({ CidrIp: rule.CidrIpv4, Description: rule.Description });
    if (rule.CidrIpv6) {
      perm.Ipv6Ranges?.push({ CidrIpv6: rule.CidrIpv6, Description: rule.Description });
    }
    if (rule.PrefixListId) {
      perm.PrefixListIds?.push({ PrefixListId: rule.PrefixListId, Description: rule.Description });
    }
    if (rule.ReferencedGroupId) {
      perm.UserIdGroupPairs?.push({
        GroupId: rule.ReferencedGroupId,
        UserId: rule.ReferencedUserId,
        Description: rule.Description,
      });
    }
  }
  return out;
}

/** The rules of a group, in the order they were added. */
export function rulesOf(ec2: Ec2Model, groupId: string, egress?: boolean): SgRuleRecord[] {
  return Object.values(ec2.state.rules).filter(
    (r) => r.GroupId === groupId && (egress === undefined || r.IsEgress === egress),
  );
}

/** Adds rules to a group without API checks (seeding); returns the new ids. */
export function addRules(ec2: Ec2Model, groupId: string, egress: boolean, specs: RuleSpec[]): string[] {
  return specs.map((spec) => {
    const id = ec2.model.ids.ec2('sgr');
    ec2.state.rules[id] = {
      ...spec,
      SecurityGroupRuleId: id,
      GroupId: groupId,
      IsEgress: egress,
      ReferencedUserId: spec.ReferencedGroupId ? (spec.ReferencedUserId ?? ec2.accountId) : undefined,
      Tags: [],
    };
    return id;
  });
}

type AuthorizeInput = AuthorizeSecurityGroupIngressCommandInput & AuthorizeSecurityGroupEgressCommandInput;

/**
 * AuthorizeSecurityGroupIngress/Egress. All or nothing: a rule that already exists (or
 * appears twice in the request) fails the call with `InvalidPermission.Duplicate` and no
 * rule is added; the group's rule quota is checked for the whole request.
 */
export function authorize(
  ec2: Ec2Model,
  input: AuthorizeInput,
  egress: boolean,
): Out<AuthorizeSecurityGroupIngressCommandOutput & AuthorizeSecurityGroupEgressCommandOutput> {
  const group = findGroup(ec2, input.GroupId, egress ? undefined : input.GroupName);
  const specs = permissionsToSpecs(ec2, input.IpPermissions, egress ? {} : input);
  const existing = rulesOf(ec2, group.GroupId, egress);
  specs.forEach((spec, i) => {
    if (existing.some((r) => sameRule(r, spec)) || specs.slice(0, i).some((s) => sameRule(s, spec))) {
      ec2.fail('InvalidPermission.Duplicate', `the specified rule "${ruleText(spec)}" already exists`);
    }
  });
  if (existing.length + specs.length > ec2.state.rulesPerGroupQuota) {
    ec2.fail('RulesPerSecurityGroupLimitExceeded', 'The maximum number of rules per security group has been reached.');
  }
  const tags = tagsFor(input.TagSpecifications, 'security-group-rule');
  const ids = addRules(ec2, group.GroupId, egress, specs);
  for (const id of ids) {
    const rule = ec2.state.rules[id];
    if (rule) rule.Tags = tags.map((t) => ({ ...t }));
  }
  return {
    Return: true,
    SecurityGroupRules: ids.flatMap((id) => {
      const rule = ec2.state.rules[id];
      return rule ? [toSecurityGroupRule(ec2, rule)] : [];
    }),
  };
}

type RevokeInput = RevokeSecurityGroupIngressCommandInput & RevokeSecurityGroupEgressCommandInput;

/**
 * RevokeSecurityGroupIngress/Egress by rule ids or by rule properties. As documented: in a
 * non-default VPC a rule that does not exist fails the call (`InvalidPermission.NotFound`
 * or `InvalidSecurityGroupRuleId.NotFound`) and nothing is revoked; in a default VPC the
 * unknown properties come back in `UnknownIpPermissions` and the rest is revoked.
 */
export function revoke(
  ec2: Ec2Model,
  input: RevokeInput,
  egress: boolean,
): Out<RevokeSecurityGroupIngressCommandOutput & RevokeSecurityGroupEgressCommandOutput> {
  const group = findGroup(ec2, input.GroupId, egress ? undefined : input.GroupName);
  const defaultVpc = ec2.state.vpcs[group.VpcId]?.IsDefault ?? false;
  const existing = rulesOf(ec2, group.GroupId, egress);
  const toRemove = new Set<string>();
  const unknown: IpPermission[] = [];

  for (const id of input.SecurityGroupRuleIds ?? []) {
    const rule = existing.find((r) => r.SecurityGroupRuleId === id);
    if (!rule) {
      ec2.fail('InvalidSecurityGroupRuleId.NotFound', `The security group rule ID '${id}' does not exist`);
    }
    toRemove.add(id);
  }
  const byProperties =
    (input.IpPermissions?.length ?? 0) > 0 ||
    (!egress && (input.CidrIp !== undefined || input.IpProtocol !== undefined));
  if (byProperties) {
    const specs = permissionsToSpecs(ec2, input.IpPermissions, egress ? {} : input);
    for (const spec of specs) {
      const rule = existing.find((r) => sameRule(r, spec));
      if (rule) {
        toRemove.add(rule.SecurityGroupRuleId);
      } else if (defaultVpc) {
        unknown.push(
          ...toIpPermissions([{ ...spec, SecurityGroupRuleId: '', GroupId: '', IsEgress: egress, Tags: [] }]),
        );
      } else {
        ec2.fail('InvalidPermission.NotFound', 'The specified rule does not exist in this security group.');
      }
    }
  }
  if (toRemove.size === 0 && unknown.length === 0) {
    ec2.fail('MissingParameter', 'The request must contain the parameter ipPermissions or securityGroupRuleIds');
  }
  const revoked: RevokedSecurityGroupRule[] = [];
  for (const id of toRemove) {
    const rule = ec2.state.rules[id];
    if (!rule) continue;
    revoked.push({
      SecurityGroupRuleId: rule.SecurityGroupRuleId,
      GroupId: rule.GroupId,
      IsEgress: rule.IsEgress,
      IpProtocol: rule.IpProtocol,
      FromPort: rule.FromPort,
      ToPort: rule.ToPort,
      CidrIpv4: rule.CidrIpv4,
      CidrIpv6: rule.CidrIpv6,
      PrefixListId: rule.PrefixListId,
      ReferencedGroupId: rule.ReferencedGroupId,
      Description: rule.Description,
    });
    delete ec2.state.rules[id];
  }
  return {
    Return: true,
    UnknownIpPermissions: unknown.length ? unknown : undefined,
    RevokedSecurityGroupRules: revoked,
  };
}

/** CreateSecurityGroup: a new group gets EC2's default allow-all egress rule. */
export function createSecurityGroup(
  ec2: Ec2Model,
  input: CreateSecurityGroupCommandInput,
): Out<CreateSecurityGroupCommandOutput> {
  const name = input.GroupName ?? '';
  if (!name) ec2.fail('MissingParameter', 'The request must contain the parameter groupName');
  if (!input.Description) ec2.fail('MissingParameter', 'The request must contain the parameter groupDescription');
  if (name.toLowerCase().startsWith('sg-')) {
    ec2.fail('InvalidParameterValue', `Group names may not be in the format sg-*.`);
  }
  const vpcId = input.VpcId ?? Object.values(ec2.state.vpcs).find((v) => v.IsDefault)?.VpcId;
  if (!vpcId) ec2.fail('VPCIdNotSpecified', 'No default VPC for this user');
  if (!ec2.state.vpcs[vpcId]) ec2.fail('InvalidVpcID.NotFound', `The vpc ID '${vpcId}' does not exist`);
  if (Object.values(ec2.state.securityGroups).some((g) => g.VpcId === vpcId && g.GroupName === name)) {
    ec2.fail('InvalidGroup.Duplicate', `The security group '${name}' already exists for VPC '${vpcId}'`);
  }
  const tags = tagsFor(input.TagSpecifications, 'security-group');
  const group = ec2.createSecurityGroupRecord({
    GroupName: name,
    Description: input.Description ?? '',
    VpcId: vpcId,
    Tags: tags,
  });
  return {
    GroupId: group.GroupId,
    Tags: tags.length ? tags : undefined,
    SecurityGroupArn: ec2.arn('ec2', `security-group/${group.GroupId}`),
  };
}

function groupFilters(group: SecurityGroupRecord, rules: readonly SgRuleRecord[]) {
  const ingress = rules.filter((r) => !r.IsEgress);
  const egress = rules.filter((r) => r.IsEgress);
  const rulesFilter = (rules: SgRuleRecord[], field: string): (string | undefined)[] | undefined => {
    switch (field) {
      case 'cidr':
        return rules.map((r) => r.CidrIpv4);
      case 'ipv6-cidr':
        return rules.map((r) => r.CidrIpv6);
      case 'from-port':
        return rules.map((r) => String(r.FromPort));
      case 'to-port':
        return rules.map((r) => String(r.ToPort));
      case 'protocol':
        return rules.map((r) => r.IpProtocol);
      case 'group-id':
        return rules.map((r) => r.ReferencedGroupId);
      case 'prefix-list-id':
        return rules.map((r) => r.PrefixListId);
      default:
        return undefined;
    }
  };
  return (name: string): (string | undefined)[] | undefined => {
    const tags = tagFilter(name, group.Tags);
    if (tags) return tags;
    switch (name) {
      case 'group-id':
        return [group.GroupId];
      case 'group-name':
        return [group.GroupName];
      case 'vpc-id':
        return [group.VpcId];
      case 'description':
        return [group.Description];
      case 'owner-id':
        return [group.OwnerId];
    }
    if (name.startsWith('ip-permission.')) return rulesFilter(ingress, name.slice(14));
    if (name.startsWith('egress.ip-permission.')) return rulesFilter(egress, name.slice(21));
    return undefined;
  };
}

function invalidFilter(ec2: Ec2Model, name: string): never {
  return ec2.fail('InvalidParameterValue', `The filter '${name}' is invalid`);
}

/** DescribeSecurityGroups with ids, names, filters and pagination. */
export function describeSecurityGroups(
  ec2: Ec2Model,
  input: DescribeSecurityGroupsCommandInput,
): Out<DescribeSecurityGroupsCommandOutput> {
  if (input.GroupIds?.length && input.MaxResults !== undefined) {
    ec2.fail('InvalidParameterCombination', 'The parameter groupIdSet cannot be used with the parameter maxResults');
  }
  for (const id of input.GroupIds ?? []) {
    if (!ec2.state.securityGroups[id]) ec2.fail('InvalidGroup.NotFound', `The security group '${id}' does not exist`);
  }
  for (const name of input.GroupNames ?? []) {
    findGroup(ec2, undefined, name);
  }
  const byGroup = new Map<string, SgRuleRecord[]>();
  for (const rule of Object.values(ec2.state.rules)) {
    const list = byGroup.get(rule.GroupId);
    if (list) list.push(rule);
    else byGroup.set(rule.GroupId, [rule]);
  }
  const groups: SecurityGroup[] = [];
  for (const group of Object.values(ec2.state.securityGroups)) {
    const rules = byGroup.get(group.GroupId) ?? [];
    if (input.GroupIds?.length && !input.GroupIds.includes(group.GroupId)) continue;
    if (input.GroupNames?.length && !input.GroupNames.includes(group.GroupName)) continue;
    const match = matchesFilters(input.Filters, groupFilters(group, rules));
    if (typeof match === 'object') invalidFilter(ec2, match.unsupported);
    if (!match) continue;
    groups.push({
      GroupId: group.GroupId,
      GroupName: group.GroupName,
      Description: group.Description,
      OwnerId: group.OwnerId,
      VpcId: group.VpcId,
      IpPermissions: toIpPermissions(rules.filter((r) => !r.IsEgress)),
      IpPermissionsEgress: toIpPermissions(rules.filter((r) => r.IsEgress)),
      Tags: group.Tags.length ? group.Tags.map((t) => ({ ...t })) : undefined,
      SecurityGroupArn: ec2.arn('ec2', `security-group/${group.GroupId}`),
    });
  }
  const page = paginate(groups, input.MaxResults, input.NextToken, 1000);
  if (!page) return ec2.fail('InvalidParameterValue', 'The token is invalid');
  return { SecurityGroups: page.items, NextToken: page.nextToken };
}

/** DescribeSecurityGroupRules by ids and filters (`group-id`, `security-group-rule-id`, tags). */
export function describeSecurityGroupRules(
  ec2: Ec2Model,
  input: DescribeSecurityGroupRulesCommandInput,
): Out<DescribeSecurityGroupRulesCommandOutput> {
  for (const id of input.SecurityGroupRuleIds ?? []) {
    if (!ec2.state.rules[id]) {
      ec2.fail('InvalidSecurityGroupRuleId.NotFound', `The security group rule ID '${id}' does not exist`);
    }
  }
  const rules: SecurityGroupRule[] = [];
  for (const rule of Object.values(ec2.state.rules)) {
    if (input.SecurityGroupRuleIds?.length && !input.SecurityGroupRuleIds.includes(rule.SecurityGroupRuleId)) {
      continue;
    }
    const match = matchesFilters(input.Filters, (name) => {
      const tags = tagFilter(name, rule.Tags);
      if (tags) return tags;
      if (name === 'group-id') return [rule.GroupId];
      if (name === 'security-group-rule-id') return [rule.SecurityGroupRuleId];
      return undefined;
    });
    if (typeof match === 'object') invalidFilter(ec2, match.unsupported);
    if (match) rules.push(toSecurityGroupRule(ec2, rule));
  }
  if (input.MaxResults !== undefined && (input.MaxResults < 5 || input.MaxResults > 1000)) {
    ec2.fail(
      'InvalidParameterValue',
      `Value ( ${input.MaxResults} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`,
    );
  }
  const page = paginate(rules, input.MaxResults, input.NextToken, 1000);
  if (!page) return ec2.fail('InvalidParameterValue', 'The token is invalid');
  return { SecurityGroupRules: page.items, NextToken: page.nextToken };
}

type RuleType = 'cidr-ipv4' | 'cidr-ipv6' | 'prefix-list' | 'referenced-group';

/** Which of the four peer kinds a rule (or a rule request) names. */
function ruleType(rule: {
  CidrIpv4?: string;
  CidrIpv6?: string;
  PrefixListId?: string;
  ReferencedGroupId?: string;
}): RuleType {
  if (rule.CidrIpv4 !== undefined) return 'cidr-ipv4';
  if (rule.CidrIpv6 !== undefined) return 'cidr-ipv6';
  if (rule.PrefixListId !== undefined) return 'prefix-list';
  return 'referenced-group';
}

const RULE_TYPE_TEXT: Record<RuleType, { specify: string; existing: string }> = {
  'cidr-ipv4': { specify: 'an IPv4 CIDR', existing: 'IPv4 CIDR' },
  'cidr-ipv6': { specify: 'an IPv6 CIDR', existing: 'IPv6 CIDR' },
  'prefix-list': { specify: 'a prefix list id', existing: 'prefix list' },
  'referenced-group': { specify: 'a referenced group id', existing: 'referenced group' },
};

/**
 * ModifySecurityGroupRules: rewrites existing rules in place (same rule ids), ingress and
 * egress in one call. Atomic: an unknown rule id (`InvalidSecurityGroupRuleId.NotFound`), a
 * change of the rule's type (`InvalidParameterValue`: a CIDR rule stays a CIDR rule of its
 * family, a prefix-list rule a prefix-list rule, a group reference a group reference) or a
 * result that duplicates another rule of the group (`InvalidPermission.Duplicate`) changes
 * nothing.
 */
export function modifySecurityGroupRules(
  ec2: Ec2Model,
  input: ModifySecurityGroupRulesCommandInput,
): Out<ModifySecurityGroupRulesCommandOutput> {
  const group = findGroup(ec2, input.GroupId, undefined);
  const updates = input.SecurityGroupRules ?? [];
  if (updates.length === 0) ec2.fail('MissingParameter', 'The request must contain the parameter SecurityGroupRules');
  const next = new Map<string, SgRuleRecord>();
  for (const update of updates) {
    const id = update.SecurityGroupRuleId ?? '';
    const rule = ec2.state.rules[id];
    if (!rule || rule.GroupId !== group.GroupId) {
      ec2.fail('InvalidSecurityGroupRuleId.NotFound', `The security group rule ID '${id}' does not exist`);
    }
    const r = update.SecurityGroupRule ?? {};
    const peers = [r.CidrIpv4, r.CidrIpv6, r.PrefixListId, r.ReferencedGroupId].filter((p) => p !== undefined);
    if (peers.length !== 1)
      ec2.fail(
        'InvalidParameterValue',
        'Exactly one of CidrIpv4, CidrIpv6, PrefixListId or ReferencedGroupId is required',
      );
    // EC2 API Reference, SecurityGroupRuleRequest: "When you modify a rule, you cannot change
    // the rule type. For example, if the rule uses an IPv4 address range, you must use
    // CidrIpv4 to specify a new IPv4 address range." The error code is not documented; the
    // message is the one AWS answers with (a public report: "You may not specify a referenced
    // group id for an existing IPv4 CIDR rule").
    const was = ruleType(rule);
    const becomes = ruleType(r);
    if (was !== becomes) {
      ec2.fail(
        'InvalidParameterValue',
        `You may not specify ${RULE_TYPE_TEXT[becomes].specify} for an existing ${RULE_TYPE_TEXT[was].existing} rule (${id})`,
      );
    }
    const protocol = r.IpProtocol ?? rule.IpProtocol;
    next.set(id, {
      ...rule,
      IpProtocol: protocol,
      FromPort: protocol === '-1' ? -1 : (r.FromPort ?? rule.FromPort),
      ToPort: protocol === '-1' ? -1 : (r.ToPort ?? rule.ToPort),
      CidrIpv4: r.CidrIpv4,
      CidrIpv6: r.CidrIpv6,
      PrefixListId: r.PrefixListId,
      ReferencedGroupId: r.ReferencedGroupId,
      ReferencedUserId: r.ReferencedGroupId ? ec2.accountId : undefined,
      Description: r.Description,
    });
  }
  for (const egress of [false, true]) {
    const after = rulesOf(ec2, group.GroupId, egress).map((rule) => next.get(rule.SecurityGroupRuleId) ?? rule);
    after.forEach((rule, i) => {
      if (after.some((other, j) => j !== i && sameRule(other, rule))) {
        ec2.fail('InvalidPermission.Duplicate', `the specified rule "${ruleText(rule)}" already exists`);
      }
    });
  }
  for (const [id, rule] of next) ec2.state.rules[id] = rule;
  return { Return: true };
}
