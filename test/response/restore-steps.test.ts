import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { containHandler } from '../../runtime/contain/index';
import { runWorkflowStep } from '../../runtime/incident/index';
import { runRecoveryStep } from '../../runtime/recovery/index';
import { Ledger } from '../../runtime/recovery/ledger';
import type { RestoreInput } from '../../runtime/recovery/restore';
import { IncidentStore } from '../../runtime/shared/incident-store';
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

/** The restore probe rules on a listener, with their priorities and the site they are tagged for. */
function probeRules(listenerArn: string) {
  return Object.values(world.aws.elbv2.state.rules)
    .filter((r) => r.ListenerArn === listenerArn)
    .map((r) => ({ arn: r.RuleArn, priority: r.Priority, tags: world.aws.elbv2.state.tags[r.RuleArn] ?? [] }))
    .filter((r) => r.tags.some((t) => t.Key === 'bulkhead:component' && t.Value === 'restore-probe'))
    .map((r) => ({ ...r, site: r.tags.find((t) => t.Key === 'bulkhead:site')?.Value }));
}

describe('the probe rule that health-checks the new tasks', () => {
  it('takes a priority free on every page of the listener’s rules, not only the first', async () => {
    // Prepare: 24 sites in one cell (more rules than a page), and another site's probe at 50000
    sitesOf(Array.from({ length: 24 }, (_, i) => ({ id: i === 0 ? 'acme' : `site${i}`, cell: 'c1' })));
    const listenerArn = world.site('acme').listenerArn;
    world.aws.elbv2.addRule({
      listenerArn,
      priority: 50_000,
      conditions: [
        { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-Bulkhead-Restore-Probe', Values: ['x'] } },
      ],
      actions: [{ Type: 'forward', TargetGroupArn: world.site('site1').targetGroupArn }],
      tags: [
        { Key: 'bulkhead:env', Value: 'test' },
        { Key: 'bulkhead:site', Value: 'site1' },
        { Key: 'bulkhead:component', Value: 'restore-probe' },
      ],
    });
    const begun = await containedAndBegun();

    // Act
    const deployed = await step('deploy-known-good', begun);

    // Assess
    const acme = probeRules(listenerArn).find((r) => r.site === 'acme');
    expect(acme?.arn).toBe(deployed.restore?.probeRuleArn);
    expect(acme?.priority).toBe('49999');
  });

  it('two restores in one cell at the same time: each gets its own probe rule', async () => {
    // Prepare
    sitesOf([
      { id: 'acme', cell: 'c1' },
      { id: 'bakery', cell: 'c1' },
    ]);
    const [acme, bakery] = [await containedAndBegun('acme'), await containedAndBegun('bakery')];

    // Act
    const deployed = await Promise.all([step('deploy-known-good', acme), step('deploy-known-good', bakery)]);

    // Assess
    const probes = probeRules(world.site('acme').listenerArn);
    expect(probes.map((p) => p.site).sort()).toEqual(['acme', 'bakery']);
    expect(new Set(probes.map((p) => p.priority)).size).toBe(2);
    expect(probes.map((p) => p.arn).sort()).toEqual(deployed.map((d) => d.restore?.probeRuleArn).sort());
  });

  it('a CreateRule whose answer was lost: the retry finds the rule it made by its tags; no orphan, no failure', async () => {
    // Prepare
    sitesOf();
    const begun = await containedAndBegun();
    world.aws.faults.add({ service: 'ELBv2', command: 'CreateRule', kind: 'server', afterCommit: true, times: 1 });

    // Act
    const deployed = await step('deploy-known-good', begun);

    // Assess
    const probes = probeRules(world.site('acme').listenerArn);
    expect(probes).toHaveLength(1);
    expect(probes[0]?.arn).toBe(deployed.restore?.probeRuleArn);
    expect(world.aws.callsTo('ELBv2', 'CreateRule').filter((c) => c.committed || c.outcome === 'ok')).toHaveLength(1);
  });

  it('a step run again (its first run died after creating the rule): it takes the rule it made, not a second one', async () => {
    // Prepare
    sitesOf();
    const begun = await containedAndBegun();
    await step('deploy-known-good', begun);

    // Act
    const again = await step('deploy-known-good', begun);

    // Assess
    const probes = probeRules(world.site('acme').listenerArn);
    expect(probes).toHaveLength(1);
    expect(again.restore?.probeRuleArn).toBe(probes[0]?.arn);
  });
});

/** Polls check-health every 15 s of the model's clock until it is no longer waiting (at most `minutes`). */
async function pollHealth(input: RestoreInput, minutes: number, each?: () => void): Promise<RestoreInput> {
  let checked = input;
  for (let waited = 0; waited < minutes * 60_000 && checked.restore?.health === 'waiting'; waited += 15_000) {
    each?.();
    world.aws.advance(15_000);
    checked = await step('check-health', checked);
  }
  return checked;
}

/** The workflow input the incident function's steps take (what containment started it with). */
function workflowInput(input: RestoreInput) {
  return { ...input, status: 'RESTORED', drill: false, forensicHoldSeconds: 0 };
}

describe('the compromised revision never runs again', () => {
  it('a failing deployment back into the site’s own group (its group open again) is not rolled back to the compromised revision', async () => {
    // Prepare: restored on the known-good digest, hold over, contained tasks stopped
    sitesOf();
    const compromised = world.site('acme').image;
    const contained = [...world.site('acme').taskArns];
    const begun = await containedAndBegun();
    const healthy = await pollHealth(await step('deploy-known-good', begun), 10);
    expect(healthy.restore?.health).toBe('healthy');
    const reopened = await step('reopen', healthy);
    await runWorkflowStep({ step: 'stop-contained-tasks', input: workflowInput(reopened) });

    // Act: back into its own group, where every new task answers 500
    const returned = await step('return-to-primary', reopened);
    const ownGroupDeployment = returned.restore?.deploymentId;
    const failing = () => {
      for (const task of world.aws.ecs.tasksOf(world.site('acme').serviceArn, 'RUNNING')) {
        if (task.deploymentId === ownGroupDeployment) world.aws.ecs.setAppHealth(task.taskArn, 'error');
      }
    };
    const checked = await pollHealth(returned, 30, failing);

    // Assess: the deployment failed and no task started after the restore began runs the compromised image
    const service = world.aws.ecs.state.services[world.site('acme').serviceArn];
    expect(checked.restore?.health).not.toBe('healthy');
    expect(service?.events.map((e) => e.message)).toContain(
      `(service acme) (deployment ${ownGroupDeployment}) deployment failed: tasks failed to start.`,
    );
    const launched = Object.values(world.aws.ecs.state.tasks).filter((t) => !contained.includes(t.taskArn));
    expect(launched.length).toBeGreaterThan(0);
    expect(launched.filter((t) => t.containers.some((c) => c.image === compromised))).toEqual([]);
    // The known-good tasks of the standby deployment still serve
    const running = world.aws.ecs.tasksOf(world.site('acme').serviceArn, 'RUNNING');
    expect(
      running.filter((t) => t.lastStatus === 'RUNNING' && t.deploymentId === healthy.restore?.deploymentId),
    ).toHaveLength(2);
  });
});

/** The site contained, its evidence kept, the hold over and no restore: the contained tasks stopped. */
async function heldWithoutRestore(id = 'acme') {
  const { incidentId } = (await containHandler(ecsFindingEvent(world, id))) as { incidentId: string };
  const input = { incidentId, site: id, status: 'CONTAINED', drill: false, forensicHoldSeconds: 0 };
  await runWorkflowStep({ step: 'keep-evidence', input });
  await runWorkflowStep({ step: 'stop-contained-tasks', input });
  return incidentId;
}

describe('after the hold, with no restore', () => {
  it('ECS does not relaunch the compromised revision: the desired count goes to zero, saved, and the incident says so', async () => {
    // Prepare
    sitesOf();

    // Act
    const incidentId = await heldWithoutRestore();
    world.aws.advance(15 * 60_000);

    // Assess
    const service = world.aws.ecs.state.services[world.site('acme').serviceArn];
    expect(service?.desiredCount).toBe(0);
    expect(world.aws.ecs.tasksOf(world.site('acme').serviceArn, 'RUNNING')).toEqual([]);
    const incident = await store().getIncident(incidentId);
    expect(incident?.scaledDown).toEqual({ desiredCount: 2, at: expect.any(String) });
    expect(incident?.steps.find((s) => s.step === 'scale-service-to-zero')).toMatchObject({
      outcome: 'done',
      detail: expect.stringMatching(/desired count 2 → 0.*release or a restore puts 2 back/),
    });
  });

  it('a release puts the desired count back, and the site runs again', async () => {
    // Prepare
    sitesOf();
    const incidentId = await heldWithoutRestore();

    // Act
    await runRecoveryStep({
      step: 'release-false-positive',
      input: { incidentId, site: 'acme', decision: { decision: 'false-positive', by: 'test' } },
    });
    world.aws.advance(10 * 60_000);

    // Assess
    expect(world.aws.ecs.state.services[world.site('acme').serviceArn]?.desiredCount).toBe(2);
    expect(world.aws.ecs.runningTasks(world.site('acme').serviceArn)).toHaveLength(2);
    expect((await store().getIncident(incidentId))?.steps.map((s) => `${s.step}:${s.outcome}`)).toContain(
      'restore-desired-count:done',
    );
  });

  it('a restore puts the desired count back with the known-good revision', async () => {
    // Prepare
    sitesOf();
    const repository = world.site('acme').image.split('@')[0] as string;
    await new Ledger(db(), world.tableName).recordLive(
      'acme',
      `${repository}@${GOOD_DIGEST}`,
      new Date(world.aws.clock.now() - 5 * DAY).toISOString(),
    );
    const incidentId = await heldWithoutRestore();
    const begun = await step('begin-restore', {
      incidentId,
      site: 'acme',
      decision: { decision: 'restore', by: 'test' },
    });

    // Act
    const checked = await pollHealth(await step('deploy-known-good', begun), 15);

    // Assess
    expect(checked.restore?.health).toBe('healthy');
    expect(world.aws.ecs.state.services[world.site('acme').serviceArn]?.desiredCount).toBe(2);
    const running = world.aws.ecs.runningTasks(world.site('acme').serviceArn);
    expect(running.map((t) => t.containers[0]?.image)).toEqual([
      `${repository}@${GOOD_DIGEST}`,
      `${repository}@${GOOD_DIGEST}`,
    ]);
  });
});

/** The site's rule already answered a fixed response when containment ran (say, after a takeover). */
function alreadyShed(id = 'acme') {
  const rule = world.aws.elbv2.state.rules[world.site(id).listenerRuleArn];
  if (!rule) throw new Error('no rule');
  rule.Actions = [
    { Type: 'fixed-response', FixedResponseConfig: { StatusCode: '503', ContentType: 'text/plain', MessageBody: 'x' } },
  ];
}

describe('a listener rule that was already a fixed response when the site was contained', () => {
  it('containment saves the site’s forward action (from its record), never an empty list', async () => {
    // Prepare
    sitesOf();
    alreadyShed();

    // Act
    const { incidentId } = (await containHandler(ecsFindingEvent(world, 'acme'))) as { incidentId: string };

    // Assess
    const saved = (await store().getIncident(incidentId))?.saved as { listenerRule: { actions: unknown[] } };
    expect(saved.listenerRule.actions).toEqual([
      expect.objectContaining({ Type: 'forward', TargetGroupArn: world.site('acme').targetGroupArn }),
    ]);
  });

  it('release forwards to the site again (it does not skip the rule and call it released)', async () => {
    // Prepare
    sitesOf();
    const before = world.aws.snapshot('acme').listenerRule;
    alreadyShed();
    const { incidentId } = (await containHandler(ecsFindingEvent(world, 'acme'))) as { incidentId: string };

    // Act
    await runRecoveryStep({
      step: 'release-false-positive',
      input: { incidentId, site: 'acme', decision: { decision: 'false-positive', by: 'test' } },
    });

    // Assess
    expect(world.aws.snapshot('acme').listenerRule).toEqual(before);
    expect((await store().getIncident(incidentId))?.status).toBe('RELEASED');
  });

  it('an incident saved with an empty list (before this was fixed): release falls back to the site record', async () => {
    // Prepare
    sitesOf();
    const before = world.aws.snapshot('acme').listenerRule;
    const { incidentId } = (await containHandler(ecsFindingEvent(world, 'acme'))) as { incidentId: string };
    const saved = (await store().getIncident(incidentId))?.saved as { listenerRule: { ruleArn: string } };
    await store().updateIncident(incidentId, {
      saved: { ...saved, listenerRule: { ruleArn: saved.listenerRule.ruleArn, actions: [] } },
    });

    // Act
    await runRecoveryStep({
      step: 'release-false-positive',
      input: { incidentId, site: 'acme', decision: { decision: 'false-positive', by: 'test' } },
    });

    // Assess
    expect(world.aws.snapshot('acme').listenerRule).toEqual(before);
  });

  it('an incident saved with an empty list (before this was fixed): the restore reopens on the site record’s forward action', async () => {
    // Prepare
    sitesOf();
    const before = world.aws.snapshot('acme').listenerRule;
    const begun = await containedAndBegun();
    const incident = await store().getIncident(begun.incidentId);
    const saved = incident?.saved as { listenerRule: { ruleArn: string; actions: unknown[] } };
    await store().updateIncident(begun.incidentId, {
      saved: { ...saved, listenerRule: { ruleArn: saved.listenerRule.ruleArn, actions: [] } },
    });

    // Act
    const healthy = await pollHealth(await step('deploy-known-good', begun), 10);
    await step('reopen', healthy);

    // Assess
    expect(world.aws.snapshot('acme').listenerRule).toEqual(before);
    expect(
      world.aws.callsTo('ELBv2', 'ModifyRule').map((c) => (c.input as { Actions?: unknown[] }).Actions),
    ).not.toContainEqual([]);
  });
});
