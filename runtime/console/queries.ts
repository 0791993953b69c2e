import { DescribeServicesCommand, DescribeTasksCommand, type ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import { GetParametersByPathCommand, type SSMClient } from '@aws-sdk/client-ssm';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  type DynamoDBDocumentClient,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { INCIDENT_TABLE, incidentKey, siteLockKey, sitePartition } from '../../contracts/incident-table';
import type { SiteRecord } from '../../contracts/site-record';
import { siteRecordParameterPrefix } from '../../contracts/site-record';
import type { IncidentRecord } from '../shared/incident-store';

/** Read-only lookups of the console that the incident store does not offer. */

/** Every site record of the environment (GetParametersByPath), and the ones that could not be read. */
export async function listSiteRecords(
  ssm: SSMClient,
  environment: string,
): Promise<{ records: SiteRecord[]; unreadable: string[] }> {
  const prefix = siteRecordParameterPrefix(environment);
  const records: SiteRecord[] = [];
  const unreadable: string[] = [];
  let next: string | undefined;
  do {
    const page = await ssm.send(
      new GetParametersByPathCommand({ Path: prefix.replace(/\/$/, ''), Recursive: false, NextToken: next }),
    );
    for (const p of page.Parameters ?? []) {
      const id = (p.Name ?? '').slice(prefix.length);
      try {
        const record = JSON.parse(p.Value ?? '') as SiteRecord;
        if (record.site !== id || record.environment !== environment || !record.clusterArn || !record.serviceName) {
          unreadable.push(`${p.Name}: names ${record.site} in ${record.environment}`);
        } else {
          records.push(record);
        }
      } catch {
        unreadable.push(`${p.Name}: not JSON`);
      }
    }
    next = page.NextToken;
  } while (next);
  return { records: records.sort((a, b) => (a.site < b.site ? -1 : 1)), unreadable };
}

function chunks<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/** BatchGetItem in chunks of 100, retrying unprocessed keys (bounded). */
async function batchGet(
  db: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly Record<string, string>[],
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for (const chunk of chunks(keys, 100)) {
    let pending: Record<string, unknown>[] | undefined = chunk;
    for (let attempt = 0; pending && pending.length > 0; attempt++) {
      if (attempt >= 5) throw new Error(`DynamoDB left ${pending.length} keys unprocessed after 5 attempts`);
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      const result: BatchGetCommandOutput = await db.send(
        new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending, ConsistentRead: true } } }),
      );
      items.push(...(result.Responses?.[tableName] ?? []));
      pending = result.UnprocessedKeys?.[tableName]?.Keys;
    }
  }
  return items;
}

/** The open incident of each site that has one (lock items, then the incidents, in batches). */
export async function openIncidents(
  db: DynamoDBDocumentClient,
  tableName: string,
  sites: readonly string[],
): Promise<Map<string, IncidentRecord>> {
  const locks = await batchGet(
    db,
    tableName,
    sites.map((site) => siteLockKey(site)),
  );
  const open = locks.flatMap((l) =>
    typeof l.openIncidentId === 'string' ? [{ site: String(l.site), incidentId: l.openIncidentId }] : [],
  );
  const incidents = await batchGet(
    db,
    tableName,
    open.map((o) => incidentKey(o.incidentId)),
  );
  const byId = new Map(incidents.map((i) => [String(i.incidentId), i as unknown as IncidentRecord]));
  return new Map(
    open.flatMap((o) => (byId.has(o.incidentId) ? [[o.site, byId.get(o.incidentId) as IncidentRecord]] : [])),
  );
}

/** An incident's position in its site's `bySite` index (and in the console's newest-first pages). */
export function incidentSortKey(incident: Pick<IncidentRecord, 'detectedAt' | 'incidentId'>): string {
  return `${incident.detectedAt}#${incident.incidentId}`;
}

/**
 * A site's incidents (GSI `bySite`), newest first, detected within [since, until] and, for a
 * later page, sorting before `before` (the last incident of the previous page).
 */
export async function incidentsOfSite(
  db: DynamoDBDocumentClient,
  tableName: string,
  site: string,
  range: { since?: string; until?: string; before?: string; limit: number; status?: string; maxBytes?: number },
): Promise<{ incidents: IncidentRecord[]; truncated: boolean }> {
  const found: IncidentRecord[] = [];
  let bytes = 0;
  const low = range.since ?? '0';
  // gsi1sk is `<detectedAt>#<id>`: everything detected up to `until` sorts below `until` + '~'.
  const untilHigh = range.until ? `${range.until}~` : '~';
  const high = range.before !== undefined && range.before < untilHigh ? range.before : untilHigh;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: INCIDENT_TABLE.siteIndex,
        KeyConditionExpression: 'gsi1pk = :site AND gsi1sk BETWEEN :low AND :high',
        ExpressionAttributeValues: { ':site': sitePartition(site), ':low': low, ':high': high },
        ScanIndexForward: false,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of (page.Items ?? []) as IncidentRecord[]) {
      if (range.status && item.status !== range.status) continue;
      if (range.before !== undefined && incidentSortKey(item) >= range.before) continue; // BETWEEN is inclusive
      // Past `maxBytes` none of this site's older incidents can be on the caller's page.
      if (found.length >= range.limit || (range.maxBytes !== undefined && bytes > range.maxBytes)) {
        return { incidents: found, truncated: true };
      }
      found.push(item);
      bytes += JSON.stringify(item).length;
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return { incidents: found, truncated: false };
}

export interface ServiceState {
  readonly running: number;
  readonly desired: number;
  readonly pending: number;
}

/** The services of these sites in one cluster (DescribeServices, 10 at a time). */
export async function describeSiteServices(
  ecs: ECSClient,
  clusterArn: string,
  serviceNames: readonly string[],
): Promise<Map<string, ServiceState>> {
  const states = new Map<string, ServiceState>();
  for (const chunk of chunks(serviceNames, 10)) {
    const described = await ecs.send(new DescribeServicesCommand({ cluster: clusterArn, services: chunk }));
    for (const s of described.services ?? []) {
      if (!s.serviceName) continue;
      states.set(s.serviceName, {
        running: s.runningCount ?? 0,
        desired: s.desiredCount ?? 0,
        pending: s.pendingCount ?? 0,
      });
    }
  }
  return states;
}

/** The image digests of a cluster's running tasks, by service name (ListTasks + DescribeTasks). */
export async function runningDigests(
  ecs: ECSClient,
  clusterArn: string,
  serviceName?: string,
): Promise<Map<string, { digests: Set<string>; taskArns: string[] }>> {
  const arns: string[] = [];
  let next: string | undefined;
  do {
    try {
      const page = await ecs.send(
        new ListTasksCommand({ cluster: clusterArn, serviceName, desiredStatus: 'RUNNING', nextToken: next }),
      );
      arns.push(...(page.taskArns ?? []));
      next = page.nextToken;
    } catch (error) {
      // A site whose service is gone runs nothing.
      if (serviceName && (error as Error).name === 'ServiceNotFoundException') return new Map();
      throw error;
    }
  } while (next);
  const byService = new Map<string, { digests: Set<string>; taskArns: string[] }>();
  for (const chunk of chunks(arns, 100)) {
    const described = await ecs.send(new DescribeTasksCommand({ cluster: clusterArn, tasks: chunk }));
    for (const task of described.tasks ?? []) {
      const service = task.group?.startsWith('service:') ? task.group.slice('service:'.length) : undefined;
      if (!service || task.lastStatus !== 'RUNNING') continue;
      const entry = byService.get(service) ?? { digests: new Set<string>(), taskArns: [] };
      for (const c of task.containers ?? []) {
        const digest = c.imageDigest ?? /@(sha256:[0-9a-f]{64})$/.exec(c.image ?? '')?.[1];
        if (digest) entry.digests.add(digest);
      }
      if (task.taskArn) entry.taskArns.push(task.taskArn);
      byService.set(service, entry);
    }
  }
  return byService;
}

/** When the oldest task of a service that is meant to run started (undefined: none runs). */
export async function oldestRunningTaskStart(
  ecs: ECSClient,
  clusterArn: string,
  serviceName: string,
): Promise<Date | undefined> {
  const arns: string[] = [];
  let next: string | undefined;
  do {
    const page = await ecs.send(
      new ListTasksCommand({ cluster: clusterArn, serviceName, desiredStatus: 'RUNNING', nextToken: next }),
    );
    arns.push(...(page.taskArns ?? []));
    next = page.nextToken;
  } while (next);
  let oldest: number | undefined;
  for (const chunk of chunks(arns, 100)) {
    const described = await ecs.send(new DescribeTasksCommand({ cluster: clusterArn, tasks: chunk }));
    for (const task of described.tasks ?? []) {
      // A task reads its secrets when it starts; one still starting counts from its creation.
      const started = (task.startedAt ?? task.createdAt)?.getTime();
      if (started !== undefined && (oldest === undefined || started < oldest)) oldest = started;
    }
  }
  return oldest === undefined ? undefined : new Date(oldest);
}
