import * as backup from '@aws-sdk/client-backup';
import * as cloudwatch from '@aws-sdk/client-cloudwatch';
import * as logs from '@aws-sdk/client-cloudwatch-logs';
import * as dynamodb from '@aws-sdk/client-dynamodb';
import * as ec2 from '@aws-sdk/client-ec2';
import * as ecs from '@aws-sdk/client-ecs';
import * as elbv2 from '@aws-sdk/client-elastic-load-balancing-v2';
import * as iam from '@aws-sdk/client-iam';
import * as lambda from '@aws-sdk/client-lambda';
import * as s3 from '@aws-sdk/client-s3';
import * as secretsManager from '@aws-sdk/client-secrets-manager';
import * as sfn from '@aws-sdk/client-sfn';
import * as sns from '@aws-sdk/client-sns';
import * as ssm from '@aws-sdk/client-ssm';
import type { ServiceName } from './service-names';

/** The fields every SDK v3 service exception carries. */
export interface AwsServiceError extends Error {
  $fault: 'client' | 'server';
  $metadata: {
    httpStatusCode?: number;
    requestId?: string;
    attempts?: number;
    totalRetryDelay?: number;
  };
  $retryable?: { throttling?: boolean };
  [field: string]: unknown;
}

type Protocol = 'ec2' | 'query' | 'json' | 'rest-xml' | 'rest-json';

interface ServiceErrors {
  module: Record<string, unknown>;
  base: string;
  protocol: Protocol;
}

/** Each service's SDK module, its base exception and its wire protocol. */
const SERVICES: Record<ServiceName, ServiceErrors> = {
  EC2: { module: ec2, base: 'EC2ServiceException', protocol: 'ec2' },
  ECS: { module: ecs, base: 'ECSServiceException', protocol: 'json' },
  ELBv2: { module: elbv2, base: 'ElasticLoadBalancingV2ServiceException', protocol: 'query' },
  IAM: { module: iam, base: 'IAMServiceException', protocol: 'query' },
  SecretsManager: {
    module: secretsManager,
    base: 'SecretsManagerServiceException',
    protocol: 'json',
  },
  S3: { module: s3, base: 'S3ServiceException', protocol: 'rest-xml' },
  SNS: { module: sns, base: 'SNSServiceException', protocol: 'query' },
  SFN: { module: sfn, base: 'SFNServiceException', protocol: 'json' },
  DynamoDB: { module: dynamodb, base: 'DynamoDBServiceException', protocol: 'json' },
  CloudWatch: { module: cloudwatch, base: 'CloudWatchServiceException', protocol: 'query' },
  CloudWatchLogs: { module: logs, base: 'CloudWatchLogsServiceException', protocol: 'json' },
  Backup: { module: backup, base: 'BackupServiceException', protocol: 'rest-json' },
  Lambda: { module: lambda, base: 'LambdaServiceException', protocol: 'rest-json' },
  SSM: { module: ssm, base: 'SSMServiceException', protocol: 'json' },
};

interface ModeledError {
  className: string;
  status: number;
  fault: 'client' | 'server';
}

type ErrorCtor = new (opts: Record<string, unknown>) => AwsServiceError;

const registries = new Map<ServiceName, Map<string, ModeledError>>();

/**
 * The service's modeled errors keyed by the code AWS puts on the wire. The SDK ships each
 * error's schema as `<Name>$`: `[-3, namespace, name, traits, members, ...]`, where the
 * traits carry `error` (client/server), `httpError` and, for query protocols,
 * `awsQueryError: [wireCode, status]` (IAM sends `NoSuchEntity`, the SDK throws
 * `NoSuchEntityException`).
 */
function registry(service: ServiceName): Map<string, ModeledError> {
  const cached = registries.get(service);
  if (cached) return cached;
  const map = new Map<string, ModeledError>();
  const { module, protocol } = SERVICES[service];
  const query = protocol === 'query' || protocol === 'ec2';
  for (const [key, value] of Object.entries(module)) {
    if (!key.endsWith('$') || !Array.isArray(value) || value[0] !== -3) continue;
    const traits = value[3] as
      { error?: 'client' | 'server'; httpError?: number; awsQueryError?: [string, number] } | undefined;
    if (!traits?.error) continue;
    const className = String(value[2]);
    if (typeof module[className] !== 'function') continue;
    const fallback = traits.error === 'server' ? 500 : 400;
    // JSON and REST protocols put the shape name on the wire with the shape's httpError;
    // query protocols use the awsQueryError code and status (IAM `NoSuchEntity`, 404).
    const status = query ? (traits.awsQueryError?.[1] ?? traits.httpError ?? fallback) : (traits.httpError ?? fallback);
    const entry = { className, status, fault: traits.error };
    map.set(className, entry);
    if (query && traits.awsQueryError?.[0]) map.set(traits.awsQueryError[0], entry);
  }
  registries.set(service, map);
  return map;
}

/** Options for {@link awsError}. */
export interface AwsErrorOptions {
  /** HTTP status; defaults to the modeled status, else 400 (or 500 for server faults). */
  status?: number;
  /** Extra members of the error shape (DynamoDB `Item`, `CancellationReasons`...). */
  fields?: Record<string, unknown>;
  requestId?: string;
}

/**
 * Builds the error the SDK would throw for `code` from `service`: an instance of the
 * modeled exception class when the service models it (so `instanceof
 * ConditionalCheckFailedException` works), else the service's base exception with
 * `name = code` (how the SDK surfaces unmodeled codes such as EC2's
 * `InvalidPermission.Duplicate`). `$fault` follows the model's trait, or the status
 * (< 500 client) for unmodeled codes, as the SDK's protocol deserializers do.
 */
export function awsError(
  service: ServiceName,
  code: string,
  message: string,
  options: AwsErrorOptions = {},
): AwsServiceError {
  const { module, base, protocol } = SERVICES[service];
  const modeled = registry(service).get(code);
  const status = options.status ?? modeled?.status ?? 400;
  const $metadata = { httpStatusCode: status, requestId: options.requestId, attempts: 1 };
  let error: AwsServiceError;
  if (modeled) {
    const Ctor = module[modeled.className] as ErrorCtor;
    error = new Ctor({ message, $metadata, ...options.fields });
  } else {
    const Base = module[base] as ErrorCtor;
    error = new Base({
      name: code,
      message,
      $fault: status < 500 ? 'client' : 'server',
      $metadata,
    });
  }
  if (options.fields) Object.assign(error, options.fields);
  // Query protocols parse <Error><Code>..</Code></Error> and the SDK copies it onto the error.
  if (protocol === 'ec2' || protocol === 'query') error.Code = code;
  if (protocol === 'query') error.Type = status < 500 ? 'Sender' : 'Receiver';
  error.message = message;
  return error;
}

/**
 * How each service names throttling and other generic failures on the wire, with the HTTP
 * status it sends. Sources: EC2 "Request throttling for the Amazon EC2 API" and the EC2
 * error-code list (RequestLimitExceeded, sent with 503 Service Unavailable as SDK
 * traces show); ECS, Secrets Manager, Step Functions, CloudWatch Logs and Backup answer
 * `ThrottlingException` (400); IAM, ELBv2 and CloudWatch (query protocol) send `Throttling`
 * (400, "Rate exceeded"; ELBv2's documentation names the CloudTrail event
 * `ThrottlingException`, its XML error body says `<Code>Throttling</Code>`); S3 `SlowDown` (503); SNS `Throttled` (429, modeled as
 * ThrottledException); DynamoDB `ThrottlingException` (400, modeled); Lambda
 * `TooManyRequestsException` (429, modeled); SSM `ThrottlingException` (400, modeled).
 */
export const GENERIC_ERRORS: Record<
  ServiceName,
  {
    throttle: [string, number, string];
    server: [string, number, string];
    denied: [string, number, string];
  }
> = {
  EC2: {
    throttle: ['RequestLimitExceeded', 503, 'Request limit exceeded.'],
    server: ['InternalError', 500, 'An internal error has occurred'],
    denied: [
      'UnauthorizedOperation',
      403,
      'You are not authorized to perform this operation. User: arn:aws:sts::123456789012:assumed-role/test is not authorized to perform this action.',
    ],
  },
  ECS: {
    throttle: ['ThrottlingException', 400, 'Rate exceeded'],
    server: ['ServerException', 500, 'Service Unavailable. Please try again later.'],
    denied: ['AccessDeniedException', 400, 'User is not authorized to perform this action.'],
  },
  ELBv2: {
    throttle: ['Throttling', 400, 'Rate exceeded'],
    server: ['InternalFailure', 500, 'An internal error occurred.'],
    denied: ['AccessDenied', 403, 'User is not authorized to perform this action.'],
  },
  IAM: {
    throttle: ['Throttling', 400, 'Rate exceeded'],
    server: ['ServiceFailure', 500, 'An internal error occurred.'],
    denied: ['AccessDenied', 403, 'User is not authorized to perform this action.'],
  },
  SecretsManager: {
    throttle: ['ThrottlingException', 400, 'Rate exceeded'],
    server: ['InternalServiceError', 500, 'An error occurred on the server side.'],
    denied: ['AccessDeniedException', 400, 'User is not authorized to perform this action.'],
  },
  S3: {
    throttle: ['SlowDown', 503, 'Please reduce your request rate.'],
    server: ['InternalError', 500, 'We encountered an internal error. Please try again.'],
    denied: ['AccessDenied', 403, 'Access Denied'],
  },
  SNS: {
    throttle: ['Throttled', 429, 'Rate exceeded'],
    server: ['InternalError', 500, 'Internal Error'],
    denied: ['AuthorizationError', 403, 'User is not authorized to perform SNS:Publish'],
  },
  SFN: {
    throttle: ['ThrottlingException', 400, 'Rate exceeded'],
    server: ['InternalFailure', 500, 'An internal error occurred.'],
    denied: ['AccessDeniedException', 400, 'User is not authorized to perform this action.'],
  },
  DynamoDB: {
    throttle: ['ThrottlingException', 400, 'Rate of requests exceeds the allowed throughput.'],
    server: ['InternalServerError', 500, 'Internal server error'],
    denied: ['AccessDeniedException', 400, 'User is not authorized to perform this action.'],
  },
  CloudWatch: {
    throttle: ['Throttling', 400, 'Rate exceeded'],
    server: ['InternalServiceError', 500, 'An internal error occurred.'],
    denied: ['AccessDenied', 403, 'User is not authorized to perform this action.'],
  },
  CloudWatchLogs: {
    throttle: ['ThrottlingException', 400, 'Rate exceeded'],
    server: ['ServiceUnavailableException', 500, 'The service cannot complete the request.'],
    denied: ['AccessDeniedException', 400, 'User is not authorized to perform this action.'],
  },
  Backup: {
    throttle: ['ThrottlingException', 400, 'Rate exceeded'],
    server: ['ServiceUnavailableException', 500, 'The request failed due to a temporary failure.'],
    denied: ['AccessDeniedException', 403, 'User is not authorized to perform this action.'],
  },
  SSM: {
    throttle: ['ThrottlingException', 400, 'Rate exceeded'],
    server: ['InternalServerError', 500, 'An error occurred on the server side.'],
    denied: ['AccessDeniedException', 400, 'User is not authorized to perform this action.'],
  },
  Lambda: {
    throttle: ['TooManyRequestsException', 429, 'Rate Exceeded.'],
    server: ['ServiceException', 500, 'The Lambda service encountered an internal error.'],
    denied: ['AccessDeniedException', 403, 'User is not authorized to perform this action.'],
  },
};

/** Throws when a test calls a command the model does not implement (never an AWS error). */
export class NotModelledError extends Error {
  constructor(service: ServiceName, command: string) {
    super(`aws-model: ${service}.${command} is not modelled. Add it to test/support/aws-model or mock it in the test.`);
    this.name = 'NotModelledError';
  }
}

/** A timeout as the Node HTTP handler raises it (the SDK retries it as transient). */
export function timeoutError(ms: number): Error {
  return Object.assign(new Error(`Request did not complete within ${ms} ms`), {
    name: 'TimeoutError',
  });
}

/** The error the SDK raises when a request's abort signal fires. */
export function abortError(): Error {
  return Object.assign(new Error('Request aborted'), { name: 'AbortError' });
}
