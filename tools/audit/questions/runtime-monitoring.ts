/**
 * Self-assessment question 11: "Is every site watched by runtime monitoring?", answered from
 * the templates. GuardDuty Runtime Monitoring sees a Fargate task only when GuardDuty's agent
 * sidecar can be pulled by the task execution role and the agent can reach a `guardduty-data`
 * VPC endpoint (https://docs.aws.amazon.com/guardduty/latest/ug/prereq-runtime-monitoring-ecs-support.html,
 * https://docs.aws.amazon.com/guardduty/latest/ug/runtime-monitoring-agent-connectivity.html), and a
 * cluster tagged `GuardDutyManaged=false` is excluded. Whether GuardDuty itself is enabled
 * with agent management is an account setting, outside the templates: `siteops doctor`
 * checks it, and the coverage of each site, against the account.
 */
import { GUARDDUTY_AGENT_REPOSITORY, GUARDDUTY_MANAGED_TAG } from '../../../contracts/guardduty';
import { Component, TAG_COMPONENT } from '../../../contracts/tag-names';
import { displayValue, parseToken, type Resolved } from '../intrinsics';
import type { Inventory, ResourceEntry, SiteInventory } from '../inventory';
import type { SelfAssessmentAnswer } from '../types';
import type { AuditQuestion } from './question';

export const RUNTIME_MONITORING_QUESTION = 'Is every site watched by runtime monitoring?';
export const RUNTIME_MONITORING_NUMBER = 11;

function list(value: Resolved): Resolved[] {
  return Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
}

function record(value: Resolved): Record<string, Resolved> {
  return value && typeof value === 'object' && !Array.isArray(value) ? value : {};
}

/** Groups (as resolved tokens) that hold a `guardduty-data` interface endpoint. */
function guardDutyEndpointGroups(inventory: Inventory): { groups: Set<string>; endpoints: ResourceEntry[] } {
  const endpoints = inventory
    .ofType('AWS::EC2::VPCEndpoint')
    .filter((e) =>
      String(inventory.resolver.resolveString(e.stack, e.properties.ServiceName) ?? '').endsWith('.guardduty-data'),
    );
  const groups = new Set<string>();
  for (const e of endpoints) {
    for (const g of list(inventory.resolver.resolve(e.stack, e.properties.SecurityGroupIds))) {
      if (typeof g === 'string') groups.add(baseToken(g));
    }
  }
  return { groups, endpoints };
}

/** `⟦stack#id.GroupId⟧` and `⟦stack#id⟧` name the same group. */
function baseToken(value: string): string {
  const address = parseToken(value);
  return address ? `⟦${address.stack}#${address.logicalId}⟧` : value;
}

function ofSite(site: SiteInventory, type: string): ResourceEntry[] {
  return site.resources.filter((r) => r.type === type && r.stack.name === site.stack);
}

function pullsAgent(inventory: Inventory, site: SiteInventory): boolean {
  const roles = ofSite(site, 'AWS::IAM::Role').filter((r) => r.tags[TAG_COMPONENT] === Component.executionRole);
  const roleTokens = new Set(roles.map((r) => baseToken(r.token)));
  return ofSite(site, 'AWS::IAM::Policy').some((policy) => {
    const attached = list(inventory.resolver.resolve(policy.stack, policy.properties.Roles)).some(
      (r) => typeof r === 'string' && [...roleTokens].some((t) => baseToken(r) === t || r.includes(t.slice(1, -1))),
    );
    if (!attached) return false;
    const document = record(inventory.resolver.resolve(policy.stack, policy.properties.PolicyDocument));
    return list(document.Statement)
      .map(record)
      .some(
        (s) =>
          s.Effect === 'Allow' &&
          list(s.Action).includes('ecr:BatchGetImage') &&
          list(s.Resource).some((r) => displayValue(r).includes(`:repository/${GUARDDUTY_AGENT_REPOSITORY}`)),
      );
  });
}

/** Egress rules of a group: inline, or `AWS::EC2::SecurityGroupEgress` resources naming it. */
function egressOf(inventory: Inventory, site: SiteInventory, group: ResourceEntry): Record<string, Resolved>[] {
  const inline = list(inventory.resolver.resolve(group.stack, group.properties.SecurityGroupEgress)).map(record);
  const separate = ofSite(site, 'AWS::EC2::SecurityGroupEgress')
    .map((r) => record(inventory.resolver.resolve(r.stack, r.properties)))
    .filter((r) => typeof r.GroupId === 'string' && baseToken(r.GroupId) === baseToken(group.token));
  return [...inline, ...separate];
}

function reachesEndpoint(inventory: Inventory, site: SiteInventory, endpointGroups: Set<string>): boolean {
  const groups = ofSite(site, 'AWS::EC2::SecurityGroup').filter(
    (g) => g.tags[TAG_COMPONENT] === Component.siteSecurityGroup,
  );
  return (
    groups.length > 0 &&
    groups.every((g) =>
      egressOf(inventory, site, g).some((rule) => {
        const peer = rule.DestinationSecurityGroupId;
        const port = Number(rule.FromPort) <= 443 && Number(rule.ToPort) >= 443;
        return typeof peer === 'string' && port && endpointGroups.has(baseToken(peer));
      }),
    )
  );
}

function clusterExcluded(inventory: Inventory, site: SiteInventory): string | undefined {
  for (const service of ofSite(site, 'AWS::ECS::Service')) {
    const cluster = inventory.resolver.resolve(service.stack, service.properties.Cluster);
    const address = parseToken(typeof cluster === 'string' ? cluster : undefined);
    // A named cluster's Ref is its name ("Ref returns the resource name"), so look it up by name too.
    const entry =
      (address && inventory.entry(address.stack, address.logicalId)) ??
      inventory
        .ofType('AWS::ECS::Cluster')
        .find((c) => cluster !== undefined && inventory.resolver.resolve(c.stack, { Ref: c.logicalId }) === cluster);
    const tag = entry?.tags[GUARDDUTY_MANAGED_TAG];
    if (tag !== undefined && tag.toLowerCase() === 'false') return `${entry?.stack.name}/${entry?.logicalId}`;
  }
  return undefined;
}

function coverageRule(inventory: Inventory): ResourceEntry | undefined {
  return inventory.ofType('AWS::Events::Rule').find((r) => {
    const pattern = record(inventory.resolver.resolve(r.stack, r.properties.EventPattern));
    return list(pattern['detail-type']).includes('GuardDuty Runtime Protection Unhealthy');
  });
}

export function answerRuntimeMonitoring(inventory: Inventory): SelfAssessmentAnswer {
  const { groups, endpoints } = guardDutyEndpointGroups(inventory);
  const rule = coverageRule(inventory);
  const evidence: string[] = [
    endpoints.length > 0
      ? `GuardDuty data endpoint: ${endpoints.map((e) => `${e.stack.name}/${e.logicalId}`).join(', ')} (group ${[...groups].map((g) => displayValue(g)).join(', ')})`
      : '✗ No guardduty-data VPC endpoint in the assembly: the agents could not deliver runtime events.',
    rule
      ? `Coverage changes: ${rule.stack.name}/${rule.logicalId} takes "GuardDuty Runtime Protection Unhealthy" to the operators.`
      : '✗ No EventBridge rule for GuardDuty coverage changes: an unwatched site would go unnoticed.',
  ];
  const failing: string[] = [];
  const passing: string[] = [];
  for (const site of inventory.sites) {
    const problems = [
      ...(pullsAgent(inventory, site) ? [] : ['its execution role may not pull GuardDuty’s agent']),
      ...(reachesEndpoint(inventory, site, groups)
        ? []
        : ['its group has no HTTPS egress to the GuardDuty data endpoint']),
      ...(clusterExcluded(inventory, site)
        ? [`its cluster ${clusterExcluded(inventory, site)} is tagged GuardDutyManaged=false`]
        : []),
    ];
    if (problems.length > 0) failing.push(`✗ ${site.id}: ${problems.join('; ')}`);
    else
      passing.push(
        `${site.id}: pulls ${GUARDDUTY_AGENT_REPOSITORY}, reaches the GuardDuty data endpoint (HTTPS, kept in quarantine)`,
      );
  }
  evidence.push(...failing, ...passing.slice(0, Math.max(0, 6 - failing.length)));
  if (passing.length > 6 - failing.length && passing.length > 0)
    evidence.push(`… and ${passing.length - Math.max(0, 6 - failing.length)} more sites like these`);
  evidence.push(
    'GuardDuty Runtime Monitoring with agent management, and coverage per site: `siteops doctor` (the account).',
  );
  const yes = inventory.sites.length > 0 && endpoints.length > 0 && rule !== undefined && failing.length === 0;
  return {
    number: RUNTIME_MONITORING_NUMBER,
    question: RUNTIME_MONITORING_QUESTION,
    answer: yes ? 'yes' : 'no',
    evidence,
  };
}

export const runtimeMonitoringQuestion: AuditQuestion = {
  number: RUNTIME_MONITORING_NUMBER,
  text: RUNTIME_MONITORING_QUESTION,
  answer: ({ inventory }) => answerRuntimeMonitoring(inventory),
};
