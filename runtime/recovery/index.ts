import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
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
import { z } from 'zod';
import { INCIDENT_ID_PATTERN, SITE_ID_PATTERN } from '../../contracts/ids';
import { RECOVERY_STEPS, type RecoveryStepName } from '../../contracts/workflow';
import { IncidentStore } from '../shared/incident-store';
import { type DepsSource, depsOf } from '../shared/deps-source';
import { environmentOf } from '../shared/env';
import { type ApprovalDeps, recordApprovalTimeout, requestApproval } from './approval';
import { Ledger } from './ledger';
import { type ReleaseDeps, releaseIncident } from './release';
import {
  beginRestore,
  checkHealth,
  closeRestore,
  deployKnownGood,
  markRestoreFailed,
  type RestoreDeps,
  type RestoreInput,
  reopen,
  returnToPrimary,
  rotateCredentials,
} from './restore';
import { InvalidRecoveryRequestError } from './errors';

export { InvalidRecoveryRequestError };

const ENV = environmentOf('recovery');

/**
 * The recovery function: the incident workflow's restore and approval steps
 * (`{ step, input, taskToken? }`). Its role may change a site back (rules, listener,
 * service, password); the incident function, which keeps evidence, may not.
 */
const logger = new Logger({ serviceName: 'bulkhead-recovery' });
const retrying = { maxAttempts: 6 };

export type RecoveryDeps = RestoreDeps & ReleaseDeps & ApprovalDeps;

/** The clients, once per container, at module scope (the SDK resolves region and credentials on first use). */
const clients = {
  db: DynamoDBDocumentClient.from(new DynamoDBClient(retrying), { marshallOptions: { removeUndefinedValues: true } }),
  ssm: new SSMClient(retrying),
  ecs: new ECSClient(retrying),
  ec2: new EC2Client(retrying),
  elbv2: new ElasticLoadBalancingV2Client(retrying),
  iam: new IAMClient(retrying),
  secrets: new SecretsManagerClient(retrying),
  lambda: new LambdaClient(retrying),
  sfn: new SFNClient(retrying),
};

/**
 * The recovery function's dependencies from the environment the response stack sets, over the
 * module's clients. Read on each invocation (nothing cached, so nothing goes stale); a test
 * gives its own to {@link createRecoveryRun} instead.
 */
export function recoveryDeps(): RecoveryDeps {
  const { db, ...sdk } = clients;
  const healthTimeout = Number(ENV.optional('RESTORE_HEALTH_TIMEOUT_SECONDS') ?? '900');
  return {
    environment: ENV.required('BULKHEAD_ENV'),
    store: new IncidentStore(db, ENV.required('INCIDENT_TABLE')),
    ledger: new Ledger(db, ENV.required('INCIDENT_TABLE')),
    ...sdk,
    databaseUserFunction: ENV.required('DB_USER_FUNCTION'),
    logsEndpointGroupId: ENV.required('LOGS_ENDPOINT_SG_ID'),
    quarantineAclId: ENV.required('QUARANTINE_ACL_ID'),
    healthTimeoutMs: Number.isFinite(healthTimeout) && healthTimeout > 0 ? healthTimeout * 1000 : undefined,
    now: () => new Date(),
    newToken: () => randomUUID(),
  };
}

type StepRun = (deps: RecoveryDeps, input: RestoreInput, taskToken?: string) => Promise<unknown>;

/** Every step the workflow may ask for, by name. */
const STEP_RUNS = {
  'begin-restore': beginRestore,
  'rotate-credentials': rotateCredentials,
  'deploy-known-good': deployKnownGood,
  'check-health': checkHealth,
  reopen,
  'return-to-primary': returnToPrimary,
  'close-restore': closeRestore,
  'mark-restore-failed': markRestoreFailed,
  'await-approval': async (deps, input, taskToken) => {
    if (!taskToken) throw new InvalidRecoveryRequestError('await-approval needs the task token');
    await requestApproval(deps, input, taskToken);
    return { waiting: true };
  },
  'approval-timed-out': async (deps, input) => {
    await recordApprovalTimeout(deps, input);
    return input;
  },
  'release-false-positive': async (deps, input) => {
    const result = await releaseIncident(deps, {
      incidentId: input.incidentId,
      releasedBy: input.decision?.by ?? 'workflow',
      reason: 'approved as a false positive',
    });
    if (result.outcome === 'refused') {
      throw new Error(`release refused: the site changed after containment (${result.drift.join('; ')})`);
    }
    return { ...input, status: 'RELEASED' };
  },
} satisfies Record<RecoveryStepName, StepRun>;

const requestSchema = z.object({
  step: z.enum(RECOVERY_STEPS),
  input: z
    .object({
      incidentId: z.string().regex(INCIDENT_ID_PATTERN),
      site: z.string().regex(SITE_ID_PATTERN),
      approvalTimeoutSeconds: z.number().int().positive().optional(),
      decision: z
        .object({
          decision: z.enum(['restore', 'false-positive']).optional(),
          digest: z
            .string()
            .regex(/^sha256:[0-9a-f]{64}$/)
            .optional(),
          by: z.string().max(256).optional(),
        })
        .optional(),
    })
    .loose(),
  taskToken: z.string().min(1).max(1024).optional(),
});

/** One workflow step against `deps` (by default the environment's, read on each invocation). */
export function createRecoveryRun(
  deps: DepsSource<RecoveryDeps> = recoveryDeps,
): (request: unknown) => Promise<unknown> {
  return async function runRecoveryStep(request: unknown): Promise<unknown> {
    const parsed = requestSchema.safeParse(request);
    if (!parsed.success) {
      throw new InvalidRecoveryRequestError(
        `invalid recovery step request: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    }
    const { step, taskToken } = parsed.data;
    const input = parsed.data.input as RestoreInput;
    logger.info('recovery step', { step, incidentId: input.incidentId, site: input.site });
    // Awaited here (not returned as is) so the step's stack keeps this entry (logs, and the tests'
    // IAM check, which finds the calling function by its entry).
    return await (STEP_RUNS[step] as StepRun)(depsOf(deps), input, taskToken);
  };
}

/** The recovery function's handler (Powertools' logger context) over {@link createRecoveryRun}. */
export function createRecoveryHandler(deps: DepsSource<RecoveryDeps> = recoveryDeps) {
  return middy(createRecoveryRun(deps)).use(injectLambdaContext(logger, { clearState: true }));
}

/** A step against the environment's dependencies, without the Lambda middleware. */
export const runRecoveryStep = createRecoveryRun();

export const handler = createRecoveryHandler();
