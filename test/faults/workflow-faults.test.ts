import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { containHandler } from '../../runtime/contain/index';
import { Ledger } from '../../runtime/recovery/ledger';
import { ecsFindingEvent, type ResponseWorld, setUpResponseWorld } from '../support/response-world';
import { type Definition, incidentWorkflowDefinition } from '../support/workflow-definition';
import { runIncidentWorkflow } from '../support/workflow-runner';
import { callsSince, incidentsOf, matrix } from './fault-matrix';

/**
 * The incident workflow (evidence, notices, auto-restore: digest, rotation, deployment,
 * health, reopen, hold, stop, back to the site's own group, close) under one failing AWS
 * call at a time, run by aws-local-stepfunctions with the synthesized definition and its
 * retry policies. The database-user function is a stub that keeps the password it was
 * given (the real SQL is tested against MariaDB elsewhere), so the test can check that the
 * secret and the database always agree.
 */
const definition: Definition = incidentWorkflowDefinition();

let world: ResponseWorld;
afterEach(() => world?.aws.restore());

const GOOD = `sha256:${'c3'.repeat(32)}`;

interface Prepared {
  readonly input: Record<string, unknown>;
  readonly database: { password: string };
}

async function prepare(): Promise<Prepared> {
  world = setUpResponseWorld(
    [
      { id: 'acme', cell: 'c1', desiredCount: 2, autoRestore: true },
      { id: 'bakery', cell: 'c1' },
    ],
    {
      retries: 'sdk-no-delay',
    },
  );
  const database = { password: passwordAt('AWSCURRENT') ?? '' };
  world.aws.lambda.register('bulkhead-test-db-user', async (event: unknown) => {
    const { action } = event as { action: string };
    const stage = action === 'apply-pending-password' ? 'AWSPENDING' : 'AWSCURRENT';
    const next = passwordAt(stage);
    if (!next) throw new Error(`no ${stage} version`);
    database.password = next;
    return { loginVerified: true };
  });
  const db = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
  await new Ledger(db, world.tableName).recordLive(
    'acme',
    `${world.site('acme').image.split('@')[0]}@${GOOD}`,
    new Date(world.aws.clock.now() - 3 * 86_400_000).toISOString(),
  );
  await containHandler(ecsFindingEvent(world, 'acme'));
  const start = world.aws.callsTo('SFN', 'StartExecution')[0];
  return { input: JSON.parse((start?.input as { input: string }).input) as Record<string, unknown>, database };
}

/** The site secret's password at a stage, read from the model's storage (no API call, no fault). */
function passwordAt(stage: string): string | undefined {
  const secret = Object.values(world.aws.secretsManager.state.secrets).find(
    (s) => s.ARN === world.site('acme').secretArn,
  );
  const version = secret?.versions.find((v) => v.stages.includes(stage));
  return version?.SecretString ? (JSON.parse(version.SecretString) as { password: string }).password : undefined;
}

function run(input: Record<string, unknown>) {
  // No approval wait here: these sites restore on their own.
  return runIncidentWorkflow(definition, world, input);
}

async function discover() {
  const { input } = await prepare();
  const from = world.aws.calls.all().length;
  await run(input).result;
  const calls = callsSince(world, from);
  const status = incidentsOf(world, 'acme')[0]?.status;
  world.aws.restore();
  if (status !== 'CLOSED') throw new Error(`the run without faults did not close the incident (${status})`);
  return calls;
}

const cases = matrix(await discover());

describe('the incident workflow with auto-restore, one call failing at a time', () => {
  it('covers the evidence, notice and restore calls', () => {
    expect(cases.map((c) => c.call.command)).toEqual(
      expect.arrayContaining([
        'PutObject',
        'Publish',
        'StartBackupJob',
        'PutSecretValue',
        'Invoke',
        'RegisterTaskDefinition',
        'UpdateService',
        'UpdateTaskProtection',
        'CreateRule',
        'DeleteRule',
        'DescribeTargetHealth',
        'ModifyRule',
        'StopTask',
        'AuthorizeSecurityGroupIngress',
      ]),
    );
  });

  it.each(cases.map((c) => [`${c.call.service} ${c.call.command}`, c.kind, c] as const))(
    '%s %s: closed, or FAILED with a reason and the site contained; secret and database agree; one incident',
    async (_name, _kind, { fault }) => {
      // Prepare
      const { input, database } = await prepare();
      const bakery = world.aws.snapshot('bakery');
      world.aws.faults.add(fault);

      // Act
      let failed = false;
      try {
        await run(input).result;
      } catch {
        failed = true;
      }
      world.aws.faults.clear();

      // Assess: one incident, in an honest state
      const incidents = incidentsOf(world, 'acme');
      expect(incidents).toHaveLength(1);
      const [incident] = incidents;
      const site = world.aws.snapshot('acme');
      const serving = site.listenerRule.actions[0]?.Type === 'forward';
      if (!failed) {
        expect(incident?.status).toBe('CLOSED');
        expect(serving).toBe(true);
      } else if (incident?.status === 'FAILED') {
        expect(incident.failureReason).toBeTruthy();
      } else {
        // The incident table itself failed: the execution failed (Step Functions records it,
        // the WorkflowFailed alarm fires) and the incident was left where it was.
        expect(fault.service).toBe('DynamoDB');
      }
      // Nothing half-released: while clients get the 503 page, the site's group is quarantined.
      if (!serving) {
        const logs = world.fleet.logsEndpointSecurityGroupId;
        expect(site.securityGroup.ingress.filter((r) => r.peer !== logs)).toEqual([]);
      }
      // The secret never names a password the database does not have.
      expect(passwordAt('AWSCURRENT')).toBe(database.password);
      expect(world.aws.snapshot('bakery')).toEqual(bakery);
    },
  );
});
