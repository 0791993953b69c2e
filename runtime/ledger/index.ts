import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import { z } from 'zod';
import { Ledger, type LedgerEntry, recordDeploymentFromService } from '../recovery/ledger';
import { environmentOf } from '../shared/env';

const ENV = environmentOf('ledger');

/**
 * The ledger of images: EventBridge sends ECS "SERVICE_DEPLOYMENT_COMPLETED" events here,
 * and the digest the site's service now runs is recorded as gone live.
 */
const logger = new Logger({ serviceName: 'bulkhead-ledger' });
const ecs = new ECSClient({ maxAttempts: 6 });
let ledger: Ledger | undefined;

const deploymentEvent = z
  .object({
    'detail-type': z.literal('ECS Deployment State Change'),
    source: z.literal('aws.ecs'),
    time: z.string(),
    resources: z
      .array(z.string().regex(/^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:service\/[A-Za-z0-9_-]+\/[A-Za-z0-9_-]+$/))
      .min(1),
    detail: z
      .object({ eventName: z.string(), deploymentId: z.string().optional(), updatedAt: z.string().optional() })
      .loose(),
  })
  .loose();

export async function recordDeployment(event: unknown): Promise<LedgerEntry | { ignored: string }> {
  const parsed = deploymentEvent.safeParse(event);
  if (!parsed.success) {
    const ignored = { ignored: `not an ECS deployment event: ${parsed.error.issues[0]?.message ?? ''}` };
    logger.warn('event ignored', ignored);
    return ignored;
  }
  if (parsed.data.detail.eventName !== 'SERVICE_DEPLOYMENT_COMPLETED') {
    return { ignored: `deployment event ${parsed.data.detail.eventName} is not a completed deployment` };
  }
  const serviceArn = parsed.data.resources[0] as string;
  const [prefix, path] = serviceArn.split(':service/') as [string, string];
  const clusterArn = `${prefix}:cluster/${path.split('/')[0]}`;
  ledger ??= new Ledger(
    DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 6 })),
    ENV.required('INCIDENT_TABLE'),
  );
  const result = await recordDeploymentFromService(
    ecs,
    ledger,
    ENV.required('BULKHEAD_ENV'),
    clusterArn,
    serviceArn,
    parsed.data.detail.updatedAt ?? parsed.data.time,
  );
  logger.info('deployment recorded', { ...result });
  return result;
}

export const handler = middy(recordDeployment).use(injectLambdaContext(logger, { clearState: true }));
