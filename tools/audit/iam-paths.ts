/**
 * IAM paths. Question: can any principal site A's code acts as use something that holds site
 * B's data or controls site B?
 *
 * The principals: the task role of every task definition A's service runs or A's stack
 * holds (wherever the role is defined), then every role those can become: one they may assume
 * (`sts:AssumeRole`, with the role's trust policy), pass to a service (`iam:PassRole`), or act
 * through as a function they may invoke or change (the function's role). Each is evaluated as
 * AWS evaluates it (tools/audit/policy): its identity policies, its permissions boundary, the
 * resource's own policy (secret, bucket, key, file system, trust policies), explicit Deny, and
 * conditions against the request context such a call carries (tools/audit/access/request-context.ts).
 * What it may do to a resource counts when the action is more than a listing (the Service
 * Authorization Reference's `List` level) and is authorized against that resource's type.
 *
 * What holds or controls B: tools/audit/access/subjects.ts. A policy the audit cannot read (an AWS
 * managed policy the shipped data lacks, a boundary or a task role outside the assembly) is
 * "needs review", not a path.
 */
import { displayValue, UNRESOLVED } from './intrinsics';
import type { Inventory, ResourceEntry, SiteInventory } from './inventory';
import { type HeldStatement, PrincipalModel, type RoleInfo } from './access/principals';
import { contextSpace } from './access/request-context';
import { ACTING_AS, type Subject, SubjectModel } from './access/subjects';
import { actionMatches, asList, principalMatch, type Statement } from './policy/evaluate';
import { findAllowedRequest } from './policy/search';
import { grantsMoreThanListing, serviceActions } from './policy/service-reference';
import { conditionsHold } from './policy/conditions';
import { conditionKeys } from './policy/conditions';
import type { Finding, Review, RuleReference } from './types';
import { PatternIndex, patternMatchesIgnoringCase } from './wildcards';

interface Hit {
  readonly subject: Subject;
  readonly statement: HeldStatement;
  readonly actions: string[];
  readonly resources: string[];
}

/** How a site's code comes to act as a role: the steps from its task role. */
interface Chain {
  readonly role: RoleInfo;
  readonly start: RoleInfo;
  /** Reached through a function: the site drives its code, not its logging. */
  readonly throughFunction?: boolean;
  readonly steps: readonly { readonly description: string; readonly rule: RuleReference }[];
}

function strings(value: unknown): string[] {
  return asList(value).filter((v): v is string => typeof v === 'string');
}

function pattern(value: string): string {
  return value.includes(UNRESOLVED) ? value.replaceAll(UNRESOLVED, '*') : value;
}

export function statementLabel(s: HeldStatement): string {
  const sid =
    typeof s.statement.Sid === 'string' && s.statement.Sid ? `Sid ${s.statement.Sid}` : `Statement[${s.index}]`;
  return `${sid} of ${s.policyName === 'trust policy' || s.policyName.endsWith(' policy') ? '' : 'policy '}${s.policyName}`;
}

function ruleOf(s: HeldStatement, text: string): RuleReference {
  return { stack: s.stack, logicalId: s.logicalId, rule: `${statementLabel(s)}: ${text}` };
}

export class AccessEvaluator {
  readonly principals: PrincipalModel;
  readonly subjects: SubjectModel;
  private readonly byService = new Map<string, PatternIndex<Subject>>();
  private readonly allOfService = new Map<string, Subject[]>();
  private readonly reachMemo = new Map<RoleInfo, Hit[]>();
  private readonly actionMemo = new WeakMap<Statement, Map<string, string[]>>();
  private readonly kindKeys = new WeakMap<Subject, string>();
  statements = 0;

  constructor(private readonly inventory: Inventory) {
    this.principals = new PrincipalModel(inventory);
    const trust = new Map(this.principals.roles.map((r) => [r.entry, r.trust]));
    this.subjects = new SubjectModel(inventory, (entry) => trust.get(entry) ?? []);
    for (const subject of this.subjects.subjects) {
      const index = this.byService.get(subject.service) ?? new PatternIndex<Subject>();
      for (const arn of new Set([subject.arn, ...subject.aliases])) index.add(arn, subject);
      this.byService.set(subject.service, index);
      this.allOfService.set(subject.service, [...(this.allOfService.get(subject.service) ?? []), subject]);
    }
  }

  /** The SAR actions a statement's Action/NotAction allows on a subject (lower case, `service:name`). */
  private actionsOn(statement: Statement, subject: Subject): string[] {
    let kind = this.kindKeys.get(subject);
    if (kind === undefined) {
      kind = `${subject.service}|${subject.resourceType}|${subject.only?.join() ?? ''}|${subject.except?.join() ?? ''}`;
      this.kindKeys.set(subject, kind);
    }
    let perStatement = this.actionMemo.get(statement);
    if (!perStatement) {
      perStatement = new Map();
      this.actionMemo.set(statement, perStatement);
    }
    const known = perStatement.get(kind);
    if (known) return known;
    const out = serviceActions(subject.service)
      .filter((a) => a.resourceTypes.includes(subject.resourceType) && grantsMoreThanListing(a))
      .map((a) => a.qualified.toLowerCase())
      .filter((a) => (!subject.only || subject.only.includes(a)) && !subject.except?.includes(a))
      .filter((a) => actionMatches(statement, a));
    perStatement.set(kind, out);
    return out;
  }

  /** Whether a statement's own conditions can hold for a request about the subject (cheap test first). */
  private couldHold(statement: Statement, role: RoleInfo, subject: Subject): boolean {
    const space = contextSpace(role, subject);
    for (const key of conditionKeys(statement.Condition).keys()) {
      if (!space.fixed.has(key) && !space.absent.has(key)) return true;
    }
    return conditionsHold(statement.Condition, space.fixed);
  }

  /** Whether the role may do `action` to the subject, all policies considered; the statements that allow it. */
  private grants: { subject: Subject; held: HeldStatement }[] | undefined;
  private iamSubjects: Map<ResourceEntry, Subject> | undefined;

  private iamSubject(entry: ResourceEntry): Subject | undefined {
    this.iamSubjects ??= new Map(
      this.subjects.subjects.filter((s) => s.service === 'iam' && s.entry).map((s) => [s.entry as ResourceEntry, s]),
    );
    return this.iamSubjects.get(entry);
  }

  /**
   * The Allow statements of resource policies that name an AWS principal and allow something
   * that counts on their resource: the only ones that can grant a role anything by themselves.
   */
  private resourceGrants(): { subject: Subject; held: HeldStatement }[] {
    this.grants ??= this.subjects.subjects.flatMap((subject) =>
      (subject.resourcePolicy?.statements ?? [])
        .filter((held) => held.statement.Effect === 'Allow' && names(held.statement))
        .filter((held) => this.actionsOn(held.statement, subject).length > 0)
        .map((held) => ({ subject, held })),
    );
    return this.grants;
  }

  /** Whether any policy in play could allow the action at all (a cheap test before the evaluation). */
  private couldAllow(role: RoleInfo, action: string, resourcePolicy: readonly HeldStatement[]): boolean {
    const principal = { account: role.account, roleArn: role.arn, sessionArn: role.sessionArn };
    return (
      role.identity.some((h) => h.statement.Effect === 'Allow' && actionMatches(h.statement, action)) ||
      resourcePolicy.some(
        (h) =>
          h.statement.Effect === 'Allow' &&
          actionMatches(h.statement, action) &&
          principalMatch(h.statement, principal) !== 'none',
      )
    );
  }

  allows(role: RoleInfo, action: string, subject: Subject): readonly Statement[] | undefined {
    const policy = subject.resourcePolicy;
    if (!this.couldAllow(role, action, policy?.statements ?? [])) return undefined;
    const applies = !policy || subject.service !== 'sts' || action.startsWith('sts:');
    const { evaluation } = findAllowedRequest(
      {
        principal: { account: role.account, roleArn: role.arn, sessionArn: role.sessionArn },
        action,
        resource: subject.arn,
        aliases: subject.aliases,
      },
      {
        identity: role.identity.map((h) => h.statement),
        ...(role.boundary ? { boundary: role.boundary.map((h) => h.statement) } : {}),
        ...(policy && applies
          ? { resource: { statements: policy.statements.map((h) => h.statement), mustAllow: policy.mustAllow } }
          : {}),
      },
      contextSpace(role, subject),
    );
    return evaluation.decision === 'Allowed' ? evaluation.allowedBy : undefined;
  }

  private candidates(statement: Statement, service: string): Subject[] {
    if (statement.Resource === undefined) return this.allOfService.get(service) ?? [];
    const index = this.byService.get(service);
    if (!index) return [];
    const found = new Set<Subject>();
    for (const r of strings(statement.Resource)) for (const s of index.query(pattern(r))) found.add(s);
    return [...found];
  }

  private servicesOf(statement: Statement): string[] {
    const services = [...this.byService.keys()];
    if (statement.Action !== undefined) {
      const patterns = strings(statement.Action);
      return services.filter((svc) =>
        patterns.some((p) => p === '*' || patternMatchesIgnoringCase(p.split(':')[0] ?? '', svc)),
      );
    }
    if (statement.NotAction !== undefined) {
      const patterns = strings(statement.NotAction);
      return services.filter((svc) => !patterns.some((p) => p === '*' || patternMatchesIgnoringCase(p, `${svc}:*`)));
    }
    return [];
  }

  /** Everything the role may use, with the statement that grants it. */
  reach(role: RoleInfo): Hit[] {
    const memo = this.reachMemo.get(role);
    if (memo) return memo;
    const hits: Hit[] = [];
    this.statements += role.identity.length;
    const record = (subject: Subject, statement: HeldStatement, actions: string[], resources: string[]) => {
      if (actions.length > 0) hits.push({ subject, statement, actions, resources });
    };
    for (const held of role.identity) {
      const s = held.statement;
      if (s.Effect !== 'Allow') continue;
      for (const service of this.servicesOf(s)) {
        for (const subject of this.candidates(s, service)) {
          const actions = this.actionsOn(s, subject);
          if (actions.length === 0 || !this.couldHold(s, role, subject)) continue;
          const allowed = actions.filter((a) => this.allows(role, a, subject)?.includes(s));
          const resources =
            s.Resource === undefined
              ? [`NotResource ${strings(s.NotResource).map(displayValue).join(', ')}`]
              : strings(s.Resource);
          record(subject, held, allowed, resources);
        }
      }
    }
    // Grants made by the resource's own policy to this role or its sessions.
    for (const { subject, held } of this.resourceGrants()) {
      const s = held.statement;
      const how = principalMatch(s, { account: role.account, roleArn: role.arn, sessionArn: role.sessionArn });
      if (how !== 'session' && how !== 'role') continue;
      const actions = this.actionsOn(s, subject).filter((a) => this.allows(role, a, subject)?.includes(s));
      record(subject, held, actions, [`${JSON.stringify(s.Principal)}`]);
    }
    this.reachMemo.set(role, hits);
    return hits;
  }

  /** The task definitions the site's services run (wherever they are defined). */
  taskDefinitionsRunBy(site: SiteInventory): ResourceEntry[] {
    const { resolver } = this.inventory;
    return site.resources
      .filter((r) => r.type === 'AWS::ECS::Service')
      .flatMap((service) => {
        const ref = resolver.resolveString(service.stack, service.properties.TaskDefinition);
        return this.inventory.ofType('AWS::ECS::TaskDefinition').filter((t) => t.token === ref);
      });
  }

  /** The task roles of the task definitions the site runs or holds; and task roles the assembly does not hold. */
  taskRolesOf(site: SiteInventory): { roles: RoleInfo[]; outside: { arn: string; rule: RuleReference }[] } {
    const { resolver } = this.inventory;
    const definitions = new Set([
      ...site.resources.filter((r) => r.type === 'AWS::ECS::TaskDefinition'),
      ...this.taskDefinitionsRunBy(site),
    ]);
    const roles = new Set<RoleInfo>();
    const outside: { arn: string; rule: RuleReference }[] = [];
    for (const td of definitions) {
      const arn = resolver.resolveString(td.stack, td.properties.TaskRoleArn);
      if (arn === undefined) continue;
      const role = this.principals.roleNamed(arn);
      if (role) roles.add(role);
      else
        outside.push({
          arn,
          rule: { stack: td.stack.name, logicalId: td.logicalId, rule: `TaskRoleArn: ${displayValue(arn)}` },
        });
    }
    return { roles: [...roles], outside };
  }

  /** Roles a role can become, one step: assumed, passed to a service, or the role of a function it may invoke or change. */
  private next(role: RoleInfo): { role: RoleInfo; description: string; rule: RuleReference; function: boolean }[] {
    const out: { role: RoleInfo; description: string; rule: RuleReference; function: boolean }[] = [];
    const first = (statements: readonly Statement[] | undefined, pool: readonly HeldStatement[]) =>
      pool.find((h) => statements?.includes(h.statement));
    for (const other of this.principals.roles) {
      if (other === role || other.owner) continue;
      const subject = this.iamSubject(other.entry);
      if (!subject) continue;
      const assumeSubject: Subject = {
        ...subject,
        service: 'sts',
        except: [],
        resourcePolicy: { statements: other.trust, mustAllow: true },
      };
      const assumed = this.allows(role, 'sts:assumerole', assumeSubject);
      const via = assumed && first(assumed, [...role.identity, ...other.trust]);
      if (via)
        out.push({
          role: other,
          description: `may assume role ${other.entry.logicalId}`,
          rule: ruleOf(via, `Allow sts:AssumeRole`),
          function: false,
        });
      const trustsService = other.trust.some((h) =>
        JSON.stringify(h.statement.Principal ?? '').includes('amazonaws.com'),
      );
      const passed = trustsService ? this.allows(role, 'iam:passrole', { ...subject, except: [] }) : undefined;
      const passVia = passed && first(passed, role.identity);
      if (passVia)
        out.push({
          role: other,
          description: `may pass role ${other.entry.logicalId} to a service`,
          rule: ruleOf(passVia, 'Allow iam:PassRole'),
          function: false,
        });
    }
    for (const fn of this.principals.functions) {
      if (!fn.role || fn.role === role || fn.owner) continue;
      const subject: Subject = {
        order: -1,
        service: 'lambda',
        resourceType: 'function',
        arn: fn.arn,
        aliases: [`${fn.arn}:*`, ...fn.aliases],
        tags: fn.entry.tags,
        holds: new Set(),
        platform: true,
        label: `function ${fn.entry.logicalId}`,
        entry: fn.entry,
        resourcePolicy: { statements: fn.policy, mustAllow: false },
      };
      for (const action of ['lambda:invokefunction', 'lambda:updatefunctioncode']) {
        const allowed = this.allows(role, action, subject);
        const via = allowed && first(allowed, [...role.identity, ...fn.policy]);
        if (!via) continue;
        const verb = action === 'lambda:invokefunction' ? 'may invoke' : 'may change the code of';
        out.push({
          role: fn.role,
          description: `${verb} function ${fn.entry.logicalId} (role ${fn.role.entry.logicalId})`,
          rule: ruleOf(
            via,
            `Allow ${action === 'lambda:invokefunction' ? 'lambda:InvokeFunction' : 'lambda:UpdateFunctionCode'}`,
          ),
          function: true,
        });
        break;
      }
    }
    return out;
  }

  /** Every role the site's code can act as, breadth first from its task roles. */
  chainsOf(starts: readonly RoleInfo[]): Chain[] {
    const chains = new Map<RoleInfo, Chain>();
    const queue: Chain[] = [];
    for (const start of starts) {
      const chain = { role: start, start, steps: [] };
      chains.set(start, chain);
      queue.push(chain);
    }
    while (queue.length > 0) {
      const chain = queue.shift() as Chain;
      for (const step of this.next(chain.role)) {
        if (chains.has(step.role)) continue;
        const next = {
          role: step.role,
          start: chain.start,
          throughFunction: chain.throughFunction === true || step.function,
          steps: [...chain.steps, { description: step.description, rule: step.rule }],
        };
        chains.set(step.role, next);
        queue.push(next);
      }
    }
    return [...chains.values()];
  }
}

/** Whether a statement's Principal (or NotPrincipal) names an AWS principal: a role could be one. */
function names(statement: Statement): boolean {
  const principal = statement.Principal ?? statement.NotPrincipal;
  if (principal === '*') return true;
  return !!principal && typeof principal === 'object' && 'AWS' in principal;
}

export interface IamAnalysis {
  readonly findings: Finding[];
  readonly reviews: Review[];
  readonly statements: number;
}

function labels(all: readonly string[]): string {
  const unique = [...new Set(all)];
  return `${unique.slice(0, 3).join(', ')}${unique.length > 3 ? ` and ${unique.length - 3} more` : ''}`;
}

function describeActions(statement: Statement, service: string): string[] {
  if (statement.Action === undefined) return [`NotAction ${strings(statement.NotAction).join(', ')}`];
  return strings(statement.Action).filter(
    (a) => a === '*' || patternMatchesIgnoringCase(a.split(':')[0] ?? '', service),
  );
}

/**
 * What the Lambda service does with a function's role for the function itself: "Lambda
 * automatically monitors Lambda functions on your behalf and sends logs to Amazon CloudWatch …
 * your function's execution role needs permission to upload logs" (Lambda Developer Guide,
 * "Working with Lambda function logs"). A caller that invokes the function chooses its input,
 * not where the service writes its logs.
 */
const FUNCTION_LOGGING = new Set(['logs:createloggroup', 'logs:createlogstream', 'logs:putlogevents']);

function findingsOf(site: SiteInventory, chain: Chain, all: readonly Hit[]): Finding[] {
  const groups = new Map<string, Hit[]>();
  const hits = chain.throughFunction ? all.filter((h) => h.actions.some((a) => !FUNCTION_LOGGING.has(a))) : all;
  for (const hit of hits) {
    for (const target of hit.subject.holds) {
      if (target === site.id) continue;
      const key = `${target}\u0000${hit.statement.stack}\u0000${hit.statement.logicalId}\u0000${hit.statement.policyName}\u0000${hit.statement.index}`;
      groups.set(key, [...(groups.get(key) ?? []), hit]);
    }
  }
  const findings: Finding[] = [];
  for (const [key, group] of groups) {
    const target = key.split('\u0000')[0] as string;
    group.sort((x, y) => Number(x.subject.platform) - Number(y.subject.platform) || x.subject.order - y.subject.order);
    const own = group.filter((h) => !h.subject.platform).map((h) => h.subject.label);
    const shared = group.filter((h) => h.subject.platform).map((h) => h.subject.label);
    const what = [
      own.length > 0 ? `${target}'s ${labels(own)}` : '',
      shared.length > 0 ? `${labels(shared)} (holding ${target}'s data or controlling ${target})` : '',
    ]
      .filter(Boolean)
      .join(' and ');
    const first = group[0] as Hit;
    const actions = [...new Set(group.flatMap((h) => describeActions(h.statement.statement, h.subject.service)))];
    const resources = [...new Set(group.flatMap((h) => h.resources))].map(displayValue);
    const who =
      chain.steps.length === 0
        ? `${site.id}'s task role ${chain.role.entry.logicalId}`
        : `${site.id}'s task role ${chain.start.entry.logicalId}, which ${chain.steps.map((s) => s.description).join(', then ')},`;
    findings.push({
      kind: 'iam',
      from: site.id,
      to: target,
      summary: `${who} may use ${what}`,
      rules: [
        ...chain.steps.map((s) => s.rule),
        ruleOf(first.statement, `Allow ${actions.join(', ')} on ${resources.join(', ')}`),
      ],
    });
  }
  return findings;
}

export function findIamPaths(
  inventory: Inventory,
  evaluator: AccessEvaluator = new AccessEvaluator(inventory),
): IamAnalysis {
  const findings: Finding[] = [];
  const reviews: Review[] = [];
  for (const site of inventory.sites) {
    const { roles, outside } = evaluator.taskRolesOf(site);
    for (const o of outside) {
      reviews.push({
        site: site.id,
        summary: `${site.id}'s task role ${displayValue(o.arn)} is not in the assembly: its policies cannot be read`,
        rules: [o.rule],
      });
    }
    for (const chain of evaluator.chainsOf(roles)) {
      for (const what of chain.role.unreadable) {
        reviews.push({
          site: site.id,
          summary: `${site.id}'s ${chain.steps.length === 0 ? 'task role' : 'reachable role'} ${chain.role.entry.logicalId} has ${what}, which the audit cannot read`,
          rules: [{ stack: chain.role.entry.stack.name, logicalId: chain.role.entry.logicalId, rule: what }],
        });
      }
      findings.push(...findingsOf(site, chain, evaluator.reach(chain.role)));
    }
  }
  return { findings, reviews, statements: evaluator.statements };
}

export { ACTING_AS };
