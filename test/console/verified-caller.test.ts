import { afterEach, describe, expect, it } from 'vitest';
import { consoleHandler } from '../../runtime/console/index';
import { callConsole, gatewayEvent, operatorSession } from '../support/console-gateway';
import { ALICE_BY, auditItems, type ConsoleWorld, setUpConsoleWorld, store } from './console-world';

/**
 * Issue 15, item 3: the console trusted what callers said about themselves. It now answers only its
 * API's requests whose caller API Gateway verified to be a session of the operator role
 * (runtime/console/gateway.ts), and records that verified session, never the body's claim.
 */

let world: ConsoleWorld | undefined;
afterEach(() => {
  world?.aws.restore();
  world = undefined;
});

const QUARANTINE = { action: 'quarantine', site: 'acme', reason: 'forged' } as const;

/** Every call that changed something (the audit record included). */
function mutations(w: ConsoleWorld) {
  return w.aws.mutatingCalls().map((c) => `${c.service}.${c.command}`);
}

describe('a request the console refuses changes nothing', () => {
  it('a direct Lambda invoke (a bare console request, not an API Gateway event)', async () => {
    // Prepare
    world = setUpConsoleWorld([{ id: 'acme', cell: 'c1' }]);
    const before = world.aws.snapshot('acme');

    // Act
    const answer = await consoleHandler({ ...QUARANTINE }, { awsRequestId: 'direct-1' });

    // Assess
    expect(answer).toMatchObject({
      ok: false,
      action: 'quarantine',
      error: { code: 'refused', message: expect.stringContaining('never a direct invoke') },
    });
    expect(mutations(world)).toEqual([]);
    expect(world.aws.snapshot('acme')).toEqual(before);
    expect(await store(world).openIncidentOf('acme')).toBeUndefined();
    expect(await auditItems(world)).toEqual([]);
  });

  it.each([
    ['no verified caller (no IAM authorization)', { caller: null }],
    [
      'a PowerUser session of the same account',
      {
        caller: {
          userArn: 'arn:aws:sts::123456789012:assumed-role/PowerUser/mallory',
          accountId: '123456789012',
        },
      },
    ],
    [
      'the operator role name in another account',
      {
        caller: {
          userArn: operatorSession('mallory').userArn.replace('123456789012', '999999999999'),
          accountId: '999999999999',
        },
      },
    ],
    [
      'an IAM user named like the role',
      {
        caller: {
          userArn: 'arn:aws:iam::123456789012:user/bulkhead-test-operator-eu-west-1',
          accountId: '123456789012',
        },
      },
    ],
    ['another stage', { stage: 'test-invoke-stage' }],
    ['another method', { httpMethod: 'PUT' }],
  ] as const)('an API Gateway event with %s: 403', async (_name, options) => {
    // Prepare
    world = setUpConsoleWorld([{ id: 'acme', cell: 'c1' }]);
    const before = world.aws.snapshot('acme');

    // Act
    const answer = await consoleHandler(gatewayEvent({ ...QUARANTINE }, options), { awsRequestId: 'gw-1' });

    // Assess
    expect(answer).toMatchObject({ statusCode: 403 });
    expect(JSON.parse((answer as { body: string }).body)).toMatchObject({ ok: false, error: { code: 'refused' } });
    expect(mutations(world)).toEqual([]);
    expect(world.aws.snapshot('acme')).toEqual(before);
    expect(await auditItems(world)).toEqual([]);
  });
});

describe('the recorded caller is the verified one', () => {
  it('names the operator role session API Gateway verified, whatever the body claims, on the audit record and the incident', async () => {
    // Prepare
    world = setUpConsoleWorld([{ id: 'acme', cell: 'c1' }]);
    const claim = { user: 'root', principal: 'arn:aws:sts::123456789012:assumed-role/Admin/someone-else' };

    // Act
    const answer = await callConsole(
      { ...QUARANTINE, reason: 'defaced', identity: claim },
      { requestId: 'gw-verified' },
    );

    // Assess
    expect(answer).toMatchObject({ ok: true, action: 'quarantine', requestId: 'gw-verified' });
    const [item] = await auditItems(world);
    expect(item).toMatchObject({
      who: ALICE_BY,
      verified: {
        userArn: ALICE_BY,
        session: 'alice',
        accountId: '123456789012',
        caller: 'AROAEXAMPLEOPERATOR01:alice',
      },
      identityVerifiedBy: 'api-gateway-iam',
      claimed: claim,
      requestId: 'gw-verified',
    });
    const incidentId = (answer as { result: { incidentId: string } }).result.incidentId;
    const [trigger] = await store(world).triggersOf(incidentId);
    expect(trigger).toMatchObject({ kind: 'operator', reason: `${ALICE_BY}: defaced` });
    expect(JSON.stringify(trigger)).not.toContain('someone-else');
  });

  it('a body that is not JSON is answered invalid-request and audited with the verified caller', async () => {
    // Prepare
    world = setUpConsoleWorld([{ id: 'acme', cell: 'c1' }]);

    // Act
    const answer = await callConsole(undefined, { body: '{"action": "status"' });

    // Assess
    expect(answer).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(await auditItems(world)).toEqual([expect.objectContaining({ who: ALICE_BY, outcome: 'error' })]);
  });
});
