import { DescribeNetworkAclsCommand, EC2Client, ReplaceNetworkAclAssociationCommand } from '@aws-sdk/client-ec2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AwsModel, type FleetHandles, installAwsModel, seedFleet, type SiteHandles } from '../support/aws-model';

const ec2 = new EC2Client({ region: 'eu-west-1' });

describe('EC2 network ACL associations', () => {
  let aws: AwsModel;
  let fleet: FleetHandles;
  let site: SiteHandles;

  beforeEach(() => {
    aws = installAwsModel({ retries: 'off' });
    fleet = seedFleet(aws, { environment: 'test', sites: [{ id: 'vault', cell: 'c1', isolation: 'strict' }] });
    site = fleet.sites.vault as SiteHandles;
  });
  afterEach(() => aws.restore());

  it('finds the quarantine ACL by tag and a subnet association by subnet id', async () => {
    const quarantine = await ec2.send(
      new DescribeNetworkAclsCommand({
        Filters: [
          { Name: 'tag:bulkhead:component', Values: ['quarantine-acl'] },
          { Name: 'tag:bulkhead:env', Values: ['test'] },
        ],
      }),
    );
    const bySubnet = await ec2.send(
      new DescribeNetworkAclsCommand({
        Filters: [{ Name: 'association.subnet-id', Values: [site.subnetIds[0] ?? ''] }],
      }),
    );
    expect(quarantine.NetworkAcls?.map((a) => a.NetworkAclId)).toEqual([fleet.quarantineAclId]);
    // The quarantine ACL admits only HTTPS to the watch subnets (the Logs endpoint's) and the answers,
    // besides the load balancer's health checks (from the public subnets, to the container port).
    const allowed = (quarantine.NetworkAcls?.[0]?.Entries ?? []).filter(
      (e) =>
        e.RuleAction === 'allow' &&
        !fleet.publicSubnetIds.some((id) => aws.ec2.state.subnets[id]?.CidrBlock === e.CidrBlock),
    );
    expect(allowed.map((e) => e.CidrBlock).sort()).toEqual(
      fleet.watchSubnetIds
        .flatMap((id) => [aws.ec2.state.subnets[id]?.CidrBlock, aws.ec2.state.subnets[id]?.CidrBlock])
        .sort(),
    );
    expect(allowed.filter((e) => e.Egress).every((e) => e.PortRange?.From === 443 && e.PortRange?.To === 443)).toBe(
      true,
    );
    expect(bySubnet.NetworkAcls?.map((a) => a.NetworkAclId)).toEqual([site.siteAclId]);
  });

  it('replaces an association: the answer carries the new id and the old one no longer exists', async () => {
    // Prepare
    const [oldAssociation] = site.aclAssociationIds;

    // Act
    const out = await ec2.send(
      new ReplaceNetworkAclAssociationCommand({ AssociationId: oldAssociation, NetworkAclId: fleet.quarantineAclId }),
    );
    const again = await ec2
      .send(new ReplaceNetworkAclAssociationCommand({ AssociationId: oldAssociation, NetworkAclId: site.siteAclId }))
      .catch((e: unknown) => e);

    // Assess
    expect(out.NewAssociationId).toMatch(/^aclassoc-/);
    expect(out.NewAssociationId).not.toBe(oldAssociation);
    expect(again).toMatchObject({ name: 'InvalidAssociationID.NotFound', $metadata: { httpStatusCode: 400 } });
    const acl = await ec2.send(
      new DescribeNetworkAclsCommand({
        Filters: [{ Name: 'association.subnet-id', Values: [site.subnetIds[0] ?? ''] }],
      }),
    );
    expect(acl.NetworkAcls?.[0]?.NetworkAclId).toBe(fleet.quarantineAclId);
    expect(
      acl.NetworkAcls?.[0]?.Associations?.find((a) => a.SubnetId === site.subnetIds[0])?.NetworkAclAssociationId,
    ).toBe(out.NewAssociationId);
  });

  it('answers InvalidNetworkAclID.NotFound for an unknown ACL and changes nothing', async () => {
    const error = await ec2
      .send(
        new ReplaceNetworkAclAssociationCommand({
          AssociationId: site.aclAssociationIds[0],
          NetworkAclId: 'acl-0000000000000000a',
        }),
      )
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'InvalidNetworkAclID.NotFound' });
    expect(aws.ec2.state.aclAssociations[site.aclAssociationIds[0] ?? '']).toBeDefined();
  });
});
