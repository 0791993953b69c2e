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

export type IncidentStatus =
  'OPENING' | 'CONTAINED' | 'SHED' | 'NOTIFIED' | 'FAILED' | 'RELEASED' | 'RESTORING' | 'RESTORED' | 'CLOSED';

export interface StepRecord {
  readonly step: string;
  readonly outcome: 'done' | 'failed' | 'skipped';
  readonly at: string;
  readonly detail?: string;
}

/** A value a finding observed (a process, path, command line, domain): attacker-controlled text. */
export interface ObservedValue {
  readonly what: string;
  /** At most 1,024 characters of it (runtime/contain/observed.ts). */
  readonly value: string;
  /** Its full length, when the value was cut. */
  readonly length?: number;
}

export interface TriggerRecord {
  readonly key: string;
  readonly kind: 'guardduty' | 'alarm' | 'operator';
  readonly eventId: string;
  readonly receivedAt: string;
  readonly detectedAt: string;
  readonly findingId?: string;
  readonly findingType?: string;
  readonly severity?: number;
  readonly count?: number;
  readonly alarmName?: string;
  readonly drill?: boolean;
  readonly reason?: string;
  /** What a runtime finding saw (never interpreted; escaped wherever shown). */
  readonly observed?: readonly ObservedValue[];
  /** The task a finding is about. */
  readonly taskArn?: string;
}

export interface IncidentRecord {
  readonly incidentId: string;
  readonly site: string;
  readonly environment: string;
  readonly status: IncidentStatus;
  readonly policy: 'contain' | 'shed' | 'notify';
  readonly drill: boolean;
  readonly detectedAt: string;
  readonly receivedAt: string;
  readonly isolatedAt?: string;
  readonly shedAt?: string;
  readonly failedAt?: string;
  readonly saved?: Record<string, unknown>;
  readonly steps: readonly StepRecord[];
  readonly firstTrigger: string;
  readonly failureReason?: string;
  readonly evidenceKeptAt?: string;
  readonly evidence?: {
    readonly bucket: string;
    readonly prefix: string;
    readonly files: number;
    readonly gaps: readonly string[];
  };
  /** Tasks running when the site was contained: kept for the forensic hold, then stopped. */
  readonly containedTaskArns?: readonly string[];
  readonly backupJobId?: string;
  readonly backupNote?: string;
  readonly notifiedAt?: string;
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
  readonly releasedAt?: string;
  readonly releasedBy?: string;
  readonly releaseReason?: string;
  /** Released over drift (the site changed after containment) because the operator forced it. */
  readonly releaseForced?: boolean;
  /** When the forensic hold of the contained tasks ends. */
  readonly holdUntil?: string;
  /** The workflow waits for an operator's decision (restore or false positive) since then. */
  readonly approvalRequestedAt?: string;
  /** Step Functions task token of that wait. Never returned by the ops console or logged. */
  readonly approvalToken?: string;
  readonly approvalDeadline?: string;
  readonly approvedAt?: string;
  readonly approvedBy?: string;
  readonly approvalDecision?: 'restore' | 'false-positive';
  readonly approvalTimedOutAt?: string;
  readonly restoreDigest?: string;
  readonly restoreRequestedBy?: string;
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
  readonly credentialsRotatedAt?: string;
  /** The site served again (from the known-good tasks). */
  readonly restoredAt?: string;
  readonly closedAt?: string;
  readonly timeToIsolateSeconds?: number;
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
