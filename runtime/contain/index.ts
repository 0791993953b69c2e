import { randomBytes } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { IAMClient } from '@aws-sdk/client-iam';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { containConfigFrom } from './config';
import middy from '@middy/core';
import { type DepsSource, depsOf } from '../shared/deps-source';
import { environmentOf } from '../shared/env';
import { IncidentStore } from '../shared/incident-store';
import { sdkContainPorts } from './adapters/sdk-ports';
import { type ContainDeps, type ContainOutcome, JOIN_WAIT_MS, respondToEvent } from './contain';
import { printable } from '../../contracts/display';

const ENV = environmentOf('contain');

/**
 * Containment: EventBridge delivers GuardDuty findings and site alarm state changes here.
 * Clients use the SDK's default configuration (so AWS_ENDPOINT_URL reaches an emulator);
 * throttled calls are retried with backoff, more patiently than the default, because
 * isolation must not give up on a busy API.
 */
const logger = new Logger({ serviceName: 'bulkhead-contain' });
const metrics = new Metrics({ namespace: 'Bulkhead', serviceName: 'bulkhead-contain' });
const retrying = { maxAttempts: 8 };

export function newIncidentId(site: string, now: Date): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${site}-${randomBytes(3).toString('hex')}`;
}

/**
 * The clients, once per container, at module scope: the SDK resolves region, credentials and
 * endpoint on first use (so AWS_ENDPOINT_URL reaches an emulator).
 */
const clients = {
  ec2: new EC2Client(retrying),
  ec2Fast: new EC2Client({ maxAttempts: 1 }),
  ecs: new ECSClient(retrying),
  elbv2: new ElasticLoadBalancingV2Client(retrying),
  iam: new IAMClient(retrying),
  ssm: new SSMClient(retrying),
  sfn: new SFNClient(retrying),
  sns: new SNSClient(retrying),
  db: DynamoDBDocumentClient.from(new DynamoDBClient(retrying), { marshallOptions: { removeUndefinedValues: true } }),
};

/**
 * Containment's dependencies from the environment the response stack sets, over the
 * module's clients. Read on each invocation (a few variables; nothing is cached, so nothing
 * goes stale); a test gives its own to {@link createContainHandler} instead.
 */
export function containDeps(): ContainDeps {
  const environment = ENV.required('BULKHEAD_ENV');
  const { ec2, ec2Fast, elbv2, iam } = clients;
  return {
    ...sdkContainPorts({ ec2, ec2Fast, elbv2, iam, environment }),
    ecs: clients.ecs,
    ssm: clients.ssm,
    sfn: clients.sfn,
    store: new IncidentStore(clients.db, ENV.required('INCIDENT_TABLE')),
    config: containConfigFrom(ENV.required),
    operators: { sns: clients.sns, opsTopicArn: ENV.required('OPS_TOPIC_ARN') },
    now: () => new Date(),
    newIncidentId,
    finishQuarantineDelayMs: () => {
      const [min, max] = (ENV.optional('FINISH_QUARANTINE_DELAY_MS') ?? '20000-40000').split('-').map(Number);
      const low = Number.isFinite(min) ? (min as number) : 20_000;
      const high = Number.isFinite(max) ? (max as number) : low;
      return low + Math.random() * Math.max(0, high - low);
    },
    joinWaitMs: Number(ENV.optional('JOIN_WAIT_MS') ?? JOIN_WAIT_MS) || JOIN_WAIT_MS,
    metric: (name, value, unit = 'Count') =>
      metrics.addMetric(name, unit === 'Milliseconds' ? MetricUnit.Milliseconds : MetricUnit.Count, value),
  };
}

/**
 * An ignored event's reason as logged. It quotes the event (a finding's type, its resource type, a
 * source): one bounded, inert value in the JSON line, whatever the event carried
 * (contracts/display.ts).
 */
export function loggedReason(reason: string): string {
  return printable(reason, 2_000);
}

/**
 * Containment of one event against `deps` (by default the environment's, read on each
 * invocation), its outcome logged: what the Lambda handler runs, and what tests call directly.
 */
export function createContainRun(
  deps: DepsSource<ContainDeps> = containDeps,
): (event: unknown) => Promise<ContainOutcome> {
  return async function containRun(event: unknown): Promise<ContainOutcome> {
    const outcome = await respondToEvent(event, depsOf(deps));
    if (outcome.outcome === 'ignored') {
      logger.warn('event ignored, nothing changed', { code: outcome.code, reason: loggedReason(outcome.reason) });
    } else {
      logger.info('response', { ...outcome });
    }
    return outcome;
  };
}

/** The containment function's handler (Powertools' logger context and metrics) over {@link createContainRun}. */
export function createContainHandler(deps: DepsSource<ContainDeps> = containDeps) {
  return middy(createContainRun(deps))
    .use(injectLambdaContext(logger, { clearState: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }));
}

/** Containment against the environment's dependencies, without the Lambda middleware. */
export const containHandler = createContainRun();

export const handler = createContainHandler();
