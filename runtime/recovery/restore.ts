import { randomBytes } from 'node:crypto';
import {
  DescribeNetworkAclsCommand,
  DescribeSecurityGroupsCommand,
  type EC2Client,
  ReplaceNetworkAclAssociationCommand,
} from '@aws-sdk/client-ec2';
import {
  type DeploymentConfiguration,
  DescribeServicesCommand,
  DescribeTasksCommand,
  type ECSClient,
  TagResourceCommand,
  UpdateServiceCommand,
  UpdateTaskProtectionCommand,
} from '@aws-sdk/client-ecs';
import {
  CreateRuleCommand,
  DeleteRuleCommand,
  DeregisterTargetsCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  type ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
  type Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { SavedState } from '../contain/contain';
import { TAG_COMPONENT, TAG_ENV, TAG_SECURITY_GROUP, TAG_SITE, Component } from '../../contracts/tag-names';
import type { SiteRecord } from '../../contracts/site-record';
import type { IncidentRecord, IncidentStore, StepRecord } from '../shared/incident-store';
import { actionsToPutBack, loadSiteRecord } from '../shared/site-records';
import { deployImage, deploymentHealth, startedDeploymentId, taskIp } from './deploy';
import { chooseRestoreDigest, type Ledger } from './ledger';
import { restoreGroup } from './release';
import { rotateSiteCredentials } from './rotate';
import { RestoreRefusedError } from './errors';

export { RestoreRefusedError };

/**
 * Restore: bring a contained site back on a known-good image (docs/restore-design.md).
 *
 * 1. `beginRestore`: choose the digest (operator's, or the newest known-good one that went
 *    live before the incident was detected; never a suspect one).
 * 2. `rotateCredentials`: a new database password, the Secrets Manager way.
 * 3. `deployKnownGood`: protect the contained tasks from the deployment until their forensic
 *    hold ends, take their targets out of the target group, start a revision that differs
 *    only in the image in the site's standby group (same rules as its own group, which stays
 *    quarantined), and attach the target group through a probe rule no client request
 *    matches, so the load balancer health-checks the new tasks while the site answers 503.
 * 4. `checkHealth`: one look at the new tasks' targets; the workflow polls, bounded.
 * 5. `reopen`: the saved listener actions back, probe rule gone: the site serves again.
 * 6. after the hold: the contained tasks are stopped (incident step), then
 *    `returnToPrimary`: the site's own group gets its rules back and the service moves back
 *    to it (the record names that group; containment acts on it), checked the same way.
 * 7. `closeRestore`: CLOSED with `restoredAt`, time to isolate and time to recover.
 *
 * Every failure before `reopen` leaves the site contained (listener 503, contained tasks in
 * the quarantined group) and the incident FAILED with the reason (`markRestoreFailed`).
 */

export interface RestoreDeps {
  readonly environment: string;
  readonly store: IncidentStore;
  readonly ledger: Ledger;
  readonly ssm: SSMClient;
  readonly ecs: ECSClient;
  readonly ec2: EC2Client;
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly secrets: SecretsManagerClient;
  readonly lambda: LambdaClient;
  readonly databaseUserFunction: string;
  readonly now: () => Date;
  readonly newToken: () => string;
  /** How long new tasks may take to be healthy. @default 15 minutes */
  readonly healthTimeoutMs?: number;
  /** When a digest counts as known-good by age. @default 24 h */
  readonly goodAfterMs?: number;
}

/** What the workflow carries between restore steps (`$.restore`). */
export interface RestoreProgress {
  readonly digest: string;
  readonly image: string;
  readonly requestedBy: string;
  readonly phase: 'standby' | 'primary';
  readonly deploymentId?: string;
  readonly taskDefinitionArn?: string;
  readonly healthDeadline?: string;
  readonly probeRuleArn?: string;
  readonly health?: 'healthy' | 'waiting' | 'timed-out';
  readonly healthReason?: string;
}

export interface RestoreInput {
  readonly incidentId: string;
  readonly site: string;
  /** The operator's (or auto-restore's) decision. */
  readonly decision?: { readonly decision?: string; readonly digest?: string; readonly by?: string };
  readonly restore?: RestoreProgress;
  readonly holdUntil?: string;
  readonly [key: string]: unknown;
}

export const DEFAULT_HEALTH_TIMEOUT_MS = 15 * 60_000;
/** Header a probe request would need; its value is random per restore, so no client matches. */
export const PROBE_HEADER = 'X-Bulkhead-Restore-Probe';
const RESTORABLE = new Set(['CONTAINED', 'FAILED', 'RESTORING']);

function stepRecord(deps: RestoreDeps, step: string, outcome: StepRecord['outcome'], detail?: string): StepRecord {
  return { step, outcome, at: deps.now().toISOString(), detail };
}

async function load(
  deps: RestoreDeps,
  incidentId: string,
  options: { readonly beginning?: boolean } = {},
): Promise<{ incident: IncidentRecord; site: SiteRecord }> {
  const incident = await deps.store.getIncident(incidentId);
  if (!incident) throw new RestoreRefusedError(`no incident ${incidentId}`);
  // Contained again while this restore was under way (a new trigger: containment's
  // `restoreAbortedAt`): no further step may reopen the site or move it back to its group.
  if (
    !options.beginning &&
    incident.restoreAbortedAt &&
    Date.parse(incident.restoreAbortedAt) >= Date.parse(incident.restoreStartedAt ?? '')
  ) {
    throw new RestoreRefusedError(
      `${incident.site} was contained again at ${incident.restoreAbortedAt} (a new trigger during the restore); the restore stops and the site stays contained`,
    );
  }
  const site = await loadSiteRecord(deps.ssm, deps.environment, incident.site);
  return { incident, site };
}

function progressOf(input: RestoreInput): RestoreProgress {
  if (!input.restore) throw new RestoreRefusedError(`incident ${input.incidentId}: restore has not begun`);
  return input.restore;
}

/** Step 1: checks the incident can be restored and chooses the digest. */
export async function beginRestore(deps: RestoreDeps, input: RestoreInput): Promise<RestoreInput> {
  const { incident, site } = await load(deps, input.incidentId, { beginning: true });
  const by = input.decision?.by ?? 'auto-restore';
  if (!RESTORABLE.has(incident.status)) {
    throw new RestoreRefusedError(
      `incident ${incident.incidentId} is ${incident.status}; only a contained (or failed) incident can be restored`,
    );
  }
  const saved = (incident.saved ?? {}) as SavedState;
  if (!saved.securityGroup || !saved.listenerRule) {
    throw new RestoreRefusedError(
      `incident ${incident.incidentId} saved no security group or listener rule (was the site contained?); nothing to restore to`,
    );
  }
  if (!site.standbySecurityGroupId) {
    throw new RestoreRefusedError(
      `the site record of ${site.site} names no standby security group; deploy the site's stack again (Bulkhead-${deps.environment}-Site-${site.site}) and retry`,
    );
  }
  const choice = chooseRestoreDigest(await deps.ledger.entries(site.site), {
    detectedAt: incident.detectedAt,
    requested: input.decision?.digest,
    goodAfterMs: deps.goodAfterMs,
  });
  if (!choice.digest) {
    await deps.store.updateIncident(incident.incidentId, {}, [
      stepRecord(deps, 'choose-digest', 'failed', choice.reason),
    ]);
    throw new RestoreRefusedError(`no digest to restore ${site.site} to: ${choice.reason}`);
  }
  const image = `${choice.repository}@${choice.digest}`;
  await deps.store.updateIncident(
    incident.incidentId,
    { status: 'RESTORING', restoreDigest: choice.digest, restoreRequestedBy: by, restoreStartedAt: nowIso(deps) },
    [stepRecord(deps, 'choose-digest', 'done', `${choice.digest} (${choice.reason})`)],
  );
  return { ...input, restore: { digest: choice.digest, image, requestedBy: by, phase: 'standby' } };
}

/** Step 2: a new database password; every earlier one stops working (the site is contained). */
export async function rotateCredentials(deps: RestoreDeps, input: RestoreInput): Promise<RestoreInput> {
  const { incident, site } = await load(deps, input.incidentId);
  const rotated = await rotateSiteCredentials(deps, site.site, site.secretArn, 'incident');
  await deps.store.updateIncident(incident.incidentId, { credentialsRotatedAt: nowIso(deps) }, [
    stepRecord(
      deps,
      'rotate-credentials',
      'done',
      `secret version ${rotated.currentVersionId} (${rotated.account}) is AWSCURRENT; every earlier password stopped, ${rotated.sessionsKilled} open session(s) killed${rotated.sessionsNotKilled ? `, ${rotated.sessionsNotKilled} could not be` : ''}`,
    ),
  ]);
  return input;
}

/** Step 3: the known-good revision in the standby group, health-checked but not served. */
export async function deployKnownGood(deps: RestoreDeps, input: RestoreInput): Promise<RestoreInput> {
  const progress = progressOf(input);
  const { incident, site } = await load(deps, input.incidentId);
  const saved = (incident.saved ?? {}) as SavedState;
  const standby = site.standbySecurityGroupId as string;
  const contained = [...(incident.containedTaskArns ?? [])];
  const steps: StepRecord[] = [];

  // Keep the contained tasks through the deployment until their hold ends.
  const holdUntil = Date.parse(input.holdUntil ?? '') || deps.now().getTime();
  const minutes = Math.min(2880, Math.max(1, Math.ceil((holdUntil - deps.now().getTime()) / 60_000) + 10));
  const running = await runningTasks(deps, site, contained);
  for (let i = 0; i < running.length; i += 10) {
    const result = await deps.ecs.send(
      new UpdateTaskProtectionCommand({
        cluster: site.clusterArn,
        tasks: running.slice(i, i + 10).map((t) => t.arn),
        protectionEnabled: true,
        expiresInMinutes: minutes,
      }),
    );
    const failures = (result.failures ?? []).filter((f) => f.reason !== 'MISSING');
    if (failures.length) {
      throw new RestoreRefusedError(
        `could not protect the contained tasks for the hold: ${failures.map((f) => `${f.arn}: ${f.reason}`).join('; ')}`,
      );
    }
  }
  steps.push(stepRecord(deps, 'protect-contained-tasks', 'done', `${running.length} task(s) for ${minutes} min`));

  // Their targets leave the target group: never health-checked (ECS would replace them), never served.
  const ips = running.flatMap((t) => (t.ip ? [t.ip] : []));
  if (ips.length) {
    await deps.elbv2.send(
      new DeregisterTargetsCommand({
        TargetGroupArn: site.targetGroupArn,
        Targets: ips.map((ip) => ({ Id: ip, Port: site.containerPort })),
      }),
    );
  }
  steps.push(stepRecord(deps, 'deregister-contained-targets', 'done', ips.join(', ') || 'none running'));

  // A strict site's subnets go back to its own ACL: the new tasks live there too. The
  // contained tasks stay sealed by their quarantined group.
  const aclSteps = await restoreAclAssociations(deps, saved);
  steps.push(...aclSteps);
  // A standby group contained during an earlier restore (new tasks compromised there, now
  // stopped by their hold) gets its own rules back before new tasks start in it.
  if (saved.standbySecurityGroup) {
    const current = (
      await deps.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [saved.standbySecurityGroup.groupId] }))
    ).SecurityGroups?.[0];
    const back = await restoreGroup(
      deps,
      saved.standbySecurityGroup,
      current?.IpPermissions ?? [],
      current?.IpPermissionsEgress ?? [],
      () => nowIso(deps),
    );
    if (back.outcome === 'failed') throw new Error(`restore-standby-group: ${back.detail}`);
    steps.push({ ...back, step: 'restore-standby-group' });
  }

  // The service's new tasks go to the standby group; tasks take the group tag at launch.
  const service = await describeService(deps, site);
  await deps.ecs.send(
    new TagResourceCommand({ resourceArn: service.serviceArn, tags: [{ key: TAG_SECURITY_GROUP, value: standby }] }),
  );
  await keepCircuitBreaker(deps, incident, service.deploymentConfiguration);
  const subnets = service.networkConfiguration?.awsvpcConfiguration?.subnets ?? site.subnetIds ?? [];
  const { taskDefinitionArn, deploymentId } = await deployImage(
    deps.ecs,
    site.clusterArn,
    site.serviceName,
    progress.image,
    { awsvpcConfiguration: { subnets: [...subnets], securityGroups: [standby], assignPublicIp: 'DISABLED' } },
    {
      deploymentConfiguration: withoutRollback(service.deploymentConfiguration),
      // The hold ended with no restore and the service was scaled to zero: its count back.
      ...(incident.scaledDown && !service.desiredCount ? { desiredCount: incident.scaledDown.desiredCount } : {}),
    },
  );
  steps.push(
    stepRecord(
      deps,
      'deploy-known-good',
      'done',
      `${taskDefinitionArn} in ${standby} (deployment ${deploymentId}); circuit-breaker rollback off until the restore closes`,
    ),
  );

  // Attach the target group through a rule no client request matches.
  const probeRuleArn = await createProbeRule(deps, site);
  steps.push(stepRecord(deps, 'attach-probe-rule', 'done', probeRuleArn));
  await deps.store.updateIncident(incident.incidentId, {}, steps);
  return {
    ...input,
    restore: {
      ...progress,
      phase: 'standby',
      taskDefinitionArn,
      deploymentId,
      probeRuleArn,
      healthDeadline: new Date(deps.now().getTime() + healthTimeout(deps)).toISOString(),
      health: 'waiting',
    },
  };
}

/** Step 4 (polled): are the new deployment's tasks healthy targets? Never throws for "not yet". */
export async function checkHealth(deps: RestoreDeps, input: RestoreInput): Promise<RestoreInput> {
  const progress = progressOf(input);
  const { site } = await load(deps, input.incidentId);
  // The health read and the desired count, at once.
  const [{ healthyCount, listing }, service] = await Promise.all([
    deploymentHealth(deps.ecs, deps.elbv2, {
      clusterArn: site.clusterArn,
      serviceName: site.serviceName,
      deploymentId: progress.deploymentId ?? '',
      targetGroupArn: site.targetGroupArn,
    }),
    describeService(deps, site),
  ]);
  const desired = service.desiredCount ?? 1;
  if (healthyCount >= desired && healthyCount > 0) {
    return {
      ...input,
      restore: { ...progress, health: 'healthy', healthReason: `${healthyCount} healthy (${listing})` },
    };
  }
  if (deps.now().getTime() >= Date.parse(progress.healthDeadline ?? '')) {
    return {
      ...input,
      restore: {
        ...progress,
        health: 'timed-out',
        healthReason: `new tasks of ${progress.digest} not healthy within ${Math.round(healthTimeout(deps) / 1000)} s (${listing})`,
      },
    };
  }
  return { ...input, restore: { ...progress, health: 'waiting', healthReason: listing } };
}

/** Step 5: the site serves again, from the new tasks only. */
export async function reopen(deps: RestoreDeps, input: RestoreInput): Promise<RestoreInput> {
  const progress = progressOf(input);
  const { incident, site } = await load(deps, input.incidentId);
  const saved = (incident.saved ?? {}) as SavedState;
  if (!saved.listenerRule) throw new RestoreRefusedError(`incident ${incident.incidentId} saved no listener rule`);
  await deps.elbv2.send(
    new ModifyRuleCommand({ RuleArn: saved.listenerRule.ruleArn, Actions: actionsToPutBack(saved.listenerRule, site) }),
  );
  const probe = await deleteProbeRule(deps, progress.probeRuleArn);
  const restoredAt = nowIso(deps);
  const timeToRecoverSeconds = seconds(incident.detectedAt, restoredAt);
  await deps.store.updateIncident(incident.incidentId, { status: 'RESTORED', restoredAt, timeToRecoverSeconds }, [
    stepRecord(deps, 'restore-listener-rule', 'done', `serving ${progress.digest} (${progress.healthReason ?? ''})`),
    probe,
  ]);
  return { ...input, restore: { ...progress, probeRuleArn: undefined } };
}

/** Step 6 (after the hold and the contained tasks stopped): the service back in its own group. */
export async function returnToPrimary(deps: RestoreDeps, input: RestoreInput): Promise<RestoreInput> {
  const progress = progressOf(input);
  const { incident, site } = await load(deps, input.incidentId);
  const saved = (incident.saved ?? {}) as SavedState;
  const steps: StepRecord[] = [];
  if (saved.securityGroup) {
    const group = (await deps.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [saved.securityGroup.groupId] })))
      .SecurityGroups?.[0];
    if (!group) throw new RestoreRefusedError(`security group ${saved.securityGroup.groupId} no longer exists`);
    const step = await restoreGroup(
      deps,
      saved.securityGroup,
      group.IpPermissions ?? [],
      group.IpPermissionsEgress ?? [],
      () => nowIso(deps),
    );
    if (step.outcome === 'failed') throw new Error(`restore-security-group: ${step.detail}`);
    steps.push(step);
  }
  const service = await describeService(deps, site);
  await deps.ecs.send(
    new TagResourceCommand({
      resourceArn: service.serviceArn,
      tags: [{ key: TAG_SECURITY_GROUP, value: site.securityGroupId }],
    }),
  );
  const vpc = service.networkConfiguration?.awsvpcConfiguration;
  const updated = await deps.ecs.send(
    new UpdateServiceCommand({
      cluster: site.clusterArn,
      service: site.serviceName,
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: [...(vpc?.subnets ?? site.subnetIds ?? [])],
          securityGroups: [site.securityGroupId],
          assignPublicIp: vpc?.assignPublicIp ?? 'DISABLED',
        },
      },
      deploymentConfiguration: withoutRollback(service.deploymentConfiguration),
      forceNewDeployment: true,
    }),
  );
  const deploymentId = startedDeploymentId(updated, site.serviceName);
  steps.push(stepRecord(deps, 'return-to-own-group', 'done', `${site.securityGroupId} (deployment ${deploymentId})`));
  await deps.store.updateIncident(incident.incidentId, {}, steps);
  return {
    ...input,
    restore: {
      ...progress,
      phase: 'primary',
      deploymentId,
      healthDeadline: new Date(deps.now().getTime() + healthTimeout(deps)).toISOString(),
      health: 'waiting',
    },
  };
}

/** Step 7: the incident is closed, with its times; the circuit breaker's rollback is back. */
export async function closeRestore(deps: RestoreDeps, input: RestoreInput): Promise<RestoreInput> {
  const progress = progressOf(input);
  const { incident, site } = await load(deps, input.incidentId);
  const breaker = await restoreCircuitBreaker(deps, site, incident);
  const closedAt = nowIso(deps);
  await deps.store.updateIncident(
    incident.incidentId,
    {
      status: 'CLOSED',
      closedAt,
      timeToIsolateSeconds: incident.isolatedAt ? seconds(incident.detectedAt, incident.isolatedAt) : undefined,
      timeToRecoverSeconds: incident.restoredAt ? seconds(incident.detectedAt, incident.restoredAt) : undefined,
    },
    [...breaker, stepRecord(deps, 'close', 'done', `restored on ${progress.digest}; uploads kept as they were`)],
  );
  await deps.store.releaseLock(incident.site, incident.incidentId);
  return input;
}

/**
 * The workflow's catch for restore steps: FAILED with the reason; the site stays contained
 * (the listener still answers 503 and the contained tasks keep their quarantined group). A
 * probe rule is taken away; nothing else is undone, so an operator sees what was done.
 */
export async function markRestoreFailed(
  deps: RestoreDeps,
  input: RestoreInput & { error?: { Error?: string; Cause?: string } },
): Promise<RestoreInput> {
  const reason =
    input.restore?.health === 'timed-out'
      ? (input.restore.healthReason ?? 'new tasks not healthy in time')
      : `${input.error?.Error ?? 'Error'}: ${causeMessage(input.error?.Cause)}`;
  const incident = await deps.store.getIncident(input.incidentId);
  const reopened = incident?.status === 'RESTORED';
  const probe = await deleteProbeRule(deps, input.restore?.probeRuleArn);
  await deps.store.updateIncident(
    input.incidentId,
    {
      status: 'FAILED',
      failedAt: nowIso(deps),
      failureReason: `${
        reopened
          ? `restore: the site serves again on ${input.restore?.digest}, but ${reason}`
          : `restore: ${reason}; the site stays contained`
      }${incident?.circuitBreakerBeforeRestore ? '; the deployment circuit breaker cannot roll the service back to the compromised revision (its rollback stays off)' : ''}`,
    },
    [probe, stepRecord(deps, 'restore', 'failed', reason)],
  );
  return { ...input, status: 'FAILED' };
}

// ---- helpers ------------------------------------------------------------------------

/**
 * The service's deployment configuration with the circuit breaker's rollback off. The site's
 * service has the breaker on with rollback (infra/site/site-compartment.ts), and "when the
 * deployment circuit breaker determines that a deployment failed, it looks for the most
 * recent deployment that is in a COMPLETED state ... it uses as the roll-back deployment"
 * (ECS Developer Guide): during a restore that is the compromised revision (the standby
 * deployment cannot complete while the contained tasks are protected). With rollback off a
 * failed deployment "will transition to a failed state and stop launching new tasks"
 * (API DeploymentCircuitBreaker): the tasks already there keep running.
 */
function withoutRollback(current: DeploymentConfiguration | undefined): DeploymentConfiguration {
  return {
    ...current,
    deploymentCircuitBreaker: { enable: current?.deploymentCircuitBreaker?.enable ?? true, rollback: false },
  };
}

/** Records the circuit breaker as it was before the restore (once: a step run again sees it off). */
async function keepCircuitBreaker(
  deps: RestoreDeps,
  incident: IncidentRecord,
  current: DeploymentConfiguration | undefined,
): Promise<void> {
  if (incident.circuitBreakerBeforeRestore) return;
  const breaker = current?.deploymentCircuitBreaker;
  await deps.store.updateIncident(incident.incidentId, {
    circuitBreakerBeforeRestore: { enable: breaker?.enable ?? false, rollback: breaker?.rollback ?? false },
  });
}

/** Puts the circuit breaker back as it was before the restore (its deployments are done). */
async function restoreCircuitBreaker(
  deps: RestoreDeps,
  site: SiteRecord,
  incident: IncidentRecord,
): Promise<StepRecord[]> {
  const before = incident.circuitBreakerBeforeRestore;
  if (!before) return [];
  const service = await describeService(deps, site);
  await deps.ecs.send(
    new UpdateServiceCommand({
      cluster: site.clusterArn,
      service: site.serviceName,
      deploymentConfiguration: { ...service.deploymentConfiguration, deploymentCircuitBreaker: { ...before } },
    }),
  );
  return [
    stepRecord(
      deps,
      'restore-circuit-breaker',
      'done',
      `deployment circuit breaker ${before.enable ? 'on' : 'off'}, rollback ${before.rollback ? 'on' : 'off'}, as before the restore`,
    ),
  ];
}

function nowIso(deps: RestoreDeps): string {
  return deps.now().toISOString();
}

function seconds(from: string, to: string): number {
  return Math.round((Date.parse(to) - Date.parse(from)) / 1000);
}

function healthTimeout(deps: RestoreDeps): number {
  return deps.healthTimeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
}

/** Step Functions passes a Lambda error's cause as JSON with `errorMessage`. */
function causeMessage(cause: string | undefined): string {
  if (!cause) return '';
  try {
    return ((JSON.parse(cause) as { errorMessage?: string }).errorMessage ?? cause).slice(0, 500);
  } catch {
    return cause.slice(0, 500);
  }
}

async function runningTasks(deps: RestoreDeps, site: SiteRecord, arns: readonly string[]) {
  if (arns.length === 0) return [];
  const described = await deps.ecs.send(new DescribeTasksCommand({ cluster: site.clusterArn, tasks: [...arns] }));
  return (described.tasks ?? [])
    .filter((t) => t.desiredStatus === 'RUNNING' && t.taskArn)
    .map((t) => ({ arn: t.taskArn as string, ip: taskIp(t.attachments) }));
}

async function describeService(deps: RestoreDeps, site: SiteRecord) {
  const service = (
    await deps.ecs.send(new DescribeServicesCommand({ cluster: site.clusterArn, services: [site.serviceName] }))
  ).services?.[0];
  if (!service?.serviceArn)
    throw new RestoreRefusedError(`service ${site.serviceName} not found in ${site.clusterArn}`);
  return service;
}

async function restoreAclAssociations(deps: RestoreDeps, saved: SavedState): Promise<StepRecord[]> {
  const associations = saved.networkAcl?.associations ?? [];
  if (associations.length === 0) return [];
  const acls = await deps.ec2.send(
    new DescribeNetworkAclsCommand({
      Filters: [{ Name: 'association.subnet-id', Values: associations.map((a) => a.subnetId) }],
    }),
  );
  const current = (acls.NetworkAcls ?? []).flatMap((acl) =>
    (acl.Associations ?? []).map((a) => ({
      subnetId: a.SubnetId,
      id: a.NetworkAclAssociationId,
      acl: acl.NetworkAclId,
    })),
  );
  const steps: StepRecord[] = [];
  for (const a of associations) {
    const now = current.find((c) => c.subnetId === a.subnetId);
    if (!now?.id) throw new Error(`no network ACL association for ${a.subnetId}`);
    if (now.acl === a.networkAclId) continue;
    await deps.ec2.send(
      new ReplaceNetworkAclAssociationCommand({ AssociationId: now.id, NetworkAclId: a.networkAclId }),
    );
    steps.push(stepRecord(deps, 'restore-network-acl', 'done', `${a.subnetId} back on ${a.networkAclId}`));
  }
  return steps;
}

/** Every rule of a listener: DescribeRules pages until it answers no NextMarker. */
async function listenerRules(deps: RestoreDeps, listenerArn: string): Promise<Rule[]> {
  const rules: Rule[] = [];
  let Marker: string | undefined;
  do {
    // DescribeRules: "NextMarker: If there are additional results, this is the marker for
    // the next set of results. Otherwise, this is null."
    const page = await deps.elbv2.send(new DescribeRulesCommand({ ListenerArn: listenerArn, Marker, PageSize: 400 }));
    rules.push(...(page.Rules ?? []));
    Marker = page.NextMarker;
  } while (Marker);
  return rules;
}

/** This site's probe rule on the listener, if one is there (found by its tags; DescribeTags takes 20 ARNs). */
async function ownProbeRule(deps: RestoreDeps, site: SiteRecord, rules: readonly Rule[]): Promise<string | undefined> {
  const arns = rules.filter((r) => !r.IsDefault && r.RuleArn).map((r) => r.RuleArn as string);
  for (let i = 0; i < arns.length; i += 20) {
    const described = await deps.elbv2.send(new DescribeTagsCommand({ ResourceArns: arns.slice(i, i + 20) }));
    const own = (described.TagDescriptions ?? []).find((d) => {
      const tag = (key: string) => d.Tags?.find((t) => t.Key === key)?.Value;
      return (
        tag(TAG_ENV) === deps.environment &&
        tag(TAG_SITE) === site.site &&
        tag(TAG_COMPONENT) === Component.restoreProbeRule
      );
    });
    if (own?.ResourceArn) return own.ResourceArn;
  }
  return undefined;
}

/** The highest priority no rule of the listener holds (probe rules sit below every site's rule). */
function freePriority(rules: readonly Rule[]): number {
  const used = new Set(rules.map((r) => Number(r.Priority)));
  let priority = 50_000;
  while (used.has(priority) && priority > 1) priority--;
  return priority;
}

/** How often a probe rule's creation is tried again after another took its priority. */
const PROBE_RULE_ATTEMPTS = 5;

/**
 * A rule on the site's listener that forwards to its target group only for requests with a
 * random header no client knows: the load balancer then health-checks the new tasks while
 * the site's own rule still answers 503. Tagged so only it can be deleted, and so that it is
 * found again: CreateRule takes no client token, so a step run again (or an SDK retry after a
 * lost answer, which then meets PriorityInUse) takes the rule this site already has instead
 * of leaving an orphan. Another restore in the cell that took the chosen priority first is a
 * PriorityInUse too: read the rules again and take the next free one.
 */
async function createProbeRule(deps: RestoreDeps, site: SiteRecord): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const rules = await listenerRules(deps, site.listenerArn);
    const existing = await ownProbeRule(deps, site, rules);
    if (existing) return existing;
    try {
      const created = await deps.elbv2.send(
        new CreateRuleCommand({
          ListenerArn: site.listenerArn,
          Priority: freePriority(rules),
          Conditions: [
            {
              Field: 'http-header',
              HttpHeaderConfig: { HttpHeaderName: PROBE_HEADER, Values: [randomBytes(24).toString('hex')] },
            },
          ],
          Actions: [{ Type: 'forward', TargetGroupArn: site.targetGroupArn }],
          Tags: [
            { Key: TAG_ENV, Value: deps.environment },
            { Key: TAG_SITE, Value: site.site },
            { Key: TAG_COMPONENT, Value: Component.restoreProbeRule },
          ],
        }),
      );
      const arn = created.Rules?.[0]?.RuleArn;
      if (!arn) throw new Error('CreateRule returned no rule');
      return arn;
    } catch (error) {
      const name = (error as Error).name;
      if ((name !== 'PriorityInUseException' && name !== 'PriorityInUse') || attempt >= PROBE_RULE_ATTEMPTS)
        throw error;
    }
  }
}

async function deleteProbeRule(deps: RestoreDeps, ruleArn: string | undefined): Promise<StepRecord> {
  if (!ruleArn) return stepRecord(deps, 'remove-probe-rule', 'skipped', 'no probe rule');
  try {
    await deps.elbv2.send(new DeleteRuleCommand({ RuleArn: ruleArn }));
    return stepRecord(deps, 'remove-probe-rule', 'done', ruleArn);
  } catch (error) {
    if ((error as Error).name === 'RuleNotFoundException' || (error as Error).name === 'RuleNotFound') {
      return stepRecord(deps, 'remove-probe-rule', 'skipped', `${ruleArn} already gone`);
    }
    return stepRecord(deps, 'remove-probe-rule', 'failed', `${(error as Error).name}: ${(error as Error).message}`);
  }
}
