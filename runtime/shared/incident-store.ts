import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type IncidentStatus,
  type StepRecord,
  type ObservedValue,
  type TriggerRecord,
  type IncidentRecord,
  incidentKey,
  incidentPartition,
  incidentTriggerKey,
  siteIndexSortKey,
  siteLockKey,
  sitePartition,
  TRIGGER_SORT_PREFIX,
} from '../../contracts/incident-table';

export type { IncidentStatus, StepRecord, ObservedValue, TriggerRecord, IncidentRecord };

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
          Item: { ...siteLockKey(site), site, openIncidentId: incidentId, lockedAt: now },
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
          Key: siteLockKey(site),
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
      new GetCommand({ TableName: this.tableName, Key: siteLockKey(site), ConsistentRead: true }),
    );
    return lock.Item?.openIncidentId as string | undefined;
  }

  /** Gives the lock back (only if this incident holds it). Keeps the lock item. */
  async releaseLock(site: string, incidentId: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: siteLockKey(site),
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
    const item = { ...incidentTriggerKey(incidentId, trigger.key), incidentId, ...trigger };
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
          ...incidentKey(incident.incidentId),
          gsi1pk: sitePartition(incident.site),
          gsi1sk: siteIndexSortKey(incident.detectedAt, incident.incidentId),
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
        Key: incidentKey(incidentId),
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
        Key: incidentKey(incidentId),
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
        ExpressionAttributeValues: { ':pk': incidentPartition(incidentId), ':trigger': TRIGGER_SORT_PREFIX },
        ConsistentRead: true,
      }),
    );
    return (result.Items ?? []) as TriggerRecord[];
  }
}
