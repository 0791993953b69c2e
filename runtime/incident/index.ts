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

let deps: WorkflowDeps | undefined;

export function workflowDeps(): WorkflowDeps {
  if (deps) return deps;
  const db = DynamoDBDocumentClient.from(new DynamoDBClient(retrying), {
    marshallOptions: { removeUndefinedValues: true },
  });
  deps = {
    environment: ENV.required('BULKHEAD_ENV'),
    ledger: new Ledger(db, ENV.required('INCIDENT_TABLE')),
    store: new IncidentStore(db, ENV.required('INCIDENT_TABLE')),
    ssm: new SSMClient(retrying),
    ecs: new ECSClient(retrying),
    ec2: new EC2Client(retrying),
    logs: new CloudWatchLogsClient(retrying),
    s3: new S3Client(retrying),
    sns: new SNSClient(retrying),
    backup: new BackupClient(retrying),
    cloudwatch: new CloudWatchClient(retrying),
    evidenceBucket: ENV.required('EVIDENCE_BUCKET'),
    backupVaultName: ENV.required('BACKUP_VAULT'),
    backupRoleArn: ENV.required('BACKUP_ROLE_ARN'),
    opsTopicArn: ENV.required('OPS_TOPIC_ARN'),
    now: () => new Date(),
  };
  return deps;
}

export function resetWorkflowDeps(): void {
  deps = undefined;
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

export async function runWorkflowStep(request: unknown) {
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
  return await WORKFLOW_STEPS[step](workflowDeps(), input);
}

export const handler = middy(runWorkflowStep).use(injectLambdaContext(logger, { clearState: true }));
