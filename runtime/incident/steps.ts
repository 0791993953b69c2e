import type { BackupClient } from '@aws-sdk/client-backup';
import { type CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { DescribeServicesCommand, type ECSClient, StopTaskCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { IncidentStepName } from '../../contracts/workflow';
import type { SiteRecord } from '../../contracts/site-record';
import type { IncidentRecord, IncidentStore, StepRecord } from '../shared/incident-store';
import { loadSiteRecord } from '../shared/site-records';
import type { Ledger } from '../recovery/ledger';
import { keepEvidence, type LogsKept } from './evidence';
import { notifyIncident } from './notify';
import { IncidentNotFoundError } from './errors';

export { IncidentNotFoundError };

/** What the state machine passes to every step. */
export interface WorkflowInput {
  readonly incidentId: string;
  readonly site: string;
  readonly status: string;
  readonly drill: boolean;
  readonly forensicHoldSeconds: number;
  readonly error?: { Error?: string; Cause?: string };
}

export interface WorkflowDeps {
  readonly environment: string;
  readonly store: IncidentStore;
  readonly ledger: Ledger;
  readonly ssm: SSMClient;
  readonly ecs: ECSClient;
  readonly ec2: EC2Client;
  readonly logs: CloudWatchLogsClient;
  readonly s3: S3Client;
  readonly sns: SNSClient;
  readonly backup: BackupClient;
  readonly cloudwatch: CloudWatchClient;
  readonly evidenceBucket: string;
  readonly backupVaultName: string;
  readonly backupRoleArn: string;
  readonly opsTopicArn: string;
  readonly now: () => Date;
}

async function load(deps: WorkflowDeps, input: WorkflowInput) {
  const incident = await deps.store.getIncident(input.incidentId);
  if (!incident) throw new IncidentNotFoundError(`incident ${input.incidentId} does not exist`);
  const site = await loadSiteRecord(deps.ssm, deps.environment, incident.site);
  return { incident, site };
}

function stepRecord(deps: WorkflowDeps, step: string, outcome: StepRecord['outcome'], detail?: string): StepRecord {
  return { step, outcome, at: deps.now().toISOString(), detail };
}

/** What the keep-evidence step says about the logs (the manifest has the details). */
function logsNote(logs: LogsKept | undefined): string {
  if (!logs) return '';
  const cut = [
    logs.before.truncated ? `before ${logs.before.first ?? '?'}` : '',
    logs.after.truncated ? `after ${logs.after.last ?? '?'}` : '',
  ].filter(Boolean);
  return `; ${logs.kept} log lines from ${logs.window.from} to ${logs.window.to}${cut.length ? ` (not kept: lines ${cut.join(' and ')}; see the manifest)` : ''}`;
}

export async function collectEvidenceStep(deps: WorkflowDeps, input: WorkflowInput) {
  const { incident, site } = await load(deps, input);
  const triggers = await deps.store.triggersOf(incident.incidentId);
  const evidence = await keepEvidence(deps, incident, triggers, site);
  // The images the compromised tasks ran are never restored automatically.
  await Promise.all(
    evidence.imageDigests.map((digest) => deps.ledger.markSuspect(site.site, digest, incident.incidentId)),
  );
  const evidenceKeptAt = deps.now().toISOString();
  // The hold runs from isolation (or from now, if isolation time is unknown).
  const holdUntil = new Date(
    (Date.parse(incident.isolatedAt ?? '') || deps.now().getTime()) + input.forensicHoldSeconds * 1000,
  ).toISOString();
  await deps.store.updateIncident(
    incident.incidentId,
    {
      evidenceKeptAt,
      evidence: {
        bucket: deps.evidenceBucket,
        prefix: evidence.prefix,
        files: evidence.files.length,
        gaps: evidence.gaps,
      },
      containedTaskArns: evidence.containedTaskArns,
      holdUntil,
      backupJobId: evidence.backupJobId,
      backupNote: evidence.backupNote,
    },
    [
      stepRecord(
        deps,
        'keep-evidence',
        'done',
        `${evidence.files.length} files under s3://${deps.evidenceBucket}/${evidence.prefix}${logsNote(evidence.logs)}${evidence.gaps.length ? `; gaps: ${evidence.gaps.join('; ')}` : ''}`,
      ),
    ],
  );
  return { ...input, containedTaskArns: evidence.containedTaskArns, holdUntil };
}

export async function notifyStep(deps: WorkflowDeps, input: WorkflowInput) {
  const { incident, site } = await load(deps, input);
  const triggers = await deps.store.triggersOf(incident.incidentId);
  const messageIds = await notifyIncident(deps, incident, triggers, site);
  await deps.store.updateIncident(incident.incidentId, { notifiedAt: deps.now().toISOString() }, [
    stepRecord(deps, 'notify', 'done', `operators and ${site.contact} (${messageIds.length} messages)`),
  ]);
  return input;
}

/** After the forensic hold: stops the tasks that were running when the site was contained. */
export async function stopContainedTasksStep(deps: WorkflowDeps, input: WorkflowInput) {
  const { incident, site } = await load(deps, input);
  if (incident.status !== 'CONTAINED' && incident.status !== 'RESTORED') {
    // Released (a false positive) or otherwise moved on during the hold: its tasks serve again.
    await deps.store.updateIncident(incident.incidentId, {}, [
      stepRecord(deps, 'stop-contained-tasks', 'skipped', `incident is ${incident.status}; tasks left running`),
    ]);
    return input;
  }
  const arns = [...(incident.containedTaskArns ?? [])];
  const reason = `Bulkhead incident ${incident.incidentId}: forensic hold over`.slice(0, 255);
  const stopped = await Promise.all(
    arns.map(async (task) => {
      try {
        await deps.ecs.send(new StopTaskCommand({ cluster: site.clusterArn, task, reason }));
        return { task, ok: true };
      } catch (error) {
        return { task, ok: false, error: (error as Error).message };
      }
    }),
  );
  const failures = stopped.filter((s) => !s.ok);
  await deps.store.updateIncident(incident.incidentId, { tasksStoppedAt: deps.now().toISOString() }, [
    stepRecord(
      deps,
      'stop-contained-tasks',
      failures.length ? 'failed' : 'done',
      `${stopped.length - failures.length} of ${stopped.length} stopped${failures.length ? `: ${failures.map((f) => f.error).join('; ')}` : ''}`,
    ),
  ]);
  if (failures.length) throw new Error(`could not stop ${failures.length} contained task(s)`);
  if (incident.status === 'CONTAINED') await scaleToZero(deps, incident, site);
  return input;
}

/**
 * With no restore, the service still wants its desired count: "The number of instantiations
 * of the specified task definition to place and keep running in your service" (UpdateService
 * API reference), so ECS would launch the compromised revision again, forever. AWS's way to
 * stop a service's tasks is a desired count of zero ("If the service is actively maintaining
 * tasks ... you must update the service to a desired task count of zero", DeleteService API
 * reference). The count is saved first, so release and restore can put it back; a step run
 * again keeps the first saved count.
 */
async function scaleToZero(deps: WorkflowDeps, incident: IncidentRecord, site: SiteRecord): Promise<void> {
  let desiredCount = incident.scaledDown?.desiredCount;
  if (desiredCount === undefined) {
    const service = (
      await deps.ecs.send(new DescribeServicesCommand({ cluster: site.clusterArn, services: [site.serviceName] }))
    ).services?.[0];
    desiredCount = service?.desiredCount ?? 0;
    await deps.store.updateIncident(incident.incidentId, {
      scaledDown: { desiredCount, at: deps.now().toISOString() },
    });
  }
  await deps.ecs.send(
    new UpdateServiceCommand({ cluster: site.clusterArn, service: site.serviceName, desiredCount: 0 }),
  );
  await deps.store.updateIncident(incident.incidentId, {}, [
    stepRecord(
      deps,
      'scale-service-to-zero',
      'done',
      `desired count ${desiredCount} → 0, so ECS does not launch the compromised revision again; a release or a restore puts ${desiredCount} back`,
    ),
  ]);
}

/** The workflow's catch: marks the incident FAILED with what went wrong and raises the alarm metric. */
export async function markFailedStep(deps: WorkflowDeps, input: WorkflowInput) {
  const reason = `${input.error?.Error ?? 'Error'}: ${(input.error?.Cause ?? '').slice(0, 500)}`;
  await Promise.all([
    deps.store.updateIncident(
      input.incidentId,
      { status: 'FAILED', failedAt: deps.now().toISOString(), failureReason: `workflow: ${reason}` },
      [stepRecord(deps, 'workflow', 'failed', reason)],
    ),
    deps.cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: 'Bulkhead',
        MetricData: [
          {
            MetricName: 'IncidentWorkflowFailed',
            Value: 1,
            Unit: 'Count',
            Dimensions: [{ Name: 'environment', Value: deps.environment }],
          },
        ],
      }),
    ),
  ]);
  return { ...input, status: 'FAILED' };
}

export const WORKFLOW_STEPS = {
  'keep-evidence': collectEvidenceStep,
  notify: notifyStep,
  'stop-contained-tasks': stopContainedTasksStep,
  'mark-failed': markFailedStep,
} as const satisfies Record<IncidentStepName, unknown>;

export type WorkflowStepName = IncidentStepName;
