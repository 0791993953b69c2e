/**
 * A stateful model of the AWS APIs Bulkhead's Lambdas call, answering real SDK v3 clients
 * through aws-sdk-client-mock. See README.md in this folder.
 */
export type { CallFilter, CallRecord } from './call-log';
export { VirtualClock } from './clock';
export { EC2_BUCKETS, ec2BucketFor, ec2RequestThrottling } from './ec2-request-throttling';
export { PARAMETER_STORE_THROUGHPUT, parameterStoreThroughput } from './ssm-throughput';
export { type AwsErrorOptions, type AwsServiceError, awsError, GENERIC_ERRORS, NotModelledError } from './errors';
export type { Fault, FaultKind, FaultSpec } from './faults';
export { seedFleet } from './fleet/seed';
export { type RuleShape, type SiteSnapshot, snapshotSite } from './fleet/snapshot';
export type { CellHandles, FleetHandles, SeedFleetInput, SeedSite, SiteHandles } from './fleet/types';
export { type InstallOptions, installAwsModel } from './install';
export { type ArrivingCall, AwsModel, type AwsModelOptions, type InvokeContext, type RetryMode } from './model';
export { type BucketPolicy, type BucketSpec, perCommandBuckets, TokenBucketLimiter } from './rate-limit';
export { isMutating, SERVICE_NAMES, type ServiceName } from './service-names';
export type { MetricRecord } from './cloudwatch';
export type { ExecutionRecord, StartExecutionHook, TaskTokenAnswer } from './sfn';
export type { PublishedMessage } from './sns';
export type { LambdaFunction } from './lambda';
export type { ModelBody } from './s3';
export type { AppHealth } from './ecs/types';
