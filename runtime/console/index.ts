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
import { containConfigFrom } from '../contain/config';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { sdkContainPorts } from '../contain/adapters/sdk-ports';
import { newIncidentId } from '../contain/index';
import { type DepsSource, depsOf } from '../shared/deps-source';
import { environmentOf } from '../shared/env';
import { IncidentStore } from '../shared/incident-store';
import type { Caller } from './audit-log';
import { type ConsoleDeps, runConsole } from './console';
import {
  type ClaimedIdentity,
  claimedIdentitySchema,
  CONSOLE_ANSWER_SECONDS_ENV,
  DRILL_EVENT_BUS_ENV,
} from '../../contracts/console-api';
import { type GatewayResponse, gatewayResponse, readGatewayRequest } from './gateway';
import { eventBridgePutEvents } from './eventbridge';

const ENV = environmentOf('console');

/**
 * The ops console (`bulkhead-<env>-ops-console`): one function behind one API method, `{ action, ... }`
 * bodies (contracts/console-api.ts), from the operator role only, verified by API Gateway (IAM
 * authorization). Typed errors come back as `{ ok: false, error }`; anything unexpected is answered
 * 500 (and audited first).
 */
const logger = new Logger({ serviceName: 'bulkhead-console' });
/**
 * Operator quarantine runs containment's own code, whose metrics (IncidentsOpened,
 * ContainmentFailed, TimeToIsolate) count with the automatic ones: same service dimension,
 * so the response stack's ContainmentFailed alarm covers an operator's quarantine too.
 */
const metrics = new Metrics({ namespace: 'Bulkhead', serviceName: 'bulkhead-contain' });
const retrying = { maxAttempts: 8 };

let metricsAdded = false;

/** The clients, once per container, at module scope (the SDK resolves region and credentials on first use). */
const clients = {
  db: DynamoDBDocumentClient.from(new DynamoDBClient(retrying), { marshallOptions: { removeUndefinedValues: true } }),
  ec2: new EC2Client(retrying),
  ec2Fast: new EC2Client({ maxAttempts: 1 }),
  ecs: new ECSClient(retrying),
  elbv2: new ElasticLoadBalancingV2Client(retrying),
  iam: new IAMClient(retrying),
  ssm: new SSMClient(retrying),
  sfn: new SFNClient(retrying),
  secrets: new SecretsManagerClient(retrying),
  lambda: new LambdaClient(retrying),
};

/**
 * The console's dependencies from the environment the ops stack sets, over the module's
 * clients. Read on each invocation (nothing cached, so nothing goes stale); a test gives its
 * own (no EventBridge in tests: `putEvents` hands the event to containment) to
 * {@link createConsoleRun} instead.
 */
export function consoleDeps(): ConsoleDeps {
  const { db, ec2, ec2Fast, ecs, elbv2, iam, ssm, sfn, secrets, lambda } = clients;
  const tableName = ENV.required('INCIDENT_TABLE');
  const environment = ENV.required('BULKHEAD_ENV');
  const drillTimeout = Number(ENV.optional('DRILL_TIMEOUT_SECONDS') ?? '120');
  const logsEndpointGroupId = ENV.required('LOGS_ENDPOINT_SG_ID');
  const quarantineAclId = ENV.required('QUARANTINE_ACL_ID');
  return {
    environment,
    db,
    tableName,
    store: new IncidentStore(db, tableName),
    ec2,
    ecs,
    elbv2,
    iam,
    ...sdkContainPorts({ ec2, ec2Fast, elbv2, iam, environment }),
    ssm,
    sfn,
    secrets,
    lambda,
    databaseUserFunction: ENV.required('DB_USER_FUNCTION'),
    logsEndpointGroupId,
    quarantineAclId,
    config: containConfigFrom(ENV.required),
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
    ...(Number(ENV.optional(CONSOLE_ANSWER_SECONDS_ENV)) > 0
      ? { answerWithinMs: Number(ENV.optional(CONSOLE_ANSWER_SECONDS_ENV)) * 1000 }
      : {}),
    drillPollMs: 1_000,
  };
}

type InvocationContext = Partial<Pick<Context, 'awsRequestId'>>;

/** What a refused event gets back: a 403 through the API, this same body to a direct invoke. */
export interface CallerRefusal {
  readonly ok: false;
  readonly action: string;
  readonly requestId: string;
  readonly error: { readonly name: 'CallerRefusedError'; readonly code: 'refused'; readonly message: string };
}

function claimFrom(value: unknown): ClaimedIdentity | undefined {
  const parsed = claimedIdentitySchema.safeParse(value);
  return parsed.success && Object.keys(parsed.data).length > 0 ? parsed.data : undefined;
}

function actionOf(payload: unknown): string {
  const action = (payload as { action?: unknown } | null)?.action;
  return typeof action === 'string' ? action.slice(0, 64) : 'unknown';
}

/**
 * The console function: a request of the console API from a verified operator role session is
 * run (validated, audited, acted on) and answered 200 with the {@link ConsoleResponse}; an
 * unexpected failure (audited first) is answered 500. Any other event is refused before anything
 * is read or written (runtime/console/gateway.ts): a 403 through the API, a refusal body to a
 * direct invoke (which the function's resource policy denies anyway). Against `deps`: by default the
 * environment's, read on each invocation.
 */
export function createConsoleRun(
  deps: DepsSource<ConsoleDeps> = consoleDeps,
): (event: unknown, context?: InvocationContext) => Promise<GatewayResponse | CallerRefusal> {
  return (event, context) => answerConsole(event, context, depsOf(deps));
}

async function answerConsole(
  event: unknown,
  context: InvocationContext | undefined,
  deps: ConsoleDeps,
): Promise<GatewayResponse | CallerRefusal> {
  const { account, region } = deps.config.scope;
  const request = readGatewayRequest(event, { environment: deps.environment, account, region });
  const invocationId = context?.awsRequestId ?? `local-${randomUUID()}`;
  if (!request.accepted) {
    logger.warn('console request refused', { reason: request.reason, fromGateway: request.fromGateway });
    deps.metric('ConsoleCallsRefused', 1);
    const body: CallerRefusal = {
      ok: false,
      action: request.fromGateway ? 'unknown' : actionOf(event),
      requestId: invocationId,
      error: { name: 'CallerRefusedError', code: 'refused', message: `refused: ${request.reason}` },
    };
    return request.fromGateway ? gatewayResponse(403, body) : body;
  }
  const payload = request.payload;
  const claimed = claimFrom((payload as { identity?: unknown } | null)?.identity);
  const caller: Caller = {
    by: request.identity.userArn,
    verified: request.identity,
    ...(claimed ? { claimed } : {}),
    requestId: request.requestId,
    invocationId,
  };
  logger.info('console request', { action: actionOf(payload), by: caller.by, requestId: caller.requestId });
  try {
    const response = await runConsole(payload, caller, deps);
    if (response.ok) logger.info('console answer', { action: response.action });
    else logger.warn('console answer: not done', { action: response.action, error: response.error });
    return gatewayResponse(200, response);
  } catch (error) {
    logger.error('console action failed', { error: error as Error });
    return gatewayResponse(500, {
      errorType: (error as Error)?.name ?? 'Error',
      errorMessage: String((error as Error)?.message ?? error).slice(0, 2000),
      requestId: caller.requestId,
    });
  }
}

/** Publishes containment's metrics when an action recorded some (most actions record none). */
function flushMetrics(): void {
  if (!metricsAdded) return;
  metricsAdded = false;
  metrics.publishStoredMetrics();
}

/** The console function's handler (Powertools' logger context, containment's metrics) over {@link createConsoleRun}. */
export function createConsoleHandler(deps: DepsSource<ConsoleDeps> = consoleDeps) {
  return middy(createConsoleRun(deps))
    .use(injectLambdaContext(logger, { clearState: true }))
    .use({ after: async () => flushMetrics(), onError: async () => flushMetrics() });
}

/** The console against the environment's dependencies, without the Lambda middleware. */
export const consoleHandler = createConsoleRun();

export const handler = createConsoleHandler();
