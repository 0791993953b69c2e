import { createHash } from 'node:crypto';
import { UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { hasOwnSubnets, type SiteRecord, siteRecordParameterName } from '../../contracts/site-record';
import { type ContainDeps, respondForSite, type SavedState } from '../contain/contain';
import { type ApprovalDeps, ApprovalError, approveIncident } from '../recovery/approval';
import { type ReleaseDeps, ReleaseError, releaseIncident } from '../recovery/release';
import { type RotationDeps, RotationError, type RotationMode, rotateSiteCredentials } from '../recovery/rotate';
import type { IncidentRecord, StepRecord, TriggerRecord } from '../shared/incident-store';
import { loadSiteRecord, SiteRecordError } from '../shared/site-records';
import { AuditLog, type Caller } from './audit-log';
import {
  type ConsoleAction,
  type ConsoleRequest,
  consoleRequestSchema,
  type ConsoleResponse,
  type ConsoleResult,
  type DrillResult,
  type IncidentsResult,
  type IncidentView,
  type QuarantineResult,
  type ReleaseOutcome,
  type RequestOf,
  type RestoreResult,
  type ResultMap,
  type RotateResult,
  type SiteStatus,
  type StatusResult,
  type ApproveResult,
} from '../../contracts/console-api';
import { type DrillEvent, drillEvent } from './drill';
import {
  ActionFailedError,
  ActionRefusedError,
  ConsoleError,
  InvalidRequestError,
  UnknownIncidentError,
  UnknownSiteError,
} from './errors';
import {
  describeSiteServices,
  incidentSortKey,
  incidentsOfSite,
  listSiteRecords,
  oldestRunningTaskStart,
  openIncidents,
  runningDigests,
} from './queries';
import { incidentView, waitingForApproval } from './views';

/**
 * The ops console's business logic: one function per action, each against injected
 * dependencies (the real clients in Lambda, the AWS model in tests). Quarantine goes through
 * containment's own `respondForSite`; release, approval and rotation through the recovery
 * plane's own functions; a restore through the incident workflow.
 */
export type ConsoleDeps = ContainDeps &
  ReleaseDeps &
  RotationDeps &
  ApprovalDeps & {
    readonly db: DynamoDBDocumentClient;
    readonly tableName: string;
    /** Sends a drill finding to EventBridge (the drill rule hands it to containment). */
    readonly putEvents: (event: DrillEvent) => Promise<void>;
    readonly sleep: (ms: number) => Promise<void>;
    readonly newId: () => string;
    /** How long a drill waits for containment, unless the request says. */
    readonly drillTimeoutMs: number;
    /**
     * How long the console's API waits for an answer (its integration timeout): a drill waits at most
     * this less {@link ANSWER_MARGIN_MS}, so that its release and its answer still arrive.
     */
    readonly answerWithinMs?: number;
    readonly drillPollMs: number;
  };

/** What a drill leaves of the API's integration timeout for its release and answer. */
export const ANSWER_MARGIN_MS = 8_000;

/** Runs one console request: validate, audit, act, audit the outcome. Typed errors come back as `ok: false`. */
export async function runConsole(payload: unknown, caller: Caller, deps: ConsoleDeps): Promise<ConsoleResponse> {
  const audit = new AuditLog(deps.db, deps.tableName, deps.environment, deps.now, deps.newId);
  const parsed = consoleRequestSchema.safeParse(payload);
  const claimed = (payload as { action?: unknown } | null)?.action;
  const action = parsed.success ? parsed.data.action : typeof claimed === 'string' ? claimed.slice(0, 64) : 'unknown';
  const entry = await audit.begin(action, payload, caller);
  try {
    if (!parsed.success) {
      throw new InvalidRequestError(
        `not a console request: ${parsed.error.issues
          .slice(0, 5)
          .map((i) => `${i.path.join('.') || '(request)'} ${i.message}`)
          .join('; ')}`,
      );
    }
    const result = await dispatch(parsed.data, caller, deps);
    // The action happened: a record that cannot be completed stays `started`, which says so.
    await audit.finish(entry, { ok: true, summary: summarize(parsed.data, result) }).catch(() => undefined);
    return { ok: true, action: parsed.data.action, requestId: caller.requestId, result } as ConsoleResponse;
  } catch (error) {
    const body =
      error instanceof ConsoleError
        ? error.toBody()
        : { name: (error as Error).name ?? 'Error', message: String((error as Error).message ?? error) };
    await audit.finish(entry, { ok: false, error: body }).catch(() => undefined);
    if (error instanceof ConsoleError) return { ok: false, action, requestId: caller.requestId, error: error.toBody() };
    throw error;
  }
}

type ActionHandler<A extends ConsoleAction> = (
  request: RequestOf<A>,
  caller: Caller,
  deps: ConsoleDeps,
) => Promise<ResultMap[A]>;

const ACTIONS: { readonly [A in ConsoleAction]: ActionHandler<A> } = {
  status,
  incidents,
  quarantine,
  release,
  restore,
  'rotate-credentials': rotateCredentials,
  approve,
  drill,
};

function dispatch(request: ConsoleRequest, caller: Caller, deps: ConsoleDeps): Promise<ConsoleResult> {
  const handler = ACTIONS[request.action] as ActionHandler<ConsoleAction>;
  return handler(request as never, caller, deps);
}

// ---- helpers ---------------------------------------------------------------------------

async function siteRecordOf(deps: ConsoleDeps, site: string): Promise<SiteRecord> {
  try {
    return await loadSiteRecord(deps.ssm, deps.environment, site);
  } catch (error) {
    if (error instanceof SiteRecordError) {
      throw new UnknownSiteError(
        site,
        error.reason === 'missing'
          ? `no site ${site} in ${deps.environment} (no site record ${siteRecordParameterName(deps.environment, site)}); list the sites with \`siteops status\``
          : error.message,
        { cause: error },
      );
    }
    throw error;
  }
}

async function incidentOf(deps: ConsoleDeps, incidentId: string): Promise<IncidentRecord> {
  const incident = await deps.store.getIncident(incidentId);
  if (!incident) throw new UnknownIncidentError(incidentId);
  return incident;
}

function seconds(from: string | number | undefined, to: string | undefined): number | undefined {
  const a = typeof from === 'number' ? from : Date.parse(from ?? '');
  const b = Date.parse(to ?? '');
  return Number.isFinite(a) && Number.isFinite(b) ? Math.round(b - a) / 1000 : undefined;
}

function step(deps: ConsoleDeps, name: string, detail: string): StepRecord {
  return { step: name, outcome: 'done', at: deps.now().toISOString(), detail };
}

// ---- status ----------------------------------------------------------------------------

async function status(request: RequestOf<'status'>, _caller: Caller, deps: ConsoleDeps): Promise<StatusResult> {
  const listed = request.site
    ? { records: [await siteRecordOf(deps, request.site)], unreadable: [] }
    : await listSiteRecords(deps.ssm, deps.environment);
  const clusters = [...new Set(listed.records.map((r) => r.clusterArn))];
  const single = request.site ? listed.records[0]?.serviceName : undefined;
  const [services, digests, open] = await Promise.all([
    Promise.all(
      clusters.map((c) =>
        describeSiteServices(
          deps.ecs,
          c,
          listed.records.filter((r) => r.clusterArn === c).map((r) => r.serviceName),
        ).then((m) => [c, m] as const),
      ),
    ).then((entries) => new Map(entries)),
    Promise.all(clusters.map((c) => runningDigests(deps.ecs, c, single).then((m) => [c, m] as const))).then(
      (entries) => new Map(entries),
    ),
    openIncidents(
      deps.db,
      deps.tableName,
      listed.records.map((r) => r.site),
    ),
  ]);
  const sites = listed.records.map((record): SiteStatus => {
    const service = services.get(record.clusterArn)?.get(record.serviceName);
    const running = [...(digests.get(record.clusterArn)?.get(record.serviceName)?.digests ?? [])].sort();
    const incident = open.get(record.site);
    return {
      site: record.site,
      cell: record.cell,
      isolation: record.isolation,
      policy: record.response.policy,
      digest: running.length > 0 ? running.join(',') : record.image.digest,
      recordDigest: record.image.digest,
      runningDigests: running,
      tasks: { running: service?.running ?? 0, desired: service?.desired ?? 0, pending: service?.pending ?? 0 },
      containment: incident ? incident.status.toLowerCase() : 'none',
      openIncident: incident
        ? {
            incidentId: incident.incidentId,
            status: incident.status,
            detectedAt: incident.detectedAt,
            isolatedAt: incident.isolatedAt,
            drill: Boolean(incident.drill),
            waitingForApproval: waitingForApproval(incident),
          }
        : undefined,
    };
  });
  return { environment: deps.environment, sites, unreadable: listed.unreadable };
}

// ---- incidents -------------------------------------------------------------------------

/**
 * Most bytes of incidents in one answer. Lambda: "For synchronous invocations, the maximum
 * payload size is 6 MB" (Invoke API reference); one page stays well below it. A single
 * incident always fits: it is one DynamoDB item, at most 400 KB.
 */
export const INCIDENTS_PAGE_BYTES = 1024 * 1024;

interface IncidentsQuery {
  readonly site?: string;
  readonly state?: string;
  readonly since?: string;
  readonly until?: string;
}

function queryHash(query: IncidentsQuery): string {
  return createHash('sha256')
    .update(JSON.stringify([query.site ?? '', query.state ?? '', query.since ?? '', query.until ?? '']))
    .digest('hex')
    .slice(0, 16);
}

/** The next page starts after `after` (the last incident's sort key), for this query only. */
function pageToken(after: string, query: IncidentsQuery): string {
  return Buffer.from(JSON.stringify({ after, query: queryHash(query) })).toString('base64url');
}

function pageStart(token: string, query: IncidentsQuery): string {
  let parsed: { after?: unknown; query?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as typeof parsed;
  } catch {
    throw new InvalidRequestError('nextToken is not a token the console gave');
  }
  if (typeof parsed?.after !== 'string' || typeof parsed.query !== 'string') {
    throw new InvalidRequestError('nextToken is not a token the console gave');
  }
  if (parsed.query !== queryHash(query)) {
    throw new InvalidRequestError(
      'nextToken belongs to another query: ask with the same site, state, since and until as the first page',
    );
  }
  return parsed.after;
}

async function incidents(
  request: RequestOf<'incidents'>,
  _caller: Caller,
  deps: ConsoleDeps,
): Promise<IncidentsResult> {
  if (request.since && request.until && Date.parse(request.since) > Date.parse(request.until)) {
    throw new InvalidRequestError(`since (${request.since}) is after until (${request.until})`);
  }
  // gsi1sk starts with detectedAt as written (UTC, milliseconds): compare in that form.
  const since = request.since ? new Date(request.since).toISOString() : undefined;
  const until = request.until ? new Date(request.until).toISOString() : undefined;
  if (request.incidentId) {
    const incident = await incidentOf(deps, request.incidentId);
    return { incidents: [incidentView(incident, await deps.store.triggersOf(incident.incidentId))], truncated: false };
  }
  const query: IncidentsQuery = { site: request.site, state: request.state, since, until };
  const before = request.nextToken ? pageStart(request.nextToken, query) : undefined;
  const limit = request.limit ?? 50;
  const sites = request.site
    ? [request.site]
    : (await listSiteRecords(deps.ssm, deps.environment)).records.map((r) => r.site);
  const found: IncidentRecord[] = [];
  let truncated = false;
  for (let i = 0; i < sites.length; i += 8) {
    const pages = await Promise.all(
      sites.slice(i, i + 8).map((site) =>
        incidentsOfSite(deps.db, deps.tableName, site, {
          since,
          until,
          before,
          limit,
          status: request.state,
          maxBytes: INCIDENTS_PAGE_BYTES,
        }),
      ),
    );
    for (const page of pages) {
      found.push(...page.incidents);
      truncated ||= page.truncated;
    }
  }
  if (request.site && found.length === 0 && !before) await siteRecordOf(deps, request.site); // unknown site: say so
  found.sort((a, b) => (incidentSortKey(a) < incidentSortKey(b) ? 1 : -1));
  // Newest first, up to `limit` and the page's size bound.
  const views: IncidentView[] = [];
  let bytes = 0;
  for (const incident of found) {
    const view = incidentView(incident);
    const size = Buffer.byteLength(JSON.stringify(view));
    if (views.length >= limit || (views.length > 0 && bytes + size > INCIDENTS_PAGE_BYTES)) break;
    views.push(view);
    bytes += size;
  }
  const more = truncated || found.length > views.length;
  const last = found[views.length - 1];
  return {
    incidents: views,
    truncated: more,
    ...(more && last ? { nextToken: pageToken(incidentSortKey(last), query) } : {}),
  };
}

// ---- quarantine ------------------------------------------------------------------------

async function quarantine(
  request: RequestOf<'quarantine'>,
  caller: Caller,
  deps: ConsoleDeps,
): Promise<QuarantineResult> {
  // Known site first: containment would take (and give back) the site's lock before finding out.
  const record = await siteRecordOf(deps, request.site);
  const at = deps.now().toISOString();
  const trigger: TriggerRecord = {
    key: `operator#${deps.newId()}`,
    kind: 'operator',
    eventId: caller.requestId,
    receivedAt: at,
    detectedAt: at,
    reason: `${caller.by}: ${request.reason}`.slice(0, 500),
  };
  const outcome = await respondForSite(request.site, trigger, deps, {
    describeGroup: true,
    describeAcl: hasOwnSubnets(record),
    drill: false,
    forcePolicy: 'contain',
  });
  switch (outcome.outcome) {
    case 'ignored':
      if (outcome.code === 'unknown-site') throw new UnknownSiteError(request.site, outcome.reason);
      throw new ActionFailedError(`containment did not act: ${outcome.reason}`);
    case 'joined': {
      const open = await deps.store.getIncident(outcome.incidentId);
      return {
        outcome: 'joined',
        site: request.site,
        incidentId: outcome.incidentId,
        status: open?.status,
        notContained: open?.status !== 'CONTAINED' && open?.status !== 'OPENING',
      };
    }
    case 'contained':
    case 'failed':
      return {
        outcome: outcome.outcome,
        site: request.site,
        incidentId: outcome.incidentId,
        isolatedAt: outcome.isolatedAt,
        timeToIsolateSeconds: seconds(at, outcome.isolatedAt),
        steps: outcome.steps,
      };
    default:
      // forcePolicy 'contain' never sheds or only notifies.
      throw new ActionFailedError(`containment answered ${outcome.outcome} for ${request.site}`);
  }
}

// ---- release ---------------------------------------------------------------------------

const RELEASABLE = new Set(['CONTAINED', 'SHED', 'FAILED', 'NOTIFIED', 'RELEASED']);

async function release(request: RequestOf<'release'>, caller: Caller, deps: ConsoleDeps): Promise<ReleaseOutcome> {
  const incident = await incidentOf(deps, request.incidentId);
  if (!RELEASABLE.has(incident.status)) {
    throw new ActionRefusedError(
      `incident ${incident.incidentId} is ${incident.status}; only a contained, shed, notified or failed incident can be released${incident.status === 'RESTORING' ? ' (a restore is running)' : ''}`,
    );
  }
  let result;
  try {
    result = await releaseIncident(deps, {
      incidentId: incident.incidentId,
      releasedBy: caller.by,
      reason: request.reason || 'released by an operator (false positive)',
      force: request.force,
    });
  } catch (error) {
    if (error instanceof SiteRecordError) {
      throw new ActionRefusedError(
        `the site ${incident.site} of incident ${incident.incidentId} is not a deployed Bulkhead site any more: ${error.message}`,
        { cause: error },
      );
    }
    if (error instanceof ReleaseError) throw new ActionFailedError(error.message, { cause: error });
    throw error;
  }
  if (result.outcome === 'refused') return result;
  // A workflow still waiting for a decision is told "false positive": it finds the incident
  // released and ends, instead of waiting (and later offering a restore of a released site).
  let workflowAnswered = false;
  if (waitingForApproval(incident)) {
    try {
      const answer = await approveIncident(deps, {
        incidentId: incident.incidentId,
        decision: 'false-positive',
        by: caller.by,
      });
      workflowAnswered = answer.outcome === 'approved';
    } catch (error) {
      if (!(error instanceof ApprovalError)) throw error;
    }
  }
  return result.outcome === 'released'
    ? { ...result, forced: Boolean(request.force) && incident.status !== 'RELEASED', workflowAnswered }
    : { ...result, workflowAnswered };
}

// ---- restore ---------------------------------------------------------------------------

/** Step Functions execution names: at most 80 characters. */
function restoreExecutionName(incidentId: string, suffix: string): string {
  const tail = `-restore-${suffix}`;
  return `${incidentId.slice(0, 80 - tail.length)}${tail}`.replace(/[^A-Za-z0-9_-]/g, '-');
}

async function restore(request: RequestOf<'restore'>, caller: Caller, deps: ConsoleDeps): Promise<RestoreResult> {
  const incident = await incidentOf(deps, request.incidentId);
  const id = incident.incidentId;
  if (incident.status === 'RESTORING') {
    throw new ActionRefusedError(
      `a restore of ${id} is running (started ${incident.restoreStartedAt ?? '?'} by ${incident.restoreRequestedBy ?? '?'})`,
    );
  }
  if (incident.status !== 'CONTAINED' && incident.status !== 'FAILED') {
    throw new ActionRefusedError(
      `incident ${id} is ${incident.status}; only a contained (or failed) incident can be restored`,
    );
  }
  const saved = (incident.saved ?? {}) as SavedState;
  if (!saved.securityGroup || !saved.listenerRule) {
    throw new ActionRefusedError(
      `incident ${id} saved no security group or listener rule (policy ${incident.policy}; the site was not contained): nothing to restore to`,
    );
  }
  const record = await siteRecordOf(deps, incident.site);
  if (waitingForApproval(incident)) {
    const answer = await approveOrRefuse(deps, {
      incidentId: id,
      decision: 'restore',
      digest: request.digest,
      by: caller.by,
    });
    if (answer.outcome === 'already-decided') {
      throw new ActionRefusedError(
        `incident ${id} was already decided (${answer.decision ?? '?'} by ${answer.by ?? '?'} at ${answer.at ?? '?'})`,
      );
    }
    return { outcome: 'approved', incidentId: id, site: incident.site, digest: request.digest };
  }
  if (
    incident.status === 'CONTAINED' &&
    !incident.approvalRequestedAt &&
    !incident.approvedAt &&
    !incident.approvalTimedOutAt
  ) {
    // The incident's own workflow has not decided yet: starting a second one would race it.
    if (record.response.autoRestore) {
      throw new ActionRefusedError(
        `${incident.site} restores on its own (autoRestore); incident ${id}'s workflow is keeping evidence before it restores`,
      );
    }
    if (!incident.notifiedAt) {
      throw new ActionRefusedError(
        `incident ${id}'s workflow is still keeping evidence and notifying; it then waits for a decision. Run this again in a minute`,
      );
    }
  }
  const now = deps.now();
  const isolated = Date.parse(incident.isolatedAt ?? '');
  const holdSeconds = record.response.forensicHoldMinutes * 60;
  const holdUntil =
    incident.holdUntil ??
    new Date(
      Math.max(now.getTime(), (Number.isFinite(isolated) ? isolated : now.getTime()) + holdSeconds * 1000),
    ).toISOString();
  const name = restoreExecutionName(id, deps.newId().replace(/-/g, '').slice(0, 8));
  const started = await deps.sfn.send(
    new StartExecutionCommand({
      stateMachineArn: deps.config.stateMachineArn,
      name,
      input: JSON.stringify({
        incidentId: id,
        site: incident.site,
        status: incident.status,
        policy: incident.policy,
        drill: Boolean(incident.drill),
        mode: 'restore',
        holdUntil,
        forensicHoldSeconds: holdSeconds,
        decision: { decision: 'restore', ...(request.digest ? { digest: request.digest } : {}), by: caller.by },
      }),
    }),
  );
  await deps.store.updateIncident(id, {}, [
    step(
      deps,
      'restore-requested',
      `by ${caller.by}${request.digest ? ` on ${request.digest}` : ''} (execution ${name})`,
    ),
  ]);
  return {
    outcome: 'started',
    incidentId: id,
    site: incident.site,
    digest: request.digest,
    executionName: name,
    executionArn: started.executionArn,
  };
}

// ---- rotate-credentials ----------------------------------------------------------------

/** An open incident in these states (policy contain, not reopened) means the site is contained. */
const CONTAINED_STATES = new Set(['OPENING', 'CONTAINED', 'FAILED']);

async function rotateCredentials(
  request: RequestOf<'rotate-credentials'>,
  caller: Caller,
  deps: ConsoleDeps,
): Promise<RotateResult> {
  const record = await siteRecordOf(deps, request.site);
  const openId = await deps.store.openIncidentOf(request.site);
  const open = openId ? await deps.store.getIncident(openId) : undefined;
  if (open?.status === 'RESTORING') {
    throw new ActionRefusedError(
      `a restore of ${request.site} is running (incident ${open.incidentId}); it rotates the password itself`,
    );
  }
  // Contained (its tasks must lose the database now): in place, every earlier password
  // stops. Serving (no incident, or one that leaves it serving): the other account, so the
  // running tasks keep connecting (runtime/recovery/rotate.ts).
  const contained =
    open !== undefined && open.policy === 'contain' && CONTAINED_STATES.has(open.status) && !open.restoredAt;
  const mode: RotationMode = contained ? 'incident' : 'serving';
  let rotated;
  try {
    const runningSince =
      mode === 'serving' ? await oldestRunningTaskStart(deps.ecs, record.clusterArn, record.serviceName) : undefined;
    rotated = await rotateSiteCredentials(deps, request.site, record.secretArn, mode, { runningSince });
  } catch (error) {
    if (error instanceof RotationError) throw new ActionFailedError(error.message, { cause: error });
    throw error;
  }
  const detail = `by ${caller.by}: secret version ${rotated.currentVersionId} (${rotated.account}) is AWSCURRENT; ${
    rotated.mode === 'incident'
      ? `every earlier password stopped, ${rotated.sessionsKilled} open session(s) killed`
      : 'the previous account works until the next rotation'
  }`;
  if (open) {
    // Contained: its tasks are kept as they are; a restore starts tasks with the new password.
    await deps.store.updateIncident(open.incidentId, {}, [step(deps, 'rotate-credentials', detail)]);
    return { ...rotated, site: request.site, incidentId: open.incidentId, redeployed: false };
  }
  // Serving: tasks read the secret when they start, so new tasks take the new password.
  await deps.ecs.send(
    new UpdateServiceCommand({ cluster: record.clusterArn, service: record.serviceName, forceNewDeployment: true }),
  );
  return { ...rotated, site: request.site, redeployed: true };
}

// ---- approve ---------------------------------------------------------------------------

async function approveOrRefuse(deps: ConsoleDeps, request: Parameters<typeof approveIncident>[1]) {
  try {
    return await approveIncident(deps, request);
  } catch (error) {
    if (error instanceof ApprovalError) throw new ActionRefusedError(error.message, { cause: error });
    throw error;
  }
}

async function approve(request: RequestOf<'approve'>, caller: Caller, deps: ConsoleDeps): Promise<ApproveResult> {
  if (request.decision === 'false-positive' && request.digest) {
    throw new InvalidRequestError('a digest goes with the restore decision only');
  }
  const incident = await incidentOf(deps, request.incidentId);
  if (request.decision === 'restore' && ['RELEASED', 'RESTORED', 'CLOSED'].includes(incident.status)) {
    throw new ActionRefusedError(`incident ${incident.incidentId} is ${incident.status}; there is nothing to restore`);
  }
  return approveOrRefuse(deps, {
    incidentId: incident.incidentId,
    decision: request.decision,
    digest: request.digest,
    by: caller.by,
  });
}

// ---- drill -----------------------------------------------------------------------------

/** Containment rewrote rules to the interim form and has not yet revoked them (runtime/contain/contain.ts). */
function interimRulesPending(incident: IncidentRecord): boolean {
  const steps = incident.steps ?? [];
  return (
    steps.some((s) => s.step === 'quarantine-security-group' && /revoked later/.test(s.detail ?? '')) &&
    !steps.some((s) => s.step === 'finish-quarantine')
  );
}

async function drill(request: RequestOf<'drill'>, caller: Caller, deps: ConsoleDeps): Promise<DrillResult> {
  const record = await siteRecordOf(deps, request.site);
  const already = await deps.store.openIncidentOf(request.site);
  if (already) {
    throw new ActionRefusedError(
      `${request.site} has an open incident (${already}): a drill would join it instead of opening its own`,
    );
  }
  const tasks = await runningDigests(deps.ecs, record.clusterArn, record.serviceName);
  const taskArn = tasks.get(record.serviceName)?.taskArns[0];
  if (!taskArn) throw new ActionRefusedError(`${request.site} has no running task to drill on`);

  const findingId = `bulkhead-drill-${deps.newId()}`;
  const sent = deps.now();
  const { account, region } = deps.config.scope;
  await deps.putEvents(
    drillEvent({
      findingId,
      account,
      region,
      site: request.site,
      clusterArn: record.clusterArn,
      taskArn,
      serviceName: record.serviceName,
      severity: Math.max(8, record.response.severityThreshold),
      at: sent,
      requestedBy: caller.by,
    }),
  );

  // Wait (bounded) for containment to open and finish the drill's incident.
  const key = `finding#${findingId}`;
  const asked = request.timeoutSeconds ? request.timeoutSeconds * 1000 : deps.drillTimeoutMs;
  const timeoutMs =
    deps.answerWithinMs === undefined
      ? asked
      : Math.max(1_000, Math.min(asked, deps.answerWithinMs - ANSWER_MARGIN_MS));
  const deadline = sent.getTime() + timeoutMs;
  let incident: IncidentRecord | undefined;
  for (;;) {
    const openId = await deps.store.openIncidentOf(request.site);
    const found = openId ? await deps.store.getIncident(openId) : undefined;
    if (found && found.firstTrigger !== key) {
      throw new ActionFailedError(
        `incident ${found.incidentId} opened on ${request.site} during the drill from another trigger (${found.firstTrigger}); it is not the drill's and was left as it is`,
      );
    }
    // Containment is done when the incident left OPENING and any interim rules it wrote
    // (throttled revokes) were tidied: releasing before that would race its tidy-up.
    if (found && found.status !== 'OPENING' && !interimRulesPending(found)) {
      incident = found;
      break;
    }
    if (deps.now().getTime() >= deadline) {
      throw new ActionFailedError(
        `no incident for drill finding ${findingId} on ${request.site} within ${Math.round(timeoutMs / 1000)} s: ` +
          `was it delivered (the response stack's drill rule) and accepted (the containment function's log says why an event was ignored)?`,
      );
    }
    await deps.sleep(deps.drillPollMs);
  }

  let released = false;
  let releaseProblem: string | undefined;
  try {
    const result = await releaseIncident(deps, {
      incidentId: incident.incidentId,
      releasedBy: caller.by,
      reason: 'drill',
    });
    if (result.outcome === 'refused') releaseProblem = `release refused: ${result.drift.join('; ')}`;
    else released = true;
  } catch (error) {
    releaseProblem = `${(error as Error).name}: ${(error as Error).message}`;
  }
  return {
    site: request.site,
    incidentId: incident.incidentId,
    findingId,
    policy: incident.policy,
    status: incident.status,
    sentAt: sent.toISOString(),
    receivedAt: incident.receivedAt,
    isolatedAt: incident.isolatedAt,
    timeToIsolateSeconds: seconds(sent.getTime(), incident.isolatedAt),
    containmentSeconds: seconds(incident.receivedAt, incident.isolatedAt),
    steps: incident.steps,
    released,
    releaseProblem:
      releaseProblem &&
      `${releaseProblem}; the site stays as containment left it: \`siteops release ${incident.incidentId}\` (--force over drift)`,
  };
}

// ---- audit summary ---------------------------------------------------------------------

/** One line for the audit record. */
export function summarize(request: ConsoleRequest, result: ConsoleResult): string {
  switch (request.action) {
    case 'status': {
      const r = result as StatusResult;
      const contained = r.sites.filter((s) => s.containment !== 'none').length;
      return `${r.sites.length} site(s), ${contained} with an open incident`;
    }
    case 'incidents':
      return `${(result as IncidentsResult).incidents.length} incident(s)`;
    case 'quarantine': {
      const r = result as QuarantineResult;
      return `${r.outcome} ${r.site}: incident ${r.incidentId}`;
    }
    case 'release': {
      const r = result as ReleaseOutcome;
      return r.outcome === 'refused'
        ? `refused ${r.incidentId}: ${r.drift.join('; ')}`
        : `${r.outcome} ${r.incidentId}`;
    }
    case 'restore': {
      const r = result as RestoreResult;
      return `restore ${r.outcome} for ${r.incidentId}${r.digest ? ` on ${r.digest}` : ''}`;
    }
    case 'rotate-credentials': {
      const r = result as RotateResult;
      return `rotated ${r.site}: version ${r.currentVersionId} is AWSCURRENT`;
    }
    case 'approve': {
      const r = result as ApproveResult;
      return `${r.outcome} ${r.incidentId}: ${r.decision ?? ''}`;
    }
    case 'drill': {
      const r = result as DrillResult;
      return `drill ${r.site}: incident ${r.incidentId} ${r.status}, isolated in ${r.timeToIsolateSeconds ?? '?'} s, ${r.released ? 'released' : 'NOT released'}`;
    }
  }
}
