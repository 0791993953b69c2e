import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { SiteRecord } from '../../lib/shared/site-record';
import type { IncidentRecord, TriggerRecord } from '../shared/incident-store';

export interface NotifyDeps {
  readonly sns: SNSClient;
  readonly opsTopicArn: string;
}

const NEXT_STEPS: Record<string, string> = {
  CONTAINED:
    'The site is isolated and shows a maintenance page. Its tasks are kept running for the forensic hold, then stopped. An operator will release it (false alarm) or restore it from its last known-good image.',
  SHED: 'The site shows a maintenance page; its tasks keep running. An operator will review the incident.',
  NOTIFIED: 'Nothing was changed on the site (its policy is notify). An operator will review the incident.',
  FAILED:
    'Containment did not complete. An operator is acting on it now; the steps that did and did not happen are listed above.',
};

function describeTrigger(t: TriggerRecord): string {
  return t.kind === 'guardduty'
    ? `GuardDuty ${t.findingType} (severity ${t.severity}, seen ${t.count} time(s)), finding ${t.findingId}`
    : t.kind === 'alarm'
      ? `alarm ${t.alarmName}${t.reason ? `: ${t.reason}` : ''}`
      : `operator request${t.reason ? `: ${t.reason}` : ''}`;
}

/** The incident notice, in plain words: which site, what triggered, what was done, when, what next. */
export function incidentNotice(
  incident: IncidentRecord,
  triggers: readonly TriggerRecord[],
  site: SiteRecord,
): { subject: string; message: string } {
  const drill = incident.drill ? '[DRILL] ' : '';
  const subject =
    `${drill}Bulkhead ${incident.environment}: ${incident.site} ${incident.status.toLowerCase()} (incident ${incident.incidentId})`.slice(
      0,
      99,
    );
  const done = incident.steps.map((s) => `  - ${s.step}: ${s.outcome}${s.detail ? ` (${s.detail})` : ''} at ${s.at}`);
  const lines = [
    `${drill}Site: ${incident.site} (environment ${incident.environment}, cell ${site.cell})`,
    `Incident: ${incident.incidentId}`,
    `Status: ${incident.status}${incident.failureReason ? ` — ${incident.failureReason}` : ''}`,
    `Detected: ${incident.detectedAt}`,
    `Received: ${incident.receivedAt}`,
    ...(incident.isolatedAt ? [`Isolated: ${incident.isolatedAt}`] : []),
    '',
    'What triggered it:',
    ...triggers.map((t) => `  - ${describeTrigger(t)}`),
    '',
    'What was done:',
    ...(done.length ? done : ['  - nothing changed on the site']),
    '',
    `What happens next: ${NEXT_STEPS[incident.status] ?? 'An operator will review the incident.'}`,
    ...(incident.drill ? ['', 'This is a drill: containment is being exercised on purpose and will be released.'] : []),
  ];
  return { subject, message: lines.join('\n') };
}

export async function notifyIncident(
  deps: NotifyDeps,
  incident: IncidentRecord,
  triggers: readonly TriggerRecord[],
  site: SiteRecord,
): Promise<string[]> {
  const { subject, message } = incidentNotice(incident, triggers, site);
  const attributes = {
    site: { DataType: 'String', StringValue: incident.site },
    status: { DataType: 'String', StringValue: incident.status },
    drill: { DataType: 'String', StringValue: String(incident.drill) },
  };
  // The client hears on the site's own topic (its contact subscribed; lib/site/site-compartment.ts).
  const topics = [deps.opsTopicArn, ...(site.noticeTopicArn ? [site.noticeTopicArn] : [])];
  const results = await Promise.all(
    topics.map((topicArn) =>
      deps.sns.send(
        new PublishCommand({ TopicArn: topicArn, Subject: subject, Message: message, MessageAttributes: attributes }),
      ),
    ),
  );
  return results.map((r) => r.MessageId ?? '');
}
