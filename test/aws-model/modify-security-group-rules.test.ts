import { DescribeSecurityGroupRulesCommand, EC2Client, ModifySecurityGroupRulesCommand } from '@aws-sdk/client-ec2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AwsModel, type FleetHandles, installAwsModel, seedFleet } from '../support/aws-model';
import { addRules } from '../support/aws-model/ec2/security-groups';

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

  // EC2 API Reference, SecurityGroupRuleRequest: "When you modify a rule, you cannot change the
  // rule type. For example, if the rule uses an IPv4 address range, you must use CidrIpv4 to
  // specify a new IPv4 address range."
  const peers = {
    ipv4: { CidrIpv4: '198.51.100.0/24' },
    ipv6: { CidrIpv6: '2001:db8::/64' },
    prefixList: () => ({ PrefixListId: fleet.s3PrefixListId }),
    group: () => ({ ReferencedGroupId: fleet.logsEndpointSecurityGroupId }),
  };
  const ruleOf = async (type: 'ipv4' | 'ipv6' | 'prefixList' | 'group') => {
    const groupId = fleet.sites.acme?.securityGroupId ?? '';
    const peer =
      type === 'ipv4'
        ? { CidrIpv4: '203.0.113.0/24' }
        : type === 'ipv6'
          ? { CidrIpv6: '2001:db8:1::/64' }
          : type === 'prefixList'
            ? peers.prefixList()
            : { ReferencedGroupId: fleet.dbSecurityGroupId };
    const [id] = addRules(aws.ec2, groupId, true, [{ IpProtocol: 'tcp', FromPort: 8443, ToPort: 8443, ...peer }]);
    return id ?? '';
  };
  const types = ['ipv4', 'ipv6', 'prefixList', 'group'] as const;
  const request = (type: (typeof types)[number]) =>
    type === 'ipv4'
      ? peers.ipv4
      : type === 'ipv6'
        ? peers.ipv6
        : type === 'prefixList'
          ? peers.prefixList()
          : peers.group();

  it.each(types.flatMap((from) => types.filter((to) => to !== from).map((to) => [from, to] as const)))(
    'refuses to turn a %s rule into a %s rule, and changes nothing',
    async (from, to) => {
      // Prepare
      const id = await ruleOf(from);
      const before = await rules();

      // Act
      const modify = ec2().send(
        new ModifySecurityGroupRulesCommand({
          GroupId: fleet.sites.acme?.securityGroupId,
          SecurityGroupRules: [
            {
              SecurityGroupRuleId: id,
              SecurityGroupRule: { IpProtocol: 'tcp', FromPort: 7, ToPort: 7, ...request(to) },
            },
          ],
        }),
      );

      // Assess
      await expect(modify).rejects.toMatchObject({
        name: 'InvalidParameterValue',
        message: expect.stringMatching(/^You may not specify .* for an existing .* rule/),
      });
      expect(await rules()).toEqual(before);
    },
  );

  it.each(types)('rewrites a %s rule to another peer of the same type', async (type) => {
    // Prepare
    const id = await ruleOf(type);

    // Act
    await ec2().send(
      new ModifySecurityGroupRulesCommand({
        GroupId: fleet.sites.acme?.securityGroupId,
        SecurityGroupRules: [
          {
            SecurityGroupRuleId: id,
            SecurityGroupRule: { IpProtocol: 'tcp', FromPort: 7, ToPort: 7, ...request(type) },
          },
        ],
      }),
    );

    // Assess
    const rule = (await rules()).find((r) => r.SecurityGroupRuleId === id);
    expect(rule).toMatchObject({ FromPort: 7, ToPort: 7 });
    const peer = request(type);
    if ('CidrIpv4' in peer) expect(rule?.CidrIpv4).toBe(peer.CidrIpv4);
    if ('CidrIpv6' in peer) expect(rule?.CidrIpv6).toBe(peer.CidrIpv6);
    if ('PrefixListId' in peer) expect(rule?.PrefixListId).toBe(peer.PrefixListId);
    if ('ReferencedGroupId' in peer) expect(rule?.ReferencedGroupInfo?.GroupId).toBe(peer.ReferencedGroupId);
  });
});
