import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { BackupClient } from '@aws-sdk/client-backup';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import { z } from 'zod';
import { INCIDENT_STEPS } from '../../contracts/workflow';
import { type DepsSource, depsOf } from '../shared/deps-source';
import { environmentOf } from '../shared/env';
import { Ledger } from '../recovery/ledger';
import { IncidentStore } from '../shared/incident-store';
import { WORKFLOW_STEPS, type WorkflowDeps } from './steps';
import { InvalidStepRequestError } from './errors';

export { InvalidStepRequestError };

const ENV = environmentOf('incident');

/**
 * The incident workflow's Lambda: the state machine calls it once per step
 * (`{ step, input }`): keep evidence, notify, stop the contained tasks, mark failed.
 */
const logger = new Logger({ serviceName: 'bulkhead-incident' });
const retrying = { maxAttempts: 6 };

/** The clients, once per container, at module scope (the SDK resolves region and credentials on first use). */
const clients = {
  db: DynamoDBDocumentClient.from(new DynamoDBClient(retrying), { marshallOptions: { removeUndefinedValues: true } }),
  ssm: new SSMClient(retrying),
  ecs: new ECSClient(retrying),
  ec2: new EC2Client(retrying),
  logs: new CloudWatchLogsClient(retrying),
  s3: new S3Client(retrying),
  sns: new SNSClient(retrying),
  backup: new BackupClient(retrying),
  cloudwatch: new CloudWatchClient(retrying),
};

/**
 * The incident function's dependencies from the environment the response stack sets, over the
 * module's clients. Read on each invocation (nothing cached, so nothing goes stale); a test
 * gives its own to {@link createWorkflowRun} instead.
 */
export function workflowDeps(): WorkflowDeps {
  const { db, ...sdk } = clients;
  return {
    environment: ENV.required('BULKHEAD_ENV'),
    ledger: new Ledger(db, ENV.required('INCIDENT_TABLE')),
    store: new IncidentStore(db, ENV.required('INCIDENT_TABLE')),
    ...sdk,
    evidenceBucket: ENV.required('EVIDENCE_BUCKET'),
    backupVaultName: ENV.required('BACKUP_VAULT'),
    backupRoleArn: ENV.required('BACKUP_ROLE_ARN'),
    opsTopicArn: ENV.required('OPS_TOPIC_ARN'),
    now: () => new Date(),
  };
}

const requestSchema = z.object({
  step: z.enum(INCIDENT_STEPS),
  input: z
    .object({
      incidentId: z.string().min(1).max(128),
      site: z.string(),
      status: z.string(),
      drill: z.boolean(),
      forensicHoldSeconds: z.number().int().min(0),
      error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
    })
    .loose(),
});

/** One workflow step against `deps` (by default the environment's, read on each invocation). */
export function createWorkflowRun(deps: DepsSource<WorkflowDeps> = workflowDeps) {
  return async function runWorkflowStep(request: unknown) {
    const parsed = requestSchema.safeParse(request);
    if (!parsed.success) {
      throw new InvalidStepRequestError(
        `invalid workflow step request: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    }
    const { step, input } = parsed.data;
    logger.info('workflow step', { step, incidentId: input.incidentId, site: input.site });
    // Awaited here (not returned as is) so the step's stack keeps this entry (logs, and the tests'
    // IAM check, which finds the calling function by its entry).
    return await WORKFLOW_STEPS[step](depsOf(deps), input);
  };
}

/** The incident function's handler (Powertools' logger context) over {@link createWorkflowRun}. */
export function createWorkflowHandler(deps: DepsSource<WorkflowDeps> = workflowDeps) {
  return middy(createWorkflowRun(deps)).use(injectLambdaContext(logger, { clearState: true }));
}

/** A step against the environment's dependencies, without the Lambda middleware. */
export const runWorkflowStep = createWorkflowRun();

export const handler = createWorkflowHandler();
