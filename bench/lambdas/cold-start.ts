/**
 * One cold start, in this fresh process: set up the AWS model and whatever the invocation
 * needs (not timed), then time loading the function's bundle (as deployed: esbuild,
 * minified, AWS SDK external, which the model stubs) and its first invocation.
 * Prints one JSON line. Run by bench/lambdas/run.ts; not meant to be run by hand.
 */
import '../quiet-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CONSOLE_API_PATH, CONSOLE_API_STAGE } from '../../contracts/console-api';
import { operatorRoleName } from '../../contracts/names';
import { ecsFindingEvent, setUpResponseWorld } from '../../test/kit';

const [name, bundle] = process.argv.slice(2) as [string, string];

async function main() {
  const world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
  const context = { awsRequestId: 'bench', functionName: `bench-${name}`, getRemainingTimeInMillis: () => 60_000 };
  let event: unknown = {};
  if (name === 'contain') event = ecsFindingEvent(world, 'acme');
  if (name === 'ledger') {
    event = {
      'detail-type': 'ECS Deployment State Change',
      source: 'aws.ecs',
      time: new Date().toISOString(),
      resources: [world.site('acme').serviceArn],
      detail: { eventName: 'SERVICE_DEPLOYMENT_COMPLETED' },
    };
  }
  if (name === 'incident' || name === 'recovery') {
    // A contained incident to work on (set up with the containment code, not timed).
    const { containHandler } = await import('../../runtime/contain/index');
    const outcome = (await containHandler(ecsFindingEvent(world, 'acme'))) as { incidentId: string };
    const start = world.aws.callsTo('SFN', 'StartExecution')[0];
    const input = JSON.parse((start?.input as { input: string }).input) as Record<string, unknown>;
    event =
      name === 'incident'
        ? { step: 'notify', input }
        : { step: 'approval-timed-out', input: { ...input, incidentId: outcome.incidentId } };
  }
  if (name === 'db-user') {
    Object.assign(process.env, {
      DB_HOST: '127.0.0.1',
      DB_PORT: '3306',
      DB_ADMIN_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:admin',
      DB_TLS: 'required',
    });
    // Refused before any SQL (the real database is measured in the tests): init + validation.
    event = { action: 'apply-pending-password', siteId: 'Not A Site', secretArn: 'x' };
  }
  if (name === 'console') {
    // What the console's API hands it: a status request from the operator role's session.
    const account = process.env.BULKHEAD_ACCOUNT ?? '';
    const role = operatorRoleName(process.env.BULKHEAD_ENV ?? '', process.env.AWS_REGION ?? '');
    event = {
      httpMethod: 'POST',
      resource: CONSOLE_API_PATH,
      body: JSON.stringify({ action: 'status' }),
      isBase64Encoded: false,
      requestContext: {
        httpMethod: 'POST',
        stage: CONSOLE_API_STAGE,
        resourcePath: CONSOLE_API_PATH,
        accountId: account,
        requestId: 'bench',
        identity: { accountId: account, userArn: `arn:aws:sts::${account}:assumed-role/${role}/bench` },
      },
    };
  }
  void DynamoDBDocumentClient.from(new DynamoDBClient({}));

  const loadStart = performance.now();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const module = require(bundle) as { handler: (e: unknown, c: unknown) => Promise<unknown> };
  const loadMs = performance.now() - loadStart;
  const invokeStart = performance.now();
  let ok = true;
  let error: string | undefined;
  try {
    await module.handler(event, context);
  } catch (e) {
    ok = false;
    error = `${(e as Error).name}: ${(e as Error).message}`.slice(0, 200);
  }
  const invokeMs = performance.now() - invokeStart;
  const calls = world.aws.calls.all().length;
  world.aws.restore();
  process.stdout.write(`${JSON.stringify({ name, loadMs, invokeMs, ok, error, calls })}\n`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
