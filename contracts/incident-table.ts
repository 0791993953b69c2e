/**
 * The incident table (one table, `pk`/`sk`):
 * - `SITE#<site>` / `LOCK`: `openIncidentId` while the site has an open incident. Taken with
 *   a conditional write, so concurrent and repeated triggers fold into one incident.
 * - `INCIDENT#<id>` / `META`: the incident (status, timestamps, saved state, steps).
 * - `INCIDENT#<id>` / `TRIGGER#<key>`: one item per distinct trigger (finding id, alarm
 *   transition); a redelivery with a bigger count updates its item, never adds one.
 * GSI `bySite` (`gsi1pk` = `SITE#<site>`, `gsi1sk` = `<detectedAt>#<id>`) lists a site's incidents.
 * Nothing is ever deleted: closing an incident removes the lock's `openIncidentId` only.
 */

/** Where an incident is: OPENING while containment runs, then CONTAINED, SHED or NOTIFIED (or FAILED), then RELEASED, or RESTORING, RESTORED and CLOSED. */
export type IncidentStatus =
  'OPENING' | 'CONTAINED' | 'SHED' | 'NOTIFIED' | 'FAILED' | 'RELEASED' | 'RESTORING' | 'RESTORED' | 'CLOSED';

/** One step of an incident (containment, workflow, console action), as the incident's `steps` list keeps it. */
export interface StepRecord {
  /** The step's name (`quarantine-security-group`, `keep-evidence`, `release`...). */
  readonly step: string;
  /** Whether the step did its work, failed, or had nothing to do. */
  readonly outcome: 'done' | 'failed' | 'skipped';
  /** When the step ended (ISO 8601). */
  readonly at: string;
  /** What the step did, or its error. */
  readonly detail?: string;
}

/** A value a finding observed (a process, path, command line, domain): attacker-controlled text. */
export interface ObservedValue {
  /** What kind of value it is (`process`, `path`, `command line`, `domain`...). */
  readonly what: string;
  /** At most 1,024 characters of it (runtime/contain/observed.ts). */
  readonly value: string;
  /** Its full length, when the value was cut. */
  readonly length?: number;
}

/** One trigger of an incident (an item `TRIGGER#<key>`): written by containment and the console, read by the console's views. */
export interface TriggerRecord {
  /** The trigger's identity: `finding#<id>`, `alarm#<name>#<detectedAt>` or `operator#<id>` (its sort key's suffix). */
  readonly key: string;
  /** What sent it: a GuardDuty finding, a site alarm, or an operator's quarantine. */
  readonly kind: 'guardduty' | 'alarm' | 'operator';
  /** The EventBridge event's id (the console request's id for an operator). */
  readonly eventId: string;
  /** When the response plane received it. */
  readonly receivedAt: string;
  /** When its source first saw the sign (finding first seen, alarm transition, request). */
  readonly detectedAt: string;
  /** The GuardDuty finding's id. */
  readonly findingId?: string;
  /** The GuardDuty finding's type. */
  readonly findingType?: string;
  /** The GuardDuty finding's severity. */
  readonly severity?: number;
  /** How many times GuardDuty saw it (a redelivery with a bigger count updates the item). */
  readonly count?: number;
  /** The site alarm's name (`bulkhead.<env>.<site>.<kind>`). */
  readonly alarmName?: string;
  /** A drill finding (from the drill bus). */
  readonly drill?: boolean;
  /** The alarm's state reason, or the operator's reason. */
  readonly reason?: string;
  /** What a runtime finding saw (never interpreted; escaped wherever shown). */
  readonly observed?: readonly ObservedValue[];
  /** The task a finding is about. */
  readonly taskArn?: string;
}

/** An incident (the item `INCIDENT#<id>` / `META`): written by containment, the workflow's functions and the console; read by all of them. */
export interface IncidentRecord {
  /** The incident's id (INCIDENT_ID_PATTERN). */
  readonly incidentId: string;
  /** The site's id. */
  readonly site: string;
  /** The fleet's environment name. */
  readonly environment: string;
  /** Where the incident is (OPENING, CONTAINED ... CLOSED). */
  readonly status: IncidentStatus;
  /** The site's policy when the incident opened: contain, shed or notify. */
  readonly policy: 'contain' | 'shed' | 'notify';
  /** Opened by a drill finding (`siteops drill`). */
  readonly drill: boolean;
  /** When the first trigger's source first saw the sign. */
  readonly detectedAt: string;
  /** When the response plane received the first trigger. */
  readonly receivedAt: string;
  /** When containment isolated the site. */
  readonly isolatedAt?: string;
  /** When the site's traffic was shed (policy `shed`). */
  readonly shedAt?: string;
  /** When the incident became FAILED. */
  readonly failedAt?: string;
  /** What containment changed and saved so release can put it back (runtime/contain's SavedState). */
  readonly saved?: Record<string, unknown>;
  /** Every step so far, oldest first. */
  readonly steps: readonly StepRecord[];
  /** The key of the trigger that opened the incident (TriggerRecord.key). */
  readonly firstTrigger: string;
  /** Why the incident is FAILED (the step and its error). */
  readonly failureReason?: string;
  /** When the evidence was written to the evidence bucket. */
  readonly evidenceKeptAt?: string;
  /** Where the evidence is (bucket, key prefix, file count) and what could not be collected (`gaps`). */
  readonly evidence?: {
    readonly bucket: string;
    readonly prefix: string;
    readonly files: number;
    readonly gaps: readonly string[];
  };
  /** Tasks running when the site was contained: kept for the forensic hold, then stopped. */
  readonly containedTaskArns?: readonly string[];
  /** The AWS Backup job of the uploads file system started with the evidence. */
  readonly backupJobId?: string;
  /** What the backup holds for the site, or why there is none. */
  readonly backupNote?: string;
  /** When the operators and the site's contact were told. */
  readonly notifiedAt?: string;
  /** When the contained tasks were stopped (after the hold). */
  readonly tasksStoppedAt?: string;
  /**
   * The hold ended with no restore: the service's desired count was set to zero (from this
   * count) so that ECS does not launch the compromised revision again; release and restore
   * put it back.
   */
  readonly scaledDown?: { readonly desiredCount: number; readonly at: string };
  /** The incident workflow was started (containment's last step). */
  readonly workflowStartedAt?: string;
  /** The containment attempt whose workflow was started (absent: the first). */
  readonly workflowAttempt?: number;
  /**
   * How many times containment ran for this incident (absent: once). A FAILED containment
   * is run again by the next trigger for the site (or the same event, delivered again).
   */
  readonly containAttempt?: number;
  /** The last containment attempt failed (some step of it), so the next trigger runs it again. */
  readonly containmentFailed?: boolean;
  /** When the site was released (a false positive). */
  readonly releasedAt?: string;
  /** Who released it (the caller's principal, or `workflow`). */
  readonly releasedBy?: string;
  /** The reason the operator gave for the release. */
  readonly releaseReason?: string;
  /** Released over drift (the site changed after containment) because the operator forced it. */
  readonly releaseForced?: boolean;
  /** When the forensic hold of the contained tasks ends. */
  readonly holdUntil?: string;
  /** The workflow waits for an operator's decision (restore or false positive) since then. */
  readonly approvalRequestedAt?: string;
  /** Step Functions task token of that wait. Never returned by the ops console or logged. */
  readonly approvalToken?: string;
  /** When the wait for a decision times out (the site then stays contained). */
  readonly approvalDeadline?: string;
  /** When the decision was made. */
  readonly approvedAt?: string;
  /** Who decided (the operator, through the console). */
  readonly approvedBy?: string;
  /** The decision: restore, or release as a false positive. */
  readonly approvalDecision?: 'restore' | 'false-positive';
  /** When the wait for a decision timed out. */
  readonly approvalTimedOutAt?: string;
  /** The known-good image digest the restore deploys. */
  readonly restoreDigest?: string;
  /** Who asked for the restore (an operator, or `auto-restore`). */
  readonly restoreRequestedBy?: string;
  /** When the restore began. */
  readonly restoreStartedAt?: string;
  /**
   * A new trigger while the restore was under way contained the site again (its standby
   * group too); the restore stops at its next step.
   */
  readonly restoreAbortedAt?: string;
  /**
   * The service's deployment circuit breaker before the restore turned its rollback off (so
   * that no failed restore deployment can roll back to the compromised revision); the close
   * puts it back.
   */
  readonly circuitBreakerBeforeRestore?: { readonly enable: boolean; readonly rollback: boolean };
  /** When the restore rotated the site's database password. */
  readonly credentialsRotatedAt?: string;
  /** The site served again (from the known-good tasks). */
  readonly restoredAt?: string;
  /** When the incident was closed (after a restore). */
  readonly closedAt?: string;
  /** From the first sign to isolation. */
  readonly timeToIsolateSeconds?: number;
  /** From the first sign to the site serving again. */
  readonly timeToRecoverSeconds?: number;
}

/** The table's key attributes and its one index, as the response stack creates them. */
export const INCIDENT_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** The index that lists a site's incidents, newest last. */
  siteIndex: 'bySite',
  siteIndexPartitionKey: 'gsi1pk',
  siteIndexSortKey: 'gsi1sk',
} as const;

/** `SITE#<site>`: a site's partition (its lock, its image ledger) and its `bySite` index key. */
export function sitePartition(site: string): string {
  return `SITE#${site}`;
}

/** `INCIDENT#<id>`: an incident's partition (its record and its triggers). */
export function incidentPartition(incidentId: string): string {
  return `INCIDENT#${incidentId}`;
}

/** What every trigger item's sort key of an incident starts with. */
export const TRIGGER_SORT_PREFIX = 'TRIGGER#';
/** What every image-ledger item's sort key of a site starts with. */
export const DIGEST_SORT_PREFIX = 'DIGEST#';

/** The site's lock item: `openIncidentId` while the site has an open incident. */
export function siteLockKey(site: string): { readonly pk: string; readonly sk: string } {
  return { pk: sitePartition(site), sk: 'LOCK' };
}

/** The incident's record. */
export function incidentKey(incidentId: string): { readonly pk: string; readonly sk: string } {
  return { pk: incidentPartition(incidentId), sk: 'META' };
}

/** One trigger of an incident. */
export function incidentTriggerKey(incidentId: string, key: string): { readonly pk: string; readonly sk: string } {
  return { pk: incidentPartition(incidentId), sk: `${TRIGGER_SORT_PREFIX}${key}` };
}

/** A digest in the site's ledger of known-good images. */
export function imageLedgerKey(site: string, digest: string): { readonly pk: string; readonly sk: string } {
  return { pk: sitePartition(site), sk: `${DIGEST_SORT_PREFIX}${digest}` };
}

/** The incident's position in its site's `bySite` index: `<detectedAt>#<id>`. */
export function siteIndexSortKey(detectedAt: string, incidentId: string): string {
  return `${detectedAt}#${incidentId}`;
}
