import type { BucketPolicy, BucketSpec } from './rate-limit';

/**
 * Parameter Store's documented throughput, for reads of parameters.
 *
 * AWS General Reference, "AWS Systems Manager endpoints and quotas", Parameter Store, "Max
 * throughput (transactions per second)": "Default throughput: 40 (Shared by the following
 * API actions: GetParameter, GetParameters, GetParametersByPath)". With the higher
 * throughput setting (`/ssm/parameter-store/high-throughput-enabled`, Systems Manager User
 * Guide, "Changing Parameter Store throughput") GetParameter and GetParameters share a far
 * larger quota; the table has listed 3,000 and, later, 10,000 transactions a second: the
 * model takes the smaller. The quotas are per account and Region.
 *
 * AWS gives a rate, not a bucket: the model allows one second's worth at once (capacity =
 * rate) and refills at the rate. An exhausted bucket answers `ThrottlingException` ("Rate
 * exceeded"), as the Knowledge Center article on Parameter Store throttling shows.
 */
export const PARAMETER_STORE_THROUGHPUT = {
  default: { capacity: 40, refillPerSecond: 40 },
  higher: { capacity: 3_000, refillPerSecond: 3_000 },
} as const satisfies Record<string, BucketSpec>;

const READS = new Set(['GetParameter', 'GetParameters', 'GetParametersByPath']);

/** The bucket policy for SSM: one bucket shared by the parameter reads, at the setting's rate. */
export function parameterStoreThroughput(setting: keyof typeof PARAMETER_STORE_THROUGHPUT): BucketPolicy {
  const spec = PARAMETER_STORE_THROUGHPUT[setting];
  return (command) => {
    if (!READS.has(command)) return undefined;
    return { key: 'parameter-reads', spec };
  };
}
