import type { IncidentRecord, TriggerRecord } from '../shared/incident-store';
import { type IncidentTimes, type IncidentView, TRIGGERS_SHOWN, type TriggerView } from '../../contracts/console-api';

/** The workflow waits for an operator's decision (and the wait has not timed out or been answered). */
export function waitingForApproval(incident: IncidentRecord): boolean {
  return Boolean(incident.approvalToken && !incident.approvedAt && !incident.approvalTimedOutAt);
}

function seconds(from: string | undefined, to: string | undefined): number | undefined {
  const a = Date.parse(from ?? '');
  const b = Date.parse(to ?? '');
  if (!Number.isFinite(a) || !Number.isFinite(b)) return undefined;
  return Math.round(b - a) / 1000;
}

/** Time to detect, isolate and recover, all from the first sign of the incident (`detectedAt`). */
export function incidentTimes(incident: IncidentRecord): IncidentTimes {
  const recoveredAt = incident.restoredAt ?? incident.releasedAt;
  return {
    toDetectSeconds: seconds(incident.detectedAt, incident.receivedAt),
    toIsolateSeconds: seconds(incident.detectedAt, incident.isolatedAt) ?? incident.timeToIsolateSeconds,
    toRecoverSeconds: seconds(incident.detectedAt, recoveredAt) ?? incident.timeToRecoverSeconds,
    recoveredBy: incident.restoredAt ? 'restore' : incident.releasedAt ? 'release' : undefined,
  };
}

/** A trigger as the console returns it: named fields only. */
export function triggerView(t: TriggerRecord): TriggerView {
  return {
    kind: t.kind,
    receivedAt: t.receivedAt,
    detectedAt: t.detectedAt,
    findingId: t.findingId,
    findingType: t.findingType,
    severity: t.severity,
    count: t.count,
    alarmName: t.alarmName,
    reason: t.reason,
    drill: t.drill,
    observed: t.observed,
  };
}

/**
 * What the console returns about an incident: named fields only, so the approval task token
 * and the saved rules never leave the table through the console. With `triggers` (one incident
 * asked for by id), the first {@link TRIGGERS_SHOWN} of them, oldest first.
 */
export function incidentView(incident: IncidentRecord, triggers?: readonly TriggerRecord[]): IncidentView {
  const ordered = triggers ? [...triggers].sort((a, b) => (a.receivedAt < b.receivedAt ? -1 : 1)) : undefined;
  const restore =
    incident.restoreDigest || incident.restoreStartedAt || incident.restoredAt || incident.credentialsRotatedAt
      ? {
          digest: incident.restoreDigest,
          requestedBy: incident.restoreRequestedBy,
          startedAt: incident.restoreStartedAt,
          credentialsRotatedAt: incident.credentialsRotatedAt,
          restoredAt: incident.restoredAt,
        }
      : undefined;
  const timeline = [...(incident.steps ?? [])]
    .map((s, i) => ({ s, i }))
    .sort((a, b) => (a.s.at < b.s.at ? -1 : a.s.at > b.s.at ? 1 : a.i - b.i))
    .map(({ s }) => ({ step: s.step, outcome: s.outcome, at: s.at, ...(s.detail ? { detail: s.detail } : {}) }));
  return {
    incidentId: incident.incidentId,
    site: incident.site,
    environment: incident.environment,
    status: incident.status,
    policy: incident.policy,
    drill: Boolean(incident.drill),
    detectedAt: incident.detectedAt,
    receivedAt: incident.receivedAt,
    isolatedAt: incident.isolatedAt,
    shedAt: incident.shedAt,
    failedAt: incident.failedAt,
    failureReason: incident.failureReason,
    evidenceKeptAt: incident.evidenceKeptAt,
    evidence: incident.evidence
      ? { bucket: incident.evidence.bucket, prefix: incident.evidence.prefix, files: incident.evidence.files }
      : undefined,
    notifiedAt: incident.notifiedAt,
    holdUntil: incident.holdUntil,
    tasksStoppedAt: incident.tasksStoppedAt,
    approval: {
      waiting: waitingForApproval(incident),
      requestedAt: incident.approvalRequestedAt,
      deadline: incident.approvalDeadline,
      decidedAt: incident.approvedAt,
      decidedBy: incident.approvedBy,
      decision: incident.approvalDecision,
      timedOutAt: incident.approvalTimedOutAt,
    },
    restore,
    releasedAt: incident.releasedAt,
    releasedBy: incident.releasedBy,
    releaseReason: incident.releaseReason,
    releaseForced: incident.releaseForced,
    closedAt: incident.closedAt,
    times: incidentTimes(incident),
    timeline,
    ...(ordered
      ? {
          triggers: ordered.slice(0, TRIGGERS_SHOWN).map(triggerView),
          ...(ordered.length > TRIGGERS_SHOWN ? { triggersOmitted: ordered.length - TRIGGERS_SHOWN } : {}),
        }
      : {}),
  };
}
