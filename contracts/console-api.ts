import { z } from 'zod';
import { DIGEST_PATTERN, INCIDENT_ID_PATTERN, SITE_ID_PATTERN } from './ids';
import type { IncidentRecord, IncidentStatus, ObservedValue, StepRecord } from './incident-table';

/**
 * The ops console's public contract: what `siteops` sends, and what comes back. Every request is
 * one JSON object `{ action, ... }`, the body of a SigV4-signed `POST` to the console's API,
 * validated here; every answer is a {@link ConsoleResponse}, the body of the API's answer.
 * Dependency-free apart from zod, so the CLI imports it.
 */

/** The console function's fixed name (invoked only by its API: the function refuses anything else). */
export function consoleFunctionName(environment: string): string {
  return `bulkhead-${environment}-ops-console`;
}

/** The console's REST API (`bulkhead-<env>-ops-console`, IAM authorization; only the operator role gets in). */
export function consoleApiName(environment: string): string {
  return `bulkhead-${environment}-ops-console`;
}

/** The API's one stage: requests go to `POST https://<api-id>.execute-api.<region>.amazonaws.com/console/requests`. */
export const CONSOLE_API_STAGE = 'console';

/** The path of the API's one method, under the stage's URL. */
export const CONSOLE_API_PATH = '/requests';

/**
 * Where the Ops stack publishes the API's URL (an SSM parameter; also the stack output
 * `ConsoleApiUrl`): the API's id is chosen by AWS, so siteops reads the URL from here.
 */
export function consoleApiUrlParameterName(environment: string): string {
  return `/bulkhead/${environment}/ops/console-api-url`;
}

/**
 * A console API URL as API Gateway gives a REST API stage: `https://{restapi_id}.execute-api.{region}
 * .amazonaws.com/{stage_name}/` (API Gateway Developer Guide, "Invoking REST APIs in API Gateway").
 * siteops signs only for such a host, so a changed parameter cannot send the operator's signed
 * requests to any other server.
 */
export const CONSOLE_API_URL_PATTERN =
  /^https:\/\/([a-z0-9]{10})\.execute-api\.([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com(?:\.cn)?\/console\/?$/;

/** The console's environment variable with the API's integration timeout, in seconds (its answers must fit). */
export const CONSOLE_ANSWER_SECONDS_ENV = 'CONSOLE_ANSWER_SECONDS';

/**
 * The drill event bus (`bulkhead-<env>-drills`, in the Ops stack): `siteops drill` findings travel
 * on it, never on the account's default bus, and only the console's role may put events on it.
 */
export function drillEventBusName(environment: string): string {
  return `bulkhead-${environment}-drills`;
}

/** A drill finding's EventBridge source and detail type (`siteops drill`; containment accepts them from the drill bus only). */
export const DRILL_SOURCE = 'bulkhead.drill';
/** The drill finding's EventBridge detail type (the console puts it, containment and the Ops stack's drill rule match it). */
export const DRILL_DETAIL_TYPE = 'Bulkhead Drill Finding';

/** The console's environment variable naming the drill event bus. */
export const DRILL_EVENT_BUS_ENV = 'DRILL_EVENT_BUS';

/** Exported again from ids.ts so the CLI checks digests and incident ids with the same patterns as the console. */
export { DIGEST_PATTERN, INCIDENT_ID_PATTERN };

/** Every incident status, for the `incidents` request's `state` filter (the console's schema). */
export const INCIDENT_STATUSES = [
  'OPENING',
  'CONTAINED',
  'SHED',
  'NOTIFIED',
  'FAILED',
  'RELEASED',
  'RESTORING',
  'RESTORED',
  'CLOSED',
] as const satisfies readonly IncidentStatus[];

const site = z.string().regex(SITE_ID_PATTERN, { error: 'is not a site id (2-24 characters [a-z0-9-])' });
const incidentId = z.string().regex(INCIDENT_ID_PATTERN, { error: 'is not an incident id' });
const digest = z.string().regex(DIGEST_PATTERN, { error: 'must be sha256: and 64 lowercase hex digits' });
const instant = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time such as 2025-06-01T00:00:00Z' });

/**
 * What the caller says about itself (its login and host): a claim, recorded apart and never
 * trusted. Who called is what API Gateway verified (the signing role session, from the request
 * context's `identity`), which the console records as `who`. `siteops` fills the claim in.
 */
export const claimedIdentitySchema = z
  .object({
    /** The operator's login on the machine siteops ran on. */
    user: z.string().max(128).optional(),
    host: z.string().max(255).optional(),
    /** The AWS profile siteops used. */
    profile: z.string().max(128).optional(),
    /** The access key id of the credentials that signed the Invoke (an identifier, not a secret). */
    accessKeyId: z
      .string()
      .regex(/^[A-Z0-9]{16,128}$/)
      .optional(),
    /** An IAM ARN the caller states (for example from `aws sts get-caller-identity`). */
    principal: z.string().max(2048).optional(),
    tool: z.string().max(64).optional(),
  })
  .strict();

/** The caller's claim about itself (`identity` of every request): filled in by siteops, recorded by the console. */
export type ClaimedIdentity = z.infer<typeof claimedIdentitySchema>;

const identity = claimedIdentitySchema.optional();

/** Every console request, by `action`: the console function validates each payload with it, siteops builds them. */
export const consoleRequestSchema = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('status'), site: site.optional(), identity }),
  z.strictObject({
    action: z.literal('incidents'),
    site: site.optional(),
    incidentId: incidentId.optional(),
    state: z.enum(INCIDENT_STATUSES).optional(),
    since: instant.optional(),
    until: instant.optional(),
    limit: z.number().int().min(1).max(500).optional(),
    /** The `nextToken` of the previous page of the same query. */
    nextToken: z.string().min(1).max(2048).optional(),
    identity,
  }),
  z.strictObject({
    action: z.literal('quarantine'),
    site,
    reason: z.string().trim().min(1, { error: 'is required: say why the site is quarantined' }).max(500),
    identity,
  }),
  z.strictObject({
    action: z.literal('release'),
    incidentId,
    force: z.boolean().optional(),
    reason: z.string().trim().max(500).optional(),
    identity,
  }),
  z.strictObject({ action: z.literal('restore'), incidentId, digest: digest.optional(), identity }),
  z.strictObject({ action: z.literal('rotate-credentials'), site, identity }),
  z.strictObject({
    action: z.literal('approve'),
    incidentId,
    decision: z.enum(['restore', 'false-positive']),
    digest: digest.optional(),
    identity,
  }),
  z.strictObject({
    action: z.literal('drill'),
    site,
    /** How long to wait for the drill's incident to be contained. @default 120 */
    timeoutSeconds: z.number().int().min(10).max(240).optional(),
    identity,
  }),
]);

/** A valid console request (what `consoleRequestSchema` accepts): sent by siteops, handled by runtime/console. */
export type ConsoleRequest = z.infer<typeof consoleRequestSchema>;
/** A console action's name (`status`, `incidents`, `quarantine`...): the console dispatches on it, siteops's commands map to it. */
export type ConsoleAction = ConsoleRequest['action'];
/** The request of one action (the console's handler of that action takes it). */
export type RequestOf<A extends ConsoleAction> = Extract<ConsoleRequest, { action: A }>;

/** Every console action's name, in the schema's order. */
export const CONSOLE_ACTIONS = consoleRequestSchema.options.map((o) => o.shape.action.value) as ConsoleAction[];

// ---- results ---------------------------------------------------------------------------

/** One site's state as the console sees it. */
export interface SiteStatus {
  /** The site's id. */
  readonly site: string;
  /** The cell the site runs in. */
  readonly cell: string;
  /** `standard`, or `strict` (no internet at all), from the site record. */
  readonly isolation: 'standard' | 'strict';
  /** What a trigger does to the site: contain it, shed its traffic, or notify only. */
  readonly policy: 'contain' | 'shed' | 'notify';
  /** What the site runs: the running tasks' digest(s), else the digest its stack deployed. */
  readonly digest: string;
  /** The digest in the site record (what the site's stack last deployed). */
  readonly recordDigest: string;
  /** The image digests of the site's running tasks (more than one during a deployment). */
  readonly runningDigests: readonly string[];
  /** The service's task counts, as ECS reports them. */
  readonly tasks: { readonly running: number; readonly desired: number; readonly pending: number };
  /** `none`, or the open incident's status in lower case (`contained`, `shed`, `restoring`...). */
  readonly containment: string;
  /** The site's open incident, if it has one. */
  readonly openIncident?: {
    readonly incidentId: string;
    readonly status: IncidentStatus;
    readonly detectedAt: string;
    readonly isolatedAt?: string;
    readonly drill: boolean;
    readonly waitingForApproval: boolean;
  };
}

/** The `status` action's answer: every site's state (siteops status prints it). */
export interface StatusResult {
  /** The fleet's environment name. */
  readonly environment: string;
  /** The sites asked for (all of them, or the one named). */
  readonly sites: readonly SiteStatus[];
  /** Site records that could not be read (named, with the reason). */
  readonly unreadable: readonly string[];
}

/** An incident's durations, from its timestamps (runtime/console/views.ts works them out). */
export interface IncidentTimes {
  /** From the first sign (finding first seen, alarm transition) to the response plane receiving it. */
  readonly toDetectSeconds?: number;
  /** From the first sign to isolation. */
  readonly toIsolateSeconds?: number;
  /** From the first sign to the site serving again (restored, or released as a false positive). */
  readonly toRecoverSeconds?: number;
  /** How the site served again: restored from a known-good image, or released as a false positive. */
  readonly recoveredBy?: 'restore' | 'release';
}

/** An incident without what the console never returns (the approval task token, saved rules). */
export interface IncidentView extends Pick<
  IncidentRecord,
  | 'incidentId'
  | 'site'
  | 'environment'
  | 'status'
  | 'policy'
  | 'drill'
  | 'detectedAt'
  | 'receivedAt'
  | 'isolatedAt'
  | 'shedAt'
  | 'failedAt'
> {
  /** Why the incident is FAILED (the step and its error). */
  readonly failureReason?: string;
  /** When the evidence was written to the evidence bucket. */
  readonly evidenceKeptAt?: string;
  /** Where the evidence is: bucket, key prefix and how many files. */
  readonly evidence?: { readonly bucket: string; readonly prefix: string; readonly files: number };
  /** When the operators and the site's contact were told. */
  readonly notifiedAt?: string;
  /** When the forensic hold of the contained tasks ends. */
  readonly holdUntil?: string;
  /** When the contained tasks were stopped (after the hold). */
  readonly tasksStoppedAt?: string;
  /** The operator's decision: whether the workflow is waiting for one, its deadline, and what was decided, by whom. */
  readonly approval: {
    readonly waiting: boolean;
    readonly requestedAt?: string;
    readonly deadline?: string;
    readonly decidedAt?: string;
    readonly decidedBy?: string;
    readonly decision?: 'restore' | 'false-positive';
    readonly timedOutAt?: string;
  };
  /** The restore: the known-good digest, who asked, when it started, rotated the password and served again. */
  readonly restore?: {
    readonly digest?: string;
    readonly requestedBy?: string;
    readonly startedAt?: string;
    readonly credentialsRotatedAt?: string;
    readonly restoredAt?: string;
  };
  /** When the site was released (a false positive). */
  readonly releasedAt?: string;
  /** Who released it (the caller's principal, or `workflow`). */
  readonly releasedBy?: string;
  /** The reason the operator gave for the release. */
  readonly releaseReason?: string;
  /** Released over drift because the operator forced it. */
  readonly releaseForced?: boolean;
  /** When the incident was closed (after a restore). */
  readonly closedAt?: string;
  /** Time to detect, isolate and recover. */
  readonly times: IncidentTimes;
  /** The incident's steps, oldest first. */
  readonly timeline: readonly StepRecord[];
  /**
   * What triggered it (only when one incident is asked for by id), oldest first, at most
   * {@link TRIGGERS_SHOWN}. Findings carry what GuardDuty observed: text an attacker chose,
   * which siteops shows escaped (contracts/display.ts).
   */
  readonly triggers?: readonly TriggerView[];
  /** How many triggers were left out of `triggers`. */
  readonly triggersOmitted?: number;
}

/** The most triggers one incident's view carries. */
export const TRIGGERS_SHOWN = 50;

/** One trigger of an incident as the console returns it (a TriggerRecord without its key, event id and task). */
export interface TriggerView {
  /** What sent it: a GuardDuty finding, a site alarm, or an operator's quarantine. */
  readonly kind: 'guardduty' | 'alarm' | 'operator';
  /** When the response plane received it. */
  readonly receivedAt: string;
  /** When its source first saw the sign (finding first seen, alarm transition, request). */
  readonly detectedAt: string;
  /** The GuardDuty finding's id. */
  readonly findingId?: string;
  /** The GuardDuty finding's type. */
  readonly findingType?: string;
  /** The GuardDuty finding's severity. */
  readonly severity?: number;
  /** How many times GuardDuty saw it (the finding's count, the latest delivery's). */
  readonly count?: number;
  /** The site alarm's name (`bulkhead.<env>.<site>.<kind>`). */
  readonly alarmName?: string;
  /** The alarm's state reason, or the operator's reason. */
  readonly reason?: string;
  /** A drill finding (`siteops drill`). */
  readonly drill?: boolean;
  /** What a runtime finding saw: attacker-controlled text, shown escaped. */
  readonly observed?: readonly ObservedValue[];
}

/** The `incidents` action's answer: one page of incidents, newest first (siteops incidents prints it). */
export interface IncidentsResult {
  /** The incidents of this page, newest first. */
  readonly incidents: readonly IncidentView[];
  /** More matched than this page holds (`limit`, or the page's size bound). */
  readonly truncated: boolean;
  /** Ask again with this (and the same query) for the next page; absent on the last page. */
  readonly nextToken?: string;
}

/** The `quarantine` action's answer: the site contained by the operator, or the open incident the request joined. */
export type QuarantineResult =
  | {
      readonly outcome: 'contained' | 'failed';
      readonly site: string;
      readonly incidentId: string;
      readonly isolatedAt?: string;
      /** From the request to isolation. */
      readonly timeToIsolateSeconds?: number;
      readonly steps: readonly StepRecord[];
    }
  | {
      /** The site already had an open incident: the request was recorded on it. */
      readonly outcome: 'joined';
      readonly site: string;
      readonly incidentId: string;
      readonly status?: IncidentStatus;
      /** The open incident did not isolate the site (its policy sheds or notifies); release it first to contain. */
      readonly notContained: boolean;
    };

/** The `release` action's answer (siteops release prints it). */
export type ReleaseOutcome =
  | {
      readonly outcome: 'released';
      readonly incidentId: string;
      readonly site: string;
      readonly forced: boolean;
      readonly steps: readonly StepRecord[];
      /** The incident's workflow was waiting for a decision and was told "false positive". */
      readonly workflowAnswered: boolean;
    }
  | {
      readonly outcome: 'already-released';
      readonly incidentId: string;
      readonly site: string;
      readonly releasedAt?: string;
      readonly releasedBy?: string;
      readonly workflowAnswered: boolean;
    }
  | {
      /** The site changed after containment; nothing was changed. `--force` releases anyway. */
      readonly outcome: 'refused';
      readonly incidentId: string;
      readonly site: string;
      readonly drift: readonly string[];
    };

/** The `restore` action's answer: the restore the console approved or started. */
export interface RestoreResult {
  /** `approved`: the waiting workflow was told to restore; `started`: a restore execution was started. */
  readonly outcome: 'approved' | 'started';
  /** The incident restored. */
  readonly incidentId: string;
  /** The incident's site. */
  readonly site: string;
  /** The digest asked for (absent: the workflow chooses the newest known-good one). */
  readonly digest?: string;
  /** The name of the restore execution started (`started` only). */
  readonly executionName?: string;
  /** The ARN of the restore execution started (`started` only). */
  readonly executionArn?: string;
}

/** The `rotate-credentials` action's answer: the site's database secret's versions before and after. */
export interface RotateResult {
  /** The site whose database password was rotated. */
  readonly site: string;
  /** The secret's version that was AWSCURRENT before. */
  readonly previousVersionId: string;
  /** The secret's version that is AWSCURRENT now. */
  readonly currentVersionId: string;
  /** The open incident the rotation was recorded on, if any (its tasks are left as they are). */
  readonly incidentId?: string;
  /**
   * A serving site's tasks read the password when they start: a new deployment was started
   * so they take the new one (the running tasks' account keeps working meanwhile).
   */
  readonly redeployed: boolean;
  /**
   * `serving`: the secret moved to the site's other database account; the previous one works
   * until the next rotation. `incident` (a contained site): in place; every earlier password
   * stopped and the site's open sessions were killed.
   */
  readonly mode: 'serving' | 'incident';
  /** The database account the secret names now. */
  readonly account: string;
  /** Open database sessions of the site's accounts that were killed (`incident` mode). */
  readonly sessionsKilled: number;
  /** Open sessions the database-user function could not kill (`incident` mode; the step names them). */
  readonly sessionsNotKilled: number;
}

/** The `approve` action's answer: the decision told to the waiting workflow, or the one already made. */
export type ApproveResult =
  | { readonly outcome: 'approved'; readonly incidentId: string; readonly decision: 'restore' | 'false-positive' }
  | {
      readonly outcome: 'already-decided';
      readonly incidentId: string;
      readonly decision?: 'restore' | 'false-positive';
      readonly by?: string;
      readonly at?: string;
    };

/** The `drill` action's answer: a drill finding sent on the drill bus, contained and (normally) released. */
export interface DrillResult {
  /** The site drilled. */
  readonly site: string;
  /** The drill's incident. */
  readonly incidentId: string;
  /** The drill finding's id. */
  readonly findingId: string;
  /** The site's policy, which the drill followed. */
  readonly policy: 'contain' | 'shed' | 'notify';
  /** The drill incident's status once containment finished. */
  readonly status: IncidentStatus;
  /** When the console put the drill finding on the drill bus. */
  readonly sentAt: string;
  /** When containment received it. */
  readonly receivedAt: string;
  /** When the site was isolated (absent: it was not, or not in time). */
  readonly isolatedAt?: string;
  /** From sending the drill finding to isolation: EventBridge delivery plus containment. */
  readonly timeToIsolateSeconds?: number;
  /** From the containment function receiving the finding to isolation. */
  readonly containmentSeconds?: number;
  /** Containment's steps for the drill incident. */
  readonly steps: readonly StepRecord[];
  /** The drill's incident was released afterwards (the site serves again). */
  readonly released: boolean;
  /** Why the drill's incident was not released (the site stays as containment left it). */
  readonly releaseProblem?: string;
}

/** Each action's result type: the console returns `ResultMap[action]`, siteops reads it as that. */
export interface ResultMap {
  /** The `status` action's result. */
  readonly status: StatusResult;
  /** The `incidents` action's result. */
  readonly incidents: IncidentsResult;
  /** The `quarantine` action's result. */
  readonly quarantine: QuarantineResult;
  /** The `release` action's result. */
  readonly release: ReleaseOutcome;
  /** The `restore` action's result. */
  readonly restore: RestoreResult;
  /** The `rotate-credentials` action's result. */
  readonly 'rotate-credentials': RotateResult;
  /** The `approve` action's result. */
  readonly approve: ApproveResult;
  /** The `drill` action's result. */
  readonly drill: DrillResult;
}

/** Any action's result (the console's dispatcher returns it). */
export type ConsoleResult = ResultMap[ConsoleAction];

// ---- errors ----------------------------------------------------------------------------

/**
 * - `invalid-request`: the payload is not a console request (nothing was read or changed);
 * - `unknown-site`, `unknown-incident`: no such site record / incident (nothing changed);
 * - `refused`: the site or incident is not in a state the action applies to (nothing changed);
 * - `failed`: the action was attempted and did not complete; the message says what state
 *   things were left in.
 */
export type ConsoleErrorCode = 'invalid-request' | 'unknown-site' | 'unknown-incident' | 'refused' | 'failed';

/** What a refused or failed request answers instead of a result (siteops prints its message). */
export interface ConsoleErrorBody {
  /** The error's class name (runtime/console/errors.ts). */
  readonly name: string;
  /** What kind of refusal or failure it is (see ConsoleErrorCode). */
  readonly code: ConsoleErrorCode;
  /** What went wrong and what state things were left in, for the operator. */
  readonly message: string;
}

/** The console API's answer body, a result or an error: written by runtime/console, read by siteops. */
export type ConsoleResponse<A extends ConsoleAction = ConsoleAction> =
  | { readonly ok: true; readonly action: A; readonly requestId: string; readonly result: ResultMap[A] }
  | { readonly ok: false; readonly action: string; readonly requestId: string; readonly error: ConsoleErrorBody };
