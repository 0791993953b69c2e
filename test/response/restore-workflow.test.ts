import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetTaskProtectionCommand, ECSClient } from '@aws-sdk/client-ecs';
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Connection } from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { containHandler } from '../../runtime/contain/index';
import { deriveSiteNames } from '../../runtime/db-user/sql';
import { runWorkflowStep } from '../../runtime/incident/index';
import { approveIncident } from '../../runtime/recovery/approval';
import { runRecoveryStep } from '../../runtime/recovery/index';
import { Ledger } from '../../runtime/recovery/ledger';
import { IncidentStore, type IncidentRecord } from '../../runtime/shared/incident-store';
import {
  connectAs,
  connectRoot,
  createTestAdmin,
  dropSiteArtifacts,
  randomPassword,
  type TestAdmin,
  tryLogin,
  uniqueSiteId,
} from '../support/mariadb';
import { ecsFindingEvent, type ResponseWorld, setUpResponseWorld } from '../support/response-world';
import { type Definition, incidentWorkflowDefinition } from '../support/workflow-definition';
import { runIncidentWorkflow, type StepHandler } from '../support/workflow-runner';

/**
 * A whole incident, finding to closed: the synthesized state machine run by
 * aws-local-stepfunctions, every step by its real handler against the AWS model, and the
 * site's database user in the real MariaDB (rotation changes the real password).
 */
let definition: Definition;
let root: Connection;
let admin: TestAdmin;
const createdSites: string[] = [];

beforeAll(async () => {
  definition = incidentWorkflowDefinition();
  // aws-local-stepfunctions evaluates TimeoutSecondsPath against the task's parameters, not
  // its state input as Step Functions does; point it at the same value inside the payload.
  const awaitApproval = definition.States.AwaitApproval as { TimeoutSecondsPath?: string };
  expect(awaitApproval.TimeoutSecondsPath).toBe('$.approvalTimeoutSeconds');
  awaitApproval.TimeoutSecondsPath = '$.Payload.input.approvalTimeoutSeconds';
  root = await connectRoot();
  admin = await createTestAdmin(root);
});

afterAll(async () => {
  for (const id of createdSites) await dropSiteArtifacts(root, deriveSiteNames(id));
  await admin.drop();
  await root.end();
});

let world: ResponseWorld;
afterEach(() => {
  world?.aws.restore();
  vi.unstubAllEnvs();
});

const OPERATOR = 'arn:aws:sts::111122223333:assumed-role/BulkheadOperator/alice';
const DAY = 24 * 3600_000;
const GOOD_DIGEST = `sha256:${'a1'.repeat(32)}`;
type Handler = StepHandler;

interface SiteDatabase {
  readonly id: string;
  readonly user: string;
  readonly schema: string;
  readonly password: string;
}

/** The world, the site's real database user with some data, and the recovery function's settings. */
async function prepare(options: { autoRestore?: boolean; healthTimeoutSeconds?: number } = {}) {
  const id = uniqueSiteId('rs');
  createdSites.push(id);
  world = setUpResponseWorld([
    { id, cell: 'c1', desiredCount: 2, forensicHoldMinutes: 30, autoRestore: options.autoRestore ?? false },
    { id: 'bakery', cell: 'c1' },
  ]);
  const adminSecret = world.aws.secretsManager.seedSecret({
    name: 'bulkhead/test/database/admin',
    value: JSON.stringify({ username: admin.user, password: admin.password, host: '127.0.0.1', port: 3306 }),
  });
  vi.stubEnv('DB_HOST', '127.0.0.1');
  vi.stubEnv('DB_PORT', '3306');
  vi.stubEnv('DB_ADMIN_SECRET_ARN', adminSecret.ARN);
  vi.stubEnv('DB_USER_HOST', '%');
  vi.stubEnv('DB_TLS', 'disabled-for-local-test');
  vi.stubEnv('DB_USER_FUNCTION', 'bulkhead-test-db-user');
  vi.stubEnv('RESTORE_HEALTH_TIMEOUT_SECONDS', String(options.healthTimeoutSeconds ?? 900));
  vi.resetModules();
  const { handler } = await import('../../runtime/db-user/index');
  world.aws.lambda.register('bulkhead-test-db-user', (event: unknown) =>
    handler(event as never, { awsRequestId: randomUUID() } as never),
  );
  // The site's secret holds its real database login, as the site stack's custom resource made it.
  const names = deriveSiteNames(id);
  const password = randomPassword();
  const secretArn = world.site(id).secretArn;
  await new SecretsManagerClient({}).send(
    new PutSecretValueCommand({
      SecretId: secretArn,
      SecretString: JSON.stringify({
        username: names.user,
        password,
        dbname: names.schema,
        host: '127.0.0.1',
        port: 3306,
      }),
    }),
  );
  await handler(
    {
      RequestType: 'Create',
      ResourceType: 'Custom::BulkheadDatabaseUser',
      ResourceProperties: {
        ServiceToken: 'x',
        SiteId: id,
        Schema: names.schema,
        User: names.user,
        SecretArn: secretArn,
        MaxConnections: '5',
      },
      StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/test/1',
      RequestId: randomUUID(),
      LogicalResourceId: 'DatabaseUser',
      ResponseURL: 'https://example.invalid',
      ServiceToken: 'x',
    } as never,
    { awsRequestId: randomUUID() } as never,
  );
  const asSite = await connectAs(names.user, password, names.schema);
  await asSite.query('CREATE TABLE wp_posts (id INT PRIMARY KEY, title TEXT)');
  await asSite.query("INSERT INTO wp_posts VALUES (1, 'Hello world')");
  await asSite.end();
  const database: SiteDatabase = { id, user: names.user, schema: names.schema, password };
  return { id, database };
}

const db = () =>
  DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
const store = () => new IncidentStore(db(), world.tableName);
const ledger = () => new Ledger(db(), world.tableName);
const repositoryOf = (id: string) => world.site(id).image.split('@')[0] as string;

/** The execution's result; a failed execution reports the incident's own reason and steps. */
async function outcome(execution: { result: Promise<unknown> }, incidentId: string) {
  try {
    return (await execution.result) as Record<string, unknown>;
  } catch (error) {
    const found = await store().getIncident(incidentId);
    throw new Error(
      `${(error as Error).message}; incident ${found?.status}: ${found?.failureReason}; steps: ${JSON.stringify(found?.steps.slice(-4))}`,
    );
  }
}

async function incident(incidentId: string): Promise<IncidentRecord> {
  const found = await store().getIncident(incidentId);
  if (!found) throw new Error(`no incident ${incidentId}`);
  return found;
}

/** Runs the synthesized workflow; `handlers` replace or wrap the real step handlers by state name. */
function runWorkflow(input: unknown, handlers: Record<string, Handler> = {}) {
  return runIncidentWorkflow(definition, world, input, handlers);
}

/** What the operator's `siteops approve` does, answering the workflow's wait. */
function approvingAs(decision: 'restore' | 'false-positive', digest?: string): Handler {
  return async (parameters) => {
    // A task-token Lambda task passes { FunctionName, Payload }.
    const payload = (parameters as { Payload: { input: { incidentId: string } } }).Payload;
    await runRecoveryStep(payload);
    const { incidentId } = payload.input;
    await approveIncident(
      { store: store(), sfn: new SFNClient({}), now: () => new Date() },
      { incidentId, decision, digest, by: OPERATOR },
    );
    const answer = world.aws.sfn.answers().at(-1);
    return JSON.parse(answer?.output ?? '{}');
  };
}

async function contain(id: string) {
  const outcome = (await containHandler(ecsFindingEvent(world, id))) as { incidentId: string };
  const start = world.aws.callsTo('SFN', 'StartExecution')[0];
  const input = JSON.parse((start?.input as { input: string }).input) as Record<string, unknown>;
  return { incidentId: outcome.incidentId, input };
}

function taskImages(id: string, status: 'RUNNING' | 'STOPPED') {
  return world.aws.ecs
    .tasksOf(world.site(id).serviceArn)
    .filter((t) => t.desiredStatus === status)
    .map((t) => ({
      arn: t.taskArn,
      image: t.containers[0]?.image,
      groups: world.aws.snapshot(id).tasks.find((s) => s.taskArn === t.taskArn)?.securityGroups,
    }));
}

describe('restore, finding to closed', () => {
  it('contains, keeps evidence, waits for approval, restores on the known-good digest with a new password, then closes', async () => {
    // Prepare: a known-good digest that ran for days before the incident, and the current one
    const { id, database } = await prepare();
    const good = `${repositoryOf(id)}@${GOOD_DIGEST}`;
    await ledger().recordLive(id, good, new Date(world.aws.clock.now() - 5 * DAY).toISOString());
    await ledger().recordLive(id, world.site(id).image, new Date(world.aws.clock.now() - 2 * DAY).toISOString());
    const before = world.aws.snapshot(id);
    const bakeryBefore = world.aws.snapshot('bakery');
    const { incidentId, input } = await contain(id);
    const contained = [...world.site(id).taskArns];
    let atReopen: { running: string[]; protectedUntil: number[]; listener: string } | undefined;
    let runningWhenHoldEnded: string[] = [];
    const listenerWhileChecking: string[] = [];

    // Act
    const execution = runWorkflow(input, {
      AwaitApproval: approvingAs('restore'),
      Reopen: async (payload) => {
        const result = await runRecoveryStep(payload);
        const protection = await new ECSClient({}).send(
          new GetTaskProtectionCommand({ cluster: world.site(id).clusterArn, tasks: contained }),
        );
        atReopen = {
          running: taskImages(id, 'RUNNING').map((t) => t.arn),
          protectedUntil: (protection.protectedTasks ?? []).map((p) => p.expirationDate?.getTime() ?? 0),
          listener: world.aws.snapshot(id).listenerRule.actions[0]?.Type ?? '',
        };
        return result;
      },
      NewTasksCheck: async (payload) => {
        // While the new tasks are checked, clients still get the maintenance response.
        listenerWhileChecking.push(world.aws.snapshot(id).listenerRule.actions[0]?.Type ?? '');
        world.aws.advance(15_000);
        return runRecoveryStep(payload);
      },
      StopContainedTasksAfterRestore: async (payload) => {
        runningWhenHoldEnded = taskImages(id, 'RUNNING').map((t) => t.arn);
        return runWorkflowStep(payload);
      },
    });
    const result = await outcome(execution, incidentId);
    world.aws.advance(5 * 60_000);

    // Assess: closed, with the times
    const closed = await incident(incidentId);
    expect(result).toMatchObject({ incidentId, restore: { digest: GOOD_DIGEST, phase: 'primary', health: 'healthy' } });
    expect(closed).toMatchObject({
      status: 'CLOSED',
      restoreDigest: GOOD_DIGEST,
      approvedBy: OPERATOR,
      approvalDecision: 'restore',
    });
    expect(closed.approvalToken).toBeTruthy();
    for (const field of ['evidenceKeptAt', 'notifiedAt', 'credentialsRotatedAt', 'restoredAt', 'closedAt'] as const)
      expect(closed[field], field).toBeTruthy();
    expect(closed.timeToIsolateSeconds).toBeGreaterThanOrEqual(0);
    expect(closed.timeToRecoverSeconds).toBeGreaterThanOrEqual(closed.timeToIsolateSeconds ?? 0);
    expect(Date.parse(closed.holdUntil ?? '') - Date.parse(closed.isolatedAt ?? '')).toBe(30 * 60_000);
    expect(closed.steps.map((s) => `${s.step}:${s.outcome}`)).toEqual(
      expect.arrayContaining([
        'keep-evidence:done',
        'approve:done',
        'choose-digest:done',
        'rotate-credentials:done',
        'protect-contained-tasks:done',
        'deploy-known-good:done',
        'restore-listener-rule:done',
        'remove-probe-rule:done',
        'stop-contained-tasks:done',
        'return-to-own-group:done',
        'restore-circuit-breaker:done',
        'close:done',
      ]),
    );
    // The deployment circuit breaker's rollback was off during the restore, and is back on.
    expect(world.aws.ecs.state.services[world.site(id).serviceArn]?.deploymentConfiguration).toMatchObject({
      deploymentCircuitBreaker: { enable: true, rollback: true },
    });
    expect(closed.circuitBreakerBeforeRestore).toEqual({ enable: true, rollback: true });

    expect(listenerWhileChecking.length).toBeGreaterThan(0);
    expect(new Set(listenerWhileChecking)).toEqual(new Set(['fixed-response']));

    // Assess: the contained tasks ran until the hold ended (protected past it), then stopped
    expect(atReopen?.listener).toBe('forward');
    expect(atReopen?.running).toEqual(expect.arrayContaining(contained));
    expect(runningWhenHoldEnded).toEqual(expect.arrayContaining(contained));
    expect(atReopen?.protectedUntil).toHaveLength(contained.length);
    for (const until of atReopen?.protectedUntil ?? []) {
      expect(until).toBeGreaterThanOrEqual(world.aws.clock.now());
    }
    const after = world.aws.snapshot(id);
    for (const arn of contained) {
      expect(after.tasks.find((t) => t.taskArn === arn)).toMatchObject({
        desiredStatus: 'STOPPED',
        stoppedReason: expect.stringContaining(incidentId),
      });
    }

    // Assess: new tasks run the known-good image, in the site's own group, serving again
    const running = taskImages(id, 'RUNNING');
    expect(running).toHaveLength(2);
    for (const task of running) {
      expect(task.image).toBe(good);
      expect(task.groups).toEqual([world.site(id).securityGroupId]);
    }
    expect(after.targetGroup.attached).toBe(true);
    expect(after.targetGroup.targets.filter((t) => t.state === 'healthy')).toHaveLength(2);
    expect(after.listenerRule).toEqual(before.listenerRule);
    expect(after.securityGroup.ingress).toEqual(before.securityGroup.ingress);
    expect(after.securityGroup.egress).toEqual(before.securityGroup.egress);
    const listenerRules = Object.values(world.aws.elbv2.state.rules).filter(
      (r) => r.ListenerArn === world.site(id).listenerArn && !r.IsDefault,
    );
    expect(listenerRules.length).toBe(2); // the two sites' rules; the probe rule is gone
    const serviceTags = world.aws.ecs.state.services[world.site(id).serviceArn]?.tags ?? [];
    expect(serviceTags.find((t) => t.key === 'bulkhead:security-group')?.value).toBe(world.site(id).securityGroupId);

    // Assess: the real database: the old password fails, the new one works, the data is there
    expect(await tryLogin(database.user, database.password)).toMatchObject({ ok: false });
    const secret = await new SecretsManagerClient({}).send(
      new GetSecretValueCommand({ SecretId: world.site(id).secretArn, VersionStage: 'AWSCURRENT' }),
    );
    const next = (JSON.parse(secret.SecretString ?? '{}') as { password: string }).password;
    expect(next).not.toBe(database.password);
    const asSite = await connectAs(database.user, next, database.schema);
    const [rows] = await asSite.query('SELECT id, title FROM wp_posts');
    await asSite.end();
    expect(rows).toEqual([{ id: 1, title: 'Hello world' }]);

    // Assess: every other site untouched
    expect(world.aws.snapshot('bakery')).toEqual(bakeryBefore);
  });
});

/** The site is still contained: maintenance response, quarantined group, contained tasks kept. */
function expectContained(id: string, contained: readonly string[]) {
  const now = world.aws.snapshot(id);
  expect(now.listenerRule.actions).toEqual([expect.objectContaining({ Type: 'fixed-response' })]);
  expect(now.securityGroup.ingress).toEqual([]);
  expect(now.securityGroup.egress.map((r) => r.peer)).toEqual([world.fleet.logsEndpointSecurityGroupId]);
  const probeRules = Object.values(world.aws.elbv2.state.rules).filter(
    (r) => r.ListenerArn === world.site(id).listenerArn && !r.IsDefault,
  );
  expect(probeRules).toHaveLength(2);
  for (const arn of contained) expect(now.tasks.find((t) => t.taskArn === arn)?.desiredStatus).toBe('RUNNING');
}

async function currentSecretPassword(id: string): Promise<string> {
  const secret = await new SecretsManagerClient({}).send(
    new GetSecretValueCommand({ SecretId: world.site(id).secretArn, VersionStage: 'AWSCURRENT' }),
  );
  return (JSON.parse(secret.SecretString ?? '{}') as { password: string }).password;
}

async function failedRun(execution: { result: Promise<unknown> }) {
  await expect(execution.result).rejects.toThrow(/restore stopped/);
}

describe('a restore that cannot finish leaves the site contained, with the reason', () => {
  it('the new tasks never become healthy: FAILED after the bounded wait, listener still 503, probe rule gone', async () => {
    // Prepare
    const { id } = await prepare({ healthTimeoutSeconds: 1 });
    await ledger().recordLive(
      id,
      `${repositoryOf(id)}@${GOOD_DIGEST}`,
      new Date(world.aws.clock.now() - 5 * DAY).toISOString(),
    );
    const bakeryBefore = world.aws.snapshot('bakery');
    const { incidentId, input } = await contain(id);
    const contained = [...world.site(id).taskArns];

    // Act: the known-good image's application answers 500
    const execution = runWorkflow(input, {
      AwaitApproval: approvingAs('restore'),
      NewTasksCheck: async (payload) => {
        for (const task of world.aws.ecs.tasksOf(world.site(id).serviceArn)) {
          if (!contained.includes(task.taskArn)) world.aws.ecs.setAppHealth(task.taskArn, 'error');
        }
        world.aws.advance(15_000);
        await new Promise((resolve) => setTimeout(resolve, 50));
        return runRecoveryStep(payload);
      },
    });
    await failedRun(execution);

    // Assess
    const failed = await incident(incidentId);
    expect(failed.status).toBe('FAILED');
    expect(failed.failureReason).toMatch(/not healthy within 1 s.*the site stays contained/);
    expect(failed.steps.map((s) => `${s.step}:${s.outcome}`)).toEqual(
      expect.arrayContaining(['deploy-known-good:done', 'remove-probe-rule:done', 'restore:failed']),
    );
    expectContained(id, contained);
    expect(world.aws.snapshot('bakery')).toEqual(bakeryBefore);
  });

  it('the approval never comes: the wait times out, the incident says so, the hold ends and the contained tasks stop', async () => {
    // Prepare
    const { id, database } = await prepare();
    const { incidentId, input } = await contain(id);
    const contained = [...world.site(id).taskArns];

    // Act: the task-token wait times out (Step Functions raises States.Timeout)
    const execution = runWorkflow(input, {
      AwaitApproval: async (parameters) => {
        await runRecoveryStep((parameters as { Payload: unknown }).Payload as never);
        throw Object.assign(new Error('Task timed out'), { name: 'States.Timeout' });
      },
    });
    const result = await outcome(execution, incidentId);

    // Assess
    const meta = await incident(incidentId);
    expect(result).toMatchObject({ status: 'CONTAINED' });
    expect(meta.status).toBe('CONTAINED');
    expect(meta.approvalTimedOutAt).toBeTruthy();
    expect(meta.steps.find((s) => s.step === 'await-approval' && s.outcome === 'failed')?.detail).toMatch(
      /approval not received by .*; the site stays contained/,
    );
    const now = world.aws.snapshot(id);
    expect(now.listenerRule.actions).toEqual([expect.objectContaining({ Type: 'fixed-response' })]);
    expect(now.securityGroup.ingress).toEqual([]);
    for (const arn of contained) expect(now.tasks.find((t) => t.taskArn === arn)?.desiredStatus).toBe('STOPPED');
    expect(await tryLogin(database.user, database.password)).toEqual({ ok: true });
    // A late approval is refused with what to do instead.
    await expect(
      approveIncident(
        { store: store(), sfn: new SFNClient({}), now: () => new Date() },
        { incidentId, decision: 'restore', by: OPERATOR },
      ),
    ).rejects.toThrow(/timed out.*siteops restore/);
  });

  it('the ledger has no known-good digest: FAILED with that reason; nothing deployed, password unchanged', async () => {
    // Prepare: only the (now suspect) running digest is known
    const { id, database } = await prepare({ autoRestore: true });
    await ledger().recordLive(id, world.site(id).image, new Date(world.aws.clock.now() - 5 * DAY).toISOString());
    const { incidentId, input } = await contain(id);
    const contained = [...world.site(id).taskArns];

    // Act
    await failedRun(runWorkflow(input));

    // Assess
    const failed = await incident(incidentId);
    expect(failed.failureReason).toMatch(/no known-good digest went live before .*the site stays contained/);
    expect(failed.approvalRequestedAt).toBeUndefined(); // auto-restore: no wait
    expect(world.aws.callsTo('ECS', 'RegisterTaskDefinition')).toEqual([]);
    expect(world.aws.callsTo('SecretsManager', 'PutSecretValue')).toHaveLength(1); // the test's own seed only
    expect(await tryLogin(database.user, database.password)).toEqual({ ok: true });
    expectContained(id, contained);
  });

  it('rotation fails half-way (the secret cannot be promoted): the database is set back, the old password still works', async () => {
    // Prepare
    const { id, database } = await prepare({ autoRestore: true });
    await ledger().recordLive(
      id,
      `${repositoryOf(id)}@${GOOD_DIGEST}`,
      new Date(world.aws.clock.now() - 5 * DAY).toISOString(),
    );
    const { incidentId, input } = await contain(id);
    const contained = [...world.site(id).taskArns];
    world.aws.faults.add({
      service: 'SecretsManager',
      command: 'UpdateSecretVersionStage',
      kind: 'server',
      times: 1000,
    });

    // Act
    await failedRun(runWorkflow(input));

    // Assess
    const failed = await incident(incidentId);
    expect(failed.failureReason).toMatch(
      /RotationError: promoting the new password .* set back to the current password/,
    );
    expect(await tryLogin(database.user, database.password)).toEqual({ ok: true });
    expect(await currentSecretPassword(id)).toBe(database.password);
    expect(world.aws.callsTo('ECS', 'RegisterTaskDefinition')).toEqual([]);
    expectContained(id, contained);
  });

  it('an approved false positive is released exactly: every saved rule, the listener and the roles as before', async () => {
    // Prepare
    const { id } = await prepare();
    const before = world.aws.snapshot(id);
    const { incidentId, input } = await contain(id);

    // Act
    const result = await outcome(runWorkflow(input, { AwaitApproval: approvingAs('false-positive') }), incidentId);
    world.aws.advance(60_000);

    // Assess
    expect(result).toMatchObject({ status: 'RELEASED' });
    const released = await incident(incidentId);
    expect(released).toMatchObject({ status: 'RELEASED', releasedBy: OPERATOR, approvalDecision: 'false-positive' });
    const after = world.aws.snapshot(id);
    expect(after.securityGroup.ingress).toEqual(before.securityGroup.ingress);
    expect(after.securityGroup.egress).toEqual(before.securityGroup.egress);
    expect(after.listenerRule).toEqual(before.listenerRule);
    expect(after.role.inlinePolicies).toEqual(before.role.inlinePolicies);
  });
});
