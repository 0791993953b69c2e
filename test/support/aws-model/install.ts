import { BackupClient } from '@aws-sdk/client-backup';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { IAMClient } from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConfiguredRetryStrategy, isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import type { RetryErrorInfo, RetryStrategyV2, StandardRetryToken } from '@smithy/types';
import { mockClient } from 'aws-sdk-client-mock';
import { type DocumentCommand, marshallInput, type TranslateConfig, unmarshallOutput } from './document-client';
import { AwsModel, type AwsModelOptions } from './model';
import type { ServiceName } from './service-names';

/** The SDK v3 client class of each modelled service. */
const CLIENTS: Array<[ServiceName, { prototype: object }]> = [
  ['EC2', EC2Client],
  ['ECS', ECSClient],
  ['ELBv2', ElasticLoadBalancingV2Client],
  ['IAM', IAMClient],
  ['SecretsManager', SecretsManagerClient],
  ['S3', S3Client],
  ['SNS', SNSClient],
  ['SFN', SFNClient],
  ['DynamoDB', DynamoDBClient],
  ['CloudWatch', CloudWatchClient],
  ['CloudWatchLogs', CloudWatchLogsClient],
  ['Backup', BackupClient],
  ['Lambda', LambdaClient],
  ['SSM', SSMClient],
];

/** Options of {@link installAwsModel}. */
export interface InstallOptions extends AwsModelOptions {
  /** Mock only these services (default: all). */
  services?: ServiceName[];
}

interface SdkCommand {
  input: unknown;
  constructor: { name: string };
}

interface SdkClient {
  config: {
    retryStrategy?: () => Promise<RetryStrategyV2>;
    maxAttempts?: () => Promise<number>;
    translateConfig?: TranslateConfig;
  };
}

interface Fakeable {
  callsFake(fn: (this: SdkClient, command: SdkCommand, options?: { abortSignal?: AbortSignal }) => unknown): unknown;
}

/**
 * Creates an {@link AwsModel} and replaces `send` of every SDK v3 client class (and of
 * DynamoDBDocumentClient) with aws-sdk-client-mock stubs answering from the model. Code
 * under test keeps creating real clients (`new EC2Client({})`, at module scope is fine).
 * Call `model.restore()` in afterEach.
 */
export function installAwsModel(options: InstallOptions = {}): AwsModel {
  const model = new AwsModel(options);
  for (const [service, Client] of CLIENTS) {
    if (options.services && !options.services.includes(service)) continue;
    const mock = mockClient(Client as never);
    (mock.send as unknown as Fakeable).callsFake(function (command, sendOptions) {
      return sendWithRetries(
        model,
        service,
        this,
        command.constructor.name.replace(/Command$/, ''),
        command.input,
        sendOptions?.abortSignal,
      );
    });
    model.onRestore(() => mock.restore());
    model.onClearHistory(() => mock.resetHistory());
  }
  if (!options.services || options.services.includes('DynamoDB')) {
    const mock = mockClient(DynamoDBDocumentClient);
    (mock.send as unknown as Fakeable).callsFake(async function (command, sendOptions) {
      const doc = command as unknown as DocumentCommand;
      const name = doc.clientCommand.constructor.name.replace(/Command$/, '');
      const config = this.config.translateConfig;
      const output = await sendWithRetries(
        model,
        'DynamoDB',
        this,
        name,
        marshallInput(doc, config),
        sendOptions?.abortSignal,
      );
      return unmarshallOutput(doc, output, config);
    });
    model.onRestore(() => mock.restore());
    model.onClearHistory(() => mock.resetHistory());
  }
  return model;
}

/** The SDK's classification of an error for its retry strategy (as in its retry middleware). */
function retryErrorInfo(error: unknown): RetryErrorInfo {
  const e = error as Parameters<typeof isThrottlingError>[0];
  let errorType: RetryErrorInfo['errorType'] = 'CLIENT_ERROR';
  if (isThrottlingError(e)) errorType = 'THROTTLING';
  else if (isTransientError(e)) errorType = 'TRANSIENT';
  else if (isServerError(e)) errorType = 'SERVER_ERROR';
  return { error: error as RetryErrorInfo['error'], errorType };
}

const noDelayStrategies = new WeakMap<object, RetryStrategyV2>();

async function strategyFor(model: AwsModel, client: SdkClient): Promise<RetryStrategyV2 | undefined> {
  const mode = model.options.retries;
  if (mode === 'off') return undefined;
  if (mode === 'sdk-no-delay') {
    let strategy = noDelayStrategies.get(client);
    if (!strategy) {
      const maxAttempts = (await client.config.maxAttempts?.()) ?? 3;
      strategy = new ConfiguredRetryStrategy(maxAttempts, 0);
      noDelayStrategies.set(client, strategy);
    }
    return strategy;
  }
  return client.config.retryStrategy?.();
}

/**
 * One `client.send`: the retry middleware's loop (acquire a token, try, ask the strategy
 * whether and after how long to retry, record success) around {@link AwsModel.invoke}.
 */
async function sendWithRetries(
  model: AwsModel,
  service: ServiceName,
  client: SdkClient,
  command: string,
  input: unknown,
  abortSignal: AbortSignal | undefined,
): Promise<Record<string, unknown>> {
  const strategy = await strategyFor(model, client);
  if (!strategy) return model.invoke(service, command, input, { abortSignal, attempt: 1 });
  let token = (await strategy.acquireInitialRetryToken('')) as StandardRetryToken & {
    $retryLog?: { acquisitionDelay?: number };
  };
  let attempts = 0;
  let totalRetryDelay = 0;
  for (;;) {
    try {
      const output = await model.invoke(service, command, input, { abortSignal, attempt: attempts + 1 });
      strategy.recordSuccess(token);
      const metadata = output.$metadata as { attempts?: number; totalRetryDelay?: number };
      metadata.attempts = attempts + 1;
      metadata.totalRetryDelay = totalRetryDelay;
      return output;
    } catch (error) {
      const meta = (error as { $metadata?: { attempts?: number; totalRetryDelay?: number } }).$metadata;
      try {
        token = (await strategy.refreshRetryTokenForRetry(token, retryErrorInfo(error))) as typeof token;
      } catch {
        if (meta) {
          meta.attempts = attempts + 1;
          meta.totalRetryDelay = totalRetryDelay;
        }
        throw error;
      }
      attempts = token.getRetryCount();
      const delay = token.getRetryDelay();
      totalRetryDelay += (token.$retryLog?.acquisitionDelay ?? 0) + delay;
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
