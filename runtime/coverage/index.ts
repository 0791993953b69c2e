import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import middy from '@middy/core';
import { environmentOf } from '../shared/env';
import { type CoverageDeps, handleCoverageChange } from './coverage';

const ENV = environmentOf('coverage');

/**
 * EventBridge sends GuardDuty runtime coverage changes of Bulkhead's clusters here; the
 * operators hear which sites are (or are again) watched. `CLUSTER_CELLS` is
 * `cluster=cell,cluster=cell`, set by the response stack.
 */
const logger = new Logger({ serviceName: 'bulkhead-coverage' });
let deps: CoverageDeps | undefined;

function depsFromEnvironment(): CoverageDeps {
  return {
    sns: new SNSClient({ maxAttempts: 6 }),
    ssm: new SSMClient({ maxAttempts: 6 }),
    environment: ENV.required('BULKHEAD_ENV'),
    opsTopicArn: ENV.required('OPS_TOPIC_ARN'),
    clusterCells: new Map(
      ENV.required('CLUSTER_CELLS')
        .split(',')
        .map((pair) => pair.split('=') as [string, string]),
    ),
  };
}

export async function onCoverageChange(event: unknown) {
  deps ??= depsFromEnvironment();
  const result = await handleCoverageChange(deps, event);
  if ('ignored' in result) logger.warn('event ignored', { reason: result.ignored });
  else logger.info('operators told', { ...result });
  return result;
}

export const handler = middy(onCoverageChange).use(injectLambdaContext(logger, { clearState: true }));
