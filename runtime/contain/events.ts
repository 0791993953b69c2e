import { z } from 'zod';
import type { ObservedValue } from '../shared/incident-store';
import { DRILL_DETAIL_TYPE, DRILL_SOURCE } from '../../contracts/console-api';
import { ATTACK_SEQUENCE_RESOURCE_TYPE, ECS_ATTACK_SEQUENCE_TYPE } from '../../contracts/guardduty';
import { observedOf } from './observed';

/**
 * The events containment accepts, validated against their documented shapes (EventBridge
 * envelope; GuardDuty finding `detail` in camelCase; CloudWatch alarm state change) and
 * turned into a Trigger. Anything else becomes an Ignored with a reason; nothing here
 * calls AWS.
 */

export { DRILL_DETAIL_TYPE, DRILL_SOURCE };

/**
 * What GuardDuty may leave out. Its API reference (the `Finding` shape in
 * `@aws-sdk/client-guardduty`) requires only AccountId, Arn, CreatedAt, Id, Region,
 * Resource, SchemaVersion, Severity, Type and UpdatedAt; no member of `Resource`,
 * `EcsClusterDetails`, `EcsTaskDetails`, `Tag` or `Service` is required, and real findings
 * carry `null` for absent optional fields. So only what decides the response is validated
 * (the finding's id, type, account, region and severity; the cluster and task ARNs; the
 * count and times when present); everything else may be `null` or absent.
 */
const optional = <T extends z.ZodType>(schema: T) => schema.nullish();
/** A field nothing decides on: kept if it has its documented type, else treated as absent. */
const informational = <T extends z.ZodType>(schema: T) => schema.nullish().catch(undefined);

const tagList = informational(z.array(z.unknown())).transform((tags) =>
  (tags ?? []).flatMap((tag) => {
    const t = tag as { key?: unknown; value?: unknown } | null;
    // Tag marks neither member required: a tag without both says nothing and is left out.
    return t && typeof t.key === 'string' && typeof t.value === 'string' ? [{ key: t.key, value: t.value }] : [];
  }),
);

const envelopeSchema = z
  .object({
    id: z.string().min(1),
    'detail-type': z.string().min(1),
    source: z.string().min(1),
    account: z.string().regex(/^\d{12}$/),
    time: z.iso.datetime({ offset: true }),
    region: z.string().min(1),
    resources: informational(z.array(z.unknown())),
    detail: z.unknown(),
  })
  .loose();

const CLUSTER_ARN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster\/[A-Za-z0-9_-]{1,255}$/;
const TASK_ARN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task\/[A-Za-z0-9_-]{1,255}\/(?:[a-f0-9]{32}|[a-f0-9-]{36})$/;
/** A time GuardDuty gives as a string; anything else counts as absent (the envelope's time stands in). */
const time = informational(z.string().max(64));

const guardDutyDetailSchema = z
  .object({
    id: z.string().min(1).max(256),
    type: z.string().min(1).max(256),
    severity: z.number().min(0).max(10),
    accountId: z.string().regex(/^\d{12}$/),
    region: z.string().min(1),
    createdAt: time,
    updatedAt: time,
    resource: z
      .object({
        resourceType: informational(z.string()),
        ecsClusterDetails: optional(
          z
            .object({
              arn: z.string().regex(CLUSTER_ARN),
              name: informational(z.string()),
              tags: tagList,
              taskDetails: optional(
                z
                  .object({
                    arn: z.string().regex(TASK_ARN),
                    definitionArn: informational(z.string()),
                    group: optional(z.string()),
                    tags: tagList,
                  })
                  .loose(),
              ),
            })
            .loose(),
        ),
      })
      .loose(),
    service: optional(
      z
        .object({
          count: optional(z.number().int().min(1)),
          eventFirstSeen: time,
          eventLastSeen: time,
          featureName: informational(z.string()),
        })
        .loose(),
    ),
  })
  .loose();

const alarmDetailSchema = z
  .object({
    alarmName: z.string().min(1).max(255),
    state: z.object({ value: z.string(), reason: informational(z.string()), timestamp: time }).loose(),
    previousState: informational(z.object({ value: z.string() }).loose()),
  })
  .loose();

export type Tags = Readonly<Record<string, string>>;

export interface FindingTrigger {
  readonly kind: 'guardduty';
  readonly eventId: string;
  readonly findingId: string;
  readonly findingType: string;
  readonly severity: number;
  readonly count: number;
  readonly detectedAt: string;
  readonly clusterArn: string;
  readonly taskArn: string;
  readonly taskGroup?: string;
  /** Task tags carried by the finding, if any (the fast path). */
  readonly taskTags?: Tags;
  readonly account: string;
  readonly region: string;
  /** A drill: a synthetic finding sent by `siteops drill` through the same path. */
  readonly drill: boolean;
  /** What the finding saw (process, paths, command line, domain): attacker-controlled, bounded. */
  readonly observed: readonly ObservedValue[];
}

export interface AlarmTrigger {
  readonly kind: 'alarm';
  readonly eventId: string;
  readonly alarmName: string;
  readonly alarmArn: string;
  readonly detectedAt: string;
  readonly reason?: string;
  readonly account: string;
  readonly region: string;
}

export type Trigger = FindingTrigger | AlarmTrigger;

/** Why an event changed nothing. The code is a metric dimension; the message is logged. */
export interface Ignored {
  readonly ignored: true;
  readonly code: IgnoreCode;
  readonly message: string;
}

export type IgnoreCode =
  | 'malformed-event'
  | 'foreign-event'
  | 'not-ecs-finding'
  | 'foreign-account'
  | 'foreign-cluster'
  | 'unknown-task'
  | 'untagged-task'
  | 'foreign-alarm'
  | 'not-alarm-state'
  | 'unknown-site'
  | 'below-threshold';

export function ignored(code: IgnoreCode, message: string): Ignored {
  return { ignored: true, code, message };
}

export function isIgnored(value: unknown): value is Ignored {
  return typeof value === 'object' && value !== null && (value as Ignored).ignored === true;
}

function tagsToRecord(tags: { key: string; value: string }[] | undefined): Tags | undefined {
  if (!tags || tags.length === 0) return undefined;
  return Object.fromEntries(tags.map((t) => [t.key, t.value]));
}

function describeZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/** Turns an EventBridge event into a Trigger, or says why it is not one. */
export function parseResponseEvent(event: unknown): Trigger | Ignored {
  const envelope = envelopeSchema.safeParse(event);
  if (!envelope.success) {
    return ignored('malformed-event', `not an EventBridge event: ${describeZodError(envelope.error)}`);
  }
  const e = envelope.data;
  const type = e['detail-type'];
  const drill = e.source === DRILL_SOURCE && type === DRILL_DETAIL_TYPE;
  if ((e.source === 'aws.guardduty' && type === 'GuardDuty Finding') || drill) {
    const detail = guardDutyDetailSchema.safeParse(e.detail);
    if (!detail.success) {
      return ignored(
        'malformed-event',
        `GuardDuty finding ${e.id} does not have the documented shape: ${describeZodError(detail.error)}`,
      );
    }
    const d = detail.data;
    const ecs = d.resource.ecsClusterDetails;
    const resourceType = d.resource.resourceType;
    // GuardDuty's Resource marks no member required: the ECS details decide; a resource type,
    // when given, must agree.
    if ((typeof resourceType === 'string' && resourceType !== 'ECSCluster') || !ecs?.taskDetails) {
      return ignored(
        'not-ecs-finding',
        `finding ${d.id} (${d.type}) is about ${typeof resourceType === 'string' ? `a ${JSON.stringify(resourceType.slice(0, 64))}` : 'no ECS task'}, not an ECS task`,
      );
    }
    if (d.accountId !== e.account) {
      return ignored('foreign-account', `finding ${d.id} names account ${d.accountId} but arrived from ${e.account}`);
    }
    return {
      kind: 'guardduty',
      eventId: e.id,
      findingId: d.id,
      findingType: d.type,
      severity: d.severity,
      // Service.Count is optional: a finding is about at least one occurrence.
      count: d.service?.count ?? 1,
      detectedAt: detectionTime([d.service?.eventFirstSeen ?? undefined, d.createdAt ?? undefined], e.time),
      clusterArn: ecs.arn,
      taskArn: ecs.taskDetails.arn,
      taskGroup: ecs.taskDetails.group ?? undefined,
      taskTags: tagsToRecord(ecs.taskDetails.tags),
      account: e.account,
      region: e.region,
      drill,
      observed: observedOf(e.detail),
    };
  }
  if (e.source === 'aws.cloudwatch' && type === 'CloudWatch Alarm State Change') {
    const detail = alarmDetailSchema.safeParse(e.detail);
    if (!detail.success) {
      return ignored(
        'malformed-event',
        `alarm event ${e.id} does not have the documented shape: ${describeZodError(detail.error)}`,
      );
    }
    if (detail.data.state.value !== 'ALARM') {
      return ignored(
        'not-alarm-state',
        `alarm ${detail.data.alarmName} moved to ${detail.data.state.value}, not ALARM`,
      );
    }
    const alarmArn = e.resources?.[0];
    if (typeof alarmArn !== 'string' || !/^arn:aws[a-z-]*:cloudwatch:[a-z0-9-]+:\d{12}:alarm:.+$/.test(alarmArn)) {
      return ignored('malformed-event', `alarm event ${e.id} has no alarm ARN in resources[0]`);
    }
    return {
      kind: 'alarm',
      eventId: e.id,
      alarmName: detail.data.alarmName,
      alarmArn,
      detectedAt: detectionTime([detail.data.state.timestamp ?? undefined], e.time),
      reason: detail.data.state.reason ?? undefined,
      account: e.account,
      region: e.region,
    };
  }
  return ignored('foreign-event', `event ${e.id} from ${e.source} (${type}) is not one containment handles`);
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * When the event was detected: the first candidate that is a real timestamp (ISO 8601, as
 * GuardDuty writes it, or CloudWatch's `+0000` form), normalized to ISO; else the
 * envelope's own time (validated). A free-form or oversized value never reaches the
 * incident table (it is part of its keys).
 */
function detectionTime(candidates: readonly (string | undefined)[], fallback: string): string {
  for (const value of candidates) {
    if (value === undefined || value.length > 40 || !TIMESTAMP.test(value)) continue;
    const ms = Date.parse(value);
    if (Number.isFinite(ms)) return new Date(ms).toISOString();
  }
  return new Date(Date.parse(fallback)).toISOString();
}

/** The key that identifies a trigger across redeliveries (same finding, same alarm transition). */
export function triggerKey(trigger: Trigger): string {
  return trigger.kind === 'guardduty'
    ? `finding#${trigger.findingId}`
    : `alarm#${trigger.alarmName}#${trigger.detectedAt}`;
}

/**
 * A finding about more than one task: GuardDuty Extended Threat Detection's ECS attack
 * sequence, or an ECS finding about a whole cluster (no task). Containment cannot act on it
 * as on one task's finding: it resolves what it can to sites and tells the operators.
 */
export interface TaskReference {
  readonly taskArn: string;
  /** The cluster the task ARN names (`task/<cluster>/<id>`, ECS API reference, Task.taskArn). */
  readonly clusterArn: string;
  /** The resource's tags (ResourceV2.Tags), when both members are given. */
  readonly tags?: Tags;
  /** Container ids of the task (ResourceV2.Data.EcsTask.ContainerUids). */
  readonly containerUids: readonly string[];
}

/** A resource the sequence names that is no ECS task with an ARN: shown to the operators as given (bounded). */
export interface OtherResource {
  readonly type: string;
  readonly uid: string;
  readonly name?: string;
  /** The resource's tags, when both members are given (a Bulkhead tag makes it Bulkhead's). */
  readonly tags?: Tags;
}

export interface SequenceTrigger {
  readonly kind: 'attack-sequence';
  readonly eventId: string;
  readonly findingId: string;
  readonly findingType: string;
  readonly severity: number;
  readonly count: number;
  readonly detectedAt: string;
  readonly account: string;
  readonly region: string;
  readonly drill: boolean;
  readonly tasks: readonly TaskReference[];
  /** ECS_CLUSTER resources: their ARN (uid) when it is one. */
  readonly clusterArns: readonly string[];
  /** ECS_CLUSTER resources given by name only. */
  readonly clusterNames: readonly string[];
  readonly others: readonly OtherResource[];
}

export interface ClusterFindingTrigger {
  readonly kind: 'cluster-finding';
  readonly eventId: string;
  readonly findingId: string;
  readonly findingType: string;
  readonly severity: number;
  readonly detectedAt: string;
  readonly account: string;
  readonly region: string;
  readonly drill: boolean;
  readonly clusterArn: string;
}

export type WideTrigger = SequenceTrigger | ClusterFindingTrigger;

/** The most resources of a sequence looked at (the API reference allows at most 400). */
export const SEQUENCE_RESOURCES_MAX = 400;

/**
 * `ResourceV2` (GuardDuty API reference): `Uid` and `ResourceType` required; `Name`,
 * `AccountId`, `Region`, `Tags`, `Data` optional. The ECS task's own data (`Data.EcsTask`)
 * carries no ARN, so a task is known by its `Uid` when that is a task ARN (else by `Name`).
 */
const resourceV2Schema = z
  .object({
    uid: z.string().min(1).max(2_048),
    resourceType: z.string().min(1).max(64),
    name: informational(z.string().max(2_048)),
    accountId: informational(z.string()),
    region: informational(z.string()),
    tags: tagList,
    data: informational(
      z
        .object({
          ecsTask: informational(z.object({ containerUids: informational(z.array(z.string())) }).loose()),
        })
        .loose(),
    ),
  })
  .loose();

/**
 * The attack sequence finding as EventBridge delivers it: the `Finding` members containment
 * decides on (id, type, severity, account, region) and `service.detection.sequence`
 * (`Service.Detection.Sequence`: `Uid`, `Description`, `Signals` required; `Resources`
 * optional, at most 400). Signals name resources by uid only (`Signal.ResourceUids`), so the
 * resources decide; each is validated alone, and one that is not a ResourceV2 is skipped.
 */
const sequenceDetailSchema = z
  .object({
    id: z.string().min(1).max(256),
    type: z.string().min(1).max(256),
    severity: z.number().min(0).max(10),
    accountId: z.string().regex(/^\d{12}$/),
    region: z.string().min(1),
    createdAt: time,
    service: z
      .object({
        count: optional(z.number().int().min(1)),
        eventFirstSeen: time,
        detection: z
          .object({
            sequence: z
              .object({
                uid: z.string().min(1),
                resources: informational(z.array(z.unknown()).max(SEQUENCE_RESOURCES_MAX)),
              })
              .loose(),
          })
          .loose(),
      })
      .loose(),
  })
  .loose();

const taskArnCluster = (taskArn: string): string => {
  const [prefix, rest] = taskArn.split(':task/');
  return `${prefix}:cluster/${(rest ?? '').split('/')[0]}`;
};

const bounded = (text: string, max = 256): string => text.slice(0, max);

/**
 * A GuardDuty finding that names no single ECS task but may concern Bulkhead: an ECS attack
 * sequence, or an ECS finding about a whole cluster. Called for events `parseResponseEvent`
 * set aside as `not-ecs-finding`; anything else stays ignored with its reason.
 */
export function parseWideFinding(event: unknown): WideTrigger | Ignored {
  const envelope = envelopeSchema.safeParse(event);
  if (!envelope.success) {
    return ignored('malformed-event', `not an EventBridge event: ${describeZodError(envelope.error)}`);
  }
  const e = envelope.data;
  const drill = e.source === DRILL_SOURCE && e['detail-type'] === DRILL_DETAIL_TYPE;
  if (!((e.source === 'aws.guardduty' && e['detail-type'] === 'GuardDuty Finding') || drill)) {
    return ignored('foreign-event', `event ${e.id} from ${e.source} (${e['detail-type']}) is not a GuardDuty finding`);
  }
  const head = guardDutyDetailSchema.safeParse(e.detail);
  const detail = e.detail as { resource?: { resourceType?: unknown } } | null | undefined;
  const resourceType = detail?.resource?.resourceType;
  if (resourceType === ATTACK_SEQUENCE_RESOURCE_TYPE) return parseSequence(e, drill);
  // An ECS finding about the cluster itself: ECS details with no task.
  if (head.success && head.data.resource.ecsClusterDetails && !head.data.resource.ecsClusterDetails.taskDetails) {
    const d = head.data;
    if ((d.resource.resourceType ?? 'ECSCluster') !== 'ECSCluster') {
      return ignored('not-ecs-finding', `finding ${d.id} (${d.type}) is about a ${d.resource.resourceType}`);
    }
    if (d.accountId !== e.account) {
      return ignored('foreign-account', `finding ${d.id} names account ${d.accountId} but arrived from ${e.account}`);
    }
    return {
      kind: 'cluster-finding',
      eventId: e.id,
      findingId: d.id,
      findingType: d.type,
      severity: d.severity,
      detectedAt: detectionTime([d.service?.eventFirstSeen ?? undefined, d.createdAt ?? undefined], e.time),
      account: e.account,
      region: e.region,
      drill,
      clusterArn: (d.resource.ecsClusterDetails as { arn: string }).arn,
    };
  }
  return ignored(
    'not-ecs-finding',
    `finding ${head.success ? `${head.data.id} (${head.data.type})` : `of event ${e.id}`} is about ${typeof resourceType === 'string' ? `a ${bounded(resourceType, 64)}` : 'no ECS task or cluster'}`,
  );
}

function parseSequence(e: z.infer<typeof envelopeSchema>, drill: boolean): SequenceTrigger | Ignored {
  const parsed = sequenceDetailSchema.safeParse(e.detail);
  if (!parsed.success) {
    return ignored(
      'malformed-event',
      `attack sequence ${e.id} does not have the documented shape: ${describeZodError(parsed.error)}`,
    );
  }
  const d = parsed.data;
  if (d.type !== ECS_ATTACK_SEQUENCE_TYPE) {
    return ignored('not-ecs-finding', `attack sequence ${d.id} is ${d.type}, not ${ECS_ATTACK_SEQUENCE_TYPE}`);
  }
  if (d.accountId !== e.account) {
    return ignored('foreign-account', `finding ${d.id} names account ${d.accountId} but arrived from ${e.account}`);
  }
  const tasks: TaskReference[] = [];
  const clusterArns = new Set<string>();
  const clusterNames = new Set<string>();
  const others: OtherResource[] = [];
  for (const item of d.service.detection.sequence.resources ?? []) {
    const resource = resourceV2Schema.safeParse(item);
    if (!resource.success) continue;
    const r = resource.data;
    const tags = tagsToRecord(r.tags);
    const taskArn = [r.uid, r.name].find((v): v is string => typeof v === 'string' && TASK_ARN.test(v));
    if (r.resourceType === 'ECS_TASK' && taskArn) {
      tasks.push({
        taskArn,
        clusterArn: taskArnCluster(taskArn),
        tags,
        containerUids: (r.data?.ecsTask?.containerUids ?? []).slice(0, 100).map((u) => bounded(u)),
      });
    } else if (r.resourceType === 'ECS_CLUSTER' && CLUSTER_ARN.test(r.uid)) {
      clusterArns.add(r.uid);
    } else if (r.resourceType === 'ECS_CLUSTER' && /^[A-Za-z0-9_-]{1,255}$/.test(r.name ?? r.uid)) {
      clusterNames.add(r.name ?? r.uid);
    } else {
      others.push({
        type: bounded(r.resourceType, 64),
        uid: bounded(r.uid),
        ...(r.name ? { name: bounded(r.name) } : {}),
        ...(tags ? { tags } : {}),
      });
    }
  }
  return {
    kind: 'attack-sequence',
    eventId: e.id,
    findingId: d.id,
    findingType: d.type,
    severity: d.severity,
    count: d.service.count ?? 1,
    detectedAt: detectionTime([d.service.eventFirstSeen ?? undefined, d.createdAt ?? undefined], e.time),
    account: e.account,
    region: e.region,
    drill,
    tasks,
    clusterArns: [...clusterArns],
    clusterNames: [...clusterNames],
    others,
  };
}
