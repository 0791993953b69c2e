import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

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
  /** At most 1,024 characters of it (lambdas/contain/observed.ts). */
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

export class IncidentStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Takes the site's lock for a new incident, or says which incident already holds it.
   * One conditional write: exactly one of any number of concurrent callers wins.
   */
  async openOrJoin(
    site: string,
    incidentId: string,
    now: string,
  ): Promise<{ opened: true } | { opened: false; incidentId: string; lockedAt?: string }> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: `SITE#${site}`, sk: 'LOCK', site, openIncidentId: incidentId, lockedAt: now },
          ConditionExpression: 'attribute_not_exists(openIncidentId)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { opened: true };
    } catch (error) {
      if (
        error instanceof ConditionalCheckFailedException ||
        (error as Error).name === 'ConditionalCheckFailedException'
      ) {
        const item = (error as ConditionalCheckFailedException).Item;
        const text = (value: unknown) =>
          typeof value === 'object' && value !== null && 'S' in value ? String((value as { S: unknown }).S) : undefined;
        const existing = text(item?.openIncidentId);
        return {
          opened: false,
          incidentId: existing ?? (await this.openIncidentOf(site)) ?? 'unknown',
          lockedAt: text(item?.lockedAt),
        };
      }
      throw error;
    }
  }

  /**
   * Takes over a lock whose holder died (the Lambda timed out or crashed before it recorded
   * the incident's outcome): only if the lock is still the one seen, so one caller wins.
   */
  async takeOver(site: string, incidentId: string, seenLockedAt: string, now: string): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `SITE#${site}`, sk: 'LOCK' },
          UpdateExpression: 'SET lockedAt = :now, takeovers = if_not_exists(takeovers, :zero) + :one',
          ConditionExpression: 'openIncidentId = :id AND lockedAt = :seen',
          ExpressionAttributeValues: { ':now': now, ':id': incidentId, ':seen': seenLockedAt, ':zero': 0, ':one': 1 },
        }),
      );
      return true;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  /** The site's open incident id, if any. */
  async openIncidentOf(site: string): Promise<string | undefined> {
    const lock = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: `SITE#${site}`, sk: 'LOCK' }, ConsistentRead: true }),
    );
    return lock.Item?.openIncidentId as string | undefined;
  }

  /** Gives the lock back (only if this incident holds it). Keeps the lock item. */
  async releaseLock(site: string, incidentId: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `SITE#${site}`, sk: 'LOCK' },
          UpdateExpression: 'REMOVE openIncidentId SET lastIncidentId = :id',
          ConditionExpression: 'openIncidentId = :id',
          ExpressionAttributeValues: { ':id': incidentId },
        }),
      );
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    }
  }

  /**
   * Records a trigger. The same finding delivered again overwrites its own item, keeping
   * the largest count; a distinct trigger adds an item. Returns whether it was new.
   */
  async recordTrigger(incidentId: string, trigger: TriggerRecord): Promise<'new' | 'updated' | 'duplicate'> {
    const item = { pk: `INCIDENT#${incidentId}`, sk: `TRIGGER#${trigger.key}`, incidentId, ...trigger };
    try {
      const result = await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk) OR #count < :count',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ':count': trigger.count ?? 0 },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return result.Attributes ? 'updated' : 'new';
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return 'duplicate';
      throw error;
    }
  }

  async putIncident(incident: IncidentRecord): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: `INCIDENT#${incident.incidentId}`,
          sk: 'META',
          gsi1pk: `SITE#${incident.site}`,
          gsi1sk: `${incident.detectedAt}#${incident.incidentId}`,
          ...incident,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  /** Sets fields of the incident and appends steps, in one write. */
  async updateIncident(
    incidentId: string,
    fields: Partial<Omit<IncidentRecord, 'incidentId' | 'steps'>>,
    steps: readonly StepRecord[] = [],
  ): Promise<IncidentRecord> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets: string[] = [];
    Object.entries(fields).forEach(([key, value], i) => {
      if (value === undefined) return;
      names[`#f${i}`] = key;
      values[`:v${i}`] = value;
      sets.push(`#f${i} = :v${i}`);
    });
    if (steps.length > 0) {
      names['#steps'] = 'steps';
      values[':steps'] = steps;
      values[':empty'] = [];
      sets.push('#steps = list_append(if_not_exists(#steps, :empty), :steps)');
    }
    const result = await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: `INCIDENT#${incidentId}`, sk: 'META' },
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return result.Attributes as IncidentRecord;
  }

  async getIncident(incidentId: string): Promise<IncidentRecord | undefined> {
    const result = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: `INCIDENT#${incidentId}`, sk: 'META' },
        ConsistentRead: true,
      }),
    );
    return result.Item as IncidentRecord | undefined;
  }

  async triggersOf(incidentId: string): Promise<TriggerRecord[]> {
    const result = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :trigger)',
        ExpressionAttributeValues: { ':pk': `INCIDENT#${incidentId}`, ':trigger': 'TRIGGER#' },
        ConsistentRead: true,
      }),
    );
    return (result.Items ?? []) as TriggerRecord[];
  }
}
