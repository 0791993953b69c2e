import { createHash } from 'node:crypto';
import { type BackupClient, StartBackupJobCommand } from '@aws-sdk/client-backup';
import { type CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeNetworkInterfacesCommand, type EC2Client, type NetworkInterface } from '@aws-sdk/client-ec2';
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  type ECSClient,
  ListTasksCommand,
} from '@aws-sdk/client-ecs';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SiteRecord } from '../../contracts/site-record';
import type { IncidentRecord, TriggerRecord } from '../shared/incident-store';

export interface EvidenceDeps {
  readonly ecs: ECSClient;
  readonly ec2: EC2Client;
  readonly logs: CloudWatchLogsClient;
  readonly s3: S3Client;
  readonly backup: BackupClient;
  readonly evidenceBucket: string;
  readonly backupVaultName: string;
  readonly backupRoleArn: string;
  readonly now: () => Date;
  /** How many log lines (and bytes of them) are kept on each side of the detection. @default DEFAULT_LOG_BUDGET */
  readonly logBudget?: LogBudget;
}

/** The most log lines kept before (up to and at) the detection and after it, and their bytes on each side. */
export interface LogBudget {
  readonly before: number;
  readonly after: number;
  readonly bytes: number;
}

/** What the manifest says about one side of the detection. */
export interface LogPart {
  /** Lines kept. */
  readonly kept: number;
  /** Timestamps of the oldest and newest line kept. */
  readonly first?: string;
  readonly last?: string;
  /** More lines of the window exist than were kept (the budget ran out). */
  readonly truncated: boolean;
  /** Which part of the window is not in the evidence, when truncated. */
  readonly notKept?: string;
}

/** What was read of the site's logs: the window, each side of the detection, and in sum. */
export interface LogsKept {
  readonly logGroupName: string;
  readonly window: { readonly from: string; readonly detection: string; readonly to: string };
  readonly before: LogPart;
  readonly after: LogPart;
  readonly kept: number;
  readonly truncated: boolean;
}

export interface EvidenceResult {
  readonly prefix: string;
  readonly files: readonly { key: string; sha256: string; bytes: number }[];
  readonly containedTaskArns: readonly string[];
  /** Image digests the contained tasks run: suspect from now on. */
  readonly imageDigests: readonly string[];
  readonly backupJobId?: string;
  readonly backupNote: string;
  readonly gaps: readonly string[];
  /** What was kept of the site's logs (absent when they could not be read: see `gaps`). */
  readonly logs?: LogsKept;
}

/** How far back the site's logs are copied, before the first detection. */
const LOG_LOOKBACK_MS = 60 * 60 * 1000;
/**
 * 50,000 lines before the detection (about 8 minutes of a site writing 100 lines a second)
 * and 20,000 after it; at most 32 MiB of messages on each side (the function has 512 MB).
 */
export const DEFAULT_LOG_BUDGET: LogBudget = { before: 50_000, after: 20_000, bytes: 32 * 1024 * 1024 };

/**
 * The bucket's default Object Lock retention applies to every object written to it, and the
 * PutObject API reference says: "The Content-MD5 or x-amz-sdk-checksum-algorithm header is
 * required for any request to upload an object with a retention period configured using
 * Amazon S3 Object Lock." `ChecksumAlgorithm` is that header; `ChecksumSHA256` carries the
 * value S3 checks the body against.
 */
function checksumHeaders(sha256: Buffer): { ChecksumAlgorithm: 'SHA256'; ChecksumSHA256: string } {
  return { ChecksumAlgorithm: 'SHA256', ChecksumSHA256: sha256.toString('base64') };
}

/** Interface ids per request: EC2's filter values, kept well under the 1,000 ids it advises per call. */
const INTERFACE_IDS_PER_REQUEST = 200;

/**
 * The tasks' network interfaces, paginated. DescribeNetworkInterfaces' `MaxResults` cannot be
 * combined with `NetworkInterfaceIds` ("You cannot specify this parameter and the network
 * interface IDs parameter in the same request"), so the ids go in a `network-interface-id`
 * filter; that also keeps the others when one interface is already gone (a list of ids fails
 * whole with InvalidNetworkInterfaceID.NotFound). EC2 API guide, pagination: "If you have a
 * large number of resources, unpaginated calls might be throttled and could time out."
 */
async function describeInterfaces(ec2: EC2Client, ids: readonly string[], gaps: string[]) {
  const found: NetworkInterface[] = [];
  for (let i = 0; i < ids.length; i += INTERFACE_IDS_PER_REQUEST) {
    let NextToken: string | undefined;
    do {
      const page = await ec2.send(
        new DescribeNetworkInterfacesCommand({
          Filters: [{ Name: 'network-interface-id', Values: ids.slice(i, i + INTERFACE_IDS_PER_REQUEST) }],
          MaxResults: 1000,
          NextToken,
        }),
      );
      found.push(...(page.NetworkInterfaces ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
  }
  const missing = ids.filter((id) => !found.some((n) => n.NetworkInterfaceId === id));
  if (missing.length)
    gaps.push(`network-interfaces: ${missing.join(', ')} no longer exist${missing.length === 1 ? 's' : ''}`);
  return { NetworkInterfaces: found };
}

async function collect<T>(gaps: string[], what: string, run: () => Promise<T>): Promise<T | { unavailable: string }> {
  try {
    return await run();
  } catch (error) {
    const reason = `${(error as Error).name}: ${(error as Error).message}`;
    gaps.push(`${what}: ${reason}`);
    return { unavailable: reason };
  }
}

/**
 * Keeps the evidence of an incident under `incidents/<id>/` in the Object Lock bucket: the
 * triggers, the tasks and their definitions, their network interfaces, the service's events
 * and the site's recent logs, with a manifest of SHA-256 sums; and starts an on-demand backup
 * of the uploads file system. A source that cannot be read is recorded as a gap, not a failure.
 */
export async function keepEvidence(
  deps: EvidenceDeps,
  incident: IncidentRecord,
  triggers: readonly TriggerRecord[],
  site: SiteRecord,
): Promise<EvidenceResult> {
  const gaps: string[] = [];
  const prefix = `incidents/${incident.incidentId}/`;
  const taskArns = await collect(gaps, 'tasks', async () => {
    const listed = await deps.ecs.send(
      new ListTasksCommand({ cluster: site.clusterArn, serviceName: site.serviceName, desiredStatus: 'RUNNING' }),
    );
    return listed.taskArns ?? [];
  });
  const arns = Array.isArray(taskArns) ? taskArns : [];
  const tasks = arns.length
    ? await collect(gaps, 'describe-tasks', () =>
        deps.ecs.send(new DescribeTasksCommand({ cluster: site.clusterArn, tasks: arns, include: ['TAGS'] })),
      )
    : { tasks: [] };
  const taskList = 'tasks' in tasks ? (tasks.tasks ?? []) : [];
  const definitionArns = [...new Set(taskList.map((t) => t.taskDefinitionArn).filter((a): a is string => !!a))];
  const enis = taskList.flatMap((t) =>
    (t.attachments ?? []).flatMap((a) =>
      (a.details ?? []).filter((d) => d.name === 'networkInterfaceId').map((d) => d.value as string),
    ),
  );
  const [definitions, interfaces, service, logs] = await Promise.all([
    Promise.all(
      definitionArns.map((arn) =>
        collect(gaps, `task-definition ${arn}`, () =>
          deps.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn, include: ['TAGS'] })),
        ),
      ),
    ),
    enis.length
      ? collect(gaps, 'network-interfaces', () => describeInterfaces(deps.ec2, enis, gaps))
      : Promise.resolve({ NetworkInterfaces: [] }),
    collect(gaps, 'service', () =>
      deps.ecs.send(new DescribeServicesCommand({ cluster: site.clusterArn, services: [site.serviceName] })),
    ),
    collect(gaps, 'logs', () =>
      keepLogs(deps, site.logGroupName, Date.parse(incident.detectedAt), deps.logBudget ?? DEFAULT_LOG_BUDGET),
    ),
  ]);
  const documents: Record<string, unknown> = {
    'incident.json': incident,
    'triggers.json': triggers,
    'tasks.json': tasks,
    'task-definitions.json': definitions,
    'network-interfaces.json': interfaces,
    'service.json': service,
    'logs.json': logs,
  };
  const files: { key: string; sha256: string; bytes: number }[] = [];
  await Promise.all(
    Object.entries(documents).map(async ([name, value]) => {
      const body = `${JSON.stringify(value, null, 2)}\n`;
      const digest = createHash('sha256').update(body).digest();
      await deps.s3.send(
        new PutObjectCommand({
          Bucket: deps.evidenceBucket,
          Key: `${prefix}${name}`,
          Body: body,
          ContentType: 'application/json',
          ...checksumHeaders(digest),
        }),
      );
      files.push({ key: `${prefix}${name}`, sha256: digest.toString('hex'), bytes: Buffer.byteLength(body) });
    }),
  );
  files.sort((a, b) => a.key.localeCompare(b.key));
  let backupJobId: string | undefined;
  let backupNote: string;
  try {
    const job = await deps.backup.send(
      new StartBackupJobCommand({
        BackupVaultName: deps.backupVaultName,
        ResourceArn: site.fileSystemArn,
        IamRoleArn: deps.backupRoleArn,
        IdempotencyToken: incident.incidentId,
        RecoveryPointTags: { 'bulkhead:incident': incident.incidentId, 'bulkhead:site': site.site },
      }),
    );
    backupJobId = job.BackupJobId;
    backupNote = `backup job ${backupJobId} of the uploads file system; ${site.site}'s files are under /sites/${site.site} (item-level restore)`;
  } catch (error) {
    backupNote = `no backup: ${(error as Error).name}: ${(error as Error).message}`;
    gaps.push(`backup: ${(error as Error).message}`);
  }
  const manifest = {
    incidentId: incident.incidentId,
    site: site.site,
    writtenAt: deps.now().toISOString(),
    files,
    gaps,
    logs: 'summary' in logs ? logs.summary : undefined,
    backupJobId,
    backupNote,
  };
  const manifestBody = `${JSON.stringify(manifest, null, 2)}\n`;
  await deps.s3.send(
    new PutObjectCommand({
      Bucket: deps.evidenceBucket,
      Key: `${prefix}manifest.json`,
      Body: manifestBody,
      ContentType: 'application/json',
      ...checksumHeaders(createHash('sha256').update(manifestBody).digest()),
    }),
  );
  const imageDigests = [
    ...new Set(taskList.flatMap((t) => (t.containers ?? []).map((c) => c.imageDigest).filter((d): d is string => !!d))),
  ];
  const logsKept = 'summary' in logs ? logs.summary : undefined;
  return { prefix, files, containedTaskArns: arns, imageDigests, backupJobId, backupNote, gaps, logs: logsKept };
}

interface LogEvent {
  readonly logStreamName?: string;
  readonly timestamp?: number;
  readonly message?: string;
  readonly ingestionTime?: number;
  readonly eventId?: string;
}

/**
 * Reads one side of the detection, starting next to it: before it newest first, after it
 * oldest first, so that when the budget runs out the lines left out are the ones furthest
 * from the detection. CloudWatch Logs (FilterLogEvents API reference): "By default, the
 * events are returned in ascending timestamp order (oldest first). To return events in
 * descending timestamp order (newest first), set the startFromHead parameter to false";
 * "Partially full or empty pages don't necessarily mean that pagination is finished. If the
 * results include a nextToken, there might be more log events available."
 */
async function readLogSide(
  logs: CloudWatchLogsClient,
  logGroupName: string,
  range: { readonly startTime: number; readonly endTime: number; readonly newestFirst: boolean },
  budget: { readonly events: number; readonly bytes: number },
): Promise<{ events: LogEvent[]; truncated: boolean }> {
  const events: LogEvent[] = [];
  let bytes = 0;
  let nextToken: string | undefined;
  do {
    const page = await logs.send(
      new FilterLogEventsCommand({
        logGroupName,
        startTime: range.startTime,
        endTime: range.endTime,
        startFromHead: !range.newestFirst,
        nextToken,
        limit: Math.min(10_000, budget.events - events.length),
      }),
    );
    for (const event of page.events ?? []) {
      // An event's size as CloudWatch Logs counts it: its UTF-8 message plus 26 bytes.
      const size = Buffer.byteLength(event.message ?? '') + 26;
      if (events.length >= budget.events || bytes + size > budget.bytes) return { events, truncated: true };
      events.push(event);
      bytes += size;
    }
    nextToken = page.nextToken;
  } while (nextToken && events.length < budget.events);
  return { events, truncated: Boolean(nextToken) };
}

function summarize(events: readonly LogEvent[], truncated: boolean, notKept: string): LogPart {
  const times = events.map((e) => e.timestamp ?? 0);
  const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
  return {
    kept: events.length,
    first: iso(times.length ? Math.min(...times) : undefined),
    last: iso(times.length ? Math.max(...times) : undefined),
    truncated,
    ...(truncated ? { notKept } : {}),
  };
}

/**
 * The site's logs from an hour before the detection until now, kept whole when they fit the
 * budget; otherwise cut away from the detection on each side. Returns the events in time
 * order and what was kept (counts, first and last timestamps, truncated) for the manifest.
 */
async function keepLogs(
  deps: EvidenceDeps,
  logGroupName: string,
  detectedAt: number,
  budget: LogBudget,
): Promise<{ logGroupName: string; summary: LogsKept; events: LogEvent[] }> {
  const to = deps.now().getTime();
  const detection = Number.isFinite(detectedAt) ? Math.min(detectedAt, to) : to;
  const from = detection - LOG_LOOKBACK_MS;
  const [before, after] = await Promise.all([
    readLogSide(
      deps.logs,
      logGroupName,
      { startTime: from, endTime: detection, newestFirst: true },
      { events: budget.before, bytes: budget.bytes },
    ),
    detection < to
      ? readLogSide(
          deps.logs,
          logGroupName,
          { startTime: detection + 1, endTime: to, newestFirst: false },
          { events: budget.after, bytes: budget.bytes },
        )
      : Promise.resolve({ events: [], truncated: false }),
  ]);
  const iso = (ms: number) => new Date(ms).toISOString();
  const oldestKept = before.events.at(-1)?.timestamp ?? detection;
  const newestKept = after.events.at(-1)?.timestamp ?? detection;
  const summary: LogsKept = {
    logGroupName,
    window: { from: iso(from), detection: iso(detection), to: iso(to) },
    before: summarize(
      before.events,
      before.truncated,
      `lines from ${iso(from)} to ${iso(oldestKept)} (older than the oldest line kept)`,
    ),
    after: summarize(
      after.events,
      after.truncated,
      `lines from ${iso(newestKept)} to ${iso(to)} (newer than the newest line kept)`,
    ),
    kept: before.events.length + after.events.length,
    truncated: before.truncated || after.truncated,
  };
  return { logGroupName, summary, events: [...before.events.reverse(), ...after.events] };
}
