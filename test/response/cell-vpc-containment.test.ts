import { afterEach, describe, expect, it } from 'vitest';
import { siteRecordParameterName } from '../../contracts/site-record';
import { containHandler } from '../../runtime/contain/index';
import { releaseIncident } from '../../runtime/recovery/release';
import { rulesOf } from '../support/aws-model/ec2/security-groups';
import { ecsFindingEvent, type ResponseWorld, releaseDepsFor, setUpResponseWorld } from '../support/response-world';

/*
 * A site whose cell has a VPC of its own (docs/network.md, "A VPC per cell") names that VPC's
 * quarantine ACL and Logs/GuardDuty endpoint group in its record; the response plane's
 * environment names the platform VPC's. Containment and release must use the record's: an ACL
 * is made for one VPC ("Creates a network ACL in a VPC", EC2 API Reference, CreateNetworkAcl)
 * and the quarantined group keeps HTTPS to a group of its own VPC, so the platform's are not
 * what a site in a cell's VPC can be moved onto.
 *
 * The model seeds one VPC; the cell VPC's quarantine ACL and Logs group are stand-ins created
 * beside the platform's, with the same entries, rules and tags, so what this shows is which ones
 * the handlers choose (each call also checked against the functions' IAM policies).
 */

let world: ResponseWorld;
afterEach(() => world?.aws.restore());

const releaseDeps = () => releaseDepsFor(world);

/** The cell VPC's quarantine ACL and Logs group (stand-ins), written into the site's record. */
function moveIntoCellVpc(siteId: string): { quarantineAclId: string; logsGroupId: string } {
  const ec2 = world.aws.ec2;
  const platformAcl = ec2.state.networkAcls[world.fleet.quarantineAclId];
  const platformLogs = ec2.state.securityGroups[world.fleet.logsEndpointSecurityGroupId];
  if (!platformAcl || !platformLogs) throw new Error('the seeded fleet has no quarantine ACL or Logs group');
  const acl = ec2.createNetworkAcl({
    vpcId: platformAcl.VpcId,
    entries: structuredClone(platformAcl.Entries),
    tags: structuredClone(platformAcl.Tags),
  });
  const logs = ec2.createSecurityGroupWithRules({
    name: 'bulkhead-test-cell-logs-endpoint',
    vpcId: platformLogs.VpcId,
    tags: structuredClone(platformLogs.Tags),
    ingress: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIpv4: '10.0.0.0/8' }],
  });
  const name = siteRecordParameterName(world.fleet.environment, siteId);
  const parameter = world.aws.ssm.state.parameters[name];
  if (!parameter) throw new Error(`no site record ${name}`);
  const record = JSON.parse(parameter.Value);
  world.aws.ssm.putParameter(
    name,
    JSON.stringify({ ...record, quarantineAclId: acl.NetworkAclId, logsEndpointSecurityGroupId: logs.GroupId }),
    parameter.Tags,
  );
  return { quarantineAclId: acl.NetworkAclId, logsGroupId: logs.GroupId };
}

const egressPeers = (groupId: string) =>
  rulesOf(world.aws.ec2, groupId)
    .filter((r) => r.IsEgress)
    .map((r) => `${r.FromPort}-${r.ToPort} ${r.ReferencedGroupId ?? r.CidrIpv4 ?? r.PrefixListId}`);

describe("a site in a cell's own VPC", () => {
  it("is moved onto its VPC's quarantine ACL and keeps HTTPS to its VPC's Logs group; release puts its ACL and rules back", async () => {
    // Prepare
    world = setUpResponseWorld([
      { id: 'acme', cell: 'c2', internetEgress: true },
      { id: 'bakery', cell: 'c1', internetEgress: true },
    ]);
    const cell = moveIntoCellVpc('acme');
    const acme = world.site('acme');
    const before = world.aws.snapshot('acme');
    const bakeryBefore = world.aws.snapshot('bakery');

    // Act
    const outcome = await containHandler(ecsFindingEvent(world, 'acme'));
    const contained = world.aws.snapshot('acme');
    const containedEgress = egressPeers(acme.securityGroupId);
    const incidentId = (outcome as { incidentId: string }).incidentId;
    const released = await releaseIncident(releaseDeps(), { incidentId, releasedBy: 'alice', reason: 'drill' });

    // Assess
    expect(outcome.outcome).toBe('contained');
    expect(contained.aclAssociations.map((a) => a.networkAclId)).toEqual(
      before.aclAssociations.map(() => cell.quarantineAclId),
    );
    expect(containedEgress).toEqual([`443-443 ${cell.logsGroupId}`]);
    expect(world.aws.snapshot('bakery')).toEqual(bakeryBefore);
    expect(released).toMatchObject({ outcome: 'released' });
    const after = world.aws.snapshot('acme');
    expect(after.aclAssociations.map(({ subnetId, networkAclId }) => ({ subnetId, networkAclId }))).toEqual(
      before.aclAssociations.map(({ subnetId, networkAclId }) => ({ subnetId, networkAclId })),
    );
    expect(after.securityGroup.egress).toEqual(before.securityGroup.egress);
  });

  it("a site of a platform-VPC cell is still moved onto the platform's quarantine ACL", async () => {
    // Prepare
    world = setUpResponseWorld([
      { id: 'acme', cell: 'c2', internetEgress: true },
      { id: 'bakery', cell: 'c1', internetEgress: true },
    ]);
    moveIntoCellVpc('acme');
    const before = world.aws.snapshot('bakery');

    // Act
    const outcome = await containHandler(ecsFindingEvent(world, 'bakery'));

    // Assess
    expect(outcome.outcome).toBe('contained');
    expect(world.aws.snapshot('bakery').aclAssociations.map((a) => a.networkAclId)).toEqual(
      before.aclAssociations.map(() => world.fleet.quarantineAclId),
    );
    expect(egressPeers(world.site('bakery').securityGroupId)).toEqual([
      `443-443 ${world.fleet.logsEndpointSecurityGroupId}`,
    ]);
  });
});
