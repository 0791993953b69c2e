import { SFNClient } from '@aws-sdk/client-sfn';
import { StateMachine } from 'aws-local-stepfunctions';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { containHandler } from '../../runtime/contain/index';
import { runWorkflowStep } from '../../runtime/incident/index';
import { requestApproval } from '../../runtime/recovery/approval';
import { ecsFindingEvent } from '../support/response-world';
import { type Definition, incidentWorkflowDefinition } from '../support/workflow-definition';
import {
  ALICE_BY,
  type ConsoleWorld,
  invokeConsole,
  mutatingCallsBesidesAudit,
  ok,
  setUpConsoleWorld,
  store,
} from './console-world';

let world: ConsoleWorld;
afterEach(() => world?.aws.restore());

const DIGEST = `sha256:${'a1'.repeat(32)}`;

async function containedAcme(options: { autoRestore?: boolean } = {}) {
  world = setUpConsoleWorld([
    { id: 'acme', cell: 'c1', forensicHoldMinutes: 30, ...options },
    { id: 'bakery', cell: 'c1' },
  ]);
  const { incidentId } = await ok({ action: 'quarantine', site: 'acme', reason: 'r' });
  return incidentId;
}

async function secretUsername(secretArn: string): Promise<string> {
  const value = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: secretArn }));
  return (JSON.parse(value.SecretString ?? '{}') as { username: string }).username;
}

/** The workflow reached its wait for a decision (what its await-approval step records). */
async function waitForDecision(incidentId: string): Promise<string> {
  const token = world.aws.sfn.issueTaskToken();
  await requestApproval({ store: store(world), sfn: new SFNClient({}), now: () => new Date() }, { incidentId }, token);
  return token;
}

describe('approve', () => {
  it("answers the workflow's wait with the decision, the digest and who decided", async () => {
    const incidentId = await containedAcme();
    const token = await waitForDecision(incidentId);

    const result = await ok({ action: 'approve', incidentId, decision: 'restore', digest: DIGEST });

    expect(result).toEqual({ outcome: 'approved', incidentId, decision: 'restore' });
    const answer = world.aws.sfn.answers().find((a) => a.taskToken === token);
    expect(JSON.parse(answer?.output ?? '{}')).toEqual({ decision: 'restore', digest: DIGEST, by: ALICE_BY });
    expect(await store(world).getIncident(incidentId)).toMatchObject({
      approvedBy: ALICE_BY,
      approvalDecision: 'restore',
    });

    const again = await ok({ action: 'approve', incidentId, decision: 'false-positive' });
    expect(again).toMatchObject({ outcome: 'already-decided', decision: 'restore', by: ALICE_BY });
  });

  it('refuses, changing nothing, when the incident is not waiting for a decision', async () => {
    const incidentId = await containedAcme();
    const calls = mutatingCallsBesidesAudit(world).length;

    const response = await invokeConsole({ action: 'approve', incidentId, decision: 'restore' });

    expect(response).toMatchObject({
      ok: false,
      error: {
        name: 'ActionRefusedError',
        code: 'refused',
        message: expect.stringContaining('not waiting for approval'),
      },
    });
    expect(mutatingCallsBesidesAudit(world)).toHaveLength(calls);
    expect(world.aws.sfn.answers()).toEqual([]);
  });

  it('a digest with false-positive, or an unknown incident: clear errors, nothing sent', async () => {
    const incidentId = await containedAcme();
    await waitForDecision(incidentId);

    const withDigest = await invokeConsole({
      action: 'approve',
      incidentId,
      decision: 'false-positive',
      digest: DIGEST,
    });
    const unknown = await invokeConsole({ action: 'approve', incidentId: 'nope-1', decision: 'restore' });
    const badDigest = await invokeConsole({ action: 'approve', incidentId, decision: 'restore', digest: 'latest' });

    expect(withDigest).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(unknown).toMatchObject({ ok: false, error: { code: 'unknown-incident' } });
    expect(badDigest).toMatchObject({
      ok: false,
      error: { code: 'invalid-request', message: expect.stringContaining('digest') },
    });
    expect(world.aws.sfn.answers()).toEqual([]);
  });
});

describe('restore', () => {
  it('of an incident waiting for a decision: answers the wait with "restore"', async () => {
    const incidentId = await containedAcme();
    const token = await waitForDecision(incidentId);

    const result = await ok({ action: 'restore', incidentId, digest: DIGEST });

    expect(result).toEqual({ outcome: 'approved', incidentId, site: 'acme', digest: DIGEST });
    const answer = world.aws.sfn.answers().find((a) => a.taskToken === token);
    expect(JSON.parse(answer?.output ?? '{}')).toMatchObject({ decision: 'restore', digest: DIGEST });
    expect(world.aws.callsTo('SFN', 'StartExecution')).toHaveLength(1); // containment's own
  });

  it('of an incident no workflow waits for: starts a restore execution with a unique name', async () => {
    // Prepare: the wait timed out (the site stays contained).
    const incidentId = await containedAcme();
    await waitForDecision(incidentId);
    await store(world).updateIncident(incidentId, { approvalTimedOutAt: new Date().toISOString() });

    // Act
    const first = await ok({ action: 'restore', incidentId });
    await store(world).updateIncident(incidentId, { status: 'FAILED' }); // say that restore failed
    const second = await ok({ action: 'restore', incidentId, digest: DIGEST });

    // Assess
    const starts = world.aws.callsTo('SFN', 'StartExecution').slice(1);
    expect(starts).toHaveLength(2);
    const [a, b] = starts.map((c) => c.input as { name: string; input: string; stateMachineArn: string });
    expect(first).toMatchObject({ outcome: 'started', incidentId, site: 'acme', executionName: a?.name });
    expect(second).toMatchObject({ outcome: 'started', digest: DIGEST, executionName: b?.name });
    expect(a?.name).not.toBe(b?.name);
    for (const name of [a?.name ?? '', b?.name ?? '']) {
      expect(name.length).toBeLessThanOrEqual(80);
      expect(name.startsWith(incidentId)).toBe(true);
    }
    expect(a?.stateMachineArn).toBe(world.fleet.stateMachineArn);
    const input = JSON.parse(a?.input ?? '{}') as Record<string, unknown>;
    expect(input).toMatchObject({
      incidentId,
      site: 'acme',
      mode: 'restore',
      drill: false,
      forensicHoldSeconds: 1800,
      decision: { decision: 'restore', by: ALICE_BY },
    });
    expect(Date.parse(input.holdUntil as string)).toBeGreaterThan(0);
    expect(JSON.parse(b?.input ?? '{}')).toMatchObject({ decision: { digest: DIGEST } });
    const steps = (await store(world).getIncident(incidentId))?.steps.filter((s) => s.step === 'restore-requested');
    expect(steps?.map((s) => s.detail)).toEqual([
      expect.stringContaining(`by ${ALICE_BY} (execution ${a?.name})`),
      expect.stringContaining(`on ${DIGEST}`),
    ]);
  });

  it('refuses, starting nothing, while the incident workflow has not decided yet, when restoring, released or never contained', async () => {
    const incidentId = await containedAcme();
    const refusal = async () =>
      (await invokeConsole({ action: 'restore', incidentId })) as { ok: false; error: { message: string } };

    const early = await refusal(); // evidence and notices first
    await store(world).updateIncident(incidentId, { status: 'RESTORING' });
    const running = await refusal();
    await store(world).updateIncident(incidentId, { status: 'RELEASED' });
    const released = await refusal();

    expect(early.error.message).toContain('still keeping evidence');
    expect(running.error.message).toContain('a restore of');
    expect(released.error.message).toContain('is RELEASED');
    expect(world.aws.callsTo('SFN', 'StartExecution')).toHaveLength(1);
    expect(world.aws.sfn.answers()).toEqual([]);
  });

  it('refuses to start a second restore of a site that restores on its own', async () => {
    const incidentId = await containedAcme({ autoRestore: true });
    await store(world).updateIncident(incidentId, { notifiedAt: new Date().toISOString() });

    const response = await invokeConsole({ action: 'restore', incidentId });

    expect(response).toMatchObject({
      ok: false,
      error: { code: 'refused', message: expect.stringContaining('autoRestore') },
    });
  });
});

describe('the restore the console starts runs the synthesized incident workflow', () => {
  let definition: Definition;
  beforeAll(() => {
    definition = incidentWorkflowDefinition();
  });

  it('from its entry straight to the restore: choose, rotate, deploy, reopen, hold, stop, return, close', async () => {
    // Prepare
    const incidentId = await containedAcme();
    await store(world).updateIncident(incidentId, { notifiedAt: new Date().toISOString() });
    await ok({ action: 'restore', incidentId, digest: DIGEST });
    const start = world.aws.callsTo('SFN', 'StartExecution').at(-1);
    const input = JSON.parse((start?.input as { input: string }).input) as Record<string, unknown>;
    const visited: string[] = [];
    const recovery = (state: string) => async (payload: { step: string; input: Record<string, unknown> }) => {
      visited.push(state);
      const carried = payload.input;
      return state === 'BeginRestore'
        ? { ...carried, restore: { digest: (carried.decision as { digest: string }).digest, phase: 'standby' } }
        : state.endsWith('Check')
          ? { ...carried, restore: { ...(carried.restore as object), health: 'healthy' } }
          : carried;
    };
    const incidentStep = (state: string) => async (payload: unknown) => {
      visited.push(state);
      return runWorkflowStep(payload); // validates the input as the incident function does
    };

    // Act
    const machine = new StateMachine(definition as never);
    const execution = machine.run(input as never, {
      overrides: {
        taskResourceLocalHandlers: {
          ...Object.fromEntries(
            [
              'BeginRestore',
              'RotateCredentials',
              'DeployKnownGood',
              'NewTasksCheck',
              'Reopen',
              'ReturnToOwnGroup',
              'OwnGroupCheck',
              'CloseIncident',
              'MarkRestoreFailed',
              'ReleaseFalsePositive',
            ].map((s) => [s, recovery(s)]),
          ),
          StopContainedTasksAfterRestore: incidentStep('StopContainedTasksAfterRestore'),
          KeepEvidence: incidentStep('KeepEvidence'),
        } as never,
        waitTimeOverrides: { HoldBeforeStoppingContainedTasks: 0, NewTasksWait: 0, OwnGroupWait: 0 },
      },
    });
    const result = (await execution.result) as Record<string, unknown>;

    // Assess
    expect(visited).toEqual([
      'BeginRestore',
      'RotateCredentials',
      'DeployKnownGood',
      'NewTasksCheck',
      'Reopen',
      'StopContainedTasksAfterRestore',
      'ReturnToOwnGroup',
      'OwnGroupCheck',
      'CloseIncident',
    ]);
    expect(result).toMatchObject({ incidentId, mode: 'restore', restore: { digest: DIGEST } });
  });
});

describe('rotate-credentials', () => {
  it('of a serving site: a new password on both sides, then a deployment so its tasks take it', async () => {
    world = setUpConsoleWorld([{ id: 'acme', cell: 'c1' }]);
    const before = world.aws.secretsManager.versionStages(world.site('acme').secretArn);

    const result = await ok({ action: 'rotate-credentials', site: 'acme' });

    const after = world.aws.secretsManager.versionStages(world.site('acme').secretArn);
    expect(result).toMatchObject({ site: 'acme', redeployed: true });
    expect(after[result.currentVersionId]).toContain('AWSCURRENT');
    expect(after[result.previousVersionId]).toContain('AWSPREVIOUS');
    expect(Object.keys(after).length).toBe(Object.keys(before).length + 1);
    expect(world.dbUserCalls).toEqual([
      { action: 'apply-pending-password', siteId: 'acme', secretArn: world.site('acme').secretArn },
    ]);
    expect(world.aws.callsTo('ECS', 'UpdateService').map((c) => c.input)).toEqual([
      expect.objectContaining({ service: world.site('acme').serviceName, forceNewDeployment: true }),
    ]);
  });

  it('of a contained site: the new password only (the contained tasks are kept), recorded on the incident', async () => {
    const incidentId = await containedAcme();

    const result = await ok({ action: 'rotate-credentials', site: 'acme' });

    expect(result).toMatchObject({ incidentId, redeployed: false });
    expect(world.aws.callsTo('ECS', 'UpdateService')).toEqual([]);
    const steps = (await store(world).getIncident(incidentId))?.steps ?? [];
    expect(steps.at(-1)).toMatchObject({
      step: 'rotate-credentials',
      outcome: 'done',
      detail: expect.stringContaining(ALICE_BY),
    });
  });

  it('of a serving site: the secret moves to the other account, so the running tasks’ credentials keep working', async () => {
    world = setUpConsoleWorld([{ id: 'acme', cell: 'c1' }]);

    const result = await ok({ action: 'rotate-credentials', site: 'acme' });

    expect(result).toMatchObject({ site: 'acme', redeployed: true, mode: 'serving', account: 'site_acme__b' });
    expect(await secretUsername(world.site('acme').secretArn)).toBe('site_acme__b');
  });

  it('of a site whose open incident leaves it serving (notify only): the other account, no outage, no deployment', async () => {
    world = setUpConsoleWorld([{ id: 'acme', cell: 'c1', policy: 'notify' }]);
    const { incidentId } = (await containHandler(ecsFindingEvent(world, 'acme'))) as { incidentId: string };

    const result = await ok({ action: 'rotate-credentials', site: 'acme' });

    expect(result).toMatchObject({ incidentId, redeployed: false, mode: 'serving', account: 'site_acme__b' });
    expect(world.aws.callsTo('ECS', 'UpdateService')).toEqual([]);
  });

  it('of a contained site: in place, every earlier password stops', async () => {
    const incidentId = await containedAcme();

    const result = await ok({ action: 'rotate-credentials', site: 'acme' });

    expect(result).toMatchObject({ incidentId, redeployed: false, mode: 'incident', account: 'site_acme' });
  });

  it('a second rotation of a serving site before its tasks were replaced: refused (it would change the account they use), nothing changed', async () => {
    world = setUpConsoleWorld([{ id: 'acme', cell: 'c1' }]);
    await ok({ action: 'rotate-credentials', site: 'acme' });
    world.aws.advance(1000);
    const calls = mutatingCallsBesidesAudit(world).length;

    const early = await invokeConsole({ action: 'rotate-credentials', site: 'acme' });
    const afterEarly = mutatingCallsBesidesAudit(world).length;
    world.aws.advance(10 * 60_000); // the deployment replaces the tasks
    const later = await ok({ action: 'rotate-credentials', site: 'acme' });

    expect(early).toMatchObject({
      ok: false,
      error: { code: 'failed', message: expect.stringMatching(/started before the last rotation.*site_acme\b/) },
    });
    expect(afterEarly).toBe(calls);
    expect(later).toMatchObject({ mode: 'serving', account: 'site_acme' });
  });

  it('an unknown site, or a site being restored: refused, nothing changed', async () => {
    const incidentId = await containedAcme();
    await store(world).updateIncident(incidentId, { status: 'RESTORING' });
    const calls = mutatingCallsBesidesAudit(world).length;

    const unknown = await invokeConsole({ action: 'rotate-credentials', site: 'ghost' });
    const restoring = await invokeConsole({ action: 'rotate-credentials', site: 'acme' });

    expect(unknown).toMatchObject({ ok: false, error: { code: 'unknown-site' } });
    expect(restoring).toMatchObject({
      ok: false,
      error: { code: 'refused', message: expect.stringContaining('rotates the password itself') },
    });
    expect(mutatingCallsBesidesAudit(world)).toHaveLength(calls);
    expect(world.dbUserCalls).toEqual([]);
  });
});
