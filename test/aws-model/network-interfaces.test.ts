import {
  DescribeNetworkInterfacesCommand,
  DescribeSubnetsCommand,
  EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
} from '@aws-sdk/client-ec2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AwsModel, type FleetHandles, installAwsModel, seedFleet, type SiteHandles } from '../support/aws-model';

const ec2 = new EC2Client({ region: 'eu-west-1' });

describe('EC2 network interfaces of ECS tasks', () => {
  let aws: AwsModel;
  let fleet: FleetHandles;
  let site: SiteHandles;

  beforeEach(() => {
    aws = installAwsModel({ retries: 'off' });
    fleet = seedFleet(aws, { environment: 'test', sites: [{ id: 'acme', cell: 'c1' }] });
    site = fleet.sites.acme as SiteHandles;
  });
  afterEach(() => aws.restore());

  it('refuses MaxResults with interface ids, as the reference says; pages by NextToken otherwise', async () => {
    // Prepare
    const eni = aws.ecs.state.tasks[site.taskArns[0] ?? '']?.networkInterfaceId ?? '';
    aws.ec2.pageLimit = 1;

    // Act
    const both = await ec2
      .send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eni], MaxResults: 5 }))
      .catch((e: unknown) => e);
    const first = await ec2.send(new DescribeNetworkInterfacesCommand({ MaxResults: 5 }));
    const second = await ec2.send(new DescribeNetworkInterfacesCommand({ MaxResults: 5, NextToken: first.NextToken }));

    // Assess
    expect(both).toMatchObject({ name: 'InvalidParameterCombination' });
    expect(first.NetworkInterfaces).toHaveLength(1);
    expect(first.NextToken).toBeDefined();
    expect(second.NetworkInterfaces?.[0]?.NetworkInterfaceId).not.toBe(
      first.NetworkInterfaces?.[0]?.NetworkInterfaceId,
    );
  });

  it('describes a task interface by id and by private address', async () => {
    // Prepare
    const task = aws.ecs.state.tasks[site.taskArns[0] ?? ''];

    // Act
    const byId = await ec2.send(
      new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [task?.networkInterfaceId ?? ''] }),
    );
    const byIp = await ec2.send(
      new DescribeNetworkInterfacesCommand({
        Filters: [{ Name: 'addresses.private-ip-address', Values: [task?.privateIp ?? ''] }],
      }),
    );
    const subnets = await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [task?.subnetId ?? ''] }));

    // Assess
    expect(byId.NetworkInterfaces?.[0]).toMatchObject({
      PrivateIpAddress: task?.privateIp,
      RequesterManaged: true,
      Status: 'in-use',
      Groups: [{ GroupId: site.securityGroupId, GroupName: `bulkhead-test-acme` }],
    });
    expect(byIp.NetworkInterfaces?.map((e) => e.NetworkInterfaceId)).toEqual([task?.networkInterfaceId]);
    expect(subnets.Subnets?.[0]?.VpcId).toBe(fleet.vpcId);
  });

  it('refuses to change the security groups of an ECS-managed interface', async () => {
    const task = aws.ecs.state.tasks[site.taskArns[0] ?? ''];
    const error = await ec2
      .send(
        new ModifyNetworkInterfaceAttributeCommand({
          NetworkInterfaceId: task?.networkInterfaceId,
          Groups: [fleet.logsEndpointSecurityGroupId],
        }),
      )
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AuthFailure', $metadata: { httpStatusCode: 403 } });
    expect(aws.ec2.state.networkInterfaces[task?.networkInterfaceId ?? '']?.Groups).toEqual([site.securityGroupId]);
  });

  it('answers InvalidNetworkInterfaceID.NotFound once a stopped task’s interface is gone', async () => {
    const task = aws.ecs.state.tasks[site.taskArns[0] ?? ''];
    aws.ecs.stopTask(task as NonNullable<typeof task>, 'test', 'UserInitiated');
    aws.advanceUntil(() => aws.ecs.state.tasks[site.taskArns[0] ?? '']?.lastStatus === 'STOPPED', {
      maxMs: 15 * 60_000,
    });
    const error = await ec2
      .send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [task?.networkInterfaceId ?? ''] }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'InvalidNetworkInterfaceID.NotFound' });
  });
});
