/**
 * Secrets by other routes. Question: is anything that holds another site's data handed to a
 * site's code by its templates, whatever IAM says?
 *
 * - `Secrets[].ValueFrom` of a container: "The secret to expose to the container. The supported
 *   values are either the full ARN of the Secrets Manager secret or the full ARN of the
 *   parameter in the SSM Parameter Store … If the SSM Parameter Store parameter exists in the
 *   same Region as the task you're launching, then you can use either the full ARN or name of
 *   the parameter" (ECS API, `Secret.valueFrom`), including the Parameter Store name that
 *   references a Secrets Manager secret, `/aws/reference/secretsmanager/<secret>` (Systems
 *   Manager, "Referencing AWS Secrets Manager secrets from Parameter Store parameters").
 * - CloudFormation dynamic references in any property of any of the site's resources:
 *   `{{resolve:secretsmanager:<secret-id>:…}}` ("The name or ARN of the secret") and
 *   `{{resolve:ssm:<name>}}` / `{{resolve:ssm-secure:<name>}}`. CloudFormation resolves them
 *   with the deployer's permissions and writes the value into the resource (a container's
 *   environment, a function's variables), where the site's code reads it.
 *
 * The execution role is what fetches `ValueFrom` at task start; the audit reports the wiring
 * whether or not the execution role, as templated, may fetch it: a permission granted outside
 * the templates would make it work, and the templates ask for it.
 */
import { displayValue, type Resolved } from './intrinsics';
import type { Inventory, ResourceEntry, SiteInventory } from './inventory';
import type { Subject } from './access/subjects';
import type { AccessEvaluator } from './iam-paths';
import type { Finding, RuleReference } from './types';
import { PatternIndex, SEGMENT } from './wildcards';

const DYNAMIC_REFERENCE = /\{\{resolve:(secretsmanager|ssm|ssm-secure):([^}]*)\}\}/g;
const REFERENCE_PREFIX = '/aws/reference/secretsmanager/';

interface Named {
  readonly subject: Subject;
  readonly how: string;
}

class SecretNames {
  private readonly secrets = new PatternIndex<Subject>();
  private readonly parameters = new PatternIndex<Subject>();

  constructor(evaluator: AccessEvaluator) {
    for (const s of evaluator.subjects.subjects) {
      if (s.service === 'secretsmanager') for (const arn of [s.arn, ...s.aliases]) this.secrets.add(arn, s);
      if (s.service === 'ssm' && !s.only) for (const arn of [s.arn, ...s.aliases]) this.parameters.add(arn, s);
    }
  }

  /** A secret by ARN (with or without a JSON key and version after it) or by name. */
  secret(id: string): Subject[] {
    const arn = /^(arn:[^:]*:secretsmanager:[^:]*:[^:]*:secret:[^:]+)/.exec(id)?.[1];
    if (arn) return this.secrets.query(arn.replaceAll('??????', '*'));
    const name = id.split(':')[0] ?? id;
    // By name: the ARN is the name and a 6-character suffix.
    return this.secrets
      .query(`arn:aws:secretsmanager:*:*:secret:${name}-${'?'.repeat(6)}`)
      .concat(this.secrets.query(`arn:aws:secretsmanager:*:*:secret:${name}`));
  }

  parameter(id: string): Subject[] {
    const arn = /^arn:[^:]*:ssm:[^:]*:[^:]*:parameter(\/.*)$/.exec(id);
    const name = arn ? (arn[1] as string) : id.startsWith('/') ? id : `/${id}`;
    if (name.startsWith(REFERENCE_PREFIX)) return this.secret(name.slice(REFERENCE_PREFIX.length));
    return this.parameters.query(`arn:aws:ssm:*:*:parameter${name}`);
  }

  /** What a `ValueFrom` names. */
  valueFrom(value: string): Named[] {
    if (/^arn:[^:]*:secretsmanager:/.test(value))
      return this.secret(value).map((subject) => ({ subject, how: 'ValueFrom' }));
    const how = value.includes(REFERENCE_PREFIX)
      ? 'ValueFrom (Parameter Store reference to Secrets Manager)'
      : 'ValueFrom';
    return this.parameter(value).map((subject) => ({ subject, how }));
  }

  /** What the dynamic references in a text name. */
  dynamic(text: string): Named[] {
    const out: Named[] = [];
    for (const match of text.matchAll(DYNAMIC_REFERENCE)) {
      const [whole, service, rest] = match as unknown as [string, string, string];
      const id = service === 'secretsmanager' ? rest.replace(/:SecretString(:.*)?$/, '') : rest.replace(/:\d+$/, '');
      const found = service === 'secretsmanager' ? this.secret(id) : this.parameter(id);
      out.push(...found.map((subject) => ({ subject, how: `dynamic reference ${whole}` })));
    }
    return out;
  }
}

function strings(value: Resolved, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) strings(v, out);
  return out;
}

/**
 * Each other site a reference reaches, with the most specific thing it names there: a secret of
 * the assembly rather than the contract's name prefix it also falls under.
 */
function byTarget(site: SiteInventory, all: readonly Named[]): [string, Named][] {
  const out = new Map<string, Named>();
  for (const named of all) {
    for (const target of named.subject.holds) {
      if (target === site.id) continue;
      const known = out.get(target);
      if (!known || (!known.subject.entry && named.subject.entry)) out.set(target, named);
    }
  }
  return [...out];
}

function secretsHanded(inventory: Inventory, names: SecretNames, site: SiteInventory, td: ResourceEntry): Finding[] {
  const findings: Finding[] = [];
  const containers = inventory.resolver.resolve(td.stack, td.properties.ContainerDefinitions);
  for (const container of Array.isArray(containers) ? containers : []) {
    const c = container as { Name?: Resolved; Secrets?: Resolved } | null;
    for (const secret of Array.isArray(c?.Secrets) ? c.Secrets : []) {
      const s = secret as { Name?: Resolved; ValueFrom?: Resolved } | null;
      if (typeof s?.ValueFrom !== 'string') continue;
      for (const [target, named] of byTarget(site, names.valueFrom(s.ValueFrom.replaceAll(SEGMENT, '*')))) {
        const rule: RuleReference = {
          stack: td.stack.name,
          logicalId: td.logicalId,
          rule: `container ${String(c?.Name ?? '?')} secret ${String(s.Name ?? '?')} from ${displayValue(s.ValueFrom)}`,
        };
        findings.push({
          kind: 'iam',
          from: site.id,
          to: target,
          summary: `${site.id}'s container ${String(c?.Name ?? '?')} is handed ${named.subject.platform ? `${named.subject.label}, which holds ${target}'s data,` : `${target}'s ${named.subject.label}`} as ${String(s.Name ?? '?')} (${named.how})`,
          rules: [rule],
        });
      }
    }
  }
  return findings;
}

function dynamicReferences(
  inventory: Inventory,
  names: SecretNames,
  site: SiteInventory,
  entry: ResourceEntry,
): Finding[] {
  const findings: Finding[] = [];
  const raw = JSON.stringify(entry.resource.Properties ?? {});
  if (!raw.includes('{{resolve:')) return findings;
  for (const text of strings(inventory.resolver.resolve(entry.stack, entry.properties))) {
    if (!text.includes('{{resolve:')) continue;
    for (const [target, named] of byTarget(site, names.dynamic(text))) {
      findings.push({
        kind: 'iam',
        from: site.id,
        to: target,
        summary: `${site.id}'s ${entry.type} ${entry.logicalId} is given ${named.subject.platform ? `${named.subject.label}, which holds ${target}'s data` : `${target}'s ${named.subject.label}`} by CloudFormation (${named.how})`,
        rules: [{ stack: entry.stack.name, logicalId: entry.logicalId, rule: displayValue(text) }],
      });
    }
  }
  return findings;
}

export function findSecretRoutes(inventory: Inventory, evaluator: AccessEvaluator): Finding[] {
  const names = new SecretNames(evaluator);
  const findings: Finding[] = [];
  for (const site of inventory.sites) {
    const definitions = new Set(site.resources.filter((r) => r.type === 'AWS::ECS::TaskDefinition'));
    for (const td of evaluator.taskDefinitionsRunBy(site)) definitions.add(td);
    for (const td of definitions) findings.push(...secretsHanded(inventory, names, site, td));
    for (const entry of site.resources) findings.push(...dynamicReferences(inventory, names, site, entry));
  }
  return findings;
}
