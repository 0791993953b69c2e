import {
  AuthorizeSecurityGroupIngressCommand,
  CreateTagsCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AwsModel,
  EC2_BUCKETS,
  ec2RequestThrottling,
  installAwsModel,
  seedFleet,
  type SiteHandles,
} from '../support/aws-model';

const ec2 = new EC2Client({ region: 'eu-west-1' });

function authorize(site: SiteHandles, port: number) {
  return ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: site.securityGroupId,
      IpPermissions: [{ IpProtocol: 'tcp', FromPort: port, ToPort: port, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }],
    }),
  );
}

describe('EC2 request token buckets (documented sizes)', () => {
  let aws: AwsModel;
  afterEach(() => aws.restore());

  function setup(now: () => number): SiteHandles {
    aws = installAwsModel({ retries: 'off' });
    aws.setRateLimit('EC2', ec2RequestThrottling, now);
    const fleet = seedFleet(aws, { environment: 'test', sites: [{ id: 'acme', cell: 'c1' }] });
    aws.ec2.state.rulesPerGroupQuota = 1000;
    return fleet.sites.acme as SiteHandles;
  }

  it('refuses a burst of a resource-intensive action past 50 tokens, then refills 5 per second', async () => {
    // Prepare
    let now = 1_000_000;
    const site = setup(() => now);

    // Act: 60 distinct rules in one instant.
    const burst = await Promise.allSettled(Array.from({ length: 60 }, (_, i) => authorize(site, 1000 + i)));
    now += 1000;
    const afterOneSecond = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => authorize(site, 2000 + i)));

    // Assess
    const refused = burst.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(burst.length - refused.length).toBe(EC2_BUCKETS.resourceIntensive.capacity);
    expect(refused).toHaveLength(10);
    expect(refused[0]?.reason).toMatchObject({ name: 'RequestLimitExceeded', $metadata: { httpStatusCode: 503 } });
    expect(afterOneSecond.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
    ]);
  });

  it('keeps buckets per API: an exhausted action does not throttle another one', async () => {
    // Prepare
    const site = setup(() => 0);
    await Promise.allSettled(Array.from({ length: 55 }, (_, i) => authorize(site, 3000 + i)));

    // Act
    const tagged = await ec2.send(
      new CreateTagsCommand({ Resources: [site.securityGroupId], Tags: [{ Key: 'k', Value: 'v' }] }),
    );

    // Assess
    expect(tagged.$metadata.httpStatusCode).toBe(200);
  });

  it('gives unfiltered DescribeSecurityGroups the smaller 50-token bucket and filtered calls the 100-token one', async () => {
    // Prepare
    const site = setup(() => 0);
    const filtered = new DescribeSecurityGroupsCommand({
      Filters: [{ Name: 'group-id', Values: [site.securityGroupId] }],
    });

    // Act
    const unfilteredResults = await Promise.allSettled(
      Array.from({ length: 55 }, () => ec2.send(new DescribeSecurityGroupsCommand({}))),
    );
    const filteredResults = await Promise.allSettled(Array.from({ length: 105 }, () => ec2.send(filtered)));

    // Assess
    expect(unfilteredResults.filter((r) => r.status === 'fulfilled')).toHaveLength(50);
    expect(filteredResults.filter((r) => r.status === 'fulfilled')).toHaveLength(100);
  });

  it('lets the SDK retry strategy wait for refills (real time), so a burst still completes', async () => {
    // Prepare: real clock, SDK retries with a short configured back-off.
    aws = installAwsModel({ retries: 'sdk' });
    aws.setRateLimit('EC2', ec2RequestThrottling);
    const site = seedFleet(aws, { environment: 'test', sites: [{ id: 'acme', cell: 'c1' }] }).sites.acme as SiteHandles;
    const client = new EC2Client({
      region: 'eu-west-1',
      retryStrategy: new ConfiguredRetryStrategy(6, (attempt) => 250 * attempt),
    });

    // Act
    const results = await Promise.allSettled(
      Array.from({ length: 54 }, (_, i) =>
        client.send(
          new AuthorizeSecurityGroupIngressCommand({
            GroupId: site.securityGroupId,
            IpPermissions: [
              { IpProtocol: 'tcp', FromPort: 4000 + i, ToPort: 4000 + i, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
            ],
          }),
        ),
      ),
    );

    // Assess
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    expect(
      aws.callsTo('EC2', 'AuthorizeSecurityGroupIngress').filter((c) => c.injected === 'rate-limit').length,
    ).toBeGreaterThan(0);
  });
});
