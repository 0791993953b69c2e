import type { ECSClient } from '@aws-sdk/client-ecs';
import type { Action } from '@aws-sdk/client-elastic-load-balancing-v2';
import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { SNSClient } from '@aws-sdk/client-sns';
import { hasOwnSubnets, quarantineTargetsOf, type SiteRecord } from '../../contracts/site-record';
import type { IncidentRecord, IncidentStore, StepRecord, TriggerRecord } from '../shared/incident-store';
import { loadSiteRecord, SiteRecordError, siteForwardActions } from '../shared/site-records';
import { ContainmentIncompleteError, LockUnsettledError } from './errors';
import {
  type Ignored,
  ignored,
  isIgnored,
  parseResponseEvent,
  parseWideFinding,
  type Trigger,
  triggerKey,
  type WideTrigger,
} from './events';
import { respondToWideFinding, type WideResult } from './wide-findings';
import type { SiteGroupState } from './quarantine-group';
import { type AclAssociation, type ContainPorts, SESSION_REVOCATION_POLICY } from './ports';
import { type ResponseScope, resolveSite } from './resolve-site';

export { SESSION_REVOCATION_POLICY };

export const MAINTENANCE_RESPONSE: Action = {
  Type: 'fixed-response',
  FixedResponseConfig: {
    StatusCode: '503',
    ContentType: 'text/html',
    MessageBody:
      '<!doctype html><title>Down for maintenance</title><h1>This site is down for maintenance</h1><p>Please try again later.</p>',
  },
};

export interface ContainConfig {
  readonly scope: ResponseScope;
  readonly logsEndpointGroupId: string;
  readonly quarantineAclId: string;
  readonly stateMachineArn: string;
}

/**
 * What containment runs against: its ports for what it does to a site (network, listener
 * rule, task-role sessions: runtime/contain/ports.ts, SDK-backed in runtime/contain/adapters/)
 * and the clients of what it only reads or starts (tasks, site records, the workflow).
 */
export interface ContainDeps extends ContainPorts {
  readonly ecs: ECSClient;
  readonly ssm: SSMClient;
  readonly sfn: SFNClient;
  readonly store: IncidentStore;
  readonly config: ContainConfig;
  readonly now: () => Date;
  readonly newIncidentId: (site: string, now: Date) => string;
  readonly metric: (name: string, value: number, unit?: 'Count' | 'Milliseconds') => void;
  /**
   * How long to wait before revoking interim rules. In a burst the refilling EC2 buckets
   * belong to sites still being isolated; tidying can wait.
   */
  readonly finishQuarantineDelayMs: () => number;
  /** How long a trigger waits on a lock with no incident under it (JOIN_WAIT_MS). */
  readonly joinWaitMs?: number;
  /**
   * The operators' topic, for findings about more than one task (attack sequences, whole
   * clusters): what could not be resolved to a site is told there. The event handler has it.
   */
  readonly operators?: { readonly sns: SNSClient; readonly opsTopicArn: string };
}

export type ContainOutcome =
  | { readonly outcome: 'ignored'; readonly code: Ignored['code']; readonly reason: string }
  | ({ readonly outcome: 'wide-finding' } & WideResult)
  | {
      readonly outcome: 'joined';
      readonly incidentId: string;
      readonly site: string;
      readonly trigger: 'new' | 'updated' | 'duplicate';
    }
  | {
      readonly outcome: 'contained' | 'shed' | 'notified' | 'failed';
      readonly incidentId: string;
      readonly site: string;
      readonly isolatedAt?: string;
      readonly steps: readonly StepRecord[];
    };

/** Saved state, so release can put back exactly what was there. */
export interface SavedState {
  securityGroup?: { groupId: string; ingress: unknown[]; egress: unknown[] };
  /** The standby group's rules, when a restore's tasks in it were contained (issue 11 item 5). */
  standbySecurityGroup?: { groupId: string; ingress: unknown[]; egress: unknown[] };
  networkAcl?: { associations: { subnetId: string; networkAclId: string; quarantineAssociationId?: string }[] };
  listenerRule?: { ruleArn: string; actions: Action[] };
  rolePolicy?: { roleName: string; policyName: string };
}

interface StepResult<T> {
  readonly ok: boolean;
  readonly value?: T;
  readonly record: StepRecord;
}

const THROTTLING = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'SlowDown',
]);

/** Whether an error is AWS asking us to slow down (worth persisting through, unlike a denial). */
export function isThrottling(error: unknown): boolean {
  const e = error as { name?: string; $retryable?: { throttling?: boolean } };
  return THROTTLING.has(e?.name ?? '') || e?.$retryable?.throttling === true;
}

/** How long an isolation step keeps going through throttling after the SDK's own retries. */
export const STEP_PERSISTENCE_MS = 90_000;

async function step<T>(
  name: string,
  now: () => Date,
  run: () => Promise<T>,
  describe?: (value: T) => string,
): Promise<StepResult<T>> {
  const deadline = Date.now() + STEP_PERSISTENCE_MS;
  let pause = 250;
  for (;;) {
    try {
      const value = await run();
      return {
        ok: true,
        value,
        record: { step: name, outcome: 'done', at: now().toISOString(), detail: describe?.(value) },
      };
    } catch (error) {
      // The SDK has already retried; a throttled isolation step must still not give up
      // while the account's token bucket refills (EC2: 5 writes a second per API).
      if (isThrottling(error) && Date.now() + pause < deadline) {
        await new Promise((resolve) => setTimeout(resolve, pause / 2 + Math.random() * pause));
        pause = Math.min(pause * 2, 4_000);
        continue;
      }
      const e = error as Error;
      return {
        ok: false,
        record: { step: name, outcome: 'failed', at: now().toISOString(), detail: `${e.name}: ${e.message}` },
      };
    }
  }
}

function skipped(name: string, now: () => Date, detail: string): StepResult<never> {
  return { ok: true, record: { step: name, outcome: 'skipped', at: now().toISOString(), detail } };
}

function triggerRecord(trigger: Trigger, receivedAt: string): TriggerRecord {
  return trigger.kind === 'guardduty'
    ? {
        key: triggerKey(trigger),
        kind: 'guardduty',
        eventId: trigger.eventId,
        receivedAt,
        detectedAt: trigger.detectedAt,
        findingId: trigger.findingId,
        findingType: trigger.findingType,
        severity: trigger.severity,
        count: trigger.count,
        drill: trigger.drill,
        ...(trigger.observed.length > 0 ? { observed: trigger.observed } : {}),
        taskArn: trigger.taskArn,
      }
    : {
        key: triggerKey(trigger),
        kind: 'alarm',
        eventId: trigger.eventId,
        receivedAt,
        detectedAt: trigger.detectedAt,
        alarmName: trigger.alarmName,
        reason: trigger.reason?.slice(0, 500),
      };
}

/**
 * The whole automatic response to one event: validate, find the site, open or join its
 * incident, and act on the site's policy. Isolation comes first and in as few sequential
 * rounds of AWS calls as possible; every step is recorded on the incident.
 */
export async function respondToEvent(event: unknown, deps: ContainDeps): Promise<ContainOutcome> {
  const receivedAt = deps.now().toISOString();
  const trigger = parseResponseEvent(event);
  if (isIgnored(trigger) && trigger.code === 'not-ecs-finding') {
    // No single task: an attack sequence, or a finding about a whole cluster (issue 11 item 4).
    const wide = parseWideFinding(event);
    if (isIgnored(wide)) return ignoredOutcome(wide, deps);
    return respondToWide(wide, receivedAt, deps);
  }
  if (isIgnored(trigger)) return ignoredOutcome(trigger, deps);
  const resolved = await resolveSite(trigger, deps.config.scope, deps.ecs);
  if (isIgnored(resolved)) return ignoredOutcome(resolved, deps);
  const { siteId, hints } = resolved;
  // The task's tags only say what to read first; the site record decides (tags may be stale:
  // a task keeps the tags it started with). The threshold is checked against the record.
  return respondForSite(siteId, triggerRecord(trigger, receivedAt), deps, {
    describeGroup: hints.policy === undefined || hints.policy === 'contain',
    securityGroupId: hints.securityGroupId,
    // Every site deployed by this version has its own ACL; the read is in round 1, beside the record's.
    describeAcl: true,
    drill: trigger.kind === 'guardduty' && trigger.drill,
    severity: trigger.kind === 'guardduty' ? trigger.severity : undefined,
    severityThresholdHint: hints.severityThreshold,
    listenerRuleArn: hints.listenerRuleArn,
  });
}

async function respondToWide(trigger: WideTrigger, receivedAt: string, deps: ContainDeps): Promise<ContainOutcome> {
  if (!deps.operators) throw new Error('containment has no operators topic for a finding about more than one task');
  const result = await respondToWideFinding(
    trigger,
    {
      ecs: deps.ecs,
      ssm: deps.ssm,
      sns: deps.operators.sns,
      opsTopicArn: deps.operators.opsTopicArn,
      scope: deps.config.scope,
    },
    async (siteId, taskTrigger, hints) => {
      const outcome = await respondForSite(siteId, triggerRecord(taskTrigger, receivedAt), deps, {
        describeGroup: hints.policy === undefined || hints.policy === 'contain',
        securityGroupId: hints.securityGroupId,
        describeAcl: hints.isolation !== 'standard',
        drill: taskTrigger.drill,
        severity: taskTrigger.severity,
        severityThresholdHint: hints.severityThreshold,
        listenerRuleArn: hints.listenerRuleArn,
      });
      return {
        site: siteId,
        outcome: outcome.outcome,
        ...('incidentId' in outcome ? { incidentId: outcome.incidentId } : {}),
        ...(outcome.outcome === 'ignored' ? { reason: outcome.reason } : {}),
      };
    },
  );
  if (isIgnored(result)) return ignoredOutcome(result, deps);
  if (result.notified) deps.metric('OperatorsToldUnresolved', 1);
  return { outcome: 'wide-finding', ...result };
}

interface RespondOptions {
  readonly describeGroup: boolean;
  /** From the task's tags: read the group's rules by id (with rule ids) in round 1. */
  readonly securityGroupId?: string;
  readonly describeAcl: boolean;
  readonly drill: boolean;
  /** GuardDuty severity; alarms and operator requests have none and always qualify. */
  readonly severity?: number;
  /**
   * The threshold the task's tags carry: a finding at or above it takes the lock in the
   * first round; the record decides, and a stale tag costs a lock given back.
   */
  readonly severityThresholdHint?: number;
  /** An operator's request overrides the site's policy with contain. */
  readonly forcePolicy?: 'contain';
  /** From the task's tags: the site's listener rule, read in round 1 (the record decides). */
  readonly listenerRuleArn?: string;
}

/** What round 1 read beside the site record (each read may have failed). */
interface FirstReads {
  readonly groupResult: PromiseSettledResult<SiteGroupState | undefined>;
  readonly aclResult: PromiseSettledResult<readonly AclAssociation[] | undefined>;
  /** The listener rule the task's tags named, read in round 1. */
  readonly earlyRule?: Promise<StepResult<Action[]>>;
}

/** The site's incident, opened (or taken over), with what round 1 read. */
interface Opened {
  readonly record: SiteRecord;
  readonly base: IncidentRecord;
  readonly policy: SiteRecord['response']['policy'];
  readonly resumed?: IncidentRecord;
  readonly attempt: number;
  readonly recontain?: boolean;
  readonly reads: FirstReads;
}

/** The site's group and ACL as containment acts on them (round 1's reads, or the record's). */
interface NetworkReads {
  readonly group?: SiteGroupState;
  readonly groupSettled: PromiseSettledResult<unknown>;
  readonly aclSettled: PromiseSettledResult<readonly AclAssociation[] | undefined>;
}

/** Rules rewritten to the interim form (revoked after isolation), and the group they are in. */
interface Interim {
  ruleIds: readonly string[];
  group?: SiteGroupState;
}

/** When each part of the isolation finished (round 2 sets them as they do). */
interface Marks {
  networkIsolatedAt?: string;
  shedAt?: string;
  ingressClosedAt?: string;
}

/** What round 2 did. */
interface Contained {
  readonly steps: readonly StepRecord[];
  readonly saved: SavedState;
  readonly interim: Interim;
  readonly isolatedAt?: string;
  readonly shedAt?: string;
  readonly failed: boolean;
}

/** Opens (or joins) the site's incident and acts on it. Shared by events and operator quarantine. */
export async function respondForSite(
  siteId: string,
  triggerItem: TriggerRecord,
  deps: ContainDeps,
  options: RespondOptions,
): Promise<ContainOutcome> {
  const opened = await openIncident(siteId, triggerItem, deps, options);
  if ('outcome' in opened) return opened;
  if (opened.policy === 'notify') return notifyOnly(deps, opened, triggerItem);
  const network = opened.policy === 'contain' ? await readNetwork(deps, opened) : undefined;
  const contained = await containSite(deps, opened, triggerItem, options, network);
  // Round 4: record the outcome and hand the incident to its workflow.
  const final = await recordOutcome(deps, opened, contained);
  return handOver(deps, opened, contained, final);
}

/**
 * Round 1: the site record and the site's group and ACL, at once; and the lock, when what
 * is known before any read says the trigger qualifies (an alarm or an operator's request
 * always does; a finding does when its severity reaches the threshold its task's tags
 * carry). Otherwise the lock waits for the record: every reason to ignore a trigger is
 * decided before its lock is taken.
 */
async function openIncident(
  siteId: string,
  triggerItem: TriggerRecord,
  deps: ContainDeps,
  options: RespondOptions,
): Promise<Opened | ContainOutcome> {
  const { config, store, now } = deps;
  const env = config.scope.environment;
  const incidentId = deps.newIncidentId(siteId, now());
  const early =
    options.severity === undefined ||
    (options.severityThresholdHint !== undefined && options.severity >= options.severityThresholdHint);
  // The listener rule too, when the task's tags name it: the shed can then go in round 2.
  const earlyRule = options.listenerRuleArn ? readListenerRule(deps, options.listenerRuleArn) : undefined;
  const [recordResult, groupResult, aclResult, earlyLock] = await Promise.allSettled([
    loadSiteRecord(deps.ssm, env, siteId),
    options.describeGroup ? deps.network.readSiteGroup(siteId, options.securityGroupId) : Promise.resolve(undefined),
    options.describeAcl ? deps.network.readSiteAclAssociations(siteId) : Promise.resolve(undefined),
    early ? store.openOrJoin(siteId, incidentId, triggerItem.receivedAt) : Promise.resolve(undefined),
  ]);
  const why = ignoreReason(recordResult, options, siteId);
  if (why || recordResult.status === 'rejected') {
    // The record contradicts what the tags said (stale tags), is missing, or could not be
    // read: give back a lock taken early. A trigger that found it meanwhile finds no
    // incident under it, and takes the lock itself (holdLock).
    if (earlyLock.status === 'fulfilled' && earlyLock.value?.opened) await store.releaseLock(siteId, incidentId);
    if (why) return ignoredOutcome(why, deps);
    throw (recordResult as PromiseRejectedResult).reason;
  }
  if (earlyLock.status === 'rejected') throw earlyLock.reason; // nothing changed yet: safe to retry
  const record = recordResult.value;
  const held = await holdLock(deps, siteId, incidentId, triggerItem, record, earlyLock.value);
  if ('outcome' in held) return held;
  const policy = options.forcePolicy ?? record.response.policy;
  const base: IncidentRecord = {
    incidentId: held.incidentId,
    site: siteId,
    environment: env,
    status: 'OPENING',
    policy,
    drill: options.drill,
    detectedAt: triggerItem.detectedAt,
    receivedAt: triggerItem.receivedAt,
    steps: [],
    firstTrigger: triggerItem.key,
  };
  deps.metric('IncidentsOpened', 1);
  const { resumed, attempt, recontain } = held;
  return { record, base, policy, resumed, attempt, recontain, reads: { groupResult, aclResult, earlyRule } };
}

/** The notify policy: record the incident and the trigger, and start its workflow (nothing changes on the site). */
async function notifyOnly(deps: ContainDeps, opened: Opened, triggerItem: TriggerRecord): Promise<ContainOutcome> {
  const { store, now } = deps;
  const { base, record, resumed } = opened;
  const { incidentId, site } = base;
  await Promise.all([
    resumed
      ? store.updateIncident(incidentId, { status: 'NOTIFIED' })
      : store.putIncident({ ...base, status: 'NOTIFIED' }),
    store.recordTrigger(incidentId, triggerItem),
  ]);
  await startWorkflow(deps, record, { ...base, status: 'NOTIFIED' });
  await store.updateIncident(incidentId, { workflowStartedAt: now().toISOString() });
  return { outcome: 'notified', incidentId, site, steps: [] };
}

/**
 * The group and ACL the record names. The task's tags named another group, or said the site
 * was not strict or not contained, or the read failed: read what the record names now (one
 * more round trip, only then).
 */
async function readNetwork(deps: ContainDeps, opened: Opened): Promise<NetworkReads> {
  const { record } = opened;
  const { groupResult, aclResult } = opened.reads;
  const groupRead = (settled: PromiseSettledResult<SiteGroupState | undefined>) =>
    settled.status === 'fulfilled' && settled.value?.groupId === record.securityGroupId;
  const [groupSettled, aclSettled] = await Promise.allSettled([
    groupRead(groupResult)
      ? Promise.resolve((groupResult as PromiseFulfilledResult<SiteGroupState | undefined>).value)
      : deps.network.readSiteGroup(opened.base.site, record.securityGroupId),
    hasOwnSubnets(record) && !(aclResult.status === 'fulfilled' && aclResult.value)
      ? deps.network.readSiteAclAssociations(opened.base.site)
      : Promise.resolve(aclResult.status === 'fulfilled' ? aclResult.value : undefined),
  ]);
  const group = groupRead(groupSettled)
    ? (groupSettled as PromiseFulfilledResult<SiteGroupState | undefined>).value
    : undefined;
  return { group, groupSettled, aclSettled };
}

/**
 * Round 2, all at once: isolate (the group's egress, the strict site's ACL), shed traffic
 * at the load balancer (the rule read in round 1 when the task's tags name it), deny the
 * task role's older sessions, and record the incident with the saved rules. The group's
 * ingress goes only once the listener no longer forwards to the site (no later: a rule
 * change that fails the health checks before the shed lets ECS replace the contained task
 * after a few failed checks, with the evidence in it).
 */
async function containSite(
  deps: ContainDeps,
  opened: Opened,
  triggerItem: TriggerRecord,
  options: RespondOptions,
  reads: NetworkReads | undefined,
): Promise<Contained> {
  const { store, now } = deps;
  const { record, base, resumed, attempt, recontain } = opened;
  const incidentId = base.incidentId;
  const saved: SavedState = {};
  const interim: Interim = { ruleIds: [] };
  const marks: Marks = {};
  const network = reads ? isolateNetwork(deps, record, reads, saved, interim) : [];
  const standby: { group?: SiteGroupState } = {};
  if (reads && recontain && record.standbySecurityGroupId) {
    network.push(quarantineStandbyGroup(deps, record, record.standbySecurityGroupId, saved, standby));
  }
  const networkDone = Promise.all(network).then((results) => {
    marks.networkIsolatedAt = now().toISOString();
    return results;
  });
  const { earlyRule } = opened.reads;
  const ruleRead =
    options.listenerRuleArn === record.listenerRuleArn && earlyRule
      ? earlyRule
      : readListenerRule(deps, record.listenerRuleArn);
  const shedding = shedTraffic(deps, record, ruleRead, saved, marks);
  // Ingress, once the shed has settled (done, skipped, or failed: then isolation goes first).
  const ingress = reads
    ? Promise.all([shedding, networkDone]).then(() =>
        closeIngressAfterShed(deps, [interim.group ?? reads.group, standby.group], marks),
      )
    : Promise.resolve(undefined);
  const sessions = reads ? revokeSessions(deps, record, saved) : Promise.resolve(undefined);
  const [isolated, ruleResult, shedResult, ingressResult, sessionResult] = await Promise.all([
    networkDone,
    ruleRead,
    shedding,
    ingress,
    sessions,
    resumed
      ? store.updateIncident(incidentId, {
          status: 'OPENING',
          containAttempt: attempt,
          saved: { ...saved, ...resumed.saved } as Record<string, unknown>,
          // The restore under way stops at its next step (runtime/recovery/restore.ts).
          ...(recontain ? { restoreAbortedAt: now().toISOString() } : {}),
        })
      : store.putIncident({ ...base, saved: { ...saved } as Record<string, unknown> }),
    store.recordTrigger(incidentId, triggerItem),
  ]);
  // Isolated: no new flow either way. Out, once the group's egress (and a strict site's ACL)
  // is done; in, once the listener no longer forwards to the site (or, if that failed, once
  // the ingress rules are gone).
  const networkOk = reads !== undefined && isolated.every((r) => r.ok);
  const inClosedAt = marks.shedAt ?? marks.ingressClosedAt;
  const isolatedAt =
    networkOk && inClosedAt && marks.networkIsolatedAt ? [marks.networkIsolatedAt, inClosedAt].sort()[1] : undefined;
  const steps = [
    ...isolated,
    ruleResult,
    ...[shedResult, ingressResult, sessionResult].filter((r): r is StepResult<unknown> => r !== undefined),
  ].map((r) => r.record);
  const failed = steps.some((s) => s.outcome === 'failed');
  return { steps, saved, interim, isolatedAt, shedAt: marks.shedAt, failed };
}

/** Sheds the site's traffic once its rule is read: the rule answers a fixed 503 (its actions saved first). */
function shedTraffic(
  deps: ContainDeps,
  record: SiteRecord,
  ruleRead: Promise<StepResult<Action[]>>,
  saved: SavedState,
  marks: Marks,
): Promise<StepResult<unknown> | undefined> {
  const { now } = deps;
  return ruleRead.then((read) => {
    if (!read.ok || !read.value) return undefined;
    const actions = read.value;
    const alreadyShed = actions.length === 1 && actions[0]?.Type === 'fixed-response';
    // Already a fixed response (a takeover, an operator): what the site serves with is its
    // record's forward action; never save an empty list (release and restore put it back).
    saved.listenerRule = {
      ruleArn: record.listenerRuleArn,
      actions: alreadyShed ? siteForwardActions(record) : actions,
    };
    const result = alreadyShed
      ? Promise.resolve(skipped('shed-traffic', now, 'listener rule already answers with a fixed response'))
      : step(
          'shed-traffic',
          now,
          () => deps.listenerRules.replaceActions(record.listenerRuleArn, [MAINTENANCE_RESPONSE]),
          () => 'listener rule answers 503; target group detached',
        );
    return result.then((r) => {
      if (r.ok) marks.shedAt = now().toISOString();
      return r;
    });
  });
}

/** Takes the ingress rules out of the groups the site's tasks are in (after the shed settled). */
async function closeIngressAfterShed(
  deps: ContainDeps,
  candidates: readonly (SiteGroupState | undefined)[],
  marks: Marks,
): Promise<StepResult<number> | undefined> {
  const { now } = deps;
  const groups = candidates.filter((g): g is SiteGroupState => g !== undefined);
  if (groups.length === 0) return undefined;
  const closed = await step(
    'close-ingress',
    now,
    async () => (await Promise.all(groups.map((g) => deps.network.closeIngress(g)))).reduce((a, b) => a + b, 0),
    (n) => (n ? `${n} ingress rules revoked after the listener stopped forwarding` : 'no ingress rules'),
  );
  if (closed.ok) marks.ingressClosedAt = now().toISOString();
  return closed;
}

/** Round 4: the incident's outcome, its steps, and why it failed if it did. */
function recordOutcome(deps: ContainDeps, opened: Opened, contained: Contained): Promise<IncidentRecord> {
  const { now } = deps;
  const { steps, saved, failed, isolatedAt, shedAt } = contained;
  const status = failed ? 'FAILED' : opened.policy === 'contain' ? 'CONTAINED' : 'SHED';
  return deps.store.updateIncident(
    opened.base.incidentId,
    {
      status,
      isolatedAt,
      shedAt,
      // What an earlier, abandoned attempt saved is what was there before quarantine: keep it.
      saved: { ...saved, ...opened.resumed?.saved } as Record<string, unknown>,
      // A later trigger (or this event, delivered again) runs containment again.
      containmentFailed: failed,
      ...(failed
        ? {
            failedAt: now().toISOString(),
            failureReason: steps
              .filter((s) => s.outcome === 'failed')
              .map((s) => `${s.step}: ${s.detail}`)
              .join('; '),
          }
        : {}),
    },
    [...steps],
  );
}

/**
 * Starts the workflow and says so at once (a delivery that joins during the tidy-up must
 * not start it again), tidies the interim rules, and throws when the workflow did not start
 * or the site is not isolated (so the event runs again).
 */
async function handOver(
  deps: ContainDeps,
  opened: Opened,
  contained: Contained,
  final: IncidentRecord,
): Promise<ContainOutcome> {
  const { store, now } = deps;
  const { base, policy, attempt } = opened;
  const { incidentId, site } = base;
  const { steps, failed, isolatedAt, interim } = contained;
  const workflow = await startWorkflow(deps, opened.record, final).then(
    async () => {
      await store.updateIncident(incidentId, { workflowStartedAt: now().toISOString(), workflowAttempt: attempt });
      return { ok: true as const };
    },
    (error: unknown) => ({ ok: false as const, error: error as Error }),
  );
  if (failed) deps.metric('ContainmentFailed', 1);
  const after: StepRecord[] = [];
  if (interim.ruleIds.length > 0 && interim.group)
    after.push(await finishInterim(deps, interim.group, interim.ruleIds));
  if (!workflow.ok) {
    // The site is isolated; the workflow (evidence, notices) is not running. Throw, so
    // EventBridge delivers again and the joining delivery starts it.
    const { error } = workflow;
    after.push({
      step: 'start-workflow',
      outcome: 'failed',
      at: now().toISOString(),
      detail: `${error.name}: ${error.message}`,
    });
  }
  if (after.length > 0) {
    const recorded = store.updateIncident(incidentId, {}, after);
    await (workflow.ok ? recorded : recorded.catch(() => undefined));
  }
  if (!workflow.ok) throw workflow.error;
  if (policy === 'contain' && !isolatedAt) {
    // Not isolated: the incident is FAILED and says why. Throw, so that Lambda runs this event
    // again (asynchronous invocation retries a function error twice) and that run, joining
    // the FAILED incident, isolates again.
    throw new ContainmentIncompleteError(
      site,
      incidentId,
      steps.filter((s) => s.outcome === 'failed' && ISOLATION_STEPS.has(s.step)),
    );
  }
  if (isolatedAt) {
    deps.metric('TimeToIsolate', Date.parse(isolatedAt) - Date.parse(base.receivedAt), 'Milliseconds');
    deps.metric('DetectionToIsolation', Date.parse(isolatedAt) - Date.parse(base.detectedAt), 'Milliseconds');
  }
  return {
    outcome: failed ? 'failed' : policy === 'contain' ? 'contained' : 'shed',
    incidentId,
    site,
    isolatedAt,
    steps: [...steps],
  };
}

/** Off the critical path: the site is isolated already; now reach the canonical set. */
async function finishInterim(
  deps: ContainDeps,
  group: SiteGroupState,
  ruleIds: readonly string[],
): Promise<StepRecord> {
  await new Promise((resolve) => setTimeout(resolve, deps.finishQuarantineDelayMs()));
  const tidy = await step(
    'finish-quarantine',
    deps.now,
    () => deps.network.finishQuarantine(group, ruleIds),
    () => `${ruleIds.length} interim rules revoked`,
  );
  return tidy.record;
}

/** The steps that isolate the site's network (the ones a containment must not end without). */
const ISOLATION_STEPS = new Set(['quarantine-security-group', 'swap-network-acl']);

/** Incident states whose workflow should be running (containment has finished its part). */
const WORKFLOW_READY = new Set(['CONTAINED', 'FAILED', 'SHED', 'NOTIFIED']);

/**
 * A lock older than this whose incident never got past OPENING was abandoned: it is longer
 * than the containment function's timeout (infra/response/response-stack.ts CONTAIN_TIMEOUT).
 */
export const TAKEOVER_AFTER_MS = 6 * 60_000;

/** Every reason to ignore a trigger that the site record decides (none: act on it). */
function ignoreReason(
  recordResult: PromiseSettledResult<SiteRecord>,
  options: RespondOptions,
  siteId: string,
): Ignored | undefined {
  if (recordResult.status === 'rejected') {
    return recordResult.reason instanceof SiteRecordError
      ? ignored('unknown-site', recordResult.reason.message)
      : undefined;
  }
  const threshold = recordResult.value.response.severityThreshold;
  if (options.severity !== undefined && options.severity < threshold) {
    return ignored('below-threshold', `severity ${options.severity} is below ${siteId}'s threshold ${threshold}`);
  }
  return undefined;
}

/**
 * How long a trigger that found the site's lock held with no incident under it waits for
 * the holder to write its incident or give the lock back, before it throws (so that its
 * event runs again). The holder writes the incident in its second round of calls.
 */
export const JOIN_WAIT_MS = 60_000;

type Held =
  | {
      readonly incidentId: string;
      readonly resumed?: IncidentRecord;
      readonly attempt: number;
      /** A new trigger while a restore is open: contain again, the standby group too. */
      readonly recontain?: boolean;
    }
  | ContainOutcome;

/**
 * Takes the site's lock for this trigger (it qualifies: the record said so), or joins the
 * incident that holds it, or takes that incident over (abandoned, or its containment
 * failed). A lock with no incident under it belongs to a trigger that has not written its
 * incident yet, or that is giving the lock back (its record said to ignore it): wait, and
 * try the lock again, rather than join an incident that may never exist.
 */
async function holdLock(
  deps: ContainDeps,
  siteId: string,
  incidentId: string,
  triggerItem: TriggerRecord,
  record: SiteRecord,
  first: Awaited<ReturnType<IncidentStore['openOrJoin']>> | undefined,
): Promise<Held> {
  const { store, now } = deps;
  const waitMs = deps.joinWaitMs ?? JOIN_WAIT_MS;
  const deadline = Date.now() + waitMs;
  let pause = 100;
  let lock = first ?? (await store.openOrJoin(siteId, incidentId, triggerItem.receivedAt));
  for (;;) {
    if (lock.opened) return { incidentId, attempt: 1 };
    const joined = lock.incidentId;
    const lockedAt = lock.lockedAt;
    const incident = await store.getIncident(joined);
    const why = takeOverReason(incident, lockedAt, now().toISOString());
    if (why && lockedAt && (await store.takeOver(siteId, joined, lockedAt, now().toISOString()))) {
      // The earlier attempt died before finishing, or failed: carry on with its incident and
      // saved state (what was there before quarantine).
      deps.metric(why === 'failed' ? 'ContainmentRetried' : 'ContainmentResumed', 1);
      const attempt = (incident?.containAttempt ?? 1) + (why === 'failed' ? 1 : 0);
      return { incidentId: joined, resumed: incident, attempt };
    }
    if (incident && restoreOpen(incident, lockedAt)) {
      // A restore is open: the site's new tasks run in its standby group (or serve again).
      // A new trigger about anything but the tasks already contained is a new compromise:
      // contain again, whichever group the tasks run in (one trigger of any number).
      const recorded = await store.recordTrigger(joined, triggerItem);
      const fresh =
        recorded === 'new' && !(triggerItem.taskArn && incident.containedTaskArns?.includes(triggerItem.taskArn));
      if (fresh && lockedAt && (await store.takeOver(siteId, joined, lockedAt, now().toISOString()))) {
        deps.metric('ContainedDuringRestore', 1);
        return { incidentId: joined, resumed: incident, attempt: (incident.containAttempt ?? 1) + 1, recontain: true };
      }
      return joinIncident(deps, siteId, incident, triggerItem, record, recorded);
    }
    if (incident) return joinIncident(deps, siteId, incident, triggerItem, record);
    if (Date.now() >= deadline) {
      throw new LockUnsettledError(siteId, joined, waitMs);
    }
    await new Promise((resolve) => setTimeout(resolve, pause / 2 + Math.random() * pause));
    pause = Math.min(pause * 2, 2_000);
    lock = await store.openOrJoin(siteId, incidentId, now().toISOString());
  }
}

/** Records the trigger on the site's open incident (and starts its workflow if a failed delivery did not). */
async function joinIncident(
  deps: ContainDeps,
  siteId: string,
  incident: IncidentRecord,
  triggerItem: TriggerRecord,
  record: SiteRecord,
  recorded?: 'new' | 'updated' | 'duplicate',
): Promise<ContainOutcome> {
  const { store, now } = deps;
  const outcome = recorded ?? (await store.recordTrigger(incident.incidentId, triggerItem));
  deps.metric('TriggersJoined', 1);
  // A delivery whose handler failed to start the workflow, or to say it had (and threw, so
  // the event ran again): start it now; an execution of its name already there is it.
  if (workflowPending(incident)) {
    await startWorkflow(deps, record, incident);
    await store.updateIncident(
      incident.incidentId,
      { workflowStartedAt: now().toISOString(), workflowAttempt: incident.containAttempt ?? 1 },
      [{ step: 'start-workflow', outcome: 'done', at: now().toISOString(), detail: 'on a later delivery' }],
    );
  }
  return { outcome: 'joined', incidentId: incident.incidentId, site: siteId, trigger: outcome };
}

/**
 * Why a trigger that found the site's lock held should take the incident over, if it should:
 * - `abandoned`: the lock is older than any containment can run and its incident never got
 *   past OPENING (the Lambda died);
 * - `failed`: containment failed (the incident is FAILED by containment, not by its workflow
 *   or a restore) and nobody has taken it over since (the failure is newer than the lock).
 * The takeover itself is conditional on the lock as seen, so one trigger wins.
 */
function takeOverReason(
  incident: IncidentRecord | undefined,
  lockedAt: string | undefined,
  now: string,
): 'abandoned' | 'failed' | undefined {
  if (!lockedAt) return undefined;
  if (
    incident?.status === 'FAILED' &&
    incident.containmentFailed === true &&
    !incident.restoreStartedAt &&
    Date.parse(incident.failedAt ?? '') >= Date.parse(lockedAt)
  ) {
    return 'failed';
  }
  if (Date.parse(now) - Date.parse(lockedAt) < TAKEOVER_AFTER_MS) return undefined;
  return !incident || incident.status === 'OPENING' ? 'abandoned' : undefined;
}

/**
 * A restore of this incident is under way (or failed after it began) and nobody has
 * contained the site again since it began: the lock is older than the restore.
 */
function restoreOpen(incident: IncidentRecord, lockedAt: string | undefined): boolean {
  if (!incident.restoreStartedAt || !lockedAt) return false;
  const open =
    incident.status === 'RESTORING' ||
    incident.status === 'RESTORED' ||
    (incident.status === 'FAILED' && incident.containmentFailed !== true);
  return open && Date.parse(incident.restoreStartedAt) >= Date.parse(lockedAt);
}

/** The incident's workflow should run for its latest containment attempt and was not started. */
function workflowPending(incident: IncidentRecord): boolean {
  if (!WORKFLOW_READY.has(incident.status)) return false;
  if (!incident.workflowStartedAt) return true;
  return (incident.workflowAttempt ?? 1) < (incident.containAttempt ?? 1);
}

/** Reads the site's listener rule's actions (what release puts back). */
function readListenerRule(deps: ContainDeps, listenerRuleArn: string): Promise<StepResult<Action[]>> {
  return step('read-listener-rule', deps.now, () => deps.listenerRules.readActions(listenerRuleArn));
}

/** Denies the task role's sessions issued before now (credentials already taken out of the task). */
function revokeSessions(deps: ContainDeps, record: SiteRecord, saved: SavedState): Promise<StepResult<unknown>> {
  const issuedBefore = deps.now().toISOString();
  saved.rolePolicy = { roleName: record.taskRoleName, policyName: SESSION_REVOCATION_POLICY };
  return step(
    'revoke-task-role-sessions',
    deps.now,
    () => deps.taskRoleSessions.revokeIssuedBefore(record.taskRoleName, issuedBefore),
    // What the deny covers, and what it does not: runtime/contain/adapters/iam-task-role-sessions.ts
    // (IAM User Guide, "Revoke IAM role temporary security credentials").
    () =>
      `denies ${record.taskRoleName}'s credentials issued before ${issuedBefore}, that is credentials already taken out of the task; credentials ECS issues to the contained task from now on are not denied (the network quarantine holds it)`,
  );
}

/**
 * The standby group quarantined like the site's own (egress now, ingress once the listener
 * no longer forwards), its rules read by id and revoked by their properties (no interim form
 * to tidy). Its rules as they were are saved once, for release and the next restore.
 */
function quarantineStandbyGroup(
  deps: ContainDeps,
  record: SiteRecord,
  groupId: string,
  saved: SavedState,
  standby: { group?: SiteGroupState },
): Promise<StepResult<unknown>> {
  return step(
    'quarantine-standby-group',
    deps.now,
    async () => {
      const group = await deps.network.readGroup(groupId);
      if (!group) throw new Error(`standby group ${groupId} of ${record.site} not found`);
      saved.standbySecurityGroup = { groupId, ingress: group.ingress, egress: group.egress };
      standby.group = group;
      return deps.network.quarantineGroup(group, {
        fastFirst: false,
        holdIngress: true,
        logsEndpointGroupId: quarantineTargetsOf(record, deps.config).logsEndpointGroupId,
      });
    },
    (o) => `${groupId}: ingress ${o.ingress}, egress ${o.egress} (the site's tasks ran there for a restore)`,
  );
}

/** The steps that isolate the site's network: its group's egress, and its subnets' ACL. */
function isolateNetwork(
  deps: ContainDeps,
  record: SiteRecord,
  reads: NetworkReads,
  saved: SavedState,
  interim: Interim,
): Promise<StepResult<unknown>>[] {
  const steps = [quarantineSiteGroup(deps, record, reads, saved, interim)];
  if (hasOwnSubnets(record)) steps.push(...swapNetworkAcl(deps, record, reads.aclSettled, saved));
  return steps;
}

function failedStep(name: string, now: () => Date, detail: string): Promise<StepResult<never>> {
  return Promise.resolve({ ok: false, record: { step: name, outcome: 'failed', at: now().toISOString(), detail } });
}

/** The site's group at the quarantine set, ingress held back (its rules as they were saved first). */
function quarantineSiteGroup(
  deps: ContainDeps,
  record: SiteRecord,
  reads: NetworkReads,
  saved: SavedState,
  interim: Interim,
): Promise<StepResult<unknown>> {
  const { now } = deps;
  const { group, groupSettled } = reads;
  if (!group) {
    const why =
      groupSettled.status === 'rejected'
        ? `${(groupSettled.reason as Error).name}: ${(groupSettled.reason as Error).message}`
        : `no group ${record.securityGroupId} tagged for ${record.site}`;
    return failedStep('quarantine-security-group', now, why);
  }
  saved.securityGroup = { groupId: record.securityGroupId, ingress: group.ingress, egress: group.egress };
  let attempt = 0;
  return step(
    'quarantine-security-group',
    now,
    async () => {
      // A retry after throttling starts from the group as it is now.
      const current = attempt++ === 0 ? group : await deps.network.readSiteGroup(record.site, record.securityGroupId);
      if (!current) throw new Error(`group ${record.securityGroupId} disappeared`);
      const outcome = await deps.network.quarantineGroup(current, {
        fastFirst: true,
        holdIngress: true,
        logsEndpointGroupId: quarantineTargetsOf(record, deps.config).logsEndpointGroupId,
      });
      interim.ruleIds = outcome.interimRuleIds;
      interim.group = current;
      return outcome;
    },
    (o) =>
      `ingress ${o.ingress}, egress ${o.egress}${o.interimRuleIds.length ? ` (${o.interimRuleIds.length} rules rewritten in place to reach nothing but the logs endpoint; revoked later)` : ''}${o.logsRuleAdded ? ', logs endpoint rule added' : ''}${o.fastPathFailure ? ` (the one-call rewrite was refused: ${o.fastPathFailure})` : ''}`,
  );
}

/** The site's subnets moved to the deny-all ACL (their associations saved first), one step each. */
function swapNetworkAcl(
  deps: ContainDeps,
  record: SiteRecord,
  aclSettled: PromiseSettledResult<readonly AclAssociation[] | undefined>,
  saved: SavedState,
): Promise<StepResult<unknown>>[] {
  const { now } = deps;
  // The deny-all ACL of the site's own VPC (a cell's, or the platform's).
  const { quarantineAclId } = quarantineTargetsOf(record, deps.config);
  const associations = aclSettled.status === 'fulfilled' ? (aclSettled.value ?? []) : [];
  if (aclSettled.status === 'fulfilled' && associations.length === 0 && record.subnetIds?.length) {
    // Nothing on the site's own ACL: a containment run again (after a failure) finds its
    // subnets on the deny-all ACL already. Say so only if every one of them is.
    const subnetIds = [...record.subnetIds];
    return [
      step(
        'swap-network-acl',
        now,
        async () => {
          const onQuarantine = await deps.network.subnetsOnQuarantineAcl(subnetIds, quarantineAclId);
          const open = subnetIds.filter((id) => !onQuarantine.has(id));
          if (open.length > 0) {
            throw new Error(
              `no subnet is associated with ${record.site}'s network ACL, and ${open.join(', ')} not with the deny-all ACL`,
            );
          }
        },
        () => `${subnetIds.join(', ')} already on the deny-all ACL`,
      ),
    ];
  }
  if (aclSettled.status === 'rejected' || associations.length === 0) {
    const why =
      aclSettled.status === 'rejected'
        ? String((aclSettled.reason as Error).message)
        : `no subnet is associated with ${record.site}'s network ACL`;
    return [failedStep('swap-network-acl', now, why)];
  }
  saved.networkAcl = {
    associations: associations.map(({ subnetId, networkAclId }) => ({ subnetId, networkAclId })),
  };
  return associations.map((a, i) =>
    step(
      'swap-network-acl',
      now,
      async () => {
        const newAssociationId = await deps.network.swapToQuarantineAcl(a.associationId, quarantineAclId);
        const entry = saved.networkAcl?.associations[i];
        if (entry) entry.quarantineAssociationId = newAssociationId;
        return newAssociationId;
      },
      () => `${a.subnetId} now on the deny-all ACL`,
    ),
  );
}

/**
 * The workflow execution of a containment attempt: the incident id for the first, with the
 * attempt number after (a FAILED containment run again is a new execution; the first one
 * ran the FAILED incident's evidence and notice). Execution names are at most 80 characters;
 * an incident id is at most 48.
 */
export function workflowExecutionName(incident: Pick<IncidentRecord, 'incidentId' | 'containAttempt'>): string {
  const attempt = incident.containAttempt ?? 1;
  return attempt > 1 ? `${incident.incidentId}-attempt-${attempt}` : incident.incidentId;
}

/**
 * Starts the incident's workflow, once. Step Functions API reference, StartExecution: "For a
 * STANDARD workflow, if you call StartExecution with the same name and input as a running
 * execution, the call succeeds ... If the execution is closed or if the input is different,
 * it returns a 400 ExecutionAlreadyExists error." The name belongs to this incident and
 * containment attempt (workflowExecutionName), so an execution of that name is the one
 * wanted, whatever input a later delivery would give it now.
 */
async function startWorkflow(deps: ContainDeps, record: SiteRecord, incident: IncidentRecord): Promise<void> {
  try {
    await sendStartExecution(deps, record, incident);
  } catch (error) {
    if ((error as Error).name !== 'ExecutionAlreadyExists') throw error;
  }
}

async function sendStartExecution(deps: ContainDeps, record: SiteRecord, incident: IncidentRecord): Promise<void> {
  await deps.sfn.send(
    new StartExecutionCommand({
      stateMachineArn: deps.config.stateMachineArn,
      name: workflowExecutionName(incident),
      input: JSON.stringify({
        incidentId: incident.incidentId,
        site: incident.site,
        status: incident.status,
        policy: incident.policy,
        drill: incident.drill,
        forensicHoldSeconds: record.response.forensicHoldMinutes * 60,
        autoRestore: record.response.autoRestore,
        approvalTimeoutSeconds: (record.response.approvalTimeoutHours ?? 24) * 3600,
      }),
    }),
  );
}

function ignoredOutcome(why: Ignored, deps: ContainDeps): ContainOutcome {
  deps.metric(`EventsIgnored`, 1);
  return { outcome: 'ignored', code: why.code, reason: why.message };
}
