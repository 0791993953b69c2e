import { Component, TAG_COMPONENT } from '../../../contracts/tag-names';
import type { Resolved } from '../intrinsics';
import type { Inventory } from '../inventory';
import type { SelfAssessmentAnswer } from '../types';
import type { AuditQuestion } from './question';
import { record, text, answer, responseStackName, safeJson, incidentTable } from './support';

const QUESTION: AuditQuestion = {
  number: 9,
  text: 'Are there an incident runbook and an audit trail?',
  answer: ({ inventory }) => runbookAndTrail(inventory),
};

function runbookAndTrail(inventory: Inventory): SelfAssessmentAnswer {
  const { resolver } = inventory;
  const stackName = responseStackName(inventory);
  const inResponse = (type: string) => inventory.ofType(type).filter((r) => r.stack.name === stackName);
  const machines = inResponse('AWS::StepFunctions::StateMachine');
  const lockedBuckets = inResponse('AWS::S3::Bucket').filter(
    (b) => resolver.resolve(b.stack, b.properties.ObjectLockEnabled) === true,
  );
  const table = incidentTable(inventory, stackName);
  const trails = inventory.ofType('AWS::CloudTrail::Trail');
  const evidence: string[] = [];
  evidence.push(
    ...(machines.length > 0
      ? machines.map((m) => {
          const definition = resolver.resolveString(m.stack, m.properties.DefinitionString) ?? '';
          const states = Object.keys(record(record(safeJson(definition) as Resolved).States));
          return `${stackName}/${m.logicalId}: incident state machine${states.length > 0 ? ` (${states.length} top-level states: ${states.slice(0, 6).join(', ')}${states.length > 6 ? ', …' : ''})` : ''}`;
        })
      : [`✗ No Step Functions state machine in ${stackName}.`]),
  );
  evidence.push(
    ...(lockedBuckets.length > 0
      ? lockedBuckets.map((b) => {
          const config = record(resolver.resolve(b.stack, b.properties.ObjectLockConfiguration));
          const retention = record(record(config.Rule).DefaultRetention);
          const keep = retention.Mode
            ? ` (default retention ${text(retention.Mode)} ${text(retention.Days ?? retention.Years)} ${retention.Days ? 'days' : 'years'})`
            : '';
          return `${stackName}/${b.logicalId}: evidence bucket with S3 Object Lock${keep}`;
        })
      : [`✗ No S3 bucket with Object Lock in ${stackName}.`]),
  );
  evidence.push(
    table
      ? `${table.stack.name}/${table.logicalId}: incident table (DynamoDB${record(resolver.resolve(table.stack, table.properties.PointInTimeRecoverySpecification)).PointInTimeRecoveryEnabled === true ? ', point-in-time recovery' : ''}${resolver.resolve(table.stack, table.properties.DeletionProtectionEnabled) === true ? ', deletion protection' : ''})`
      : `✗ No DynamoDB table tagged ${TAG_COMPONENT}=${Component.incidents}.`,
  );
  evidence.push(
    trails.length > 0
      ? `Ops audit trail: ${trails.map((t) => `${t.stack.name}/${t.logicalId}`).join(', ')} (CloudTrail).`
      : 'Ops audit trail: no CloudTrail trail in the assembly (an account or organization trail may exist outside it; not required here).',
  );
  return answer(QUESTION, machines.length > 0 && lockedBuckets.length > 0 && table !== undefined, evidence);
}

export { QUESTION as runbookAndTrailQuestion };
