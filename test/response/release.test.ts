import { AuthorizeSecurityGroupIngressCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from 'vitest';
import { INTERIM_DESCRIPTION } from '../../runtime/contain/quarantine-rules';
import { containHandler } from '../../runtime/contain/index';
import { releaseIncident } from '../../runtime/recovery/release';
import type { SiteSnapshot } from '../support/aws-model';
import { ecsFindingEvent, type ResponseWorld, releaseDepsFor, setUpResponseWorld } from '../support/response-world';

let world: ResponseWorld;
afterEach(() => world?.aws.restore());

const releaseDeps = () => releaseDepsFor(world);

/** What "exactly as before" means: every field, except ids AWS generates anew (rule and association ids). */
function comparable(snapshot: SiteSnapshot) {
  const byKey = <T>(list: T[]) => [...list].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  return {
    securityGroup: {
      groupId: snapshot.securityGroup.groupId,
      tags: snapshot.securityGroup.tags,
      ingress: byKey(snapshot.securityGroup.ingress),
      egress: byKey(snapshot.securityGroup.egress),
    },
    acl: byKey(snapshot.aclAssociations.map((a) => ({ subnetId: a.subnetId, networkAclId: a.networkAclId }))),
    listenerRule: snapshot.listenerRule,
    targetGroupAttached: snapshot.targetGroup.attached,
    role: snapshot.role,
    secret: snapshot.secret,
    service: { desiredCount: snapshot.service.desiredCount, taskDefinition: snapshot.service.taskDefinition },
  };
}

async function contain(siteId: string): Promise<string> {
  const outcome = await containHandler(ecsFindingEvent(world, siteId));
  expect(outcome.outcome).toBe('contained');
  return (outcome as { incidentId: string }).incidentId;
}

describe('release (a false positive)', () => {
  it.each([
    ['a standard site', 'standard' as const],
    ['a strict site', 'strict' as const],
  ])('puts %s back exactly as it was before containment, field by field', async (_, isolation) => {
    // Prepare
    world = setUpResponseWorld([
      { id: 'acme', cell: 'c1', isolation, internetEgress: true },
      { id: 'bakery', cell: 'c1' },
    ]);
    const before = comparable(world.aws.snapshot('acme'));
    const bakery = world.aws.snapshot('bakery');
    const incidentId = await contain('acme');
    expect(comparable(world.aws.snapshot('acme'))).not.toEqual(before);

    // Act
    const result = await releaseIncident(releaseDeps(), {
      incidentId,
      releasedBy: 'arn:aws:sts::123456789012:assumed-role/Ops/alice',
      reason: 'false positive',
    });
    world.aws.advance(5 * 60_000);

    // Assess
    expect(result).toMatchObject({ outcome: 'released' });
    const after = world.aws.snapshot('acme');
    expect(comparable(after)).toEqual(before);
    expect(after.targetGroup.targets.every((t) => t.state === 'healthy')).toBe(true);
    expect(after.tasks.filter((t) => t.lastStatus === 'RUNNING').length).toBeGreaterThan(0);
    expect(world.aws.snapshot('bakery')).toEqual(bakery);
    const incident = await releaseDeps().store.getIncident(incidentId);
    expect(incident).toMatchObject({
      status: 'RELEASED',
      releasedBy: 'arn:aws:sts::123456789012:assumed-role/Ops/alice',
      releaseReason: 'false positive',
      releaseForced: false,
    });
  });

  it('a second release changes nothing and says so', async () => {
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    const incidentId = await contain('acme');
    await releaseIncident(releaseDeps(), { incidentId, releasedBy: 'alice' });
    const calls = world.aws.mutatingCalls().length;

    const again = await releaseIncident(releaseDeps(), { incidentId, releasedBy: 'bob' });

    expect(again).toMatchObject({ outcome: 'already-released', releasedBy: 'alice' });
    expect(world.aws.mutatingCalls()).toHaveLength(calls);
  });

  it('refuses when the site changed after containment, naming what differs, and changes nothing', async () => {
    // Prepare: somebody opened a port on the quarantined group by hand.
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    const incidentId = await contain('acme');
    await new EC2Client({}).send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: world.site('acme').securityGroupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '203.0.113.7/32' }] }],
      }),
    );
    const tampered = world.aws.snapshot('acme');
    const calls = world.aws.mutatingCalls().length;

    // Act
    const result = await releaseIncident(releaseDeps(), { incidentId, releasedBy: 'alice' });

    // Assess
    expect(result).toMatchObject({
      outcome: 'refused',
      drift: [expect.stringContaining('in tcp:22-22:203.0.113.7/32')],
    });
    expect(world.aws.mutatingCalls()).toHaveLength(calls);
    expect(world.aws.snapshot('acme')).toEqual(tampered);
  });

  it('with force, releases over drift and records that it was forced', async () => {
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    const before = comparable(world.aws.snapshot('acme'));
    const incidentId = await contain('acme');
    await new EC2Client({}).send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: world.site('acme').securityGroupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '203.0.113.7/32' }] }],
      }),
    );

    const result = await releaseIncident(releaseDeps(), { incidentId, releasedBy: 'alice', force: true });

    expect(result).toMatchObject({ outcome: 'released' });
    const after = comparable(world.aws.snapshot('acme'));
    // Saved rules are back; the hand-made rule is the operator's to remove (release only adds back and removes quarantine's own).
    expect(after.securityGroup.ingress).toEqual(expect.arrayContaining(before.securityGroup.ingress));
    expect(after.listenerRule).toEqual(before.listenerRule);
    expect(await releaseDeps().store.getIncident(incidentId)).toMatchObject({
      status: 'RELEASED',
      releaseForced: true,
    });
  });

  it('frees the site: a new finding after release opens a new incident', async () => {
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    const first = await contain('acme');
    await releaseIncident(releaseDeps(), { incidentId: first, releasedBy: 'alice' });

    const second = await containHandler(ecsFindingEvent(world, 'acme', { findingId: 'another' }));

    expect(second).toMatchObject({ outcome: 'contained' });
    expect((second as { incidentId: string }).incidentId).not.toBe(first);
  });

  it('refuses an unknown incident with a clear error', async () => {
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    await expect(releaseIncident(releaseDeps(), { incidentId: 'nope', releasedBy: 'alice' })).rejects.toThrow(
      /no incident nope/,
    );
    expect(world.aws.mutatingCalls()).toEqual([]);
  });

  it('a release that fails half-way says so, keeps the incident open, and can be run again', async () => {
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    const before = comparable(world.aws.snapshot('acme'));
    const incidentId = await contain('acme');
    const fault = world.aws.faults.add({ service: 'ELBv2', command: 'ModifyRule', kind: 'denied' });

    await expect(releaseIncident(releaseDeps(), { incidentId, releasedBy: 'alice' })).rejects.toThrow(
      /restore-listener-rule.*run it again/,
    );
    expect(await releaseDeps().store.getIncident(incidentId)).toMatchObject({ status: 'CONTAINED' });

    fault.remove();
    const retried = await releaseIncident(releaseDeps(), { incidentId, releasedBy: 'alice' });
    expect(retried).toMatchObject({ outcome: 'released' });
    expect(comparable(world.aws.snapshot('acme'))).toEqual(before);
  });
});

describe('release after a containment that had to rewrite rules (throttled revokes)', () => {
  it('still puts the site back exactly', async () => {
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1', internetEgress: true }]);
    const before = comparable(world.aws.snapshot('acme'));
    const outcome = await containHandler(ecsFindingEvent(world, 'acme', { withTaskTags: true }));
    const incidentId = (outcome as { incidentId: string }).incidentId;
    expect(world.aws.callsTo('EC2', 'ModifySecurityGroupRules').filter((c) => c.outcome === 'ok')).toHaveLength(1);

    const result = await releaseIncident(releaseDeps(), { incidentId, releasedBy: 'alice' });

    expect(result).toMatchObject({ outcome: 'released' });
    expect(comparable(world.aws.snapshot('acme'))).toEqual(before);
  });

  it('also when the interim rules are still there (released before the tidy-up)', async () => {
    // Prepare: the tidy-up cannot run (denied), so the interim rules stay.
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1', internetEgress: true }]);
    const before = comparable(world.aws.snapshot('acme'));
    // (Ingress is never rewritten: it is revoked once the listener stops forwarding.)
    const denyOut = world.aws.faults.add({ service: 'EC2', command: 'RevokeSecurityGroupEgress', kind: 'denied' });
    const outcome = await containHandler(ecsFindingEvent(world, 'acme', { withTaskTags: true }));
    const incidentId = (outcome as { incidentId: string }).incidentId;
    const interim = world.aws.snapshot('acme').securityGroup;
    expect(interim.ingress).toEqual([]);
    expect(interim.egress.filter((r) => r.description === INTERIM_DESCRIPTION).length).toBeGreaterThan(1);
    denyOut.remove();

    // Act
    const result = await releaseIncident(releaseDeps(), { incidentId, releasedBy: 'alice' });

    // Assess
    expect(result).toMatchObject({ outcome: 'released' });
    expect(comparable(world.aws.snapshot('acme'))).toEqual(before);
  });
});
