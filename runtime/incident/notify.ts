import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { printable } from '../../contracts/display';
import type { SiteRecord } from '../../contracts/site-record';
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

/** How much of one observed value (a command line, a path) a notice shows; the evidence keeps it whole. */
export const NOTICE_VALUE_MAX = 300;

function describeTrigger(t: TriggerRecord): string[] {
  const head =
    t.kind === 'guardduty'
      ? `GuardDuty ${printable(t.findingType, 256)} (severity ${t.severity}, seen ${t.count} time(s)), finding ${printable(t.findingId, 256)}`
      : t.kind === 'alarm'
        ? `alarm ${printable(t.alarmName, 255)}${t.reason ? `: ${printable(t.reason, 500)}` : ''}`
        : `operator request${t.reason ? `: ${printable(t.reason, 500)}` : ''}`;
  const observed = (t.observed ?? []).map(
    (o) =>
      `      ${printable(o.what, 40)}: ${printable(o.value, NOTICE_VALUE_MAX)}${o.length !== undefined ? ` (${o.length} characters in the finding)` : ''}`,
  );
  return [`  - ${head}`, ...observed];
}

/**
 * The incident notice, in plain words: which site, what triggered, what was done, when, what next.
 * Every value that Bulkhead did not write (finding values an attacker chose, alarm reasons, AWS
 * error messages in step details) is one inert, bounded line (contracts/display.ts): it cannot
 * start a line of its own, carry a terminal or bidirectional control, or push the message past
 * SNS's 256 KiB.
 */
export function incidentNotice(
  incident: IncidentRecord,
  triggers: readonly TriggerRecord[],
  site: SiteRecord,
): { subject: string; message: string } {
  const drill = incident.drill ? '[DRILL] ' : '';
  // "Subjects must be UTF-8 text with no line breaks or control characters, and less than 100
  // characters long" (SNS API reference, Publish).
  const subject = printable(
    `${drill}Bulkhead ${incident.environment}: ${incident.site} ${incident.status.toLowerCase()} (incident ${incident.incidentId})`,
    200,
  ).slice(0, 99);
  const done = incident.steps.map(
    (s) =>
      `  - ${printable(s.step, 80)}: ${s.outcome}${s.detail ? ` (${printable(s.detail, 500)})` : ''} at ${printable(s.at, 40)}`,
  );
  const lines = [
    `${drill}Site: ${incident.site} (environment ${incident.environment}, cell ${printable(site.cell, 40)})`,
    `Incident: ${incident.incidentId}`,
    `Status: ${incident.status}${incident.failureReason ? ` — ${printable(incident.failureReason, 1_000)}` : ''}`,
    `Detected: ${incident.detectedAt}`,
    `Received: ${incident.receivedAt}`,
    ...(incident.isolatedAt ? [`Isolated: ${incident.isolatedAt}`] : []),
    '',
    'What triggered it:',
    ...triggers.slice(0, 20).flatMap(describeTrigger),
    ...(triggers.length > 20
      ? [`  - … and ${triggers.length - 20} more triggers (siteops incidents ${incident.incidentId})`]
      : []),
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
  // The client hears on the site's own topic (its contact subscribed; infra/site/site-compartment.ts).
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
