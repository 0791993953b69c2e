import { afterEach, describe, expect, it } from 'vitest';
import { containHandler } from '../../runtime/contain/index';
import { recoveryDeps } from '../../runtime/recovery/index';
import { releaseIncident } from '../../runtime/recovery/release';
import type { FaultSpec } from '../support/aws-model/faults';
import { incidentsOf } from '../faults/fault-matrix';
import { type ResponseWorld, ecsFindingEvent, setUpResponseWorld, siteAlarmEvent } from '../support/response-world';

/**
 * Issue 16 item 10: AuthorizeSecurityGroup* and RevokeSecurityGroup* take no client token.
 * When EC2 makes the change and the answer is lost (the model's `afterCommit` fault: a 5xx
 * after the change), the retry is refused with `InvalidPermission.Duplicate` or
 * `InvalidPermission.NotFound` / `InvalidSecurityGroupRuleId.NotFound`. Containment and
 * release must then check the group and carry on, not record FAILED.
 */

let world: ResponseWorld;
afterEach(() => world?.aws.restore());

const lost = (command: string, extra: Partial<FaultSpec> = {}): FaultSpec => ({
  service: 'EC2',
  command,
  kind: 'server',
  afterCommit: true,
  times: 1,
  ...extra,
});

function expectQuarantined(siteId: string) {
  const snapshot = world.aws.snapshot(siteId);
  expect(snapshot.securityGroup.ingress).toEqual([]);
  expect(snapshot.securityGroup.egress.map((r) => `${r.protocol}:${r.fromPort}-${r.toPort}:${r.peer}`)).toEqual([
    `tcp:443-443:${world.fleet.logsEndpointSecurityGroupId}`,
  ]);
}

function steps(outcome: unknown): string[] {
  return ((outcome as { steps?: { step: string; outcome: string }[] }).steps ?? []).map(
    (s) => `${s.step}:${s.outcome}`,
  );
}

describe('containment, a write made but its answer lost', () => {
  it('AuthorizeSecurityGroupEgress (the logs endpoint rule): the duplicate is checked, and the site contained', async () => {
    // Prepare: a group without the logs endpoint rule, so containment adds it.
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    const groupId = world.site('acme').securityGroupId;
    const logs = world.fleet.logsEndpointSecurityGroupId;
    for (const [id, rule] of Object.entries(world.aws.ec2.state.rules)) {
      if (rule.GroupId === groupId && rule.IsEgress && rule.ReferencedGroupId === logs)
        delete world.aws.ec2.state.rules[id];
    }
    world.aws.faults.add(lost('AuthorizeSecurityGroupEgress'));

    // Act
    const outcome = await containHandler(ecsFindingEvent(world, 'acme', { withTaskTags: true }));

    // Assess
    expect(outcome).toMatchObject({ outcome: 'contained' });
    expect(world.aws.calls.find({ service: 'EC2', command: 'AuthorizeSecurityGroupEgress', outcome: 'error' })).toEqual(
      [
        expect.objectContaining({ committed: true }),
        expect.objectContaining({ error: expect.objectContaining({ name: 'InvalidPermission.Duplicate' }) }),
      ],
    );
    expectQuarantined('acme');
  });

  it.each([
    ['by rule id (the task’s tags name the group)', true],
    ['by rule properties (the group read by its tags)', false],
  ])('RevokeSecurityGroupIngress %s: the not-found is checked, and the site contained', async (_, byId) => {
    // Prepare: the one-call rewrite is throttled, so containment revokes.
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    world.aws.faults.add({ service: 'EC2', command: 'ModifySecurityGroupRules', kind: 'throttle', times: 1 });
    world.aws.faults.add(lost('RevokeSecurityGroupIngress'));

    // Act
    const outcome = await containHandler(
      byId ? ecsFindingEvent(world, 'acme', { withTaskTags: true }) : siteAlarmEvent(world, 'acme'),
    );

    // Assess
    expect(outcome).toMatchObject({ outcome: 'contained' });
    expect(steps(outcome)).toContain('quarantine-security-group:done');
    expectQuarantined('acme');
  });

  it('RevokeSecurityGroupEgress of the tidy-up: done, not failed', async () => {
    // Prepare
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    world.aws.faults.add(lost('RevokeSecurityGroupEgress'));

    // Act
    const outcome = await containHandler(ecsFindingEvent(world, 'acme', { withTaskTags: true }));

    // Assess
    expect(outcome).toMatchObject({ outcome: 'contained' });
    const meta = world.aws.dynamodb.items(world.tableName).find((i) => i.sk?.S === 'META');
    const finish = (meta?.steps?.L ?? []).map((s) => s.M).find((m) => m?.step?.S === 'finish-quarantine');
    expect(finish?.outcome?.S).toBe('done');
    expectQuarantined('acme');
  });
});

describe('release, a write made but its answer lost', () => {
  it.each([
    ['AuthorizeSecurityGroupIngress', false],
    ['AuthorizeSecurityGroupEgress', false],
    // Interim (egress) rules left by a tidy-up that was refused: release takes them out.
    ['RevokeSecurityGroupEgress', true],
  ])('%s: RELEASED, and the group exactly as before', async (command, interimLeft) => {
    // Prepare
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    const before = world.aws.snapshot('acme');
    const tidy = interimLeft
      ? world.aws.faults.add({ service: 'EC2', command: 'RevokeSecurityGroupEgress', kind: 'denied' })
      : undefined;
    const contained = (await containHandler(ecsFindingEvent(world, 'acme', { withTaskTags: true }))) as {
      incidentId: string;
    };
    tidy?.remove();
    world.aws.faults.add(lost(command));

    // Act
    const result = await releaseIncident(recoveryDeps(), {
      incidentId: contained.incidentId,
      releasedBy: 'arn:aws:sts::123456789012:assumed-role/Ops/alice',
    });

    // Assess
    expect(result).toMatchObject({ outcome: 'released' });
    expect(incidentsOf(world, 'acme')[0]?.status).toBe('RELEASED');
    const after = world.aws.snapshot('acme');
    expect(after.securityGroup.ingress).toEqual(before.securityGroup.ingress);
    expect(after.securityGroup.egress).toEqual(before.securityGroup.egress);
    expect(world.aws.calls.find({ service: 'EC2', command, outcome: 'error' }).map((c) => c.committed)).toContain(true);
  });
});

/**
 * Issue 16 item 11. Step Functions API reference, StartExecution: "For a STANDARD workflow,
 * if you call StartExecution with the same name and input as a running execution, the call
 * succeeds and return the same response as the original request. If the execution is closed
 * or if the input is different, it returns a 400 ExecutionAlreadyExists error."
 */
describe('starting the incident workflow on a later delivery', () => {
  it('an execution of that name that already exists (closed, or started with another input) is the one wanted: the delivery succeeds', async () => {
    // Prepare: the workflow starts, but saying so fails, so the handler throws; the execution
    // then closes (a short FAILED-incident workflow, say) before the event runs again.
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    world.aws.faults.add({
      service: 'DynamoDB',
      command: 'UpdateItem',
      kind: 'denied',
      when: (input) => JSON.stringify(input).includes('workflowStartedAt'),
      times: 1,
    });
    const event = ecsFindingEvent(world, 'acme');
    const first = await containHandler(event).then(
      () => 'returned',
      (e: Error) => e.name,
    );
    for (const execution of Object.values(world.aws.sfn.state.executions)) execution.status = 'SUCCEEDED';

    // Act
    const again = await containHandler(event);

    // Assess
    expect(first).not.toBe('returned');
    expect(again).toMatchObject({ outcome: 'joined' });
    expect(world.aws.calls.find({ service: 'SFN', command: 'StartExecution', outcome: 'error' })).toEqual([
      expect.objectContaining({ error: expect.objectContaining({ name: 'ExecutionAlreadyExists' }) }),
    ]);
    const meta = world.aws.dynamodb.items(world.tableName).find((i) => i.sk?.S === 'META');
    expect(meta?.workflowStartedAt?.S).toBeTruthy();
  });
});
