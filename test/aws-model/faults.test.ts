import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
} from '@aws-sdk/client-ec2';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { ConfiguredRetryStrategy, isThrottlingError } from '@smithy/core/retry';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AwsModel, type FleetHandles, installAwsModel, seedFleet, type SiteHandles } from '../support/aws-model';

/** Real SDK clients with their real retry middleware logic, but 1 ms back-off. */
const fast = { region: 'eu-west-1', retryStrategy: new ConfiguredRetryStrategy(3, 1) };
const ec2 = new EC2Client(fast);
const ecs = new ECSClient(fast);
const iam = new IAMClient(fast);
const sns = new SNSClient(fast);

const lbIngress = (site: SiteHandles, fleet: FleetHandles) => ({
  GroupId: site.securityGroupId,
  IpPermissions: [
    {
      IpProtocol: 'tcp',
      FromPort: site.containerPort,
      ToPort: site.containerPort,
      UserIdGroupPairs: [{ GroupId: fleet.cells[site.cell]?.lbSecurityGroupId }],
    },
  ],
});

describe('fault injection through real SDK clients', () => {
  let aws: AwsModel;
  let fleet: FleetHandles;
  let site: SiteHandles;

  beforeEach(() => {
    aws = installAwsModel();
    fleet = seedFleet(aws, { environment: 'test', sites: [{ id: 'acme', cell: 'c1' }] });
    site = fleet.sites.acme as SiteHandles;
  });
  afterEach(() => aws.restore());

  it('throttles twice; the SDK retry strategy backs off and the third attempt succeeds', async () => {
    // Prepare
    aws.faults.add({ service: 'EC2', command: 'RevokeSecurityGroupIngress', kind: 'throttle', times: 2 });

    // Act
    const out = await ec2.send(new RevokeSecurityGroupIngressCommand(lbIngress(site, fleet)));

    // Assess
    expect(out.$metadata.attempts).toBe(3);
    const attempts = aws.callsTo('EC2', 'RevokeSecurityGroupIngress');
    expect(attempts.map((c) => [c.attempt, c.outcome, c.injected])).toEqual([
      [1, 'error', 'throttle'],
      [2, 'error', 'throttle'],
      [3, 'ok', undefined],
    ]);
    expect(attempts[0]?.error).toEqual({
      name: 'RequestLimitExceeded',
      message: 'Request limit exceeded.',
      status: 503,
    });
  });

  it('surfaces the throttling error as the SDK would when retries run out', async () => {
    // Prepare
    aws.faults.add({ service: 'ECS', command: 'DescribeServices', kind: 'throttle' });

    // Act
    const error = await ecs
      .send(new DescribeServicesCommand({ cluster: site.clusterName, services: [site.serviceName] }))
      .catch((e: unknown) => e);

    // Assess
    expect(error).toMatchObject({
      name: 'ThrottlingException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400, attempts: 3 },
    });
    expect(isThrottlingError(error as never)).toBe(true);
  });

  it('marks SNS throttling the way SNS models it (429 ThrottledException)', async () => {
    aws = (aws.restore(), installAwsModel({ retries: 'off' }));
    const topic = aws.sns.createTopic('ops');
    aws.faults.add({ service: 'SNS', kind: 'throttle', times: 1 });
    const error = await sns.send(new PublishCommand({ TopicArn: topic, Message: 'hi' })).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ThrottledException', $metadata: { httpStatusCode: 429 } });
  });

  it('server errors are 5xx with $fault server and retried; denials are not retried', async () => {
    // Prepare
    aws.faults.add({ service: 'ECS', command: 'DescribeServices', kind: 'server', times: 1 });
    aws.faults.add({ service: 'IAM', command: 'PutRolePolicy', kind: 'denied' });

    // Act
    const described = await ecs.send(
      new DescribeServicesCommand({ cluster: site.clusterName, services: [site.serviceName] }),
    );
    const denied = await iam
      .send(new PutRolePolicyCommand({ RoleName: site.taskRoleName, PolicyName: 'x', PolicyDocument: '{}' }))
      .catch((e: unknown) => e);

    // Assess
    expect(described.$metadata.attempts).toBe(2);
    expect(aws.callsTo('ECS', 'DescribeServices')[0]?.error).toMatchObject({ name: 'ServerException', status: 500 });
    expect(denied).toMatchObject({
      name: 'AccessDenied',
      $fault: 'client',
      $metadata: { httpStatusCode: 403, attempts: 1 },
    });
  });

  it('a hung call ends only when its abort signal fires', async () => {
    // Prepare
    aws.faults.add({ service: 'EC2', command: 'DescribeSecurityGroups', kind: 'timeout' });
    const controller = new AbortController();

    // Act
    const pending = ec2
      .send(new DescribeSecurityGroupsCommand({}), { abortSignal: controller.signal })
      .catch((e: unknown) => e);
    setTimeout(() => controller.abort(), 20);
    const error = await pending;

    // Assess
    expect(error).toMatchObject({ name: 'AbortError' });
  });

  it('a timeout after N ms is a TimeoutError the SDK retries', async () => {
    aws.faults.add({ service: 'EC2', command: 'DescribeSecurityGroups', kind: 'timeout', timeoutMs: 10, times: 1 });
    const out = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [site.securityGroupId] }));
    expect(out.$metadata.attempts).toBe(2);
    expect(aws.callsTo('EC2', 'DescribeSecurityGroups')[0]?.error?.name).toBe('TimeoutError');
  });

  it('a stale read answers once from the state before the last write', async () => {
    // Prepare
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: site.securityGroupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }],
      }),
    );
    aws.faults.add({ service: 'EC2', command: 'DescribeSecurityGroupRules', kind: 'stale' });
    const describe = () =>
      ec2.send(
        new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [site.securityGroupId] }] }),
      );

    // Act
    const stale = await describe();
    const fresh = await describe();

    // Assess
    expect(stale.SecurityGroupRules?.some((r) => r.FromPort === 22)).toBe(false);
    expect(fresh.SecurityGroupRules?.some((r) => r.FromPort === 22)).toBe(true);
  });

  it('a stale read can wait for a write (afterCommand): the first read after it answers from before it', async () => {
    // Prepare
    aws.faults.add({
      service: 'EC2',
      command: 'DescribeSecurityGroupRules',
      kind: 'stale',
      afterCommand: 'AuthorizeSecurityGroupIngress',
    });
    const describe = () =>
      ec2.send(
        new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [site.securityGroupId] }] }),
      );
    const before = await describe();

    // Act
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: site.securityGroupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }],
      }),
    );
    const stale = await describe();
    const fresh = await describe();

    // Assess
    expect(before.SecurityGroupRules?.length).toBeGreaterThan(0); // the read before the write was not the stale one
    expect(stale.SecurityGroupRules?.some((r) => r.FromPort === 22)).toBe(false);
    expect(fresh.SecurityGroupRules?.some((r) => r.FromPort === 22)).toBe(true);
    expect(aws.calls.find({ service: 'EC2', command: 'DescribeSecurityGroupRules' }).map((c) => c.injected)).toEqual([
      undefined,
      'stale',
      undefined,
    ]);
  });

  it('a response lost after the change (afterCommit) makes the SDK retry hit InvalidPermission.NotFound', async () => {
    // Prepare
    aws.faults.add({
      service: 'EC2',
      command: 'RevokeSecurityGroupIngress',
      kind: 'server',
      times: 1,
      afterCommit: true,
    });

    // Act
    const error = await ec2
      .send(new RevokeSecurityGroupIngressCommand(lbIngress(site, fleet)))
      .catch((e: unknown) => e);

    // Assess
    expect(error).toMatchObject({ name: 'InvalidPermission.NotFound', $metadata: { attempts: 2 } });
    expect(aws.callsTo('EC2', 'RevokeSecurityGroupIngress').map((c) => c.committed ?? false)).toEqual([true, false]);
    const rules = await ec2.send(
      new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [site.securityGroupId] }] }),
    );
    expect(rules.SecurityGroupRules?.filter((r) => !r.IsEgress)).toEqual([]);
  });

  it('records every call so a test can assert that nothing was changed', async () => {
    // Act
    await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [site.securityGroupId] }));
    const none = aws.mutatingCalls();
    await ec2.send(new RevokeSecurityGroupIngressCommand(lbIngress(site, fleet)));

    // Assess
    expect(none).toEqual([]);
    expect(aws.mutatingCalls().map((c) => `${c.service}.${c.command}`)).toEqual(['EC2.RevokeSecurityGroupIngress']);
    expect(aws.calls.all()[0]).toMatchObject({
      service: 'EC2',
      command: 'DescribeSecurityGroups',
      mutating: false,
      outcome: 'ok',
    });
  });

  it('skips the first matching calls when asked, to fail in the middle of a sequence', async () => {
    aws.faults.add({
      service: 'EC2',
      kind: 'error',
      code: 'InvalidGroup.NotFound',
      message: 'gone',
      skip: 1,
      times: 1,
    });
    const first = await ec2.send(new DescribeSecurityGroupsCommand({})).then(() => 'ok');
    const second = await ec2.send(new DescribeSecurityGroupsCommand({})).catch((e: Error) => e.name);
    expect([first, second]).toEqual(['ok', 'InvalidGroup.NotFound']);
  });
});
