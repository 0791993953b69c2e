import { createHash } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import aslValidator from 'asl-validator';
import { StateMachine } from 'aws-local-stepfunctions';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { containHandler } from '../../runtime/contain/index';
import { runWorkflowStep } from '../../runtime/incident/index';
import { runRecoveryStep } from '../../runtime/recovery/index';
import { ecsFindingEvent, type ResponseWorld, setUpResponseWorld } from '../support/response-world';
import { type Definition, incidentWorkflowDefinition } from '../support/workflow-definition';

let definition: Definition;
beforeAll(() => {
  definition = incidentWorkflowDefinition();
  // aws-local-stepfunctions evaluates TimeoutSecondsPath against the task's parameters, not
  // its state input as Step Functions does; point it at the same value inside the payload.
  (definition.States.AwaitApproval as { TimeoutSecondsPath?: string }).TimeoutSecondsPath =
    '$.Payload.input.approvalTimeoutSeconds';
});

let world: ResponseWorld;
afterEach(() => world?.aws.restore());

const NO_WAIT = { ForensicHold: 0 };
const NO_RETRY_WAIT = {
  KeepEvidence: 0,
  Notify: 0,
  StopContainedTasks: 0,
  MarkFailed: 0,
  AwaitApproval: 0,
  ApprovalTimedOut: 0,
};

function runIncident(input: unknown, handlers: Record<string, (input: never) => Promise<unknown>> = {}) {
  const machine = new StateMachine(definition as never);
  const real = (name: string) => handlers[name] ?? ((payload: unknown) => runWorkflowStep(payload));
  return machine.run(input as never, {
    context: { Task: { Token: 'token-never-answered' } } as never,
    overrides: {
      taskResourceLocalHandlers: {
        KeepEvidence: real('KeepEvidence') as never,
        Notify: real('Notify') as never,
        StopContainedTasks: real('StopContainedTasks') as never,
        MarkFailed: real('MarkFailed') as never,
        // No operator decides: the task-token wait times out (Step Functions raises States.Timeout).
        AwaitApproval: (async (parameters: { Payload: unknown }) => {
          await runRecoveryStep(parameters.Payload);
          throw Object.assign(new Error('Task timed out'), { name: 'States.Timeout' });
        }) as never,
        ApprovalTimedOut: ((payload: unknown) => runRecoveryStep(payload)) as never,
      },
      waitTimeOverrides: NO_WAIT,
      retryIntervalOverrides: NO_RETRY_WAIT,
    },
  });
}

async function containAndGetWorkflowInput(siteId: string) {
  const outcome = await containHandler(ecsFindingEvent(world, siteId));
  const start = world.aws.callsTo('SFN', 'StartExecution')[0];
  return { outcome, input: JSON.parse((start?.input as { input: string }).input) as Record<string, unknown> };
}

async function incident(incidentId: string) {
  const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  return (
    await db.send(new GetCommand({ TableName: world.tableName, Key: { pk: `INCIDENT#${incidentId}`, sk: 'META' } }))
  ).Item;
}

describe('the synthesized incident state machine', () => {
  it('is valid Amazon States Language', () => {
    const result = aslValidator(definition);
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it('(the validator does check: a dangling transition is refused)', () => {
    const broken = structuredClone(definition);
    (broken.States.Notify as Record<string, unknown>).Next = 'NoSuchState';
    expect(aslValidator(broken).isValid).toBe(false);
  });

  it('retries transient errors and catches everything else into MarkFailed', () => {
    for (const name of ['KeepEvidence', 'Notify', 'StopContainedTasks']) {
      const state = definition.States[name] as { Retry: { ErrorEquals: string[] }[]; Catch: { Next: string }[] };
      expect(state.Retry.flatMap((r) => r.ErrorEquals)).toEqual(
        expect.arrayContaining(['Lambda.TooManyRequestsException', 'States.TaskFailed']),
      );
      expect(state.Catch.map((c) => c.Next)).toEqual(['MarkFailed']);
    }
  });
});

describe('an incident, run by the real step handlers against the AWS model', () => {
  it('keeps evidence with a manifest of SHA-256 sums, notifies, holds, then stops only the contained tasks', async () => {
    // Prepare
    world = setUpResponseWorld([
      { id: 'acme', cell: 'c1', desiredCount: 2 },
      { id: 'bakery', cell: 'c1' },
    ]);
    const bakeryBefore = world.aws.snapshot('bakery');
    const { outcome, input } = await containAndGetWorkflowInput('acme');
    const incidentId = (outcome as { incidentId: string }).incidentId;
    const contained = world.site('acme').taskArns;
    let runningWhenHoldEnded: string[] = [];

    // Act
    const execution = runIncident(input, {
      StopContainedTasks: async (payload: never) => {
        runningWhenHoldEnded = world.aws
          .snapshot('acme')
          .tasks.filter((t) => t.lastStatus === 'RUNNING')
          .map((t) => t.taskArn);
        return runWorkflowStep(payload);
      },
    });
    const result = (await execution.result) as Record<string, unknown>;
    world.aws.advance(5 * 60_000);

    // Assess: evidence
    expect(result).toMatchObject({ incidentId, status: 'CONTAINED' });
    const s3 = new S3Client({});
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: world.fleet.evidenceBucket, Prefix: `incidents/${incidentId}/` }),
    );
    const keys = (listed.Contents ?? []).map((o) => o.Key?.replace(`incidents/${incidentId}/`, '')).sort();
    expect(keys).toEqual([
      'incident.json',
      'logs.json',
      'manifest.json',
      'network-interfaces.json',
      'service.json',
      'task-definitions.json',
      'tasks.json',
      'triggers.json',
    ]);
    const read = async (name: string) =>
      (
        await s3.send(
          new GetObjectCommand({ Bucket: world.fleet.evidenceBucket, Key: `incidents/${incidentId}/${name}` }),
        )
      ).Body?.transformToString() ?? '';
    const manifest = JSON.parse(await read('manifest.json')) as {
      files: { key: string; sha256: string }[];
      backupJobId?: string;
      gaps: string[];
    };
    expect(manifest.files).toHaveLength(7);
    for (const file of manifest.files) {
      const body = await read(file.key.split('/').pop() as string);
      expect(createHash('sha256').update(body).digest('hex'), file.key).toBe(file.sha256);
    }
    expect(manifest.gaps).toEqual([]);
    expect(manifest.backupJobId).toBeTruthy();
    expect(
      JSON.parse(await read('tasks.json'))
        .tasks.map((t: { taskArn: string }) => t.taskArn)
        .sort(),
    ).toEqual([...contained].sort());
    expect(JSON.parse(await read('triggers.json'))[0]).toMatchObject({ kind: 'guardduty', findingId: 'finding-acme' });
    expect(JSON.parse(await read('logs.json')).events.length).toBeGreaterThan(0);

    // Assess: notices to operators and to the client, in plain words
    const ops = world.aws.sns.published(world.fleet.opsTopicArn);
    // The client hears on the site's own notice topic (its contact subscribed), named in its record.
    const client = world.aws.sns.published(world.fleet.sites.acme?.contactTopicArn ?? 'no-topic');
    expect(ops).toHaveLength(1);
    expect(client).toHaveLength(1);
    expect(client[0]?.MessageAttributes?.site?.StringValue).toBe('acme');
    for (const text of [
      'Site: acme',
      incidentId,
      'GuardDuty DefenseEvasion:Runtime/PtraceAntiDebugging',
      'quarantine-security-group: done',
      'What happens next',
    ]) {
      expect(ops[0]?.Message).toContain(text);
    }

    // Assess: the hold, then only the contained tasks stopped, with the incident as the reason
    expect([...runningWhenHoldEnded].sort()).toEqual(expect.arrayContaining([...contained].sort()));
    const after = world.aws.snapshot('acme');
    for (const arn of contained) {
      expect(after.tasks.find((t) => t.taskArn === arn)).toMatchObject({
        desiredStatus: 'STOPPED',
        stoppedReason: expect.stringContaining(incidentId),
      });
    }
    const meta = await incident(incidentId);
    expect(meta).toMatchObject({ status: 'CONTAINED' });
    // The image the contained tasks ran is suspect in the ledger from now on.
    const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    const digest = world.site('acme').image.split('@')[1];
    const ledgerItem = (
      await db.send(new GetCommand({ TableName: world.tableName, Key: { pk: 'SITE#acme', sk: `DIGEST#${digest}` } }))
    ).Item;
    expect(ledgerItem).toMatchObject({ status: 'suspect', suspectIncidentId: incidentId });
    for (const field of ['evidenceKeptAt', 'notifiedAt', 'tasksStoppedAt', 'backupJobId'])
      expect(meta?.[field], field).toBeTruthy();
    // No task of the compromised revision is started again: the service wants none.
    expect(world.aws.ecs.state.services[world.site('acme').serviceArn]?.desiredCount).toBe(0);
    expect(meta).toMatchObject({ scaledDown: { desiredCount: 2 } });
    // The site is still contained after its tasks are replaced; no other site changed.
    expect(after.securityGroup.ingress).toEqual([]);
    expect(after.targetGroup.attached).toBe(false);
    expect(world.aws.snapshot('bakery')).toEqual(bakeryBefore);
  });

  it('a step that keeps failing marks the incident FAILED, raises the metric, fails the execution, and releases nothing', async () => {
    // Prepare
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    const { outcome, input } = await containAndGetWorkflowInput('acme');
    const incidentId = (outcome as { incidentId: string }).incidentId;
    world.aws.faults.add({ service: 'S3', command: 'PutObject', kind: 'denied' });

    // Act
    const execution = runIncident(input);

    // Assess
    await expect(execution.result).rejects.toThrow(/the incident is marked FAILED/);
    expect(await incident(incidentId)).toMatchObject({
      status: 'FAILED',
      failureReason: expect.stringContaining('AccessDenied'),
    });
    expect(world.aws.cloudwatch.metrics({ namespace: 'Bulkhead' }).map((m) => m.MetricName)).toContain(
      'IncidentWorkflowFailed',
    );
    const snapshot = world.aws.snapshot('acme');
    expect(snapshot.securityGroup.ingress).toEqual([]);
    expect(snapshot.listenerRule.actions[0]).toMatchObject({ Type: 'fixed-response' });
  });
});
