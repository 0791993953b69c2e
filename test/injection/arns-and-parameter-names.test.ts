import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runWorkflowStep } from '../../runtime/incident/index';
import { containHandler } from '../../runtime/contain/index';
import { runRecoveryStep } from '../../runtime/recovery/index';
import { ecsFindingEvent, type ResponseWorld, siteAlarmEvent } from '../support/response-world';
import { fuzzWorld } from '../fuzz/support/contain-world';
import { expectCleanSinks, partitionKeyOf, VALID_SITE } from './support/sinks';

/**
 * Sink: ARNs, SSM parameter names, EC2 filters, Step Functions execution names and DynamoDB
 * keys. Site ids and incident ids are the strings that get built into them (the site record
 * is `/bulkhead/<env>/sites/<site>`; the site's group, ACL and subnets are found by
 * `tag:bulkhead:site` filters, where EC2 treats `*` and `?` as wildcards; the incident is
 * `INCIDENT#<id>`). Hostile fragments (`../`, `:`, `*`, `/`, `?`, `#`, NUL, spaces, case)
 * in alarm names, task tags, cluster and task ARNs and step requests must be refused before
 * any of those is built, and must change nothing.
 */

const FRAGMENTS = [
  '../bakery',
  'acme/../bakery',
  'acme/x',
  '/acme',
  'acme:bakery',
  'acme:',
  '*',
  'acme*',
  'a?me',
  'acme,bakery',
  'acme ',
  'ACME',
  'acme\u0000',
  '%2e%2e%2fbakery',
  'acme#x',
  'bulkhead-test-acme',
];

let world: ResponseWorld;
beforeEach(() => {
  world = fuzzWorld();
});
afterEach(() => world.aws.restore());

async function expectRefused(event: unknown, fragment: string) {
  const outcome = await containHandler(event);
  expect(outcome.outcome, JSON.stringify(outcome)).toBe('ignored');
  expect(world.aws.mutatingCalls().map((c) => `${c.service}:${c.command}`)).toEqual([]);
  expectCleanSinks(world.aws.calls.all(), 'test', [fragment]);
}

describe('site ids from alarm names', () => {
  it.each(FRAGMENTS.filter((f) => !VALID_SITE.test(f)))(
    'alarm bulkhead.test.%s.error-rate: ignored, no record read, no filter built',
    async (fragment) => {
      // Prepare
      const event = siteAlarmEvent(world, 'acme');
      const name = `bulkhead.test.${fragment}.error-rate`;
      (event.detail as { alarmName: string }).alarmName = name;
      event.resources = [`arn:aws:cloudwatch:${world.aws.region}:${world.aws.accountId}:alarm:${name}`];

      // Act / Assess
      await expectRefused(event, fragment);
      expect(world.aws.calls.all()).toEqual([]);
    },
  );

  it('a well-formed id of no deployed site reads exactly its record name and takes and gives back only its own lock', async () => {
    // Prepare: an alarm name that parses to the well-formed site id `bulkhead-test-acme`, which no site has.
    const event = siteAlarmEvent(world, 'acme');
    const name = 'bulkhead.test.bulkhead-test-acme.error-rate';
    (event.detail as { alarmName: string }).alarmName = name;
    event.resources = [`arn:aws:cloudwatch:${world.aws.region}:${world.aws.accountId}:alarm:${name}`];

    // Act
    const outcome = await containHandler(event);

    // Assess
    expect(outcome).toMatchObject({ outcome: 'ignored', code: 'unknown-site' });
    expectCleanSinks(world.aws.calls.all(), 'test');
    expect(world.aws.callsTo('SSM').map((c) => (c.input as { Name: string }).Name)).toEqual([
      '/bulkhead/test/sites/bulkhead-test-acme',
    ]);
    expect(world.aws.mutatingCalls().map((c) => `${c.command} ${partitionKeyOf(c)}`)).toEqual([
      'PutItem SITE#bulkhead-test-acme',
      'UpdateItem SITE#bulkhead-test-acme',
    ]);
  });

  it('an alarm ARN with extra colons or another account in resources[0] is not this environment’s', async () => {
    for (const arn of [
      `arn:aws:cloudwatch:${world.aws.region}:999999999999:alarm:bulkhead.test.acme.error-rate`,
      `arn:aws:cloudwatch:us-east-1:${world.aws.accountId}:alarm:bulkhead.test.acme.error-rate`,
      `arn:aws:cloudwatch::${world.aws.region}:${world.aws.accountId}:alarm:bulkhead.test.acme.error-rate`,
      `arn:aws:cloudwatch:${world.aws.region}:${world.aws.accountId}`,
      'arn:aws:cloudwatch:*:*:alarm:*',
    ]) {
      const event = siteAlarmEvent(world, 'acme');
      event.resources = [arn];
      await expectRefused(event, '*');
    }
  });
});

describe('site ids from task tags', () => {
  it.each(FRAGMENTS)(
    'finding whose task tag bulkhead:site is %j: ignored, no record read, no filter built',
    async (fragment) => {
      // Prepare
      const event = ecsFindingEvent(world, 'acme', { withTaskTags: true });
      const tags = (
        event.detail as { resource: { ecsClusterDetails: { taskDetails: { tags: { key: string; value: string }[] } } } }
      ).resource.ecsClusterDetails.taskDetails.tags;
      for (const t of tags) if (t.key === 'bulkhead:site') t.value = fragment;

      // Act / Assess
      await expectRefused(event, fragment);
    },
  );

  it.each(FRAGMENTS)(
    'finding without tags, task tagged bulkhead:site=%j in ECS (DescribeTasks path): ignored',
    async (fragment) => {
      // Prepare
      const task = world.aws.ecs.state.tasks?.[world.site('acme').taskArns[0] ?? ''] as {
        tags?: { key?: string; value?: string }[];
      };
      for (const t of task.tags ?? []) if (t.key === 'bulkhead:site') t.value = fragment;

      // Act / Assess
      await expectRefused(ecsFindingEvent(world, 'acme'), fragment);
      expect(world.aws.callsTo('ECS', 'DescribeTasks')).toHaveLength(1);
    },
  );
});

describe('cluster and task ARNs', () => {
  it('cluster or task ARNs with path tricks, wildcards or another cluster: ignored before any call that acts', async () => {
    const acme = world.site('acme');
    const clinic = world.site('clinic');
    const cluster = acme.clusterArn;
    const task = acme.taskArns[0] ?? '';
    const id = task.split('/').pop() ?? '';
    const cases: [string, string][] = [
      [`${cluster}/../x`, task],
      [`${cluster}*`, task],
      [cluster.replace(acme.clusterName, '*'), task],
      [cluster, `${task}/../x`],
      [cluster, task.replace(id, '*')],
      [cluster, task.replace(acme.clusterName, '..')],
      // A task of another cell's cluster, named under this cluster.
      [cluster, `${cluster.replace(':cluster/', ':task/')}/${clinic.taskArns[0]?.split('/').pop() ?? ''}`],
    ];
    for (const [clusterArn, taskArn] of cases) {
      await expectRefused(ecsFindingEvent(world, 'acme', { clusterArn, taskArn }), '..');
    }
    expectCleanSinks(world.aws.calls.all(), 'test', ['*']);
  });
});

describe('what a valid trigger builds', () => {
  it('a valid alarm builds exactly the site’s record name, tag filters for that site, and a valid execution name', async () => {
    const outcome = await containHandler(siteAlarmEvent(world, 'bakery', 'egress'));

    expect(outcome).toMatchObject({ outcome: 'contained', site: 'bakery' });
    expectCleanSinks(world.aws.calls.all(), 'test');
    expect(world.aws.callsTo('SSM', 'GetParameter').map((c) => (c.input as { Name: string }).Name)).toEqual([
      '/bulkhead/test/sites/bakery',
    ]);
  });
});

describe('incident ids in step requests', () => {
  // The recovery contract allows `.` and `:` in incident ids; the workflow contract any 1-128 characters.
  const RECOVERY_IDS = ['..', '...:..', 'a:b:c', 'INCIDENT', '.-_:'];
  const WORKFLOW_IDS = ['../x', 'a/b', '*', 'x#META', 'INCIDENT#x', 'SITE#acme', 'x\u0000y', ' ', 'arn:aws:states:*'];

  it.each(RECOVERY_IDS)(
    'recovery steps about incident %j only look the incident up (INCIDENT#<id>) and build nothing from it',
    async (incidentId) => {
      for (const step of [
        'begin-restore',
        'rotate-credentials',
        'reopen',
        'release-false-positive',
        'approval-timed-out',
      ]) {
        await runRecoveryStep({ step, input: { incidentId, site: 'acme' } }).catch(() => undefined);
      }
      const calls = world.aws.calls.all();
      expect(new Set(calls.map((c) => c.service))).toEqual(new Set(['DynamoDB']));
      for (const c of calls) {
        expect(partitionKeyOf(c)).toBe(`INCIDENT#${incidentId}`);
      }
      expect(world.aws.mutatingCalls().filter((c) => c.outcome === 'ok')).toEqual([]);
    },
  );

  it.each(WORKFLOW_IDS)(
    'workflow steps about incident %j only look the incident up and create nothing',
    async (incidentId) => {
      for (const step of ['keep-evidence', 'notify', 'stop-contained-tasks', 'mark-failed']) {
        await runWorkflowStep({
          step,
          input: { incidentId, site: 'acme', status: 'CONTAINED', drill: false, forensicHoldSeconds: 0 },
        }).catch(() => undefined);
      }
      const calls = world.aws.calls.all().filter((c) => c.service !== 'CloudWatch');
      expect(new Set(calls.map((c) => c.service))).toEqual(new Set(['DynamoDB']));
      for (const c of calls) {
        expect(partitionKeyOf(c)).toBe(`INCIDENT#${incidentId}`);
      }
      expect(world.aws.mutatingCalls().filter((c) => c.outcome === 'ok' && c.service !== 'CloudWatch')).toEqual([]);
    },
  );
});
