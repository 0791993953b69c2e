import { Component, TAG_COMPONENT } from '../../../contracts/tag-names';
import type { Inventory, ResourceEntry } from '../inventory';
import type { SelfAssessmentAnswer } from '../types';
import type { AuditQuestion } from './question';
import { type SiteCheck, siteEvidence, list, record, text, answer, responseStackName, incidentTable } from './support';

const QUESTION: AuditQuestion = {
  number: 10,
  text: 'Are time to recover and blast radius tracked?',
  answer: ({ inventory }) => recoveryTracked(inventory),
};

function recoveryTracked(inventory: Inventory): SelfAssessmentAnswer {
  const { resolver } = inventory;
  const stackName = responseStackName(inventory);
  const table = incidentTable(inventory, stackName);
  const evidence: string[] = [];
  let writers: ResourceEntry[] = [];
  if (table) {
    const ref = resolver.resolveString(table.stack, { Ref: table.logicalId });
    writers = inventory.ofType('AWS::Lambda::Function').filter((f) => {
      const variables = record(record(resolver.resolve(f.stack, f.properties.Environment)).Variables);
      return Object.values(variables).some((v) => v === ref);
    });
    const indexes = list(resolver.resolve(table.stack, table.properties.GlobalSecondaryIndexes)).map((i) =>
      text(record(i).IndexName),
    );
    evidence.push(
      `${table.stack.name}/${table.logicalId}: incident table${indexes.length > 0 ? ` with index ${indexes.join(', ')} (incidents per site: sites affected)` : ''}, written by ${writers.length > 0 ? writers.map((w) => w.logicalId).join(', ') : 'no function'} (the timeline: detected, isolated, evidence kept, restored, from which MTTD, time to isolate and MTTR are computed)`,
    );
  } else {
    evidence.push(`✗ No incident table (DynamoDB, tagged ${TAG_COMPONENT}=${Component.incidents}).`);
  }
  if (table && writers.length === 0)
    evidence.push('✗ No Lambda function is given the incident table (environment variable).');
  const checks = inventory.sites.map((site): SiteCheck => {
    const alarms = site.resources
      .filter((r) => r.type === 'AWS::CloudWatch::Alarm')
      .map((r) => resolver.resolveString(r.stack, r.properties.AlarmName) ?? r.logicalId);
    return alarms.length > 0
      ? {
          ok: true,
          line: `${site.id}: ${alarms.length} alarm${alarms.length === 1 ? '' : 's'} of its own (${alarms.join(', ')})`,
        }
      : { ok: false, line: `${site.id}: no alarm of its own` };
  });
  evidence.push(...siteEvidence(checks));
  const planeAlarms = inventory.ofType('AWS::CloudWatch::Alarm').filter((a) => a.stack.name === stackName);
  if (planeAlarms.length > 0) {
    evidence.push(
      `Response plane alarms: ${planeAlarms.map((a) => resolver.resolveString(a.stack, a.properties.AlarmName) ?? a.logicalId).join(', ')}`,
    );
  }
  const ok = table !== undefined && writers.length > 0 && inventory.sites.length > 0 && checks.every((c) => c.ok);
  return answer(QUESTION, ok, evidence);
}

export { QUESTION as recoveryTrackedQuestion };
