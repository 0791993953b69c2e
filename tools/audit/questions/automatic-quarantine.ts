import { displayValue, parseToken } from '../intrinsics';
import type { Resolved } from '../intrinsics';
import type { Inventory, ResourceEntry } from '../inventory';
import type { SelfAssessmentAnswer } from '../types';
import { patternMatches } from '../wildcards';
import type { AuditQuestion } from './question';
import { list, record, text, answer, responseStackName, safeJson } from './support';

const QUESTION: AuditQuestion = {
  number: 7,
  text: 'Is a compromised site quarantined automatically?',
  answer: ({ inventory }) => automaticQuarantine(inventory),
};

interface EventRule {
  readonly entry: ResourceEntry;
  readonly pattern: Record<string, Resolved>;
  readonly lambdaTargets: string[];
}

function eventRules(inventory: Inventory, stackName: string): EventRule[] {
  const { resolver } = inventory;
  return inventory
    .ofType('AWS::Events::Rule')
    .filter((r) => r.stack.name === stackName && text(resolver.resolve(r.stack, r.properties.State)) !== 'DISABLED')
    .map((entry) => {
      const raw = resolver.resolve(entry.stack, entry.properties.EventPattern);
      const pattern = typeof raw === 'string' ? (safeJson(raw) as Record<string, Resolved>) : record(raw);
      const lambdaTargets = list(resolver.resolve(entry.stack, entry.properties.Targets))
        .map(record)
        .flatMap((t) => {
          const arn = text(t.Arn);
          // A function's ARN holds the token of the function (its name is known only at deploy time).
          const address = parseToken(arn) ?? parseToken(/⟦[^⟧]+⟧/.exec(arn)?.[0]);
          const target = address && inventory.entry(address.stack, address.logicalId);
          if (target?.type === 'AWS::Lambda::Function') return [target.logicalId];
          return /^arn:aws[a-z-]*:lambda:/.test(arn) ? [displayValue(arn)] : [];
        });
      return { entry, pattern, lambdaTargets };
    });
}

function patternHas(pattern: Record<string, Resolved>, key: string, value: string): boolean {
  return list(pattern[key]).some((v) => v === value);
}

/** Whether an EventBridge string filter (literals, `{prefix}`, `{wildcard}`) takes a value. */
function filterTakes(filter: Resolved, value: string): boolean {
  if (filter === undefined) return true;
  return list(filter).some((f) => {
    if (typeof f === 'string') return f === value;
    const rec = record(f);
    if (typeof rec.prefix === 'string') return value.startsWith(rec.prefix);
    if (typeof rec.suffix === 'string') return value.endsWith(rec.suffix);
    if (typeof rec.wildcard === 'string') return patternMatches(rec.wildcard, value);
    return false;
  });
}

function automaticQuarantine(inventory: Inventory): SelfAssessmentAnswer {
  const stackName = responseStackName(inventory);
  const rules = eventRules(inventory, stackName);
  // A rule that takes GuardDuty's findings about ECS tasks (resource type ECSCluster, any
  // finding type): a rule for attack sequences only (detail.type) does not count here.
  const takesTaskFindings = (r: EventRule) => {
    const detail = record(r.pattern.detail);
    return filterTakes(record(detail.resource).resourceType, 'ECSCluster') && detail.type === undefined;
  };
  const guardDuty = rules.filter(
    (r) =>
      patternHas(r.pattern, 'source', 'aws.guardduty') &&
      patternHas(r.pattern, 'detail-type', 'GuardDuty Finding') &&
      takesTaskFindings(r) &&
      r.lambdaTargets.length > 0,
  );
  const alarm = rules.filter(
    (r) =>
      patternHas(r.pattern, 'source', 'aws.cloudwatch') &&
      patternHas(r.pattern, 'detail-type', 'CloudWatch Alarm State Change') &&
      r.lambdaTargets.length > 0,
  );
  const evidence: string[] = [];
  const describeRule = (r: EventRule, what: string) =>
    `${stackName}/${r.entry.logicalId}: ${what} → Lambda ${r.lambdaTargets.join(', ')}`;
  if (!inventory.assembly.stacks.some((s) => s.name === stackName))
    evidence.push(`✗ No stack ${stackName} in the assembly.`);
  evidence.push(
    ...(guardDuty.length > 0
      ? guardDuty.map((r) => describeRule(r, 'aws.guardduty "GuardDuty Finding"'))
      : ['✗ No enabled EventBridge rule for aws.guardduty "GuardDuty Finding" about ECS tasks with a Lambda target.']),
  );
  evidence.push(
    ...(alarm.length > 0
      ? alarm.map((r) => describeRule(r, 'aws.cloudwatch "CloudWatch Alarm State Change"'))
      : ['✗ No enabled EventBridge rule for "CloudWatch Alarm State Change" with a Lambda target.']),
  );
  // Every site alarm must be one the alarm rule takes.
  const siteAlarms = inventory.sites.flatMap((site) =>
    site.resources
      .filter((r) => r.type === 'AWS::CloudWatch::Alarm')
      .map((r) => ({ site: site.id, name: inventory.resolver.resolveString(r.stack, r.properties.AlarmName) ?? '' })),
  );
  const taken = siteAlarms.filter((a) =>
    alarm.some((r) => {
      const detail = record(r.pattern.detail);
      const state = record(detail.state);
      return filterTakes(detail.alarmName, a.name) && filterTakes(state.value, 'ALARM');
    }),
  );
  const missed = siteAlarms.filter((a) => !taken.includes(a));
  const sitesWithoutAlarm = inventory.sites.filter((s) => !siteAlarms.some((a) => a.site === s.id));
  if (alarm.length > 0) {
    evidence.push(
      `${taken.length} of ${siteAlarms.length} site alarms match the alarm rule's filter (alarm name and ALARM state).`,
      ...missed.slice(0, 5).map((a) => `✗ ${a.site}: alarm ${a.name || '(no name)'} is not taken by the alarm rule`),
    );
  }
  if (sitesWithoutAlarm.length > 0) {
    evidence.push(
      `✗ Sites without an alarm: ${sitesWithoutAlarm
        .map((s) => s.id)
        .slice(0, 10)
        .join(', ')}`,
    );
  }
  const ok = guardDuty.length > 0 && alarm.length > 0 && missed.length === 0 && sitesWithoutAlarm.length === 0;
  return answer(QUESTION, ok, evidence);
}

export { QUESTION as automaticQuarantineQuestion };
