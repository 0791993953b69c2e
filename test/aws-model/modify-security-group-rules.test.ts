import { DescribeSecurityGroupRulesCommand, EC2Client, ModifySecurityGroupRulesCommand } from '@aws-sdk/client-ec2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AwsModel, type FleetHandles, installAwsModel, seedFleet } from '../support/aws-model';

describe('EC2 ModifySecurityGroupRules', () => {
  let aws: AwsModel;
  let fleet: FleetHandles;
  const ec2 = () => new EC2Client({});
  beforeEach(() => {
    aws = installAwsModel({ retries: 'off' });
    fleet = seedFleet(aws, { environment: 'test', sites: [{ id: 'acme', cell: 'c1' }] });
  });
  afterEach(() => aws.restore());

  const rules = async () =>
    (
      await ec2().send(
        new DescribeSecurityGroupRulesCommand({
          Filters: [{ Name: 'group-id', Values: [fleet.sites.acme?.securityGroupId ?? ''] }],
        }),
      )
    ).SecurityGroupRules ?? [];

  it('rewrites ingress and egress rules in place in one call, keeping their ids', async () => {
    // Prepare
    const before = await rules();
    const ingress = before.find((r) => !r.IsEgress);
    const egress = before.find((r) => r.IsEgress && r.ReferencedGroupInfo?.GroupId === fleet.dbSecurityGroupId);

    // Act
    await ec2().send(
      new ModifySecurityGroupRulesCommand({
        GroupId: fleet.sites.acme?.securityGroupId,
        SecurityGroupRules: [
          {
            SecurityGroupRuleId: ingress?.SecurityGroupRuleId,
            SecurityGroupRule: {
              IpProtocol: 'tcp',
              FromPort: 1,
              ToPort: 1,
              ReferencedGroupId: fleet.logsEndpointSecurityGroupId,
            },
          },
          {
            SecurityGroupRuleId: egress?.SecurityGroupRuleId,
            SecurityGroupRule: {
              IpProtocol: 'tcp',
              FromPort: 2,
              ToPort: 2,
              ReferencedGroupId: fleet.logsEndpointSecurityGroupId,
            },
          },
        ],
      }),
    );

    // Assess
    const after = await rules();
    expect(after.map((r) => r.SecurityGroupRuleId).sort()).toEqual(before.map((r) => r.SecurityGroupRuleId).sort());
    expect(after.find((r) => r.SecurityGroupRuleId === ingress?.SecurityGroupRuleId)).toMatchObject({
      FromPort: 1,
      ReferencedGroupInfo: { GroupId: fleet.logsEndpointSecurityGroupId },
    });
    expect(after.find((r) => r.SecurityGroupRuleId === egress?.SecurityGroupRuleId)).toMatchObject({
      FromPort: 2,
      IsEgress: true,
    });
  });

  it('is atomic: a duplicate result or an unknown rule id changes nothing', async () => {
    const before = await rules();
    const egress = before.filter((r) => r.IsEgress);
    const [a, b] = [egress[0], egress[1]];
    const sameTarget = {
      IpProtocol: 'tcp',
      FromPort: 9,
      ToPort: 9,
      ReferencedGroupId: fleet.logsEndpointSecurityGroupId,
    };

    await expect(
      ec2().send(
        new ModifySecurityGroupRulesCommand({
          GroupId: fleet.sites.acme?.securityGroupId,
          SecurityGroupRules: [
            { SecurityGroupRuleId: a?.SecurityGroupRuleId, SecurityGroupRule: sameTarget },
            { SecurityGroupRuleId: b?.SecurityGroupRuleId, SecurityGroupRule: sameTarget },
          ],
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidPermission.Duplicate' });
    await expect(
      ec2().send(
        new ModifySecurityGroupRulesCommand({
          GroupId: fleet.sites.acme?.securityGroupId,
          SecurityGroupRules: [{ SecurityGroupRuleId: 'sgr-nope', SecurityGroupRule: sameTarget }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidSecurityGroupRuleId.NotFound' });
    expect(await rules()).toEqual(before);
  });
});
