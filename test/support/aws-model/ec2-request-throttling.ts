import type { BucketPolicy, BucketSpec } from './rate-limit';

/**
 * EC2's documented request-rate limits.
 *
 * Source: "Request throttling for the Amazon EC2 API",
 * https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html (section
 * "Request token bucket sizes and refill rates"). EC2 uses a token bucket per API
 * ("each API is evaluated individually ... requests for other API are not affected"),
 * sized by the action's category:
 *
 * | category                                          | capacity | refill/s |
 * | ------------------------------------------------- | -------- | -------- |
 * | Non-mutating (Describe*, List*, Search*, Get*)    | 100      | 20       |
 * | Unfiltered and unpaginated non-mutating (*)       | 50       | 10       |
 * | Mutating (all others)                             | 50       | 5        |
 * | Resource-intensive (**)                           | 50       | 5        |
 * | Uncategorized: CreateTags, DeleteTags             | 100      | 10       |
 * | Uncategorized: Create/DeleteNetworkInterface,     | 100      | 5        |
 * |   ModifyNetworkInterfaceAttribute                 |          |          |
 * | Uncategorized: DescribeSecurityGroupReferences,   | 20       | 5        |
 * |   DescribeStaleSecurityGroups                     |          |          |
 *
 * (*) DescribeInstances, DescribeInstanceStatus, DescribeNetworkInterfaces,
 * DescribeSecurityGroups, DescribeSnapshots, DescribeSpotInstanceRequests and
 * DescribeVolumes when called with neither a filter nor pagination.
 * (**) AcceptVpcPeeringConnection, AuthorizeSecurityGroupIngress, CancelSpotInstanceRequests,
 * CreateKeyPair, CreateVpcPeeringConnection, DeleteVpcPeeringConnection,
 * RejectVpcPeeringConnection, RevokeSecurityGroupIngress, RequestSpotInstances.
 *
 * An exhausted bucket answers `RequestLimitExceeded`. Accounts can have raised limits;
 * these are the defaults.
 */
export const EC2_BUCKETS = {
  nonMutating: { capacity: 100, refillPerSecond: 20 },
  unfilteredNonMutating: { capacity: 50, refillPerSecond: 10 },
  mutating: { capacity: 50, refillPerSecond: 5 },
  resourceIntensive: { capacity: 50, refillPerSecond: 5 },
} as const satisfies Record<string, BucketSpec>;

const UNFILTERED_SMALL_BUCKET = new Set([
  'DescribeInstances',
  'DescribeInstanceStatus',
  'DescribeNetworkInterfaces',
  'DescribeSecurityGroups',
  'DescribeSnapshots',
  'DescribeSpotInstanceRequests',
  'DescribeVolumes',
]);

const RESOURCE_INTENSIVE = new Set([
  'AcceptVpcPeeringConnection',
  'AuthorizeSecurityGroupIngress',
  'CancelSpotInstanceRequests',
  'CreateKeyPair',
  'CreateVpcPeeringConnection',
  'DeleteVpcPeeringConnection',
  'RejectVpcPeeringConnection',
  'RevokeSecurityGroupIngress',
  'RequestSpotInstances',
]);

const UNCATEGORIZED: Record<string, BucketSpec> = {
  CreateTags: { capacity: 100, refillPerSecond: 10 },
  DeleteTags: { capacity: 100, refillPerSecond: 10 },
  CreateNetworkInterface: { capacity: 100, refillPerSecond: 5 },
  DeleteNetworkInterface: { capacity: 100, refillPerSecond: 5 },
  ModifyNetworkInterfaceAttribute: { capacity: 100, refillPerSecond: 5 },
  DescribeSecurityGroupReferences: { capacity: 20, refillPerSecond: 5 },
  DescribeStaleSecurityGroups: { capacity: 20, refillPerSecond: 5 },
};

/** The category name and bucket size EC2 documents for a call. */
export function ec2BucketFor(command: string, input: unknown): { category: string; spec: BucketSpec } {
  const uncategorized = UNCATEGORIZED[command];
  if (uncategorized) return { category: 'uncategorized', spec: uncategorized };
  if (RESOURCE_INTENSIVE.has(command)) {
    return { category: 'resource-intensive', spec: EC2_BUCKETS.resourceIntensive };
  }
  if (/^(Describe|List|Search|Get)/.test(command)) {
    const i = (input ?? {}) as { Filters?: unknown[]; MaxResults?: number; NextToken?: string };
    const filtered = (i.Filters?.length ?? 0) > 0;
    const paginated = i.MaxResults !== undefined || i.NextToken !== undefined;
    if (UNFILTERED_SMALL_BUCKET.has(command) && !filtered && !paginated) {
      return { category: 'unfiltered-non-mutating', spec: EC2_BUCKETS.unfilteredNonMutating };
    }
    return { category: 'non-mutating', spec: EC2_BUCKETS.nonMutating };
  }
  return { category: 'mutating', spec: EC2_BUCKETS.mutating };
}

/** The bucket policy for EC2: one bucket per API and category, sized as documented. */
export const ec2RequestThrottling: BucketPolicy = (command, input) => {
  const { category, spec } = ec2BucketFor(command, input);
  return { key: `${command}#${category}`, spec };
};
