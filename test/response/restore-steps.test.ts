import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { containHandler } from '../../lambdas/contain/index';
import { runRecoveryStep } from '../../lambdas/recovery/index';
import { Ledger } from '../../lambdas/recovery/ledger';
import type { RestoreInput } from '../../lambdas/recovery/restore';
import { IncidentStore } from '../../lambdas/shared/incident-store';
import { ecsFindingEvent, type ResponseWorld, setUpResponseWorld, type WorldSite } from '../support/response-world';

/**
 * Restore steps run one by one by the recovery function's real handler against the AWS
 * model (the database rotation, which needs MariaDB, is in restore-workflow.test.ts).
 */
let world: ResponseWorld;
afterEach(() => world?.aws.restore());

const DAY = 24 * 3600_000;
const GOOD_DIGEST = `sha256:${'b2'.repeat(32)}`;

const db = () =>
  DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
const store = () => new IncidentStore(db(), world.tableName);

/** The world, with these sites. */
function sitesOf(sites: readonly WorldSite[] = [{ id: 'acme', cell: 'c1', desiredCount: 2 }]) {
  world = setUpResponseWorld(sites);
}

/** The site contained, a known-good digest in its ledger, and the restore begun. */
async function containedAndBegun(id = 'acme'): Promise<RestoreInput> {
  const repository = world.site(id).image.split('@')[0] as string;
  await new Ledger(db(), world.tableName).recordLive(
    id,
    `${repository}@${GOOD_DIGEST}`,
    new Date(world.aws.clock.now() - 5 * DAY).toISOString(),
  );
  const { incidentId } = (await containHandler(ecsFindingEvent(world, id))) as { incidentId: string };
  return (await runRecoveryStep({
    step: 'begin-restore',
    input: { incidentId, site: id, decision: { decision: 'restore', by: 'test' } },
  })) as RestoreInput;
}

const step = async (name: string, input: RestoreInput) =>
  (await runRecoveryStep({ step: name, input })) as RestoreInput;

describe('the deployment a restore waits on', () => {
  it('is the one UpdateService started, even when DescribeServices still shows the previous one (ECS is eventually consistent)', async () => {
    // Prepare: the first DescribeServices after UpdateService answers from before it
    sitesOf();
    const begun = await containedAndBegun();
    const stale = world.aws.faults.add({
      service: 'ECS',
      command: 'DescribeServices',
      kind: 'stale',
      afterCommand: 'UpdateService',
    });

    // Act: deploy, then look at the health every 15 s as the workflow does
    const deployed = await step('deploy-known-good', begun);
    let checked = deployed;
    for (let i = 0; i < 40 && checked.restore?.health === 'waiting'; i++) {
      world.aws.advance(15_000);
      checked = await step('check-health', checked);
    }

    // Assess: the stale answer came (in the step that read the service after UpdateService),
    // and the restore waited on the new deployment's tasks, which became healthy
    const service = world.aws.ecs.state.services[world.site('acme').serviceArn];
    const primary = service?.deployments.find((d) => d.status === 'PRIMARY');
    expect(stale.fired).toBe(1);
    expect(primary?.taskDefinition).toBe(deployed.restore?.taskDefinitionArn);
    expect(deployed.restore?.deploymentId).toBe(primary?.id);
    expect(checked.restore?.health).toBe('healthy');
  });
});
