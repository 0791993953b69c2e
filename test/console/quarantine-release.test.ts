import { AuthorizeSecurityGroupIngressCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from 'vitest';
import { containHandler } from '../../runtime/contain/index';
import { requestApproval } from '../../runtime/recovery/approval';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { SiteSnapshot } from '../support/aws-model';
import { ecsFindingEvent } from '../support/response-world';
import {
  ALICE_BY,
  type ConsoleWorld,
  comparable,
  invokeConsole,
  mutatingCallsBesidesAudit,
  ok,
  setUpConsoleWorld,
  store,
} from './console-world';

let world: ConsoleWorld;
afterEach(() => world?.aws.restore());

/** The isolation itself, free of anything that names the site (ids, ARNs, timestamps). */
function isolationOf(snapshot: SiteSnapshot, world: ConsoleWorld) {
  const policies = snapshot.role.inlinePolicies as Record<
    string,
    { Statement: { Sid?: string; Effect: string; Action: unknown; Resource: unknown; Condition?: object }[] }
  >;
  return {
    ingress: snapshot.securityGroup.ingress,
    egress: snapshot.securityGroup.egress,
    onQuarantineAcl: snapshot.aclAssociations.map((a) => a.networkAclId === world.fleet.quarantineAclId),
    listenerActions: snapshot.listenerRule.actions,
    targetGroupAttached: snapshot.targetGroup.attached,
    roleDenies: Object.fromEntries(
      Object.entries(policies).map(([name, doc]) => [
        name,
        doc.Statement.map((s) => ({
          sid: s.Sid,
          effect: s.Effect,
          action: s.Action,
          resource: s.Resource,
          keys: Object.keys(s.Condition ?? {}),
        })),
      ]),
    ),
    running: snapshot.tasks.filter((t) => t.lastStatus === 'RUNNING').length,
  };
}

describe('quarantine (an operator contains a site)', () => {
  it.each([
    ['a standard site', 'standard' as const],
    ['a strict site', 'strict' as const],
  ])('isolates %s exactly as automatic containment does, and status then shows it contained', async (_, isolation) => {
    // Prepare: two sites alike; one is contained by a finding, the other by an operator.
    world = setUpConsoleWorld([
      { id: 'acme', cell: 'c1', isolation, internetEgress: true },
      { id: 'bakery', cell: 'c1', isolation, internetEgress: true },
    ]);
    const automatic = await containHandler(ecsFindingEvent(world, 'bakery'));
    expect(automatic.outcome).toBe('contained');

    // Act
    const result = await ok({ action: 'quarantine', site: 'acme', reason: 'defaced homepage reported by the client' });

    // Assess: the same isolation, rule for rule
    expect(result).toMatchObject({ outcome: 'contained', site: 'acme' });
    if (result.outcome !== 'contained') throw new Error('not contained');
    expect(result.isolatedAt).toBeTruthy();
    expect(result.timeToIsolateSeconds).toBeGreaterThanOrEqual(0);
    world.aws.advance(60_000);
    expect(isolationOf(world.aws.snapshot('acme'), world)).toEqual(isolationOf(world.aws.snapshot('bakery'), world));
    expect(world.aws.snapshot('acme').securityGroup.ingress).toEqual([]);
    expect(world.aws.snapshot('acme').securityGroup.egress.map((r) => r.peer)).toEqual([
      world.fleet.logsEndpointSecurityGroupId,
    ]);

    // Assess: the incident names the operator's trigger and started the workflow
    const incident = await store(world).getIncident(result.incidentId);
    expect(incident).toMatchObject({ status: 'CONTAINED', policy: 'contain', drill: false, site: 'acme' });
    expect(incident?.firstTrigger).toMatch(/^operator#/);
    const [trigger] = await store(world).triggersOf(result.incidentId);
    expect(trigger).toMatchObject({
      kind: 'operator',
      reason: `${ALICE_BY}: defaced homepage reported by the client`,
    });
    const starts = world.aws.callsTo('SFN', 'StartExecution').map((c) => (c.input as { name: string }).name);
    expect(starts).toContain(result.incidentId);

    // Assess: status
    const status = await ok({ action: 'status', site: 'acme' });
    expect(status.sites).toEqual([
      expect.objectContaining({
        site: 'acme',
        containment: 'contained',
        openIncident: expect.objectContaining({ incidentId: result.incidentId, status: 'CONTAINED' }),
      }),
    ]);
  });

  it("contains a site whose own policy only notifies (the operator's request overrides the policy)", async () => {
    world = setUpConsoleWorld([{ id: 'acme', cell: 'c1', policy: 'notify' }]);

    const result = await ok({ action: 'quarantine', site: 'acme', reason: 'suspicious admin login' });

    expect(result.outcome).toBe('contained');
    expect(world.aws.snapshot('acme').listenerRule.actions[0]?.Type).toBe('fixed-response');
    expect(world.aws.snapshot('acme').securityGroup.ingress).toEqual([]);
  });

  it('joins the open incident of a site that is already contained, changing nothing else', async () => {
    world = setUpConsoleWorld([{ id: 'acme', cell: 'c1' }]);
    const first = await ok({ action: 'quarantine', site: 'acme', reason: 'first' });
    const isolated = world.aws.snapshot('acme');

    const second = await ok({ action: 'quarantine', site: 'acme', reason: 'second' });

    expect(second).toEqual({
      outcome: 'joined',
      site: 'acme',
      incidentId: first.incidentId,
      status: 'CONTAINED',
      notContained: false,
    });
    expect(world.aws.snapshot('acme')).toEqual(isolated);
    expect(await store(world).triggersOf(first.incidentId)).toHaveLength(2);
  });

  it('an unknown site: a clear typed error, and nothing changes (not even a lock item)', async () => {
    world = setUpConsoleWorld([{ id: 'acme', cell: 'c1' }]);

    const response = await invokeConsole({ action: 'quarantine', site: 'nowhere', reason: 'typo' });

    expect(response).toMatchObject({
      ok: false,
      action: 'quarantine',
      error: { name: 'UnknownSiteError', code: 'unknown-site', message: expect.stringContaining('no site nowhere') },
    });
    expect(mutatingCallsBesidesAudit(world)).toEqual([]);
  });

  it('refuses a request without a reason before reading anything', async () => {
    world = setUpConsoleWorld([{ id: 'acme', cell: 'c1' }]);

    const response = await invokeConsole({ action: 'quarantine', site: 'acme', reason: '  ' });

    expect(response).toMatchObject({ ok: false, error: { name: 'InvalidRequestError', code: 'invalid-request' } });
    expect(response.ok || response.error.message).toContain('reason');
    expect(mutatingCallsBesidesAudit(world)).toEqual([]);
    expect(world.aws.calls.all().filter((c) => c.service !== 'DynamoDB')).toEqual([]);
  });
});

describe('release (a false positive)', () => {
  it('puts a quarantined site back exactly as it was, and records who released it', async () => {
    // Prepare
    world = setUpConsoleWorld([
      { id: 'acme', cell: 'c1', isolation: 'strict', internetEgress: true },
      { id: 'bakery', cell: 'c1' },
    ]);
    const before = comparable(world.aws.snapshot('acme'));
    const bakery = world.aws.snapshot('bakery');
    const { incidentId } = await ok({ action: 'quarantine', site: 'acme', reason: 'looked odd' });
    expect(comparable(world.aws.snapshot('acme'))).not.toEqual(before);

    // Act
    const result = await ok({ action: 'release', incidentId, reason: 'the client changed the homepage' });
    world.aws.advance(5 * 60_000);

    // Assess
    expect(result).toMatchObject({
      outcome: 'released',
      incidentId,
      site: 'acme',
      forced: false,
      workflowAnswered: false,
    });
    expect(comparable(world.aws.snapshot('acme'))).toEqual(before);
    expect(world.aws.snapshot('acme').targetGroup.targets.every((t) => t.state === 'healthy')).toBe(true);
    expect(world.aws.snapshot('bakery')).toEqual(bakery);
    expect(await store(world).getIncident(incidentId)).toMatchObject({
      status: 'RELEASED',
      releasedBy: ALICE_BY,
      releaseReason: 'the client changed the homepage',
    });
    expect(await ok({ action: 'status', site: 'acme' })).toMatchObject({ sites: [{ containment: 'none' }] });
  });

  it('refuses over drift, naming it and changing nothing; --force releases and says it was forced', async () => {
    world = setUpConsoleWorld([{ id: 'acme', cell: 'c1' }]);
    const { incidentId } = await ok({ action: 'quarantine', site: 'acme', reason: 'r' });
    await new EC2Client({}).send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: world.site('acme').securityGroupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '203.0.113.7/32' }] }],
      }),
    );
    const tampered = world.aws.snapshot('acme');

    const refused = await ok({ action: 'release', incidentId });
    expect(refused).toMatchObject({ outcome: 'refused', drift: [expect.stringContaining('tcp:22-22:203.0.113.7/32')] });
    expect(world.aws.snapshot('acme')).toEqual(tampered);

    const forced = await ok({ action: 'release', incidentId, force: true });
    expect(forced).toMatchObject({ outcome: 'released', forced: true });
    expect(await store(world).getIncident(incidentId)).toMatchObject({ status: 'RELEASED', releaseForced: true });
  });

  it('tells a workflow that waits for a decision that it was a false positive, so it ends', async () => {
    // Prepare: the incident's workflow is waiting for an operator's decision.
    world = setUpConsoleWorld([{ id: 'acme', cell: 'c1' }]);
    const { incidentId } = await ok({ action: 'quarantine', site: 'acme', reason: 'r' });
    const token = world.aws.sfn.issueTaskToken();
    await requestApproval(
      { store: store(world), sfn: new SFNClient({}), now: () => new Date() },
      { incidentId },
      token,
    );

    // Act
    const result = await ok({ action: 'release', incidentId });

    // Assess
    expect(result).toMatchObject({ outcome: 'released', workflowAnswered: true });
    const answer = world.aws.sfn.answers().find((a) => a.taskToken === token);
    expect(JSON.parse(answer?.output ?? '{}')).toEqual({ decision: 'false-positive', by: ALICE_BY });
    expect(await store(world).getIncident(incidentId)).toMatchObject({
      status: 'RELEASED',
      approvalDecision: 'false-positive',
      approvedBy: ALICE_BY,
    });
  });

  it('a second release changes nothing and says who released first', async () => {
    world = setUpConsoleWorld([{ id: 'acme', cell: 'c1' }]);
    const { incidentId } = await ok({ action: 'quarantine', site: 'acme', reason: 'r' });
    await ok({ action: 'release', incidentId });
    const calls = mutatingCallsBesidesAudit(world).length;

    const again = await ok({ action: 'release', incidentId }, { user: 'bob' });

    expect(again).toMatchObject({ outcome: 'already-released', releasedBy: ALICE_BY });
    expect(mutatingCallsBesidesAudit(world)).toHaveLength(calls);
  });

  it('an unknown incident: a clear typed error, and nothing changes', async () => {
    world = setUpConsoleWorld([{ id: 'acme', cell: 'c1' }]);

    const response = await invokeConsole({ action: 'release', incidentId: '20250101T000000Z-acme-abcdef' });

    expect(response).toMatchObject({
      ok: false,
      error: {
        name: 'UnknownIncidentError',
        code: 'unknown-incident',
        message: expect.stringContaining('no incident'),
      },
    });
    expect(mutatingCallsBesidesAudit(world)).toEqual([]);
  });

  it('refuses to release an incident whose restore is running', async () => {
    world = setUpConsoleWorld([{ id: 'acme', cell: 'c1' }]);
    const { incidentId } = await ok({ action: 'quarantine', site: 'acme', reason: 'r' });
    await store(world).updateIncident(incidentId, { status: 'RESTORING' });
    const calls = mutatingCallsBesidesAudit(world).length;

    const response = await invokeConsole({ action: 'release', incidentId });

    expect(response).toMatchObject({
      ok: false,
      error: { code: 'refused', message: expect.stringContaining('a restore is running') },
    });
    expect(mutatingCallsBesidesAudit(world)).toHaveLength(calls);
  });
});
