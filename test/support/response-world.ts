import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { IAMClient } from '@aws-sdk/client-iam';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ReleaseDeps } from '../../runtime/recovery/release';
import { IncidentStore } from '../../runtime/shared/incident-store';
import { type AuthorizationHandle, authorizeHandlerCalls } from './iam-authorization/authorizer';
import * as path from 'node:path';
import { useConsole } from './console-gateway';
import { type SiteAlarmKind, siteAlarmName } from '../../contracts/names';
import {
  type AwsModel,
  type FleetHandles,
  type InstallOptions,
  installAwsModel,
  type SeedSite,
  type SiteHandles,
  seedFleet,
} from './aws-model';

/** A site to seed, with its response settings (what the fleet file would say). */
export interface WorldSite extends SeedSite {
  readonly policy?: 'contain' | 'shed' | 'notify';
  readonly severityThreshold?: number;
  readonly forensicHoldMinutes?: number;
  readonly autoRestore?: boolean;
  readonly approvalTimeoutHours?: number;
}

export interface ResponseWorld {
  readonly aws: AwsModel;
  readonly fleet: FleetHandles;
  readonly tableName: string;
  /** Checks every handler call against its function's IAM policy (under vitest, unless `authorize: false`). */
  readonly iam?: AuthorizationHandle;
  site(id: string): SiteHandles;
}

/**
 * The public sample events in `test/fixtures/events` (origins in its SOURCES.md).
 * BULKHEAD_SAMPLE_EVENTS overrides the folder, for bundled benchmark drivers whose
 * `__dirname` is not this one.
 */
export const SAMPLE_EVENTS = process.env.BULKHEAD_SAMPLE_EVENTS ?? path.join(__dirname, '..', 'fixtures', 'events');

/** One public sample event, parsed, by its path under `test/fixtures/events`. */
export function sampleEvent(relative: string): unknown {
  return JSON.parse(readFileSync(path.join(SAMPLE_EVENTS, relative), 'utf8'));
}

/**
 * The AWS model with a seeded fleet, the incident table, the site records and the
 * environment variables the response stack would set, so the real handlers run against it.
 */
export function setUpResponseWorld(
  sites: readonly WorldSite[],
  options: InstallOptions & {
    environment?: string;
    /** Check each handler call against its function's IAM policy (default: under vitest). */
    authorize?: boolean;
  } = {},
): ResponseWorld {
  const aws = installAwsModel({ retries: 'sdk-no-delay', ...options });
  const environment = options.environment ?? 'test';
  // The seed writes each site's record and tags its service from the same settings, so the
  // fast path (task tags) and the record always agree, as they do when a stack deploys.
  const fleet = seedFleet(aws, {
    environment,
    sites: sites.map(
      ({ policy, severityThreshold, forensicHoldMinutes, autoRestore, approvalTimeoutHours, ...site }) => ({
        ...site,
        response: { policy, severityThreshold, forensicHoldMinutes, autoRestore, approvalTimeoutHours },
      }),
    ),
  });
  const tableName = 'bulkhead-test-incidents';
  aws.dynamodb.createTable({
    TableName: tableName,
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      { AttributeName: 'gsi1pk', AttributeType: 'S' },
      { AttributeName: 'gsi1sk', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: 'bySite',
        KeySchema: [
          { AttributeName: 'gsi1pk', KeyType: 'HASH' },
          { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
    BillingMode: 'PAY_PER_REQUEST',
  });
  Object.assign(process.env, {
    AWS_REGION: aws.region,
    BULKHEAD_ENV: environment,
    BULKHEAD_ACCOUNT: aws.accountId,
    INCIDENT_TABLE: tableName,
    STATE_MACHINE_ARN: fleet.stateMachineArn,
    LOGS_ENDPOINT_SG_ID: fleet.logsEndpointSecurityGroupId,
    QUARANTINE_ACL_ID: fleet.quarantineAclId,
    CLUSTER_ARNS: Object.values(fleet.cells)
      .map((c) => c.clusterArn)
      .join(','),
    EVIDENCE_BUCKET: fleet.evidenceBucket,
    BACKUP_VAULT: fleet.backupVaultName,
    BACKUP_ROLE_ARN: `arn:aws:iam::${aws.accountId}:role/bulkhead-backup`,
    OPS_TOPIC_ARN: fleet.opsTopicArn,
    DB_USER_FUNCTION: `bulkhead-${environment}-db-user`,
    POWERTOOLS_DEV: 'false',
    // Tests want the canonical quarantine set when the handler returns.
    FINISH_QUARANTINE_DELAY_MS: process.env.FINISH_QUARANTINE_DELAY_MS_OVERRIDE ?? '0',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    POWERTOOLS_METRICS_DISABLED: 'false',
  });
  // The handlers read these on each invocation (runtime/*/index.ts): nothing to reset. A console
  // world's own console (its drills delivered to containment) is set after this.
  useConsole();
  // Under vitest, every call a handler makes is checked against its function's IAM policy.
  const iam =
    process.env.VITEST && options.authorize !== false ? authorizeHandlerCalls({ aws, fleet, tableName }) : undefined;
  return {
    iam,
    aws,
    fleet,
    tableName,
    site(id) {
      const handles = fleet.sites[id];
      if (!handles) throw new Error(`no site ${id}`);
      return handles;
    },
  };
}

/** Converts AWS's PascalCase SDK shape into the camelCase EventBridge delivers in `detail`. */
export function camelCaseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelCaseKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k.charAt(0).toLowerCase() + k.slice(1), camelCaseKeys(v)]),
    );
  }
  return value;
}

export interface FindingOptions {
  readonly findingId?: string;
  readonly count?: number;
  readonly severity?: number;
  /** Put the task's own tags into the finding (GuardDuty includes them when it has them). */
  readonly withTaskTags?: boolean;
  readonly taskArn?: string;
  readonly clusterArn?: string;
  readonly eventId?: string;
}

let eventSequence = 0;

/**
 * A GuardDuty ECS Runtime Monitoring finding for a seeded site, built from the shared
 * public ECSCluster sample (PascalCase SDK output) turned into the camelCase `detail` of
 * an EventBridge `GuardDuty Finding` event, pointed at the site's running task.
 */
export function ecsFindingEvent(
  world: ResponseWorld,
  siteId: string,
  options: FindingOptions = {},
): Record<string, unknown> {
  const sample = camelCaseKeys(
    sampleEvent('guardduty/ecscluster-defenseevasion-runtime-ptraceantidebugging-sample_csa.json'),
  ) as Record<string, unknown> & {
    resource: { ecsClusterDetails: Record<string, unknown> & { taskDetails: Record<string, unknown> } };
    service: Record<string, unknown>;
  };
  const site = world.site(siteId);
  const taskArn = options.taskArn ?? site.taskArns[0] ?? '';
  const task = world.aws.ecs.state.tasks?.[taskArn] as { tags?: { key?: string; value?: string }[] } | undefined;
  const detail = {
    ...sample,
    id: options.findingId ?? `finding-${siteId}`,
    accountId: world.aws.accountId,
    region: world.aws.region,
    severity: options.severity ?? 8,
    resource: {
      ...sample.resource,
      ecsClusterDetails: {
        ...sample.resource.ecsClusterDetails,
        arn: options.clusterArn ?? site.clusterArn,
        name: site.clusterName,
        taskDetails: {
          ...sample.resource.ecsClusterDetails.taskDetails,
          arn: taskArn,
          group: `service:${site.serviceName}`,
          ...(options.withTaskTags ? { tags: (task?.tags ?? []).map((t) => ({ key: t.key, value: t.value })) } : {}),
        },
      },
    },
    // A real finding is about now: first seen a minute ago on the model's clock.
    createdAt: new Date(world.aws.clock.now() - 30_000).toISOString(),
    updatedAt: new Date(world.aws.clock.now()).toISOString(),
    service: {
      ...sample.service,
      count: options.count ?? 1,
      eventFirstSeen: new Date(world.aws.clock.now() - 60_000).toISOString(),
      eventLastSeen: new Date(world.aws.clock.now() - 10_000).toISOString(),
    },
  };
  eventSequence++;
  return {
    version: '0',
    id: options.eventId ?? `00000000-0000-4000-8000-${String(eventSequence).padStart(12, '0')}`,
    'detail-type': 'GuardDuty Finding',
    source: 'aws.guardduty',
    account: world.aws.accountId,
    time: new Date(world.aws.clock.now()).toISOString(),
    region: world.aws.region,
    resources: [],
    detail,
  };
}

/** A CloudWatch alarm state change (the public docs sample) for one of a site's alarms. */
export function siteAlarmEvent(
  world: ResponseWorld,
  siteId: string,
  kind: SiteAlarmKind = 'error-rate',
): Record<string, unknown> {
  const sample = sampleEvent('cloudwatch/single-metric-cpu-ok-to-alarm_cw-docs.json') as Record<string, unknown> & {
    detail: Record<string, unknown> & { state: Record<string, unknown> };
  };
  const alarmName = siteAlarmName(world.fleet.environment, siteId, kind);
  return {
    ...sample,
    account: world.aws.accountId,
    region: world.aws.region,
    resources: [`arn:aws:cloudwatch:${world.aws.region}:${world.aws.accountId}:alarm:${alarmName}`],
    detail: {
      ...sample.detail,
      alarmName,
      state: { ...sample.detail.state, value: 'ALARM', timestamp: new Date(world.aws.clock.now()).toISOString() },
    },
  };
}

/** One `ResourceV2` of an attack sequence (GuardDuty API reference), camelCase as on EventBridge. */
export interface SequenceResource {
  readonly uid: string;
  readonly resourceType: string;
  readonly name?: string;
  readonly accountId?: string;
  readonly region?: string;
  readonly service?: string;
  readonly tags?: readonly { key?: string; value?: string }[] | null;
  readonly data?: Record<string, unknown> | null;
}

/** The ECS_TASK resource for a site's running task (uid: the task ARN), with its container ids. */
export function sequenceTaskResource(
  world: ResponseWorld,
  siteId: string,
  options: { withTaskTags?: boolean; taskArn?: string } = {},
): SequenceResource {
  const site = world.site(siteId);
  const taskArn = options.taskArn ?? site.taskArns[0] ?? '';
  const task = world.aws.ecs.state.tasks?.[taskArn] as { tags?: { key?: string; value?: string }[] } | undefined;
  return {
    uid: taskArn,
    name: taskArn.split('/').pop(),
    resourceType: 'ECS_TASK',
    accountId: world.aws.accountId,
    region: world.aws.region,
    service: 'ECS',
    ...(options.withTaskTags ? { tags: (task?.tags ?? []).map((t) => ({ key: t.key, value: t.value })) } : {}),
    data: {
      ecsTask: {
        taskDefinitionArn: site.taskDefinitionArn,
        launchType: 'FARGATE',
        containerUids: [`${taskArn.split('/').pop()}-site`],
      },
    },
  };
}

/** The ECS_CLUSTER resource for a site's cluster (uid: the cluster ARN). */
export function sequenceClusterResource(world: ResponseWorld, siteId: string): SequenceResource {
  const site = world.site(siteId);
  return {
    uid: site.clusterArn,
    name: site.clusterName,
    resourceType: 'ECS_CLUSTER',
    accountId: world.aws.accountId,
    region: world.aws.region,
    service: 'ECS',
    data: { ecsCluster: { status: 'ACTIVE' } },
  };
}

/**
 * A GuardDuty `AttackSequence:ECS/CompromisedCluster` finding as EventBridge would deliver it.
 * No public sample of this finding type was found, so it is built here from what is
 * documented: the envelope and `detail` of a `GuardDuty Finding` event (as in the public
 * samples under test/fixtures/events/guardduty); `resource.resourceType` "AttackSequence" and
 * `service.featureName` "Correlation", as AWS's sample attack sequence findings carry them
 * (contracts/guardduty.ts); the sequence in `service.detection.sequence` with the members the
 * API reference's `Sequence` requires (`uid`, `description`, `signals`) and its `resources`
 * (`ResourceV2`); each `Signal` with its required members and `resourceUids`. Severity 9
 * (Critical is 9.0 to 10.0: GuardDuty User Guide, "Severity levels of GuardDuty findings").
 */
export function ecsAttackSequenceEvent(
  world: ResponseWorld,
  resources: readonly SequenceResource[],
  options: { findingId?: string; type?: string; accountId?: string; eventId?: string } = {},
): Record<string, unknown> {
  const now = world.aws.clock.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  const findingId = options.findingId ?? 'c8c9e1b2d3a4f5e6a7b8c9d0e1f2a3b4';
  const accountId = options.accountId ?? world.aws.accountId;
  const signal = (name: string, uids: string[]) => ({
    uid: `${findingId}-${name}`,
    type: 'FINDING',
    name,
    description: `${name} observed`,
    createdAt: iso(now - 600_000),
    updatedAt: iso(now - 60_000),
    firstSeenAt: iso(now - 600_000),
    lastSeenAt: iso(now - 60_000),
    severity: 8,
    count: 1,
    resourceUids: uids,
    actorIds: [],
    endpointIds: [],
  });
  eventSequence++;
  return {
    version: '0',
    id: options.eventId ?? `00000000-0000-4000-9000-${String(eventSequence).padStart(12, '0')}`,
    'detail-type': 'GuardDuty Finding',
    source: 'aws.guardduty',
    account: world.aws.accountId,
    time: iso(now),
    region: world.aws.region,
    resources: [],
    detail: {
      schemaVersion: '2.0',
      accountId,
      region: world.aws.region,
      partition: 'aws',
      id: findingId,
      arn: `arn:aws:guardduty:${world.aws.region}:${accountId}:detector/12abc34d567e8fa901bc2d34e56789f0/finding/${findingId}`,
      type: options.type ?? 'AttackSequence:ECS/CompromisedCluster',
      resource: { resourceType: 'AttackSequence' },
      service: {
        serviceName: 'guardduty',
        detectorId: '12abc34d567e8fa901bc2d34e56789f0',
        archived: false,
        count: 1,
        eventFirstSeen: iso(now - 600_000),
        eventLastSeen: iso(now - 60_000),
        resourceRole: 'TARGET',
        featureName: 'Correlation',
        additionalInfo: {},
        detection: {
          sequence: {
            uid: `${findingId}-sequence`,
            description: 'A sequence of suspicious actions performed by a potentially compromised Amazon ECS cluster.',
            actors: [],
            endpoints: [],
            resources,
            signals: [
              signal(
                'Execution:Runtime/ReverseShell',
                resources.filter((r) => r.resourceType === 'ECS_TASK').map((r) => r.uid),
              ),
              signal(
                'CryptoCurrency:Runtime/BitcoinTool.B!DNS',
                resources.map((r) => r.uid),
              ),
            ],
            sequenceIndicators: [
              { key: 'ATTACK_TACTIC', values: ['Execution', 'Impact'], title: 'MITRE ATT&CK tactics' },
            ],
          },
        },
      },
      severity: 9,
      createdAt: iso(now - 30_000),
      updatedAt: iso(now),
      title: 'Potential compromise of an ECS cluster indicated by a sequence of actions.',
      description:
        'A sequence of actions involving multiple signals indicating a possible compromise of an ECS cluster.',
    },
  };
}

/**
 * What the recovery function gives `releaseIncident`, in this world: clients the model answers,
 * its incident table, and the platform VPC's quarantine ACL and Logs group as the function's
 * environment names them.
 */
export function releaseDepsFor(world: ResponseWorld): ReleaseDeps {
  return {
    ec2: new EC2Client({}),
    ecs: new ECSClient({}),
    elbv2: new ElasticLoadBalancingV2Client({}),
    iam: new IAMClient({}),
    ssm: new SSMClient({}),
    store: new IncidentStore(
      DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } }),
      world.tableName,
    ),
    environment: world.fleet.environment,
    logsEndpointGroupId: world.fleet.logsEndpointSecurityGroupId,
    quarantineAclId: world.fleet.quarantineAclId,
    now: () => new Date(world.aws.clock.now()),
  };
}
