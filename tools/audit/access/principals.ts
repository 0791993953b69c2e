/**
 * The IAM principals of an assembly as the audit evaluates them: every `AWS::IAM::Role` with
 * its identity policies (inline `Policies`; `AWS::IAM::Policy`, `AWS::IAM::RolePolicy` and
 * `AWS::IAM::ManagedPolicy` resources of any stack that name it; customer managed policies of
 * the assembly and AWS managed policies from the shipped data in `ManagedPolicyArns`), its
 * permissions boundary and its trust policy; and every `AWS::Lambda::Function` with its role
 * and its resource policy (the `AWS::Lambda::Permission` resources that name it).
 */
import { TAG_SITE } from '../../../contracts/tag-names';
import { displayValue, parseToken, type Resolved, tokenFor } from '../intrinsics';
import type { Inventory, ResourceEntry } from '../inventory';
import type { Statement } from '../policy/evaluate';
import { awsManagedPolicyDocument, isAwsManagedPolicyArn } from '../policy/managed-policies';
import { SEGMENT } from '../wildcards';

/** A statement and where it is written, for findings. */
export interface HeldStatement {
  readonly statement: Statement;
  readonly stack: string;
  readonly logicalId: string;
  readonly policyName: string;
  readonly index: number;
}

export interface RoleInfo {
  readonly entry: ResourceEntry;
  /** As `Fn::GetAtt [Role, Arn]` resolves (the token of a generated name). */
  readonly arn: string;
  /** The same ARN as CloudFormation names it when the template gives no RoleName: `<stack>-…`. */
  readonly aliases: readonly string[];
  readonly sessionArn: string;
  readonly account: string;
  readonly tags: Readonly<Record<string, string>>;
  /** The site whose role it is (its stack, or its `bulkhead:site` tag). */
  readonly owner?: string;
  readonly identity: readonly HeldStatement[];
  /** The boundary's statements; undefined without a boundary (or with one the audit cannot read). */
  readonly boundary?: readonly HeldStatement[];
  readonly trust: readonly HeldStatement[];
  /** Policies the audit cannot read (AWS managed policies the data lacks, boundaries outside the assembly). */
  readonly unreadable: readonly string[];
}

export interface FunctionInfo {
  readonly entry: ResourceEntry;
  readonly arn: string;
  readonly aliases: readonly string[];
  readonly owner?: string;
  readonly role?: RoleInfo;
  readonly policy: readonly HeldStatement[];
}

function list(value: Resolved): Resolved[] {
  return Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
}

function statementsOf(
  document: Resolved,
  where: { stack: string; logicalId: string; policyName: string },
): HeldStatement[] {
  const doc = document as { Statement?: Resolved } | undefined;
  return list(doc?.Statement ?? []).flatMap((statement, index) =>
    statement && typeof statement === 'object' && !Array.isArray(statement)
      ? [{ statement: statement as Statement, index, ...where }]
      : [],
  );
}

/** `…/⟦stack#id⟧` → also `…/<stack>-<anything>`: CloudFormation names a resource after its stack. */
export function generatedNameAliases(arn: string, entry: ResourceEntry, lowerCase = false): string[] {
  const token = tokenFor(entry.stack.name, entry.logicalId);
  if (!arn.includes(token)) return [];
  const name = `${lowerCase ? entry.stack.name.toLowerCase() : entry.stack.name}-${SEGMENT}`;
  return [arn.replaceAll(token, name)];
}

/** The Lambda permission as the policy statement Lambda adds to the function's resource policy. */
function permissionStatement(entry: ResourceEntry, inventory: Inventory, functionArn: string): Statement {
  const p = inventory.resolver.resolve(entry.stack, entry.properties) as Record<string, Resolved>;
  const principal = typeof p.Principal === 'string' ? p.Principal : '';
  const condition: Record<string, Record<string, string>> = {};
  if (typeof p.SourceArn === 'string') condition.ArnLike = { 'aws:SourceArn': p.SourceArn };
  if (typeof p.SourceAccount === 'string') condition.StringEquals = { 'aws:SourceAccount': p.SourceAccount };
  if (typeof p.PrincipalOrgID === 'string') {
    condition.StringEquals = { ...condition.StringEquals, 'aws:PrincipalOrgID': p.PrincipalOrgID };
  }
  if (typeof p.FunctionUrlAuthType === 'string') {
    condition.StringEquals = { ...condition.StringEquals, 'lambda:FunctionUrlAuthType': p.FunctionUrlAuthType };
  }
  return {
    Effect: 'Allow',
    // "Principal: The AWS service, AWS account, IAM user, or IAM role that invokes the function."
    Principal:
      principal === '*' ? '*' : principal.endsWith('.amazonaws.com') ? { Service: principal } : { AWS: principal },
    Action: p.Action,
    Resource: [functionArn, `${functionArn}:*`],
    ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
  };
}

export class PrincipalModel {
  readonly roles: RoleInfo[] = [];
  readonly functions: FunctionInfo[] = [];
  private readonly roleByArn = new Map<string, RoleInfo>();

  constructor(private readonly inventory: Inventory) {
    const attached = this.attachedPolicies();
    for (const entry of inventory.ofType('AWS::IAM::Role')) {
      const role = this.role(entry, attached);
      this.roles.push(role);
      for (const arn of [role.arn, ...role.aliases]) this.roleByArn.set(arn, role);
    }
    for (const entry of inventory.ofType('AWS::Lambda::Function')) this.functions.push(this.lambda(entry));
  }

  /** The role an ARN (as a template resolves it) names, if it is in the assembly. */
  roleNamed(arn: string | undefined): RoleInfo | undefined {
    return arn === undefined ? undefined : this.roleByArn.get(arn);
  }

  private attachedPolicies(): Map<string, ResourceEntry[]> {
    const { resolver } = this.inventory;
    const byRole = new Map<string, ResourceEntry[]>();
    for (const type of ['AWS::IAM::Policy', 'AWS::IAM::RolePolicy', 'AWS::IAM::ManagedPolicy']) {
      for (const entry of this.inventory.ofType(type)) {
        const roles = [
          ...resolver.resolveStrings(entry.stack, entry.properties.Roles),
          ...resolver.resolveStrings(entry.stack, entry.properties.RoleName),
        ];
        for (const role of roles) byRole.set(role, [...(byRole.get(role) ?? []), entry]);
      }
    }
    return byRole;
  }

  private managedPolicy(arn: string): ResourceEntry | undefined {
    const { resolver } = this.inventory;
    return this.inventory
      .ofType('AWS::IAM::ManagedPolicy')
      .find((m) => resolver.resolveString(m.stack, { Ref: m.logicalId }) === arn);
  }

  /** A managed policy's statements by ARN: of the assembly, or AWS managed from the data; undefined when unreadable. */
  private managedStatements(arn: string, seen: Set<ResourceEntry>): HeldStatement[] | undefined {
    const { resolver } = this.inventory;
    const entry = this.managedPolicy(arn);
    if (entry) {
      if (seen.has(entry)) return [];
      seen.add(entry);
      const name = resolver.resolveString(entry.stack, entry.properties.ManagedPolicyName) ?? entry.logicalId;
      return statementsOf(resolver.resolve(entry.stack, entry.properties.PolicyDocument), {
        stack: entry.stack.name,
        logicalId: entry.logicalId,
        policyName: name,
      });
    }
    if (!isAwsManagedPolicyArn(arn)) return undefined;
    const document = awsManagedPolicyDocument(arn);
    if (!document) return undefined;
    return statementsOf(document as Resolved, {
      stack: 'AWS',
      logicalId: arn,
      policyName: arn.replace(/^.*:policy\//, ''),
    });
  }

  private role(entry: ResourceEntry, attached: Map<string, ResourceEntry[]>): RoleInfo {
    const { resolver } = this.inventory;
    const account = entry.stack.account ?? '*';
    const arn = resolver.resolveString(entry.stack, { 'Fn::GetAtt': [entry.logicalId, 'Arn'] }) ?? entry.token;
    const name = resolver.resolveString(entry.stack, { Ref: entry.logicalId }) ?? entry.token;
    const identity: HeldStatement[] = [];
    const unreadable: string[] = [];
    for (const inline of list(resolver.resolve(entry.stack, entry.properties.Policies))) {
      const p = inline as { PolicyName?: Resolved; PolicyDocument?: Resolved } | null;
      identity.push(
        ...statementsOf(p?.PolicyDocument, {
          stack: entry.stack.name,
          logicalId: entry.logicalId,
          policyName: typeof p?.PolicyName === 'string' ? p.PolicyName : 'inline',
        }),
      );
    }
    const seen = new Set<ResourceEntry>();
    for (const policy of attached.get(name) ?? []) {
      seen.add(policy);
      const policyName =
        resolver.resolveString(policy.stack, policy.properties.PolicyName ?? policy.properties.ManagedPolicyName) ??
        policy.logicalId;
      identity.push(
        ...statementsOf(resolver.resolve(policy.stack, policy.properties.PolicyDocument), {
          stack: policy.stack.name,
          logicalId: policy.logicalId,
          policyName,
        }),
      );
    }
    for (const managed of resolver.resolveStrings(entry.stack, entry.properties.ManagedPolicyArns)) {
      const statements = this.managedStatements(managed, seen);
      if (statements) identity.push(...statements);
      else unreadable.push(`managed policy ${displayValue(managed)}`);
    }
    const boundaryArn = resolver.resolveString(entry.stack, entry.properties.PermissionsBoundary);
    let boundary: HeldStatement[] | undefined;
    if (boundaryArn !== undefined) {
      boundary = this.managedStatements(boundaryArn, new Set());
      if (!boundary) unreadable.push(`permissions boundary ${displayValue(boundaryArn)}`);
    }
    const trust = statementsOf(resolver.resolve(entry.stack, entry.properties.AssumeRolePolicyDocument), {
      stack: entry.stack.name,
      logicalId: entry.logicalId,
      policyName: 'trust policy',
    });
    const owner = this.inventory.siteOf(entry.token);
    return {
      entry,
      arn,
      aliases: entry.properties.RoleName === undefined ? generatedNameAliases(arn, entry) : [],
      sessionArn: `arn:aws:sts::${account}:assumed-role/${name}/${SEGMENT}`,
      account,
      tags: entry.tags,
      ...(owner ? { owner } : entry.tags[TAG_SITE] ? { owner: entry.tags[TAG_SITE] } : {}),
      identity,
      ...(boundary ? { boundary } : {}),
      trust,
      unreadable,
    };
  }

  private lambda(entry: ResourceEntry): FunctionInfo {
    const { resolver } = this.inventory;
    const arn = resolver.resolveString(entry.stack, { 'Fn::GetAtt': [entry.logicalId, 'Arn'] }) ?? `${entry.token}.Arn`;
    const roleArn = resolver.resolveString(entry.stack, entry.properties.Role);
    const role = this.roleNamed(roleArn);
    const name = resolver.resolveString(entry.stack, { Ref: entry.logicalId });
    const policy: HeldStatement[] = [];
    for (const permission of this.inventory.ofType('AWS::Lambda::Permission')) {
      const target = resolver.resolveString(permission.stack, permission.properties.FunctionName);
      const address = parseToken(target);
      const names =
        target === arn ||
        target === name ||
        (address?.logicalId === entry.logicalId && address.stack === entry.stack.name);
      if (!names) continue;
      policy.push({
        statement: permissionStatement(permission, this.inventory, arn),
        stack: permission.stack.name,
        logicalId: permission.logicalId,
        policyName: 'function policy',
        index: 0,
      });
    }
    const owner = this.inventory.siteOf(entry.token) ?? entry.tags[TAG_SITE];
    return {
      entry,
      arn,
      aliases: entry.properties.FunctionName === undefined ? generatedNameAliases(arn, entry) : [],
      ...(owner ? { owner } : {}),
      ...(role ? { role } : {}),
      policy,
    };
  }
}
