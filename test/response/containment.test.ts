import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { IpPermission } from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from 'vitest';
import { atomicPermissions, permissionKey } from '../../runtime/contain/quarantine-rules';
import { TAKEOVER_AFTER_MS } from '../../runtime/contain/contain';
import { containHandler } from '../../runtime/contain/index';
import {
  type ResponseWorld,
  ecsFindingEvent,
  setUpResponseWorld,
  sampleEvent,
  siteAlarmEvent,
} from '../support/response-world';

let world: ResponseWorld;
afterEach(() => {
  world?.aws.restore();
  delete process.env.JOIN_WAIT_MS;
});

const mutating = () => world.aws.mutatingCalls().filter((c) => c.service !== 'DynamoDB');

/** The quarantine set: nothing in, HTTPS out to the CloudWatch Logs endpoint only. */
function expectQuarantined(siteId: string) {
  const snapshot = world.aws.snapshot(siteId);
  expect(snapshot.securityGroup.ingress).toEqual([]);
  expect(snapshot.securityGroup.egress.map((r) => `${r.protocol}:${r.fromPort}-${r.toPort}:${r.peer}`)).toEqual([
    `tcp:443-443:${world.fleet.logsEndpointSecurityGroupId}`,
  ]);
  expect(snapshot.listenerRule.actions).toEqual([
    expect.objectContaining({
      Type: 'fixed-response',
      FixedResponseConfig: expect.objectContaining({ StatusCode: '503' }),
    }),
  ]);
  expect(snapshot.targetGroup.attached).toBe(false);
  return snapshot;
}

async function parameterValue(name: string): Promise<string> {
  return (await new SSMClient({}).send(new GetParameterCommand({ Name: name }))).Parameter?.Value ?? '';
}

/** Every item of the incident table, read through the real SDK (a Scan). */
async function incidentItems(): Promise<Record<string, unknown>[]> {
  const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  return ((await db.send(new ScanCommand({ TableName: world.tableName }))).Items ?? []) as Record<string, unknown>[];
}

describe('an ECS finding for one site', () => {
  it('isolates that site and only that site, and keeps its task running for the forensic hold', async () => {
    // Prepare
    world = setUpResponseWorld([
      { id: 'acme', cell: 'c1' },
      { id: 'bakery', cell: 'c1', internetEgress: true },
      { id: 'clinic', cell: 'c2', isolation: 'strict' },
    ]);
    const before = { bakery: world.aws.snapshot('bakery'), clinic: world.aws.snapshot('clinic') };
    const acmeTask = world.site('acme').taskArns[0];

    // Act
    const outcome = await containHandler(ecsFindingEvent(world, 'acme'));
    world.aws.advance(10 * 60_000);

    // Assess
    expect(outcome).toMatchObject({ outcome: 'contained', site: 'acme' });
    const after = expectQuarantined('acme');
    expect(after.tasks.find((t) => t.taskArn === acmeTask)).toMatchObject({
      lastStatus: 'RUNNING',
      desiredStatus: 'RUNNING',
    });
    expect(after.role.inlinePolicies).toHaveProperty('BulkheadRevokeOlderSessions');
    expect(world.aws.snapshot('bakery')).toEqual(before.bakery);
    expect(world.aws.snapshot('clinic')).toEqual(before.clinic);
  });

  it('records the incident: site, trigger, timestamps, saved state and every step', async () => {
    // Prepare
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    const original = world.aws.snapshot('acme');

    // Act
    const outcome = await containHandler(ecsFindingEvent(world, 'acme', { findingId: 'f-1', count: 3 }));

    // Assess
    const items = await incidentItems();
    const meta = items.find((i) => i.sk === 'META');
    expect(meta).toMatchObject({
      site: 'acme',
      status: 'CONTAINED',
      policy: 'contain',
      drill: false,
      incidentId: (outcome as { incidentId: string }).incidentId,
    });
    for (const field of ['detectedAt', 'receivedAt', 'isolatedAt', 'shedAt'])
      expect(typeof meta?.[field]).toBe('string');
    const saved = meta?.saved as {
      securityGroup: { ingress: unknown[]; egress: unknown[] };
      listenerRule: { actions: unknown[] };
    };
    const keys = (permissions: unknown[]) =>
      atomicPermissions(permissions as IpPermission[])
        .map(permissionKey)
        .sort();
    const shapeKeys = (rules: { protocol: string; fromPort: number; toPort: number; peer: string }[]) =>
      rules.map((r) => `${r.protocol}:${r.fromPort}-${r.toPort}:${r.peer}`).sort();
    expect(keys(saved.securityGroup.ingress)).toEqual(shapeKeys(original.securityGroup.ingress));
    expect(keys(saved.securityGroup.egress)).toEqual(shapeKeys(original.securityGroup.egress));
    expect(saved.listenerRule.actions).toEqual(original.listenerRule.actions);
    expect((meta?.steps as { step: string; outcome: string }[]).map((s) => `${s.step}:${s.outcome}`)).toEqual(
      expect.arrayContaining(['quarantine-security-group:done', 'shed-traffic:done', 'revoke-task-role-sessions:done']),
    );
    expect(items.filter((i) => String(i.sk).startsWith('TRIGGER#'))).toEqual([
      expect.objectContaining({ findingId: 'f-1', count: 3, severity: 8, kind: 'guardduty' }),
    ]);
    expect(world.aws.sfn.state.executions).toBeDefined();
    expect(world.aws.callsTo('SFN', 'StartExecution')).toHaveLength(1);
  });

  it('says exactly what the session deny protects: credentials already taken out of the task, not the task’s new ones', async () => {
    // Prepare
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);

    // Act
    await containHandler(ecsFindingEvent(world, 'acme'));

    // Assess
    const meta = (await incidentItems()).find((i) => i.sk === 'META');
    const deny = (meta?.steps as { step: string; detail?: string }[]).find(
      (s) => s.step === 'revoke-task-role-sessions',
    );
    expect(deny?.detail).toMatch(
      /^denies .*-task's credentials issued before \S+Z, that is credentials already taken out of the task; credentials ECS issues to the contained task from now on are not denied \(the network quarantine holds it\)$/,
    );
  });

  it('finds the site from the task when the finding has no tags, and straight from the finding when it has', async () => {
    world = setUpResponseWorld([
      { id: 'acme', cell: 'c1' },
      { id: 'bakery', cell: 'c1' },
    ]);

    await containHandler(ecsFindingEvent(world, 'acme'));
    await containHandler(ecsFindingEvent(world, 'bakery', { withTaskTags: true }));

    const describes = world.aws.callsTo('ECS', 'DescribeTasks');
    expect(describes).toHaveLength(1);
    expect(describes[0]?.input).toMatchObject({ tasks: [world.site('acme').taskArns[0]], include: ['TAGS'] });
    expectQuarantined('acme');
    expectQuarantined('bakery');
  });

  it('on a strict site, also moves its subnets onto the deny-all network ACL', async () => {
    world = setUpResponseWorld([{ id: 'clinic', cell: 'c1', isolation: 'strict' }]);

    await containHandler(ecsFindingEvent(world, 'clinic'));

    const snapshot = expectQuarantined('clinic');
    expect(snapshot.aclAssociations.map((a) => a.subnetId).sort()).toEqual([...world.site('clinic').subnetIds].sort());
    for (const association of snapshot.aclAssociations)
      expect(association.networkAclId).toBe(world.fleet.quarantineAclId);
  });

  it('contains on a site alarm too, reading the site from the alarm naming contract', async () => {
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);

    const outcome = await containHandler(siteAlarmEvent(world, 'acme', 'egress'));

    expect(outcome).toMatchObject({ outcome: 'contained', site: 'acme' });
    expectQuarantined('acme');
  });
});

describe("the site's policy decides", () => {
  it('shed: the listener answers 503 but the security group is untouched', async () => {
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1', policy: 'shed' }]);
    const before = world.aws.snapshot('acme');

    const outcome = await containHandler(ecsFindingEvent(world, 'acme'));

    expect(outcome).toMatchObject({ outcome: 'shed' });
    const after = world.aws.snapshot('acme');
    expect(after.securityGroup).toEqual(before.securityGroup);
    expect(after.listenerRule.actions[0]).toMatchObject({ Type: 'fixed-response' });
  });

  it('notify: nothing about the site changes, but the incident is opened and the workflow started', async () => {
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1', policy: 'notify' }]);
    const before = world.aws.snapshot('acme');

    const outcome = await containHandler(ecsFindingEvent(world, 'acme'));

    expect(outcome).toMatchObject({ outcome: 'notified' });
    expect(world.aws.snapshot('acme')).toEqual(before);
    expect(mutating().map((c) => `${c.service}:${c.command}`)).toEqual(['SFN:StartExecution']);
  });

  it("a finding below the site's threshold changes nothing", async () => {
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1', severityThreshold: 8 }]);

    const outcome = await containHandler(ecsFindingEvent(world, 'acme', { severity: 5 }));

    // The threshold is the record's (task tags may be stale), read with the lock in one
    // round: the lock is taken and given back; nothing else changes.
    expect(outcome).toMatchObject({ outcome: 'ignored', code: 'below-threshold' });
    expect(world.aws.mutatingCalls().filter((c) => c.service !== 'DynamoDB')).toEqual([]);
    const lock = world.aws.dynamodb.items(world.tableName).find((i) => i.sk?.S === 'LOCK');
    expect(lock?.openIncidentId).toBeUndefined();
    expect(world.aws.dynamodb.items(world.tableName).filter((i) => i.sk?.S === 'META')).toEqual([]);
  });

  it('when the task tags are stale, the site record decides, and the lock is given back', async () => {
    // Prepare: the record says 9 (a deploy raised the threshold); the running task still says 7.
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    const name = '/bulkhead/test/sites/acme';
    const record = JSON.parse(await parameterValue(name)) as { response: { severityThreshold: number } };
    record.response.severityThreshold = 9;
    world.aws.ssm.putParameter(name, JSON.stringify(record));

    // Act
    const outcome = await containHandler(ecsFindingEvent(world, 'acme', { severity: 8, withTaskTags: true }));
    const next = await containHandler(
      ecsFindingEvent(world, 'acme', { severity: 9.5, findingId: 'worse', withTaskTags: true }),
    );

    // Assess
    expect(outcome).toMatchObject({
      outcome: 'ignored',
      code: 'below-threshold',
      reason: expect.stringContaining('threshold 9'),
    });
    expect(next).toMatchObject({ outcome: 'contained' });
  });
});

describe('exactly once', () => {
  it('the same finding delivered again, then with a bigger count, is one incident with one trigger and one containment', async () => {
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);

    const first = await containHandler(ecsFindingEvent(world, 'acme', { findingId: 'f-1', count: 1 }));
    const again = await containHandler(ecsFindingEvent(world, 'acme', { findingId: 'f-1', count: 1 }));
    const bigger = await containHandler(ecsFindingEvent(world, 'acme', { findingId: 'f-1', count: 4 }));

    expect(first.outcome).toBe('contained');
    expect(again).toMatchObject({ outcome: 'joined', trigger: 'duplicate' });
    expect(bigger).toMatchObject({ outcome: 'joined', trigger: 'updated' });
    const items = await incidentItems();
    expect(items.filter((i) => i.sk === 'META')).toHaveLength(1);
    expect(items.filter((i) => String(i.sk).startsWith('TRIGGER#'))).toEqual([
      expect.objectContaining({ findingId: 'f-1', count: 4 }),
    ]);
    expect(world.aws.callsTo('EC2', 'RevokeSecurityGroupIngress').filter((c) => c.outcome === 'ok')).toHaveLength(1);
    expect(world.aws.callsTo('SFN', 'StartExecution')).toHaveLength(1);
  });

  it('five findings for one site at once: one incident, five triggers, one containment', async () => {
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }], { latencyMs: 5 });

    const outcomes = await Promise.all(
      Array.from({ length: 5 }, (_, i) => containHandler(ecsFindingEvent(world, 'acme', { findingId: `f-${i}` }))),
    );

    expect(outcomes.filter((o) => o.outcome === 'contained')).toHaveLength(1);
    expect(outcomes.filter((o) => o.outcome === 'joined')).toHaveLength(4);
    const items = await incidentItems();
    expect(items.filter((i) => i.sk === 'META')).toHaveLength(1);
    expect(items.filter((i) => String(i.sk).startsWith('TRIGGER#'))).toHaveLength(5);
    expect(world.aws.callsTo('EC2', 'RevokeSecurityGroupIngress').filter((c) => c.outcome === 'ok')).toHaveLength(1);
    expectQuarantined('acme');
  });

  it('twenty findings for twenty sites at once: twenty incidents, each site contained once', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `site-${i + 1}`);
    world = setUpResponseWorld(
      ids.map((id, i) => ({ id, cell: i < 10 ? 'c1' : 'c2' })),
      { latencyMs: 5 },
    );

    const outcomes = await Promise.all(
      ids.map((id) => containHandler(ecsFindingEvent(world, id, { findingId: `f-${id}` }))),
    );

    expect(outcomes.map((o) => o.outcome)).toEqual(ids.map(() => 'contained'));
    const items = await incidentItems();
    expect(new Set(items.filter((i) => i.sk === 'META').map((i) => i.site))).toEqual(new Set(ids));
    for (const id of ids) expectQuarantined(id);
    const revokes = world.aws.callsTo('EC2', 'RevokeSecurityGroupIngress').filter((c) => c.outcome === 'ok');
    expect(new Set(revokes.map((c) => (c.input as { GroupId: string }).GroupId)).size).toBe(20);
    expect(revokes).toHaveLength(20);
  });
});

describe('events that are not Bulkhead’s change nothing', () => {
  const cases: [string, () => unknown, string][] = [
    [
      'the shared EC2 backdoor sample (non-ECS)',
      () => sampleEvent('guardduty/ec2-backdoor-c2-dns-sample_cloud-custodian.json'),
      '',
    ],
    [
      'the shared IAM recon sample (non-ECS)',
      () => sampleEvent('guardduty/iam-recon-maliciousipcaller-sample-2025_csa.json'),
      '',
    ],
    [
      'the raw PascalCase ECS sample, not an EventBridge event',
      () => sampleEvent('guardduty/ecscluster-defenseevasion-runtime-ptraceantidebugging-sample_csa.json'),
      'malformed-event',
    ],
    [
      'the Security Hub import of a finding',
      () => sampleEvent('securityhub/imported-guardduty-ec2-backdoor-c2-sample_vumdao.json'),
      'foreign-event',
    ],
    ['an ECS task state change', () => sampleEvent('ecs/fargate-running-eni-attached_ecs-docs.json'), 'foreign-event'],
    [
      'a CloudWatch alarm that is not Bulkhead’s',
      () => sampleEvent('cloudwatch/single-metric-cpu-ok-to-alarm_cw-docs.json'),
      '',
    ],
    [
      'an alarm going from INSUFFICIENT_DATA to ALARM that is not Bulkhead’s',
      () => sampleEvent('cloudwatch/metric-math-network-insufficient-to-alarm_cw-docs.json'),
      '',
    ],
    [
      'a finding for a cluster that is not Bulkhead’s',
      () =>
        ecsFindingEvent(world, 'acme', {
          clusterArn: `arn:aws:ecs:${world.aws.region}:${world.aws.accountId}:cluster/someone-else`,
        }),
      'foreign-cluster',
    ],
    [
      'a finding for a task that does not exist',
      () =>
        ecsFindingEvent(world, 'acme', {
          taskArn: `${world.site('acme').clusterArn.replace(':cluster/', ':task/')}/0123456789abcdef0123456789abcdef`,
        }),
      'unknown-task',
    ],
    ['malformed JSON (a string)', () => '{"version": "0", "detail-type": ', 'malformed-event'],
    ['null', () => null, 'malformed-event'],
    [
      'a partial envelope without detail-type or account',
      () => ({ version: '0', id: 'x', source: 'aws.guardduty', detail: {} }),
      'malformed-event',
    ],
    [
      'a GuardDuty finding with its detail cut short',
      () => ({ ...ecsFindingEvent(world, 'acme'), detail: { id: 'f', type: 'x' } }),
      'malformed-event',
    ],
  ];

  it.each(cases)('%s', async (_, build, code) => {
    // Prepare
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    const before = world.aws.snapshot('acme');

    // Act
    const outcome = await containHandler(build());

    // Assess
    expect(outcome.outcome).toBe('ignored');
    if (code) expect(outcome).toMatchObject({ code });
    expect((outcome as { reason: string }).reason.length).toBeGreaterThan(10);
    expect(world.aws.mutatingCalls()).toEqual([]);
    expect(world.aws.snapshot('acme')).toEqual(before);
  });
});

describe('when AWS pushes back', () => {
  const commands: [string, string][] = [
    ['EC2', 'DescribeSecurityGroupRules'],
    ['EC2', 'RevokeSecurityGroupIngress'],
    ['EC2', 'RevokeSecurityGroupEgress'],
    ['EC2', 'DescribeNetworkAcls'],
    ['EC2', 'ReplaceNetworkAclAssociation'],
    ['ECS', 'DescribeTasks'],
    ['ELBv2', 'DescribeRules'],
    ['ELBv2', 'ModifyRule'],
    ['IAM', 'PutRolePolicy'],
    ['SSM', 'GetParameter'],
    ['DynamoDB', 'PutItem'],
    ['DynamoDB', 'UpdateItem'],
    ['SFN', 'StartExecution'],
  ];

  it.each(commands)('throttling on %s %s: still contained', async (service, command) => {
    // Prepare
    world = setUpResponseWorld([{ id: 'clinic', cell: 'c1', isolation: 'strict' }]);
    world.aws.faults.add({ service: service as never, command, kind: 'throttle', times: 3 });

    // Act
    const outcome = await containHandler(ecsFindingEvent(world, 'clinic'));

    // Assess
    expect(outcome).toMatchObject({ outcome: 'contained' });
    const snapshot = expectQuarantined('clinic');
    for (const a of snapshot.aclAssociations) expect(a.networkAclId).toBe(world.fleet.quarantineAclId);
    expect(
      world.aws.calls.find({ service: service as never, command, outcome: 'error' }).length,
    ).toBeGreaterThanOrEqual(1);
  });

  it('a permanent failure mid-way: FAILED, what was done is recorded, the alarm metric is emitted', async () => {
    // Prepare
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    world.aws.faults.add({ service: 'ELBv2', command: 'ModifyRule', kind: 'denied' });
    const metrics: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      metrics.push(String(chunk));
      return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stdout.write;

    // Act
    let outcome: Awaited<ReturnType<typeof containHandler>>;
    try {
      const { handler } = await import('../../runtime/contain/index');
      outcome = (await handler(ecsFindingEvent(world, 'acme'), {
        functionName: 'contain',
        awsRequestId: 'r-1',
      } as never)) as typeof outcome;
    } finally {
      process.stdout.write = write;
    }

    // Assess
    expect(outcome).toMatchObject({ outcome: 'failed' });
    const meta = (await incidentItems()).find((i) => i.sk === 'META');
    expect(meta).toMatchObject({ status: 'FAILED', failureReason: expect.stringContaining('shed-traffic') });
    const steps = (meta?.steps as { step: string; outcome: string }[]).map((s) => `${s.step}:${s.outcome}`);
    expect(steps).toEqual(
      expect.arrayContaining([
        'quarantine-security-group:done',
        'shed-traffic:failed',
        'revoke-task-role-sessions:done',
      ]),
    );
    // The security group was still isolated; the listener was not changed.
    const snapshot = world.aws.snapshot('acme');
    expect(snapshot.securityGroup.ingress).toEqual([]);
    expect(snapshot.listenerRule.actions[0]).toMatchObject({ Type: 'forward' });
    // Powertools writes EMF metrics to stdout.
    expect(metrics.join('')).toMatch(/"ContainmentFailed"/);
  });
});

describe('an attempt that died half-way', () => {
  async function leaveLock(siteId: string, incidentId: string, lockedAt: string, meta?: Record<string, unknown>) {
    const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    await db.send(
      new PutCommand({
        TableName: world.tableName,
        Item: { pk: `SITE#${siteId}`, sk: 'LOCK', site: siteId, openIncidentId: incidentId, lockedAt },
      }),
    );
    if (meta)
      await db.send(
        new PutCommand({
          TableName: world.tableName,
          Item: { pk: `INCIDENT#${incidentId}`, sk: 'META', incidentId, site: siteId, steps: [], ...meta },
        }),
      );
  }

  it('a redelivered event takes over an abandoned lock and contains the site under the same incident', async () => {
    // Prepare: a Lambda took the lock 5 minutes ago and died before recording anything.
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    // The containment function runs on the real clock.
    const now = Date.now();
    await leaveLock('acme', 'abandoned-1', new Date(now - TAKEOVER_AFTER_MS - 60_000).toISOString());

    // Act
    const outcome = await containHandler(ecsFindingEvent(world, 'acme'));

    // Assess
    expect(outcome).toMatchObject({ outcome: 'contained', incidentId: 'abandoned-1' });
    expectQuarantined('acme');
  });

  it('keeps the saved state of the attempt that died (the rules as they were before quarantine)', async () => {
    // Prepare: the earlier attempt saved the rules and quarantined the group, then died.
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    const original = world.aws.snapshot('acme');
    const first = await containHandler(ecsFindingEvent(world, 'acme'));
    const incidentId = (first as { incidentId: string }).incidentId;
    const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    await db.send(
      new UpdateCommand({
        TableName: world.tableName,
        Key: { pk: `INCIDENT#${incidentId}`, sk: 'META' },
        UpdateExpression: 'SET #s = :opening',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':opening': 'OPENING' },
      }),
    );
    await db.send(
      new UpdateCommand({
        TableName: world.tableName,
        Key: { pk: 'SITE#acme', sk: 'LOCK' },
        UpdateExpression: 'SET lockedAt = :old',
        ExpressionAttributeValues: { ':old': new Date(Date.now() - TAKEOVER_AFTER_MS - 60_000).toISOString() },
      }),
    );

    // Act
    const resumed = await containHandler(ecsFindingEvent(world, 'acme', { findingId: 'again' }));

    // Assess
    expect(resumed).toMatchObject({ outcome: 'contained', incidentId });
    const meta = (await incidentItems()).find((i) => i.sk === 'META');
    const saved = meta?.saved as { securityGroup: { ingress: IpPermission[] } };
    expect(atomicPermissions(saved.securityGroup.ingress).length).toBe(original.securityGroup.ingress.length);
  });

  it('a lock whose incident got past opening is joined, not taken over', async () => {
    world = setUpResponseWorld([{ id: 'bakery', cell: 'c1' }]);
    await leaveLock('bakery', 'done-1', new Date(Date.now() - 30 * 60_000).toISOString(), { status: 'CONTAINED' });

    const bakery = await containHandler(ecsFindingEvent(world, 'bakery'));

    expect(bakery).toMatchObject({ outcome: 'joined', incidentId: 'done-1' });
    expect(world.aws.mutatingCalls().filter((c) => c.service === 'EC2')).toEqual([]);
  });

  // Issue 11 item 2: a recent lock with no incident under it belongs to a trigger that has not
  // written its incident yet or is giving the lock back; joining it could lose this trigger.
  it('a recent lock with no incident under it is waited on; if it never settles the handler throws (the event runs again), changing nothing', async () => {
    // Prepare
    process.env.JOIN_WAIT_MS = '300';
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    await leaveLock('acme', 'fresh-1', new Date(Date.now() - 30_000).toISOString());

    // Act
    const outcome = containHandler(ecsFindingEvent(world, 'acme'));

    // Assess
    await expect(outcome).rejects.toMatchObject({
      name: 'LockUnsettledError',
      message: expect.stringContaining('fresh-1'),
    });
    expect(world.aws.mutatingCalls().filter((c) => c.service === 'EC2')).toEqual([]);
  });

  it('a recent lock with no incident under it that is given back meanwhile is taken, and the site contained', async () => {
    // Prepare
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    await leaveLock('acme', 'fresh-1', new Date(Date.now() - 1_000).toISOString());
    const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    const release = new Promise((resolve) => setTimeout(resolve, 150)).then(() =>
      db.send(
        new UpdateCommand({
          TableName: world.tableName,
          Key: { pk: 'SITE#acme', sk: 'LOCK' },
          UpdateExpression: 'REMOVE openIncidentId',
        }),
      ),
    );

    // Act
    const [outcome] = await Promise.all([containHandler(ecsFindingEvent(world, 'acme')), release]);

    // Assess
    expect(outcome).toMatchObject({ outcome: 'contained' });
    expect((outcome as { incidentId: string }).incidentId).not.toBe('fresh-1');
    expectQuarantined('acme');
  });
});

describe('when EC2’s buckets are empty', () => {
  it('rewrites the rules to the logs endpoint group in one call, then reaches the quarantine set', async () => {
    // Prepare
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1', internetEgress: true }]);

    // Act
    const outcome = await containHandler(ecsFindingEvent(world, 'acme', { withTaskTags: true }));

    // Assess: isolated by one ModifySecurityGroupRules call ...
    expect(outcome).toMatchObject({ outcome: 'contained' });
    expect(world.aws.callsTo('EC2', 'ModifySecurityGroupRules').filter((c) => c.outcome === 'ok')).toHaveLength(1);
    const steps = (outcome as unknown as { steps: { step: string; detail?: string }[] }).steps;
    // Ingress waits for the shed (issue 16 item 9), then goes by rule id.
    expect(steps.find((s) => s.step === 'quarantine-security-group')?.detail).toMatch(/ingress held, egress rewritten/);
    expect(steps.find((s) => s.step === 'close-ingress')).toMatchObject({ outcome: 'done' });
    // ... and then the canonical quarantine set, with the rewritten rules revoked.
    expectQuarantined('acme');
    const meta = (await incidentItems()).find((i) => i.sk === 'META');
    expect((meta?.steps as { step: string; outcome: string }[]).map((s) => `${s.step}:${s.outcome}`)).toContain(
      'finish-quarantine:done',
    );
  });

  it('when the rewrite is throttled, revokes instead', async () => {
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    world.aws.faults.add({ service: 'EC2', command: 'ModifySecurityGroupRules', kind: 'throttle', times: 1 });

    const outcome = await containHandler(ecsFindingEvent(world, 'acme', { withTaskTags: true }));

    expect(outcome).toMatchObject({ outcome: 'contained' });
    const steps = (outcome as unknown as { steps: { step: string; detail?: string }[] }).steps;
    expect(steps.find((s) => s.step === 'quarantine-security-group')?.detail).toMatch(/ingress held, egress revoked/);
    expectQuarantined('acme');
  });

  it('when every bucket is empty, waits for them and still contains', async () => {
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    for (const command of ['ModifySecurityGroupRules', 'RevokeSecurityGroupIngress', 'RevokeSecurityGroupEgress']) {
      world.aws.faults.add({ service: 'EC2', command, kind: 'throttle', times: 2 });
    }

    const outcome = await containHandler(ecsFindingEvent(world, 'acme', { withTaskTags: true }));

    expect(outcome).toMatchObject({ outcome: 'contained' });
    expectQuarantined('acme');
  });
});
