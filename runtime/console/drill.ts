import { DRILL_DETAIL_TYPE, DRILL_SOURCE } from '../../contracts/console-api';

/**
 * A drill: a synthetic GuardDuty ECS Runtime Monitoring finding about one of the site's
 * running tasks, sent to EventBridge with source `bulkhead.drill` and detail-type
 * `Bulkhead Drill Finding`. The response stack's drill rule delivers it to the containment
 * function, which parses it exactly like a real finding (runtime/contain/events.ts) and marks
 * the incident as a drill. Only the envelope differs from a real finding.
 */

export interface DrillEvent {
  readonly source: typeof DRILL_SOURCE;
  readonly detailType: typeof DRILL_DETAIL_TYPE;
  readonly detail: Record<string, unknown>;
  readonly resources: readonly string[];
  readonly time: Date;
}

export interface DrillFindingInput {
  readonly findingId: string;
  readonly account: string;
  readonly region: string;
  readonly site: string;
  readonly clusterArn: string;
  readonly taskArn: string;
  readonly serviceName: string;
  readonly severity: number;
  readonly at: Date;
  readonly requestedBy: string;
}

/** The `detail` of a drill finding: the documented GuardDuty finding shape (camelCase, as EventBridge delivers it). */
export function drillFinding(input: DrillFindingInput): Record<string, unknown> {
  const iso = input.at.toISOString();
  const partition = /^arn:(aws[a-z-]*):/.exec(input.clusterArn)?.[1] ?? 'aws';
  return {
    schemaVersion: '2.0',
    accountId: input.account,
    region: input.region,
    partition,
    id: input.findingId,
    arn: `arn:${partition}:guardduty:${input.region}:${input.account}:detector/bulkhead-drill/finding/${input.findingId}`,
    type: 'Bulkhead:Runtime/Drill',
    title: `Bulkhead drill on ${input.site}`,
    description: `A synthetic finding sent by siteops drill (${input.requestedBy}) to exercise containment. Not a real threat.`,
    severity: input.severity,
    createdAt: iso,
    updatedAt: iso,
    resource: {
      resourceType: 'ECSCluster',
      ecsClusterDetails: {
        name: input.clusterArn.split('/').pop(),
        arn: input.clusterArn,
        taskDetails: { arn: input.taskArn, group: `service:${input.serviceName}` },
      },
    },
    service: {
      serviceName: 'guardduty',
      detectorId: 'bulkhead-drill',
      featureName: 'RuntimeMonitoring',
      archived: false,
      count: 1,
      eventFirstSeen: iso,
      eventLastSeen: iso,
      additionalInfo: { type: 'default', value: JSON.stringify({ drill: true }) },
    },
  };
}

export function drillEvent(input: DrillFindingInput): DrillEvent {
  return {
    source: DRILL_SOURCE,
    detailType: DRILL_DETAIL_TYPE,
    detail: drillFinding(input),
    resources: [input.taskArn],
    time: input.at,
  };
}

/**
 * The event as EventBridge delivers it to a rule's target (what `PutEvents` turns an entry
 * into). Tests, which have no EventBridge, hand this to the containment handler, as the rule does.
 */
export function deliveredEvent(event: DrillEvent, envelope: { id: string; account: string; region: string }) {
  return {
    version: '0',
    id: envelope.id,
    'detail-type': event.detailType,
    source: event.source,
    account: envelope.account,
    time: event.time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: envelope.region,
    resources: [...event.resources],
    detail: event.detail,
  };
}
