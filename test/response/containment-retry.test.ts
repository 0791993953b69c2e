import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { EC2Client } from '@aws-sdk/client-ec2';
import {
  INTERIM_IPV4_PEER,
  INTERIM_IPV6_PEER,
  quarantineGroup,
  readSiteGroup,
  type SiteGroupState,
} from '../../runtime/contain/quarantine-group';
import { INTERIM_DESCRIPTION } from '../../runtime/contain/quarantine-rules';
import { containHandler } from '../../runtime/contain/index';
import { addRules } from '../support/aws-model/ec2/security-groups';
import { type ResponseWorld, ecsFindingEvent, setUpResponseWorld, siteAlarmEvent } from '../support/response-world';

/**
 * Issue 11 item 1: containment through the GuardDuty path on a site group that holds every
 * type of rule EC2 has (IPv4 and IPv6 ranges, prefix lists, referenced groups); a refused
 * one-call rewrite falls back to revoking in the same invocation; a FAILED containment is
 * run again by the next trigger, and an invocation that could not isolate throws.
 */

let world: ResponseWorld;
afterEach(() => world?.aws.restore());

/** Adds one rule of each type to the site's group, in both directions (as a site could have). */
function addEveryRuleType(siteId: string): void {
  const groupId = world.site(siteId).securityGroupId;
  const prefixList = world.fleet.s3PrefixListId;
  const tcp = (port: number) => ({ IpProtocol: 'tcp', FromPort: port, ToPort: port });
  addRules(world.aws.ec2, groupId, false, [
    { ...tcp(8443), CidrIpv4: '10.20.0.0/16', Description: 'partner range' },
    { ...tcp(8443), CidrIpv6: '2001:db8::/56', Description: 'partner range (IPv6)' },
    { ...tcp(8443), PrefixListId: prefixList, Description: 'from a prefix list' },
  ]);
  addRules(world.aws.ec2, groupId, true, [
    { ...tcp(443), CidrIpv4: '198.51.100.0/24', Description: 'an outside API' },
    { ...tcp(443), CidrIpv6: '::/0', Description: 'HTTPS to the internet (IPv6)' },
  ]);
}

/** The quarantine set: nothing in, HTTPS out to the CloudWatch Logs endpoint only. */
function expectQuarantined(siteId: string) {
  const snapshot = world.aws.snapshot(siteId);
  expect(snapshot.securityGroup.ingress).toEqual([]);
  expect(snapshot.securityGroup.egress.map((r) => `${r.protocol}:${r.fromPort}-${r.toPort}:${r.peer}`)).toEqual([
    `tcp:443-443:${world.fleet.logsEndpointSecurityGroupId}`,
  ]);
  expect(snapshot.listenerRule.actions).toEqual([expect.objectContaining({ Type: 'fixed-response' })]);
  return snapshot;
}

async function metaItems(): Promise<Record<string, unknown>[]> {
  const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  const items = (await db.send(new ScanCommand({ TableName: world.tableName }))).Items ?? [];
  return items.filter((i) => i.sk === 'META');
}

describe('a site group holding every type of rule, contained through the GuardDuty path', () => {
  it.each([
    ['the task tags in the finding', true],
    ['the task looked up', false],
  ])('ends isolated, the one-call rewrite accepted by EC2 (%s)', async (_, withTaskTags) => {
    // Prepare
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1', internetEgress: true }]);
    addEveryRuleType('acme');

    // Act
    const outcome = await containHandler(ecsFindingEvent(world, 'acme', { withTaskTags }));

    // Assess
    expect(outcome).toMatchObject({ outcome: 'contained', site: 'acme' });
    expect(world.aws.calls.find({ service: 'EC2', command: 'ModifySecurityGroupRules', outcome: 'ok' })).toHaveLength(
      1,
    );
    expect(world.aws.calls.find({ service: 'EC2', command: 'ModifySecurityGroupRules', outcome: 'error' })).toEqual([]);
    expectQuarantined('acme');
  });

  it('until the tidy-up, each rewritten rule keeps its type and names no peer but the logs endpoint', async () => {
    // Prepare: the tidy-up (revoking the interim rules) is refused, so the interim form stays.
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1', internetEgress: true }]);
    addEveryRuleType('acme');
    const before = world.aws.snapshot('acme');
    world.aws.faults.add({ service: 'EC2', command: 'RevokeSecurityGroupEgress', kind: 'denied' });

    // Act
    const outcome = await containHandler(ecsFindingEvent(world, 'acme', { withTaskTags: true }));

    // Assess
    expect(outcome).toMatchObject({ outcome: 'contained' });
    const after = world.aws.snapshot('acme');
    const rules = Object.values(world.aws.ec2.state.rules).filter((r) => r.GroupId === after.securityGroup.groupId);
    const logs = world.fleet.logsEndpointSecurityGroupId;
    for (const rule of rules) {
      if (rule.IsEgress && rule.FromPort === 443 && rule.ReferencedGroupId === logs) continue; // the quarantine rule
      expect([80, 443]).not.toContain(rule.FromPort);
      expect(rule.FromPort).toBe(rule.ToPort);
      const peer = rule.CidrIpv4 ?? rule.CidrIpv6 ?? rule.ReferencedGroupId ?? rule.PrefixListId;
      expect([INTERIM_IPV4_PEER, INTERIM_IPV6_PEER, logs, world.fleet.s3PrefixListId]).toContain(peer);
    }
    // Same rule ids, same types of peer as before (egress; ingress went once the listener stopped forwarding).
    const type = (r: { peer: string }) =>
      r.peer.startsWith('sg-')
        ? 'group'
        : r.peer.startsWith('pl-')
          ? 'prefix-list'
          : r.peer.includes(':')
            ? 'v6'
            : 'v4';
    expect(after.securityGroup.ruleIds.egress).toEqual(before.securityGroup.ruleIds.egress);
    expect(after.securityGroup.ingress).toEqual([]);
    expect(after.securityGroup.egress.map(type).sort()).toEqual(before.securityGroup.egress.map(type).sort());
  });
});

describe('the one-call rewrite itself (quarantineGroup), both directions', () => {
  it('is accepted by EC2 for a group holding every type of rule in and out, and isolates it', async () => {
    // Prepare
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1', internetEgress: true }]);
    addEveryRuleType('acme');
    const ec2 = new EC2Client({});
    const group = await readSiteGroup(ec2, 'test', 'acme', world.site('acme').securityGroupId);

    // Act
    const outcome = await quarantineGroup(ec2, ec2, group as SiteGroupState, world.fleet.logsEndpointSecurityGroupId);

    // Assess
    expect(outcome).toMatchObject({ ingress: 'rewritten', egress: 'rewritten' });
    expect(world.aws.calls.find({ service: 'EC2', command: 'ModifySecurityGroupRules', outcome: 'error' })).toEqual([]);
    const snapshot = world.aws.snapshot('acme');
    const logs = world.fleet.logsEndpointSecurityGroupId;
    for (const rule of [...snapshot.securityGroup.ingress, ...snapshot.securityGroup.egress]) {
      if (rule.peer === logs && rule.fromPort === 443) continue;
      expect(rule.description).toBe(INTERIM_DESCRIPTION);
      expect([INTERIM_IPV4_PEER, INTERIM_IPV6_PEER, logs, world.fleet.s3PrefixListId]).toContain(rule.peer);
    }
  });
});

describe('when EC2 refuses the one-call rewrite', () => {
  it.each([
    ['refused (UnauthorizedOperation)', { kind: 'denied' as const }],
    ['refused as invalid (InvalidParameterValue)', { kind: 'error' as const, code: 'InvalidParameterValue' }],
    ['failed on the server side', { kind: 'server' as const }],
    ['made, but its answer lost', { kind: 'server' as const, afterCommit: true }],
  ])('%s: revokes instead, in the same invocation, and the site is isolated', async (_, fault) => {
    // Prepare
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1', internetEgress: true }]);
    addEveryRuleType('acme');
    world.aws.faults.add({ service: 'EC2', command: 'ModifySecurityGroupRules', times: 1, ...fault });

    // Act
    const outcome = await containHandler(ecsFindingEvent(world, 'acme', { withTaskTags: true }));

    // Assess
    expect(outcome).toMatchObject({ outcome: 'contained' });
    const detail = (outcome as unknown as { steps: { step: string; detail?: string }[] }).steps.find(
      (s) => s.step === 'quarantine-security-group',
    )?.detail;
    expect(detail).toMatch(/ingress held, egress revoked .*the one-call rewrite was refused/);
    expectQuarantined('acme');
  });
});

describe('a FAILED containment is run again', () => {
  /**
   * Every way of isolating the group is refused during the first attempt: the one-call
   * rewrite, then the revoke (its first try and the patient client's).
   */
  function refuseIsolationOnce() {
    world.aws.faults.add({ service: 'EC2', command: 'ModifySecurityGroupRules', kind: 'denied', times: 1 });
    world.aws.faults.add({ service: 'EC2', command: 'RevokeSecurityGroupEgress', kind: 'denied', times: 2 });
  }

  it('an invocation that could not isolate throws (so the event is delivered again); the delivery again isolates under the same incident', async () => {
    // Prepare
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    refuseIsolationOnce();
    const event = ecsFindingEvent(world, 'acme', { withTaskTags: true });

    // Act
    const first = containHandler(event);
    await expect(first).rejects.toMatchObject({
      name: 'ContainmentIncompleteError',
      message: expect.stringMatching(/acme is not isolated .*quarantine-security-group: UnauthorizedOperation/),
    });
    const [failed] = await metaItems();
    const again = await containHandler(event);

    // Assess
    expect(failed).toMatchObject({ status: 'FAILED', containmentFailed: true });
    expect(again).toMatchObject({ outcome: 'contained', incidentId: failed?.incidentId });
    const [meta] = await metaItems();
    expect(meta).toMatchObject({
      status: 'CONTAINED',
      containmentFailed: false,
      containAttempt: 2,
      workflowAttempt: 2,
    });
    expect(await metaItems()).toHaveLength(1);
    expectQuarantined('acme');
    // The first workflow ran the FAILED incident's evidence and notice; the second runs the containment's.
    expect(world.aws.callsTo('SFN', 'StartExecution').map((c) => (c.input as { name: string }).name)).toEqual([
      failed?.incidentId,
      `${String(failed?.incidentId)}-attempt-2`,
    ]);
  });

  it('a later trigger of another kind (the site alarm) runs it again too', async () => {
    // Prepare
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    refuseIsolationOnce();
    await containHandler(ecsFindingEvent(world, 'acme')).catch(() => undefined);

    // Act
    const outcome = await containHandler(siteAlarmEvent(world, 'acme', 'egress'));

    // Assess
    expect(outcome).toMatchObject({ outcome: 'contained' });
    expectQuarantined('acme');
  });

  it('several triggers at once on a FAILED incident: exactly one runs it again', async () => {
    // Prepare
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }], { latencyMs: 5 });
    refuseIsolationOnce();
    await containHandler(ecsFindingEvent(world, 'acme')).catch(() => undefined);
    const attempts = () => world.aws.calls.find({ service: 'EC2', command: 'ModifySecurityGroupRules' }).length;
    const before = attempts();

    // Act
    const outcomes = await Promise.all(
      Array.from({ length: 4 }, (_, i) => containHandler(ecsFindingEvent(world, 'acme', { findingId: `later-${i}` }))),
    );

    // Assess
    expect(outcomes.filter((o) => o.outcome === 'contained')).toHaveLength(1);
    expect(outcomes.filter((o) => o.outcome === 'joined')).toHaveLength(3);
    expect(attempts() - before).toBe(1);
    expectQuarantined('acme');
  });

  it('a strict site whose ACL was swapped by the failed attempt: the run again finds it swapped and isolates the group', async () => {
    // Prepare
    world = setUpResponseWorld([{ id: 'clinic', cell: 'c1', isolation: 'strict' }]);
    refuseIsolationOnce();
    await containHandler(ecsFindingEvent(world, 'clinic')).catch(() => undefined);

    // Act
    const outcome = await containHandler(ecsFindingEvent(world, 'clinic', { findingId: 'later' }));

    // Assess
    expect(outcome).toMatchObject({ outcome: 'contained' });
    const snapshot = expectQuarantined('clinic');
    for (const a of snapshot.aclAssociations) expect(a.networkAclId).toBe(world.fleet.quarantineAclId);
    const steps = (outcome as unknown as { steps: { step: string; detail?: string }[] }).steps;
    expect(steps.find((s) => s.step === 'swap-network-acl')?.detail).toMatch(/already on the deny-all ACL/);
    // What was saved is what the site had before the first attempt (its own ACL).
    const [meta] = await metaItems();
    const saved = meta?.saved as { networkAcl: { associations: { networkAclId: string }[] } };
    for (const a of saved.networkAcl.associations) expect(a.networkAclId).not.toBe(world.fleet.quarantineAclId);
  });

  it('a containment that isolated but could not shed is FAILED without throwing, and the next trigger finishes it', async () => {
    // Prepare
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    world.aws.faults.add({ service: 'ELBv2', command: 'ModifyRule', kind: 'denied', times: 1 });
    const first = await containHandler(ecsFindingEvent(world, 'acme'));

    // Act
    const next = await containHandler(ecsFindingEvent(world, 'acme', { findingId: 'later' }));

    // Assess
    expect(first).toMatchObject({ outcome: 'failed' });
    expect(next).toMatchObject({ outcome: 'contained', incidentId: (first as { incidentId: string }).incidentId });
    expectQuarantined('acme');
  });

  it('an incident FAILED by its workflow (not by containment) is joined, not contained again', async () => {
    // Prepare
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    const first = await containHandler(ecsFindingEvent(world, 'acme'));
    const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    const { UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
    await db.send(
      new UpdateCommand({
        TableName: world.tableName,
        Key: { pk: `INCIDENT#${(first as { incidentId: string }).incidentId}`, sk: 'META' },
        UpdateExpression: 'SET #s = :f, failedAt = :now, failureReason = :why',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':f': 'FAILED', ':now': new Date().toISOString(), ':why': 'workflow: evidence' },
      }),
    );
    const writes = world.aws.mutatingCalls().filter((c) => c.service === 'EC2').length;

    // Act
    const next = await containHandler(ecsFindingEvent(world, 'acme', { findingId: 'later' }));

    // Assess
    expect(next).toMatchObject({ outcome: 'joined' });
    expect(world.aws.mutatingCalls().filter((c) => c.service === 'EC2')).toHaveLength(writes);
  });
});
