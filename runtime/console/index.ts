import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { IAMClient } from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { newIncidentId } from '../contain/index';
import { environmentOf, lambdaRegion } from '../shared/env';
import { IncidentStore } from '../shared/incident-store';
import type { Caller } from './audit-log';
import { type ConsoleDeps, runConsole } from './console';
import {
  type ClaimedIdentity,
  claimedIdentitySchema,
  type ConsoleResponse,
  DRILL_EVENT_BUS_ENV,
} from '../../contracts/console-api';
import { eventBridgePutEvents } from './eventbridge';

const ENV = environmentOf('console');

/**
 * The ops console (`bulkhead-<env>-ops-console`): one function, `{ action, ... }` payloads
 * (contracts/console-api.ts), invoked by the operator role only, through `siteops` or
 * `aws lambda invoke`. Typed errors come back as `{ ok: false, error }`; anything unexpected
 * fails the invocation (and is audited first).
 */
const logger = new Logger({ serviceName: 'bulkhead-console' });
/**
 * Operator quarantine runs containment's own code, whose metrics (IncidentsOpened,
 * ContainmentFailed, TimeToIsolate) count with the automatic ones: same service dimension,
 * so the response stack's ContainmentFailed alarm covers an operator's quarantine too.
 */
const metrics = new Metrics({ namespace: 'Bulkhead', serviceName: 'bulkhead-contain' });
const retrying = { maxAttempts: 8 };

/** Where `siteops` puts the caller's claimed identity in the Invoke's client context. */
export const CLIENT_CONTEXT_IDENTITY_KEY = 'bulkheadIdentity';

let deps: ConsoleDeps | undefined;
let overrides: Partial<ConsoleDeps> = {};
let metricsAdded = false;

/** Built on first use, from the environment the ops stack sets. */
export function consoleDeps(): ConsoleDeps {
  if (!deps) {
    const db = DynamoDBDocumentClient.from(new DynamoDBClient(retrying), {
      marshallOptions: { removeUndefinedValues: true },
    });
    const tableName = ENV.required('INCIDENT_TABLE');
    const environment = ENV.required('BULKHEAD_ENV');
    const drillTimeout = Number(ENV.optional('DRILL_TIMEOUT_SECONDS') ?? '120');
    deps = {
      environment,
      db,
      tableName,
      store: new IncidentStore(db, tableName),
      ec2: new EC2Client(retrying),
      ec2Fast: new EC2Client({ maxAttempts: 1 }),
      ecs: new ECSClient(retrying),
      elbv2: new ElasticLoadBalancingV2Client(retrying),
      iam: new IAMClient(retrying),
      ssm: new SSMClient(retrying),
      sfn: new SFNClient(retrying),
      secrets: new SecretsManagerClient(retrying),
      lambda: new LambdaClient(retrying),
      databaseUserFunction: ENV.required('DB_USER_FUNCTION'),
      logsEndpointGroupId: ENV.required('LOGS_ENDPOINT_SG_ID'),
      quarantineAclId: ENV.required('QUARANTINE_ACL_ID'),
      config: {
        scope: {
          environment,
          account: ENV.required('BULKHEAD_ACCOUNT'),
          region: lambdaRegion(),
          clusterArns: new Set(ENV.required('CLUSTER_ARNS').split(',')),
        },
        logsEndpointGroupId: ENV.required('LOGS_ENDPOINT_SG_ID'),
        quarantineAclId: ENV.required('QUARANTINE_ACL_ID'),
        stateMachineArn: ENV.required('STATE_MACHINE_ARN'),
      },
      now: () => new Date(),
      newIncidentId,
      newId: () => randomUUID(),
      newToken: () => randomUUID(),
      // Operator quarantine reads the group by its tags, so no interim rules wait to be tidied.
      finishQuarantineDelayMs: () => 1_000,
      metric: (name, value, unit = 'Count') => {
        metricsAdded = true;
        metrics.addMetric(name, unit === 'Milliseconds' ? MetricUnit.Milliseconds : MetricUnit.Count, value);
      },
      putEvents: eventBridgePutEvents(ENV.required(DRILL_EVENT_BUS_ENV)),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      drillTimeoutMs: (Number.isFinite(drillTimeout) && drillTimeout > 0 ? drillTimeout : 120) * 1000,
      drillPollMs: 1_000,
    };
  }
  return { ...deps, ...overrides };
}

/** Test hook: forget the dependencies (new environment, new clients) and any overrides. */
export function resetConsoleDeps(): void {
  deps = undefined;
  overrides = {};
}

/** Test hook: replace some dependencies (no EventBridge in tests: `putEvents` hands the event to containment). */
export function overrideConsoleDeps(replacements: Partial<ConsoleDeps>): void {
  overrides = { ...overrides, ...replacements };
}

type InvocationContext = Partial<Pick<Context, 'awsRequestId'>> & {
  readonly clientContext?: { readonly custom?: unknown; readonly Custom?: unknown } | undefined;
};

function claimFrom(value: unknown): ClaimedIdentity | undefined {
  const parsed = claimedIdentitySchema.safeParse(value);
  return parsed.success && Object.keys(parsed.data).length > 0 ? parsed.data : undefined;
}

/**
 * Who called, as far as a Lambda function can know: what the caller claims, from the
 * Invoke's client context (`custom.bulkheadIdentity`, which siteops sets) or the payload's
 * `identity`. Never verified here; the audit record says so.
 */
export function callerFrom(payload: unknown, context: InvocationContext | undefined): Caller {
  const custom = (context?.clientContext?.custom ?? context?.clientContext?.Custom) as
    Record<string, unknown> | undefined;
  const fromContext = claimFrom(custom?.[CLIENT_CONTEXT_IDENTITY_KEY]);
  const fromPayload = claimFrom((payload as { identity?: unknown } | null)?.identity);
  const identity = fromContext ?? fromPayload;
  const name =
    identity?.principal ??
    (identity?.user ? `${identity.user}${identity.host ? `@${identity.host}` : ''}` : undefined) ??
    'unidentified caller';
  return {
    by: `${name} (unverified)`,
    identity,
    identitySource: fromContext ? 'client-context' : fromPayload ? 'payload' : 'none',
    requestId: context?.awsRequestId ?? `local-${randomUUID()}`,
  };
}

export async function consoleHandler(event: unknown, context?: InvocationContext): Promise<ConsoleResponse> {
  const caller = callerFrom(event, context);
  const action = (event as { action?: unknown } | null)?.action;
  logger.info('console request', { action: typeof action === 'string' ? action : undefined, by: caller.by });
  try {
    const response = await runConsole(event, caller, consoleDeps());
    if (response.ok) logger.info('console answer', { action: response.action });
    else logger.warn('console refused', { action: response.action, error: response.error });
    return response;
  } catch (error) {
    logger.error('console action failed', { error: error as Error });
    throw error;
  }
}

/** Publishes containment's metrics when an action recorded some (most actions record none). */
function flushMetrics(): void {
  if (!metricsAdded) return;
  metricsAdded = false;
  metrics.publishStoredMetrics();
}

export const handler = middy(consoleHandler)
  .use(injectLambdaContext(logger, { clearState: true }))
  .use({ after: async () => flushMetrics(), onError: async () => flushMetrics() });
