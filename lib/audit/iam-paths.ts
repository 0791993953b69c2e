/**
 * IAM paths: a statement of site A's task role (inline policies, `AWS::IAM::Policy`,
 * `AWS::IAM::RolePolicy` and customer-managed policies attached to it, in any stack) that
 * allows an action of the right service on a resource pattern that could name something of
 * site B. B's things: its secrets (and every name under `bulkhead/<env>/sites/<B>/`), log
 * groups (and `/bulkhead/<env>/sites/<B>`), access points, the uploads file system through
 * B's access point (unless a condition pins `elasticfilesystem:AccessPointArn` to another
 * one), buckets, roles and parameters. An AWS-managed policy on a task role cannot be read
 * from the assembly and is reported as a path to every other site. A container of A that
 * is handed one of B's secrets through its task definition is a path too.
 */
import { siteSecretNamePrefix } from '../shared/contract';
import { Component, TAG_SITE } from '../shared/tag-names';
import type { AssemblyStack } from './cloud-assembly';
import { displayValue, parseToken, type Resolved, UNRESOLVED } from './intrinsics';
import { type Inventory, type ResourceEntry, type SiteInventory, siteComponent } from './inventory';
import type { Finding, RuleReference } from './types';
import { PatternIndex, patternMatches, patternMatchesIgnoringCase, patternsIntersect, SEGMENT } from './wildcards';

/** Something of a site that an IAM statement could name. */
interface AccessSubject {
  readonly site: string;
  readonly services: readonly string[];
  /** ARN, possibly with `*`/`?` where the real value is unknown (a random suffix). */
  readonly arn: string;
  readonly label: string;
  /** For a file system reached through the site's access point: that access point's ARN. */
  readonly throughAccessPoint?: string;
}

interface PolicyStatement {
  readonly holder: ResourceEntry;
  readonly policyName: string;
  readonly index: number;
  readonly statement: Record<string, Resolved>;
}

const RESTRICTING_OPERATORS = new Set(['stringequals', 'stringlike', 'arnequals', 'arnlike', 'stringequalsignorecase']);

function list(value: Resolved): Resolved[] {
  return Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
}

function asPattern(value: Resolved): string {
  if (typeof value !== 'string') return '*';
  return value.includes(UNRESOLVED) ? value.replaceAll(UNRESOLVED, '*') : value;
}

/** Values a condition allows for a key, or undefined when the statement does not restrict it. */
function conditionValues(statement: Record<string, Resolved>, key: string): string[] | undefined {
  const condition = statement.Condition;
  if (!condition || typeof condition !== 'object' || Array.isArray(condition)) return undefined;
  let values: string[] | undefined;
  for (const [operator, clauses] of Object.entries(condition)) {
    const base = operator
      .replace(/^For(Any|All)Values:/i, '')
      .replace(/IfExists$/i, '')
      .toLowerCase();
    if (!RESTRICTING_OPERATORS.has(base) || !clauses || typeof clauses !== 'object') continue;
    for (const [k, v] of Object.entries(clauses as Record<string, Resolved>)) {
      if (k.toLowerCase() !== key) continue;
      values = [...(values ?? []), ...list(v).map(asPattern)];
    }
  }
  return values;
}

function statementLabel(s: PolicyStatement): string {
  const sid =
    typeof s.statement.Sid === 'string' && s.statement.Sid ? `Sid ${s.statement.Sid}` : `Statement[${s.index}]`;
  return `${sid} of policy ${s.policyName}`;
}

class IamModel {
  private readonly subjectsByService = new Map<string, PatternIndex<AccessSubject>>();
  private readonly attached = new Map<string, { entry: ResourceEntry; kind: 'policy' | 'managed' }[]>();
  private readonly managedByArn = new Map<string, ResourceEntry>();
  statementCount = 0;

  constructor(private readonly inventory: Inventory) {
    const { resolver } = inventory;
    for (const site of inventory.sites) {
      for (const subject of this.subjectsOf(site)) {
        for (const service of subject.services) {
          const index = this.subjectsByService.get(service) ?? new PatternIndex<AccessSubject>();
          index.add(subject.arn, subject);
          this.subjectsByService.set(service, index);
        }
      }
    }
    for (const entry of [
      ...inventory.ofType('AWS::IAM::Policy'),
      ...inventory.ofType('AWS::IAM::ManagedPolicy'),
      ...inventory.ofType('AWS::IAM::RolePolicy'),
    ]) {
      const kind = entry.type === 'AWS::IAM::ManagedPolicy' ? 'managed' : 'policy';
      const roles = [
        ...resolver.resolveStrings(entry.stack, entry.properties.Roles),
        ...resolver.resolveStrings(entry.stack, entry.properties.RoleName),
      ];
      for (const role of roles) {
        const attached = this.attached.get(role) ?? [];
        attached.push({ entry, kind });
        this.attached.set(role, attached);
      }
      if (kind === 'managed') {
        const arn = resolver.resolveString(entry.stack, { Ref: entry.logicalId });
        if (arn) this.managedByArn.set(arn, entry);
      }
    }
  }

  private arn(stack: AssemblyStack, service: string, resource: string): string {
    return `arn:aws:${service}:${stack.region ?? SEGMENT}:${stack.account ?? SEGMENT}:${resource}`;
  }

  private subjectsOf(site: SiteInventory): AccessSubject[] {
    const { resolver } = this.inventory;
    const stack = site.stackEntry;
    const subjects: AccessSubject[] = [];
    const add = (services: string[], arn: string | undefined, label: string, extra: Partial<AccessSubject> = {}) => {
      if (arn) subjects.push({ site: site.id, services, arn: asPattern(arn), label, ...extra });
    };
    const ref = (r: ResourceEntry) => resolver.resolveString(r.stack, { Ref: r.logicalId });
    const getAtt = (r: ResourceEntry, attribute: string) =>
      resolver.resolveString(r.stack, { 'Fn::GetAtt': [r.logicalId, attribute] });
    const logGroups = new Set<string>();
    const addLogGroup = (at: AssemblyStack, name: string) => {
      if (logGroups.has(name)) return;
      logGroups.add(name);
      const group = this.arn(at, 'logs', `log-group:${name}`);
      add(['logs'], group, `log group ${displayValue(name)}`);
      add(['logs'], `${group}:${SEGMENT}`, `log group ${displayValue(name)}`);
      add(['logs'], `${group}:log-stream:${SEGMENT}`, `log streams of ${displayValue(name)}`);
    };
    const env = site.environment;
    if (env) {
      add(
        ['secretsmanager'],
        this.arn(stack, 'secretsmanager', `secret:${siteSecretNamePrefix(env)}${site.id}/${SEGMENT}`),
        `secrets under ${siteSecretNamePrefix(env)}${site.id}/`,
      );
      // A site's log group is named `/bulkhead/<env>/sites/<id>/<stack instance>` (its own
      // resource, below, names the exact one; issue 12 item 5).
    }
    for (const r of site.resources) {
      switch (r.type) {
        case 'AWS::SecretsManager::Secret':
          add(
            ['secretsmanager'],
            ref(r),
            `secret ${displayValue(resolver.resolveString(r.stack, r.properties.Name) ?? r.logicalId)}`,
          );
          break;
        case 'AWS::Logs::LogGroup': {
          const name = ref(r);
          if (name) addLogGroup(r.stack, name);
          break;
        }
        case 'AWS::EFS::AccessPoint': {
          const accessPoint = getAtt(r, 'Arn');
          add(['elasticfilesystem'], accessPoint, `access point ${r.logicalId}`);
          const fileSystem = resolver.resolveString(r.stack, r.properties.FileSystemId);
          const address = parseToken(fileSystem);
          const fsEntry = address && this.inventory.entry(address.stack, address.logicalId);
          const fsArn = fsEntry
            ? getAtt(fsEntry, 'Arn')
            : fileSystem && this.arn(r.stack, 'elasticfilesystem', `file-system/${fileSystem}`);
          if (accessPoint) {
            add(['elasticfilesystem'], fsArn, `uploads file system through access point ${r.logicalId}`, {
              throughAccessPoint: accessPoint,
            });
          }
          break;
        }
        case 'AWS::S3::Bucket': {
          const bucket = getAtt(r, 'Arn');
          add(['s3'], bucket, `bucket ${r.logicalId}`);
          add(['s3'], bucket && `${bucket}/*`, `objects of bucket ${r.logicalId}`);
          break;
        }
        case 'AWS::IAM::Role':
          add(['sts', 'iam'], getAtt(r, 'Arn'), `role ${r.logicalId} (${r.tags['bulkhead:component'] ?? 'role'})`);
          break;
        case 'AWS::SSM::Parameter': {
          const name = ref(r);
          if (name)
            add(
              ['ssm'],
              this.arn(r.stack, 'ssm', `parameter${name.startsWith('/') ? '' : '/'}${name}`),
              `parameter ${displayValue(name)}`,
            );
          break;
        }
        default:
          break;
      }
    }
    return subjects;
  }

  taskRolesOf(site: SiteInventory): ResourceEntry[] {
    const { resolver } = this.inventory;
    const tagged = siteComponent(site, Component.taskRole).filter((r) => r.type === 'AWS::IAM::Role');
    const referenced = site.resources
      .filter((r) => r.type === 'AWS::ECS::TaskDefinition')
      .flatMap((t) => {
        const arn = resolver.resolveString(t.stack, t.properties.TaskRoleArn) ?? '';
        return site.resources.filter(
          (r) =>
            r.type === 'AWS::IAM::Role' &&
            resolver.resolveString(r.stack, { 'Fn::GetAtt': [r.logicalId, 'Arn'] }) === arn,
        );
      });
    return [...new Set([...tagged, ...referenced])];
  }

  /** Statements of every policy attached to a role, and managed policies not in the assembly. */
  statementsOf(role: ResourceEntry): { statements: PolicyStatement[]; external: string[] } {
    const { resolver } = this.inventory;
    const statements: PolicyStatement[] = [];
    const push = (holder: ResourceEntry, policyName: string, document: Resolved) => {
      const doc = document as { Statement?: Resolved } | undefined;
      list(doc?.Statement ?? []).forEach((statement, index) => {
        if (statement && typeof statement === 'object' && !Array.isArray(statement)) {
          statements.push({ holder, policyName, index, statement });
        }
      });
    };
    for (const inline of list(resolver.resolve(role.stack, role.properties.Policies))) {
      const p = inline as { PolicyName?: Resolved; PolicyDocument?: Resolved } | null;
      push(role, typeof p?.PolicyName === 'string' ? p.PolicyName : 'inline', p?.PolicyDocument);
    }
    const roleName = resolver.resolveString(role.stack, { Ref: role.logicalId }) ?? '';
    const seen = new Set<ResourceEntry>();
    for (const { entry } of this.attached.get(roleName) ?? []) {
      seen.add(entry);
      const name = resolver.resolveString(
        entry.stack,
        entry.properties.PolicyName ?? entry.properties.ManagedPolicyName,
      );
      push(entry, name ?? entry.logicalId, resolver.resolve(entry.stack, entry.properties.PolicyDocument));
    }
    const external: string[] = [];
    for (const arn of resolver.resolveStrings(role.stack, role.properties.ManagedPolicyArns)) {
      const managed = this.managedByArn.get(arn);
      if (managed) {
        if (!seen.has(managed)) {
          seen.add(managed);
          push(managed, managed.logicalId, resolver.resolve(managed.stack, managed.properties.PolicyDocument));
        }
      } else {
        external.push(arn);
      }
    }
    this.statementCount += statements.length;
    return { statements, external };
  }

  /** Subjects of other sites that an Allow statement reaches. */
  reached(s: PolicyStatement, from: string): { subject: AccessSubject; actions: string[]; resources: string[] }[] {
    const st = s.statement;
    if (String(st.Effect ?? '') !== 'Allow') return [];
    const actions = list(st.Action).map(asPattern);
    const notActions = list(st.NotAction).map(asPattern);
    const resources = list(st.Resource).map(asPattern);
    const notResources = list(st.NotResource).map(asPattern);
    const siteTag = conditionValues(st, `aws:resourcetag/${TAG_SITE}`);
    const accessPointCondition = conditionValues(st, 'elasticfilesystem:accesspointarn');
    const out: { subject: AccessSubject; actions: string[]; resources: string[] }[] = [];
    for (const [service, index] of this.subjectsByService) {
      const matchingActions =
        st.NotAction !== undefined
          ? notActions.some((a) => a === '*' || patternMatchesIgnoringCase(a, `${service}:*`))
            ? []
            : [`NotAction ${notActions.join(', ')}`]
          : actions.filter((a) => a === '*' || patternMatchesIgnoringCase(a.split(':')[0] ?? '', service));
      if (matchingActions.length === 0) continue;
      // Each subject with the resource patterns that reach it.
      const hits = new Map<AccessSubject, string[]>();
      if (st.NotResource !== undefined) {
        for (const subject of index.query('*')) {
          if (!notResources.some((r) => patternMatches(r, subject.arn))) {
            hits.set(subject, [`NotResource ${notResources.map(displayValue).join(', ')}`]);
          }
        }
      } else {
        for (const resource of resources) {
          for (const subject of index.query(resource)) hits.set(subject, [...(hits.get(subject) ?? []), resource]);
        }
      }
      for (const [subject, matchingResources] of hits) {
        if (subject.site === from || out.some((o) => o.subject === subject)) continue;
        if (siteTag && !siteTag.some((v) => patternMatches(v, subject.site))) continue;
        if (
          subject.throughAccessPoint &&
          accessPointCondition &&
          !accessPointCondition.some((v) => patternsIntersect(v, subject.throughAccessPoint as string))
        ) {
          continue;
        }
        out.push({ subject, actions: matchingActions, resources: matchingResources });
      }
    }
    return out;
  }

  /** Subjects a plain value (a task definition's secret reference) names. */
  named(value: string, services: readonly string[]): AccessSubject[] {
    return services.flatMap((service) => this.subjectsByService.get(service)?.query(asPattern(value)) ?? []);
  }
}

export interface IamAnalysis {
  readonly findings: Finding[];
  readonly statements: number;
}

export function findIamPaths(inventory: Inventory): IamAnalysis {
  const model = new IamModel(inventory);
  const findings: Finding[] = [];
  const others = (site: SiteInventory) => inventory.sites.filter((s) => s.id !== site.id);
  for (const site of inventory.sites) {
    for (const role of model.taskRolesOf(site)) {
      const { statements, external } = model.statementsOf(role);
      for (const arn of external) {
        for (const other of others(site)) {
          findings.push({
            kind: 'iam',
            from: site.id,
            to: other.id,
            summary: `${site.id}'s task role ${role.logicalId} has managed policy ${displayValue(arn)}, whose statements are not in the assembly (it may reach ${other.id})`,
            rules: [
              { stack: role.stack.name, logicalId: role.logicalId, rule: `ManagedPolicyArns: ${displayValue(arn)}` },
            ],
          });
        }
      }
      for (const statement of statements) {
        const byTarget = new Map<string, ReturnType<IamModel['reached']>>();
        for (const hit of model.reached(statement, site.id)) {
          byTarget.set(hit.subject.site, [...(byTarget.get(hit.subject.site) ?? []), hit]);
        }
        for (const [target, hits] of byTarget) {
          const actions = [...new Set(hits.flatMap((h) => h.actions))];
          const resources = [...new Set(hits.flatMap((h) => h.resources))].map(displayValue);
          const rule: RuleReference = {
            stack: statement.holder.stack.name,
            logicalId: statement.holder.logicalId,
            rule: `${statementLabel(statement)}: Allow ${actions.join(', ')} on ${resources.join(', ')}`,
          };
          findings.push({
            kind: 'iam',
            from: site.id,
            to: target,
            summary: `${site.id}'s task role ${role.logicalId} may use ${target}'s ${labels(hits.map((h) => h.subject.label))}`,
            rules: [rule],
          });
        }
      }
    }
    // Secrets handed to A's containers that belong to B.
    for (const taskDefinition of site.resources.filter((r) => r.type === 'AWS::ECS::TaskDefinition')) {
      const containers = list(
        inventory.resolver.resolve(taskDefinition.stack, taskDefinition.properties.ContainerDefinitions),
      );
      for (const container of containers) {
        const c = container as { Name?: Resolved; Secrets?: Resolved } | null;
        for (const secret of list(c?.Secrets ?? [])) {
          const s = secret as { Name?: Resolved; ValueFrom?: Resolved } | null;
          if (typeof s?.ValueFrom !== 'string') continue;
          // `arn:…:secret:name-AbCdEf:json-key:version-stage:version-id` names the secret before `:json-key`.
          const secretArn = s.ValueFrom.replace(/^(arn:[^:]*:secretsmanager:[^:]*:[^:]*:secret:[^:]+):.*$/, '$1');
          for (const subject of model.named(secretArn, ['secretsmanager', 'ssm'])) {
            if (subject.site === site.id) continue;
            findings.push({
              kind: 'iam',
              from: site.id,
              to: subject.site,
              summary: `${site.id}'s container ${String(c?.Name ?? '?')} is handed ${subject.site}'s ${subject.label} as ${String(s.Name ?? '?')}`,
              rules: [
                {
                  stack: taskDefinition.stack.name,
                  logicalId: taskDefinition.logicalId,
                  rule: `container ${String(c?.Name ?? '?')} secret ${String(s.Name ?? '?')} from ${displayValue(s.ValueFrom)}`,
                },
              ],
            });
          }
        }
      }
    }
  }
  return { findings: dedupe(findings), statements: model.statementCount };
}

function labels(all: readonly string[]): string {
  const unique = [...new Set(all)];
  return `${unique.slice(0, 3).join(', ')}${unique.length > 3 ? ` and ${unique.length - 3} more` : ''}`;
}

function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.from}\u0000${f.to}\u0000${f.summary}\u0000${f.rules.map((r) => r.rule).join('\u0000')}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
