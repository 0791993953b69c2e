import type { CfnResource, CfnTemplate } from './synth-fleet';

/** One security-group rule, inline or as its own resource, flattened. */
export interface SecurityGroupRule {
  readonly direction: 'ingress' | 'egress';
  /** Logical id of the group that holds the rule (undefined when the group is imported). */
  readonly holder?: string;
  /** The holder as written in the template (Fn::GetAtt, Ref or Fn::ImportValue). */
  readonly holderRef: unknown;
  readonly protocol: unknown;
  readonly fromPort?: number;
  readonly toPort?: number;
  readonly cidr?: unknown;
  readonly cidrIpv6?: unknown;
  /** Peer group (source for ingress, destination for egress) as written. */
  readonly peerGroup?: unknown;
  readonly prefixList?: unknown;
  readonly resource: string;
}

const RULE_TYPES = {
  'AWS::EC2::SecurityGroupIngress': 'ingress',
  'AWS::EC2::SecurityGroupEgress': 'egress',
} as const;

export function resourcesOfType(template: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

function logicalIdOf(ref: unknown): string | undefined {
  if (ref && typeof ref === 'object') {
    const getAtt = (ref as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
    if (getAtt) return getAtt[0];
    const r = (ref as { Ref?: string }).Ref;
    if (r) return r;
  }
  return undefined;
}

function ruleFrom(
  direction: 'ingress' | 'egress',
  props: Record<string, unknown>,
  holderRef: unknown,
  resource: string,
): SecurityGroupRule {
  return {
    direction,
    holder: logicalIdOf(holderRef),
    holderRef,
    resource,
    protocol: props.IpProtocol,
    fromPort: props.FromPort as number | undefined,
    toPort: props.ToPort as number | undefined,
    cidr: props.CidrIp,
    cidrIpv6: props.CidrIpv6,
    peerGroup: direction === 'ingress' ? props.SourceSecurityGroupId : props.DestinationSecurityGroupId,
    prefixList: direction === 'ingress' ? props.SourcePrefixListId : props.DestinationPrefixListId,
  };
}

/** Every security-group rule in a template. */
export function securityGroupRules(template: CfnTemplate): SecurityGroupRule[] {
  const rules: SecurityGroupRule[] = [];
  for (const [id, resource] of Object.entries(template.Resources)) {
    const props = resource.Properties ?? {};
    if (resource.Type === 'AWS::EC2::SecurityGroup') {
      const self = { 'Fn::GetAtt': [id, 'GroupId'] };
      for (const r of (props.SecurityGroupIngress as Record<string, unknown>[] | undefined) ?? []) {
        rules.push(ruleFrom('ingress', r, self, id));
      }
      for (const r of (props.SecurityGroupEgress as Record<string, unknown>[] | undefined) ?? []) {
        rules.push(ruleFrom('egress', r, self, id));
      }
    }
    const direction = RULE_TYPES[resource.Type as keyof typeof RULE_TYPES];
    if (direction) rules.push(ruleFrom(direction, props, props.GroupId, id));
  }
  return rules;
}

/** The export name behind an `Fn::ImportValue`, if that is what `value` is. */
export function importedName(value: unknown): string | undefined {
  if (value && typeof value === 'object' && 'Fn::ImportValue' in value) {
    const name = (value as { 'Fn::ImportValue': unknown })['Fn::ImportValue'];
    return typeof name === 'string' ? name : undefined;
  }
  return undefined;
}

/** Tags of a resource as a plain map, whatever form the resource type uses. */
export function tagsOf(resource: CfnResource): Record<string, unknown> {
  const p = resource.Properties ?? {};
  const tags =
    p.Tags ?? p.tags ?? p.TagList ?? p.AccessPointTags ?? p.FileSystemTags ?? p.BackupVaultTags ?? p.BackupPlanTags;
  if (Array.isArray(tags)) {
    return Object.fromEntries(tags.map((t: { Key: string; Value: unknown }) => [t.Key, t.Value]));
  }
  if (tags && typeof tags === 'object') return tags as Record<string, unknown>;
  return {};
}

/** Flattens an Fn::Join of literals and references to a string with `${...}` for references. */
export function joinedString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && 'Fn::Join' in value) {
    const [sep, parts] = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
    return parts.map((p) => (typeof p === 'string' ? p : '<ref>')).join(sep);
  }
  return '<ref>';
}

/** The one resource of a type in a template (fails the test if there is not exactly one). */
export function onlyResource<P = Record<string, unknown>>(
  template: CfnTemplate,
  type: string,
): [string, CfnResource & { Properties: P }] {
  const found = resourcesOfType(template, type);
  if (found.length !== 1) throw new Error(`expected exactly one ${type}, found ${found.length}`);
  return found[0] as [string, CfnResource & { Properties: P }];
}

/** A statement of an IAM policy, loosely typed. */
export interface PolicyStatementJson {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** Every statement of every AWS::IAM::Policy in a template. */
export function policyStatements(template: CfnTemplate): PolicyStatementJson[] {
  return resourcesOfType(template, 'AWS::IAM::Policy').flatMap(
    ([, p]) => (p.Properties?.PolicyDocument as { Statement: PolicyStatementJson[] } | undefined)?.Statement ?? [],
  );
}
