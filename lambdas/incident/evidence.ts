import { createHash } from 'node:crypto';
import { type BackupClient, StartBackupJobCommand } from '@aws-sdk/client-backup';
import { type CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeNetworkInterfacesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  type ECSClient,
  ListTasksCommand,
} from '@aws-sdk/client-ecs';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SiteRecord } from '../../lib/shared/site-record';
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
}

/** How far back the site's logs are copied, before the first detection. */
const LOG_LOOKBACK_MS = 60 * 60 * 1000;
const MAX_LOG_EVENTS = 10_000;

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
  const startTime = Date.parse(incident.detectedAt) - LOG_LOOKBACK_MS;
  const [definitions, interfaces, service, logs] = await Promise.all([
    Promise.all(
      definitionArns.map((arn) =>
        collect(gaps, `task-definition ${arn}`, () =>
          deps.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn, include: ['TAGS'] })),
        ),
      ),
    ),
    enis.length
      ? collect(gaps, 'network-interfaces', () =>
          deps.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: enis })),
        )
      : Promise.resolve({ NetworkInterfaces: [] }),
    collect(gaps, 'service', () =>
      deps.ecs.send(new DescribeServicesCommand({ cluster: site.clusterArn, services: [site.serviceName] })),
    ),
    collect(gaps, 'logs', async () => {
      const events: unknown[] = [];
      let nextToken: string | undefined;
      do {
        const page = await deps.logs.send(
          new FilterLogEventsCommand({
            logGroupName: site.logGroupName,
            startTime: Number.isFinite(startTime) ? startTime : undefined,
            nextToken,
            limit: 1000,
          }),
        );
        events.push(...(page.events ?? []));
        nextToken = page.nextToken;
      } while (nextToken && events.length < MAX_LOG_EVENTS);
      return { logGroupName: site.logGroupName, startTime, events };
    }),
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
          ChecksumSHA256: digest.toString('base64'),
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
      ChecksumSHA256: createHash('sha256').update(manifestBody).digest('base64'),
    }),
  );
  const imageDigests = [
    ...new Set(taskList.flatMap((t) => (t.containers ?? []).map((c) => c.imageDigest).filter((d): d is string => !!d))),
  ];
  return { prefix, files, containedTaskArns: arns, imageDigests, backupJobId, backupNote, gaps };
}
