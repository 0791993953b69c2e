import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { containHandler } from '../../runtime/contain/index';
import { runRecoveryStep } from '../../runtime/recovery/index';
import { Ledger } from '../../runtime/recovery/ledger';
import type { RestoreInput } from '../../runtime/recovery/restore';
import { IncidentStore } from '../../runtime/shared/incident-store';
import { ecsFindingEvent, type ResponseWorld, setUpResponseWorld } from '../support/response-world';

/**
 * Issue 11 item 5: during a restore the site's new tasks run in its standby group until the
 * hold ends. A new finding then (about one of those tasks) must contain whichever group the
 * site's tasks run in; the restore under way stops; a repeat of the first finding still
 * changes nothing.
 */
let world: ResponseWorld;
afterEach(() => world?.aws.restore());

const DAY = 24 * 3600_000;
const GOOD_DIGEST = `sha256:${'b2'.repeat(32)}`;
const db = () =>
  DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
const step = async (name: string, input: RestoreInput) =>
  (await runRecoveryStep({ step: name, input })) as RestoreInput;

/** Contained, then restored as far as `until`: the known-good tasks run in the standby group. */
async function restoreUnderWay(until: 'healthy' | 'reopened') {
  world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
  const repository = world.site('acme').image.split('@')[0] as string;
  await new Ledger(db(), world.tableName).recordLive(
    'acme',
    `${repository}@${GOOD_DIGEST}`,
    new Date(world.aws.clock.now() - 5 * DAY).toISOString(),
  );
  const first = ecsFindingEvent(world, 'acme', { findingId: 'first' });
  const { incidentId } = (await containHandler(first)) as { incidentId: string };
  const contained = world.site('acme').taskArns;
  // As the workflow's keep-evidence step records them.
  await new IncidentStore(db(), world.tableName).updateIncident(incidentId, { containedTaskArns: [...contained] });
  let input = (await runRecoveryStep({
    step: 'begin-restore',
    input: { incidentId, site: 'acme', decision: { decision: 'restore', by: 'test' } },
  })) as RestoreInput;
  input = await step('deploy-known-good', input);
  for (let i = 0; i < 40 && input.restore?.health === 'waiting'; i++) {
    world.aws.advance(15_000);
    input = await step('check-health', input);
  }
  expect(input.restore?.health).toBe('healthy');
  if (until === 'reopened') input = await step('reopen', input);
  const serviceArn = world.site('acme').serviceArn;
  const fresh = world.aws.ecs.runningTasks(serviceArn).filter((t) => !contained.includes(t.taskArn));
  expect(fresh.length).toBeGreaterThan(0);
  return { incidentId, input, first, freshTask: fresh[0]?.taskArn as string };
}

function groupRules(groupId: string) {
  const rules = Object.values(world.aws.ec2.state.rules).filter((r) => r.GroupId === groupId);
  return {
    ingress: rules
      .filter((r) => !r.IsEgress)
      .map((r) => `${r.FromPort}:${r.ReferencedGroupId ?? r.CidrIpv4 ?? r.PrefixListId}`)
      .sort(),
    egress: rules
      .filter((r) => r.IsEgress)
      .map((r) => `${r.FromPort}:${r.ReferencedGroupId ?? r.CidrIpv4 ?? r.PrefixListId}`)
      .sort(),
  };
}

describe('a new finding while a restore is open', () => {
  it.each(['healthy', 'reopened'] as const)(
    'about a new task (restore %s): contains the standby group the tasks run in, stops the restore',
    async (until) => {
      // Prepare
      const { incidentId, input, freshTask } = await restoreUnderWay(until);
      const standby = world.site('acme').standbySecurityGroupId;
      expect(groupRules(standby).ingress.length).toBeGreaterThan(0);

      // Act
      const outcome = await containHandler(
        ecsFindingEvent(world, 'acme', { findingId: 'second', taskArn: freshTask, withTaskTags: true }),
      );
      // The restore's next step refuses; the workflow's catch marks it failed (and takes its
      // probe rule away, so the new tasks' targets are no longer health-checked).
      await expect(step(until === 'reopened' ? 'return-to-primary' : 'check-health', input)).rejects.toMatchObject({
        name: 'RestoreRefusedError',
        message: expect.stringMatching(/contained again .* the site stays contained/),
      });
      await runRecoveryStep({
        step: 'mark-restore-failed',
        input: { ...input, error: { Error: 'RestoreRefusedError' } },
      });
      world.aws.advance(5 * 60_000);

      // Assess: both groups quarantined, the listener answers 503, the new task kept.
      expect(outcome).toMatchObject({ outcome: 'contained', incidentId });
      const logs = world.fleet.logsEndpointSecurityGroupId;
      for (const group of [standby, world.site('acme').securityGroupId]) {
        expect(groupRules(group)).toEqual({ ingress: [], egress: [`443:${logs}`] });
      }
      const snapshot = world.aws.snapshot('acme');
      expect(snapshot.listenerRule.actions).toEqual([expect.objectContaining({ Type: 'fixed-response' })]);
      expect(snapshot.tasks.find((t) => t.taskArn === freshTask)).toMatchObject({ lastStatus: 'RUNNING' });
      await expect(step('reopen', input)).rejects.toMatchObject({ name: 'RestoreRefusedError' });
      expect(world.aws.snapshot('acme').listenerRule.actions[0]).toMatchObject({ Type: 'fixed-response' });
    },
  );

  it('the first finding delivered again, or a new one about a task already contained: joined, nothing changes', async () => {
    // Prepare
    const { first } = await restoreUnderWay('reopened');
    const contained = world.site('acme').taskArns[0] as string;
    const writes = world.aws.mutatingCalls().filter((c) => c.service !== 'DynamoDB').length;

    // Act
    const again = await containHandler(first);
    const aboutContained = await containHandler(
      ecsFindingEvent(world, 'acme', { findingId: 'about-the-contained-task', taskArn: contained }),
    );

    // Assess
    expect(again).toMatchObject({ outcome: 'joined' });
    expect(aboutContained).toMatchObject({ outcome: 'joined' });
    expect(world.aws.mutatingCalls().filter((c) => c.service !== 'DynamoDB')).toHaveLength(writes);
  });

  it('a release afterwards puts both groups back as they were', async () => {
    // Prepare
    const { incidentId, freshTask } = await restoreUnderWay('healthy');
    const standby = world.site('acme').standbySecurityGroupId;
    const standbyBefore = groupRules(standby);
    await containHandler(
      ecsFindingEvent(world, 'acme', { findingId: 'second', taskArn: freshTask, withTaskTags: true }),
    );

    // Act
    const released = await runRecoveryStep({
      step: 'release-false-positive',
      input: { incidentId, site: 'acme', decision: { decision: 'false-positive', by: 'test' } },
    });

    // Assess
    expect(JSON.stringify(released)).toMatch(/released/i);
    // The standby group was made a copy of the site's own group (infra/site/site-compartment.ts).
    expect(groupRules(standby)).toEqual(standbyBefore);
    expect(groupRules(world.site('acme').securityGroupId)).toEqual(standbyBefore);
  });
});
