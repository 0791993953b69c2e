import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  EC2ServiceException,
  RevokeSecurityGroupIngressCommand,
} from '@aws-sdk/client-ec2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AwsModel, type FleetHandles, installAwsModel, seedFleet, snapshotSite } from '../support/aws-model';

const ec2 = new EC2Client({ region: 'eu-west-1' });

describe('EC2 security group rules', () => {
  let aws: AwsModel;
  let fleet: FleetHandles;

  beforeEach(() => {
    aws = installAwsModel({ retries: 'off' });
    fleet = seedFleet(aws, { environment: 'test', sites: [{ id: 'acme', cell: 'c1' }] });
  });
  afterEach(() => aws.restore());

  it('authorizes a rule, returns it with a generated sgr- id and shows it in both describe calls', async () => {
    // Prepare
    const site = fleet.sites.acme;
    if (!site) throw new Error('seed');

    // Act
    const out = await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: site.securityGroupId,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.1.0.0/16', Description: 'ssh' }] },
        ],
      }),
    );

    // Assess
    expect(out.Return).toBe(true);
    expect(out.SecurityGroupRules).toHaveLength(1);
    const rule = out.SecurityGroupRules?.[0];
    expect(rule?.SecurityGroupRuleId).toMatch(/^sgr-[0-9a-f]{17}$/);
    expect(rule).toMatchObject({
      GroupId: site.securityGroupId,
      IsEgress: false,
      IpProtocol: 'tcp',
      FromPort: 22,
      ToPort: 22,
      CidrIpv4: '10.1.0.0/16',
    });
    const rules = await ec2.send(
      new DescribeSecurityGroupRulesCommand({
        Filters: [{ Name: 'security-group-rule-id', Values: [rule?.SecurityGroupRuleId ?? ''] }],
      }),
    );
    expect(rules.SecurityGroupRules?.map((r) => r.Description)).toEqual(['ssh']);
    const groups = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [site.securityGroupId] }));
    const ingress = groups.SecurityGroups?.[0]?.IpPermissions ?? [];
    expect(ingress.find((p) => p.FromPort === 22)?.IpRanges).toEqual([{ CidrIp: '10.1.0.0/16', Description: 'ssh' }]);
    expect(ingress.find((p) => p.FromPort === 8080)?.UserIdGroupPairs?.[0]?.GroupId).toBe(
      fleet.cells.c1?.lbSecurityGroupId,
    );
  });

  it('refuses a duplicate with InvalidPermission.Duplicate and adds nothing from the whole request', async () => {
    // Prepare
    const site = fleet.sites.acme;
    if (!site) throw new Error('seed');
    const before = snapshotSite(aws, 'acme');

    // Act: one new rule and one that already exists (ingress from the LB on 8080).
    const error = await ec2
      .send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: site.securityGroupId,
          IpPermissions: [
            { IpProtocol: 'tcp', FromPort: 9000, ToPort: 9000, IpRanges: [{ CidrIp: '10.9.0.0/16' }] },
            {
              IpProtocol: 'tcp',
              FromPort: 8080,
              ToPort: 8080,
              UserIdGroupPairs: [{ GroupId: fleet.cells.c1?.lbSecurityGroupId }],
            },
          ],
        }),
      )
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(EC2ServiceException);
    expect(error).toMatchObject({
      name: 'InvalidPermission.Duplicate',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    expect((error as Error).message).toContain(
      `peer: ${fleet.cells.c1?.lbSecurityGroupId}, TCP, from port: 8080, to port: 8080, ALLOW`,
    );
    expect(snapshotSite(aws, 'acme').securityGroup).toEqual(before.securityGroup);
  });

  it('revokes by rule id and by properties; an unknown rule fails the call and revokes nothing', async () => {
    // Prepare
    const site = fleet.sites.acme;
    if (!site) throw new Error('seed');
    const before = snapshotSite(aws, 'acme');
    const ingressId = before.securityGroup.ruleIds.ingress[0] ?? '';

    // Act: a known rule id together with a rule that does not exist.
    const error = await ec2
      .send(
        new RevokeSecurityGroupIngressCommand({
          GroupId: site.securityGroupId,
          SecurityGroupRuleIds: [ingressId],
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 1, ToPort: 1, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }],
        }),
      )
      .catch((e: unknown) => e);
    const unknownId = await ec2
      .send(
        new RevokeSecurityGroupIngressCommand({
          GroupId: site.securityGroupId,
          SecurityGroupRuleIds: ['sgr-0000000000000000a'],
        }),
      )
      .catch((e: unknown) => e);
    const afterFailures = snapshotSite(aws, 'acme');
    const revoked = await ec2.send(
      new RevokeSecurityGroupIngressCommand({ GroupId: site.securityGroupId, SecurityGroupRuleIds: [ingressId] }),
    );

    // Assess
    expect(error).toMatchObject({ name: 'InvalidPermission.NotFound', $metadata: { httpStatusCode: 400 } });
    expect(unknownId).toMatchObject({ name: 'InvalidSecurityGroupRuleId.NotFound' });
    expect(afterFailures.securityGroup).toEqual(before.securityGroup);
    expect(revoked.Return).toBe(true);
    expect(revoked.RevokedSecurityGroupRules?.map((r) => r.SecurityGroupRuleId)).toEqual([ingressId]);
    expect(snapshotSite(aws, 'acme').securityGroup.ingress).toEqual([]);
  });

  it('gives a new group the default allow-all egress rule, and rejects a duplicate group name', async () => {
    // Act
    const created = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: 'scratch', Description: 'scratch', VpcId: fleet.vpcId }),
    );
    const rules = await ec2.send(
      new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [created.GroupId ?? ''] }] }),
    );
    const duplicate = await ec2
      .send(new CreateSecurityGroupCommand({ GroupName: 'scratch', Description: 'again', VpcId: fleet.vpcId }))
      .catch((e: unknown) => e);
    const egressDuplicate = await ec2
      .send(
        new AuthorizeSecurityGroupEgressCommand({
          GroupId: created.GroupId,
          IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
        }),
      )
      .catch((e: unknown) => e);

    // Assess
    expect(rules.SecurityGroupRules).toEqual([
      expect.objectContaining({ IsEgress: true, IpProtocol: '-1', FromPort: -1, ToPort: -1, CidrIpv4: '0.0.0.0/0' }),
    ]);
    expect(duplicate).toMatchObject({ name: 'InvalidGroup.Duplicate' });
    expect(egressDuplicate).toMatchObject({ name: 'InvalidPermission.Duplicate' });
  });

  it('answers InvalidGroup.NotFound for a group that does not exist', async () => {
    const error = await ec2
      .send(new DescribeSecurityGroupsCommand({ GroupIds: ['sg-0123456789abcdef0'] }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'InvalidGroup.NotFound', Code: 'InvalidGroup.NotFound', $fault: 'client' });
  });
});
