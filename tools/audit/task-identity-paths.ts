/**
 * The identity a site's tasks really run with. Question: does a site's task run as, or with,
 * something of another site's?
 *
 * - A task definition the site runs or holds whose `TaskRoleArn` ("the IAM role that grants
 *   containers in the task permission to call AWS APIs on your behalf") or `ExecutionRoleArn`
 *   ("the role that grants the Amazon ECS container agent permission" to pull images, fetch
 *   secrets and write logs) is another site's role: its tasks act as that site.
 * - A service whose `TaskDefinition` is another site's: it runs that site's image with that
 *   site's role, secrets and uploads, in this site's network place and behind its target group.
 * - A role used by the task definitions of two sites (wherever it is defined): both run as the
 *   same identity, so anything granted to one is granted to the other.
 */
import { displayValue } from './intrinsics';
import type { Inventory, ResourceEntry } from './inventory';
import type { AccessEvaluator } from './iam-paths';
import type { RoleInfo } from './access/principals';
import type { Finding, RuleReference } from './types';

interface Use {
  readonly site: string;
  readonly td: ResourceEntry;
  readonly property: 'TaskRoleArn' | 'ExecutionRoleArn';
  readonly role: RoleInfo;
  readonly arn: string;
}

function ruleOf(use: Use): RuleReference {
  return { stack: use.td.stack.name, logicalId: use.td.logicalId, rule: `${use.property}: ${displayValue(use.arn)}` };
}

export function findTaskIdentityPaths(inventory: Inventory, evaluator: AccessEvaluator): Finding[] {
  const { resolver } = inventory;
  const findings: Finding[] = [];
  const uses: Use[] = [];
  for (const site of inventory.sites) {
    const runs = evaluator.taskDefinitionsRunBy(site);
    for (const td of runs) {
      const owner = inventory.siteOf(td.token);
      if (owner === undefined || owner === site.id) continue;
      const service = site.resources.find(
        (r) =>
          r.type === 'AWS::ECS::Service' && resolver.resolveString(r.stack, r.properties.TaskDefinition) === td.token,
      );
      findings.push({
        kind: 'iam',
        from: site.id,
        to: owner,
        summary: `${site.id}'s service runs ${owner}'s task definition ${td.logicalId}: its tasks run ${owner}'s image with ${owner}'s role, secrets and uploads`,
        rules: [
          ...(service
            ? [
                {
                  stack: service.stack.name,
                  logicalId: service.logicalId,
                  rule: `TaskDefinition: ${displayValue(td.token)}`,
                },
              ]
            : []),
        ],
      });
    }
    const definitions = new Set([...site.resources.filter((r) => r.type === 'AWS::ECS::TaskDefinition'), ...runs]);
    for (const td of definitions) {
      for (const property of ['TaskRoleArn', 'ExecutionRoleArn'] as const) {
        const arn = resolver.resolveString(td.stack, td.properties[property]);
        const role = evaluator.principals.roleNamed(arn);
        if (!role || arn === undefined) continue;
        uses.push({ site: site.id, td, property, role, arn });
      }
    }
  }
  for (const use of uses) {
    const owner = use.role.owner;
    if (owner === undefined || owner === use.site) continue;
    findings.push({
      kind: 'iam',
      from: use.site,
      to: owner,
      summary: `${use.site}'s task definition ${use.td.logicalId} runs with ${owner}'s ${use.property === 'TaskRoleArn' ? 'task role' : 'execution role'} ${use.role.entry.logicalId}`,
      rules: [ruleOf(use)],
    });
  }
  // The same role under two sites' tasks (one defined by neither, or by the platform).
  const byRole = new Map<RoleInfo, Use[]>();
  for (const use of uses) byRole.set(use.role, [...(byRole.get(use.role) ?? []), use]);
  for (const [role, list] of byRole) {
    if (role.owner !== undefined) continue;
    for (const a of list) {
      for (const b of list) {
        if (a.site === b.site) continue;
        findings.push({
          kind: 'iam',
          from: a.site,
          to: b.site,
          summary: `${a.site} and ${b.site} run as the same role ${role.entry.logicalId} (${role.entry.stack.name}): what is granted to one is granted to the other`,
          rules: [ruleOf(a), ruleOf(b)],
        });
      }
    }
  }
  return dedupe(findings);
}

export function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.kind}\u0000${f.from}\u0000${f.to}\u0000${f.summary}\u0000${f.rules.map((r) => r.rule).join('\u0000')}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
