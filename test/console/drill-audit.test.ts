import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { deliveredEvent } from '../../runtime/console/drill';
import { containHandler } from '../../runtime/contain/index';
import { DRILL_DETAIL_TYPE, DRILL_SOURCE, parseResponseEvent } from '../../runtime/contain/events';
import { ANSWER_MARGIN_MS } from '../../runtime/console/console';
import {
  ALICE,
  ALICE_BY,
  auditItems,
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

describe('drill', () => {
  it('sends a drill finding through containment, times the isolation, then releases the site as it was', async () => {
    // Prepare
    world = setUpConsoleWorld([
      { id: 'acme', cell: 'c1', isolation: 'strict' },
      { id: 'bakery', cell: 'c1' },
    ]);
    const before = comparable(world.aws.snapshot('acme'));
    const bakery = world.aws.snapshot('bakery');

    // Act
    const result = await ok({ action: 'drill', site: 'acme' });
    world.aws.advance(5 * 60_000);

    // Assess: the event is what the drill rule matches, and containment read it as a drill
    expect(world.delivered).toHaveLength(1);
    const [event] = world.delivered;
    expect(event).toMatchObject({
      source: DRILL_SOURCE,
      'detail-type': DRILL_DETAIL_TYPE,
      account: world.aws.accountId,
    });
    expect(parseResponseEvent(event)).toMatchObject({
      kind: 'guardduty',
      drill: true,
      taskArn: world.site('acme').taskArns[0],
      clusterArn: world.site('acme').clusterArn,
    });

    // Assess: contained, timed, released
    expect(result).toMatchObject({
      site: 'acme',
      policy: 'contain',
      status: 'CONTAINED',
      released: true,
      findingId: expect.stringMatching(/^bulkhead-drill-/),
    });
    expect(result.releaseProblem).toBeUndefined();
    expect(result.timeToIsolateSeconds).toBeGreaterThanOrEqual(0);
    expect(result.containmentSeconds).toBeGreaterThanOrEqual(0);
    expect(result.steps.map((s) => `${s.step}:${s.outcome}`)).toEqual(
      expect.arrayContaining(['quarantine-security-group:done', 'swap-network-acl:done', 'shed-traffic:done']),
    );
    const incident = await store(world).getIncident(result.incidentId);
    expect(incident).toMatchObject({ drill: true, status: 'RELEASED', releasedBy: ALICE_BY, releaseReason: 'drill' });
    expect(comparable(world.aws.snapshot('acme'))).toEqual(before);
    expect(world.aws.snapshot('bakery')).toEqual(bakery);
    expect(await ok({ action: 'status', site: 'acme' })).toMatchObject({ sites: [{ containment: 'none' }] });
  });

  it('releases only after containment has tidied its interim rules (no race with its tidy-up)', async () => {
    // Prepare: EventBridge delivers asynchronously; containment tidies interim rules 50 ms later.
    world = setUpConsoleWorld([{ id: 'acme', cell: 'c1' }]);
    process.env.FINISH_QUARANTINE_DELAY_MS = '50-50';
    const before = comparable(world.aws.snapshot('acme'));
    let delivery: Promise<unknown> = Promise.resolve();
    world.overrideConsole({
      putEvents: async (event) => {
        const envelope = deliveredEvent(event, {
          id: randomUUID(),
          account: world.aws.accountId,
          region: world.aws.region,
        });
        delivery = containHandler(envelope);
      },
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      drillPollMs: 5,
    });

    // Act
    const result = await ok({ action: 'drill', site: 'acme' });
    await delivery;

    // Assess: the interim rules were revoked by containment, then the site released
    expect(result.released).toBe(true);
    const steps = ((await store(world).getIncident(result.incidentId))?.steps ?? []).map(
      (s) => `${s.step}:${s.outcome}`,
    );
    expect(steps.indexOf('finish-quarantine:done')).toBeGreaterThan(-1);
    expect(steps.indexOf('finish-quarantine:done')).toBeLessThan(steps.indexOf('release:done'));
    expect(steps.filter((s) => s.endsWith(':failed'))).toEqual([]);
    expect(comparable(world.aws.snapshot('acme'))).toEqual(before);
  });

  it("exercises the site's own policy (shed): timed, then released", async () => {
    world = setUpConsoleWorld([{ id: 'bakery', cell: 'c1', policy: 'shed' }]);
    const before = comparable(world.aws.snapshot('bakery'));

    const result = await ok({ action: 'drill', site: 'bakery' });

    expect(result).toMatchObject({ policy: 'shed', status: 'SHED', released: true });
    expect(result.isolatedAt).toBeUndefined();
    expect(comparable(world.aws.snapshot('bakery'))).toEqual(before);
  });

  it('refuses on a site with an open incident, sending nothing', async () => {
    world = setUpConsoleWorld([{ id: 'acme', cell: 'c1' }]);
    const { incidentId } = await ok({ action: 'quarantine', site: 'acme', reason: 'real' });

    const response = await invokeConsole({ action: 'drill', site: 'acme' });

    expect(response).toMatchObject({
      ok: false,
      error: { code: 'refused', message: expect.stringContaining(incidentId) },
    });
    expect(world.delivered).toEqual([]);
  });

  it('gives up after its bounded wait when no incident opens (the event never arrived), changing nothing', async () => {
    // Prepare: EventBridge takes the event but nothing delivers it; time moves with each poll.
    world = setUpConsoleWorld([{ id: 'acme', cell: 'c1' }], { deliverDrills: false });
    let offset = 0;
    world.overrideConsole({
      now: () => new Date(Date.now() + offset),
      sleep: async (ms) => {
        offset += ms;
      },
      drillPollMs: 5_000,
    });

    // Act
    const response = await invokeConsole({ action: 'drill', site: 'acme', timeoutSeconds: 30 });

    // Assess
    expect(response).toMatchObject({
      ok: false,
      error: { code: 'failed', message: expect.stringContaining('no incident for drill finding') },
    });
    expect(world.delivered).toHaveLength(1);
    expect(mutatingCallsBesidesAudit(world)).toEqual([]);
  });

  it("waits no longer than the console API's integration timeout allows, whatever the request asks", async () => {
    // Prepare: the API waits 29 s (API Gateway's default); the operator asks for 120 s.
    world = setUpConsoleWorld([{ id: 'acme', cell: 'c1' }], { deliverDrills: false });
    let offset = 0;
    world.overrideConsole({
      now: () => new Date(Date.now() + offset),
      sleep: async (ms) => {
        offset += ms;
      },
      drillPollMs: 1_000,
      answerWithinMs: 29_000,
    });

    // Act
    const response = await invokeConsole({ action: 'drill', site: 'acme', timeoutSeconds: 120 });

    // Assess: 29 s less the margin for the release and the answer
    expect(response).toMatchObject({
      ok: false,
      error: { code: 'failed', message: expect.stringContaining(`within ${29 - ANSWER_MARGIN_MS / 1000} s`) },
    });
    expect(offset).toBeLessThanOrEqual(29_000 - ANSWER_MARGIN_MS);
    expect(mutatingCallsBesidesAudit(world)).toEqual([]);
  });
  it('an unknown site: a clear error, nothing sent', async () => {
    world = setUpConsoleWorld([{ id: 'acme', cell: 'c1' }]);

    const response = await invokeConsole({ action: 'drill', site: 'ghost' });

    expect(response).toMatchObject({ ok: false, error: { code: 'unknown-site' } });
    expect(world.delivered).toEqual([]);
    expect(mutatingCallsBesidesAudit(world)).toEqual([]);
  });
});

const BOB_CLAIM = 'arn:aws:sts::123456789012:assumed-role/bulkhead-test-operator-eu-west-1/bob';

describe('the audit of console calls', () => {
  it('records every call (who, what, arguments without secrets, outcome), before acting', async () => {
    // Prepare
    world = setUpConsoleWorld([{ id: 'acme', cell: 'c1' }]);

    // Act
    await ok({ action: 'status' });
    const { incidentId } = await ok({ action: 'quarantine', site: 'acme', reason: 'audit me' });
    await invokeConsole({ action: 'release', incidentId: 'nope-1' });
    await invokeConsole({ action: 'rotate-credentials', site: 'acme', password: 'hunter2' });
    // The body claims to be bob's session: the record names the session API Gateway verified.
    await invokeConsole({ action: 'status', identity: { user: 'bob', principal: BOB_CLAIM } }, null);
    await invokeConsole({ action: 'status' }, null);

    // Assess
    const items = await auditItems(world);
    expect(items.map((i) => [i.action, i.outcome])).toEqual([
      ['status', 'ok'],
      ['quarantine', 'ok'],
      ['release', 'error'],
      ['rotate-credentials', 'error'],
      ['status', 'ok'],
      ['status', 'ok'],
    ]);
    const [status, quarantine, release, invalid, bob, nobody] = items;
    expect(status).toMatchObject({
      pk: expect.stringMatching(/^AUDIT#\d{4}-\d{2}-\d{2}$/),
      sk: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T[\d:.]+Z#[0-9a-f-]{36}$/),
      kind: 'console-call',
      environment: 'test',
      who: ALICE_BY,
      verified: { userArn: ALICE_BY, session: 'alice', accountId: '123456789012' },
      identityVerifiedBy: 'api-gateway-iam',
      claimed: ALICE,
      requestId: expect.stringMatching(/^req-/),
      invocationId: expect.stringMatching(/^lambda-/),
      arguments: {},
      summary: '1 site(s), 0 with an open incident',
    });
    expect(status?.durationMs).toBeGreaterThanOrEqual(0);
    expect(quarantine).toMatchObject({
      arguments: { site: 'acme', reason: 'audit me' },
      summary: `contained acme: incident ${incidentId}`,
    });
    expect(release).toMatchObject({
      arguments: { incidentId: 'nope-1' },
      error: { name: 'UnknownIncidentError', code: 'unknown-incident' },
    });
    expect(invalid).toMatchObject({
      arguments: { site: 'acme', password: '[redacted]' },
      error: { code: 'invalid-request' },
    });
    expect(JSON.stringify(items)).not.toContain('hunter2');
    expect(bob).toMatchObject({
      who: ALICE_BY,
      verified: { userArn: ALICE_BY },
      claimed: { user: 'bob', principal: BOB_CLAIM },
      arguments: {},
    });
    expect(nobody).toMatchObject({ who: ALICE_BY, verified: { userArn: ALICE_BY } });
    expect(nobody?.claimed).toBeUndefined();
  });

  it('acts only once the call is recorded: no audit record, no action', async () => {
    world = setUpConsoleWorld([{ id: 'acme', cell: 'c1' }]);
    world.aws.faults.add({ service: 'DynamoDB', command: 'PutItem', kind: 'server', times: 10 });
    const before = world.aws.snapshot('acme');

    await expect(invokeConsole({ action: 'quarantine', site: 'acme', reason: 'r' })).rejects.toThrow();

    expect(world.aws.snapshot('acme')).toEqual(before);
    expect(world.aws.calls.all().filter((c) => c.service !== 'DynamoDB')).toEqual([]);
  });
});
