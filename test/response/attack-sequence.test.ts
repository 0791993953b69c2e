import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { containHandler } from '../../runtime/contain/index';
import {
  ecsAttackSequenceEvent,
  ecsFindingEvent,
  type ResponseWorld,
  type SequenceResource,
  sequenceClusterResource,
  sequenceTaskResource,
  setUpResponseWorld,
} from '../support/response-world';

/**
 * Issue 11 item 4: GuardDuty Extended Threat Detection's `AttackSequence:ECS/CompromisedCluster`
 * (Critical) names the tasks, clusters and containers of a compromise in
 * `service.detection.sequence.resources` (ResourceV2: ECS_TASK, ECS_CLUSTER, CONTAINER, ...).
 * Each Bulkhead site whose task it names is contained (one incident per site); what it names
 * that cannot be resolved to a site reaches the operators. An ECS finding about a whole
 * Bulkhead cluster (no task) reaches the operators naming the cluster and its sites. The
 * event is built from the API reference's shapes (no public sample exists: see
 * `ecsAttackSequenceEvent`).
 */

let world: ResponseWorld;
afterEach(() => world?.aws.restore());

function threeSites(): ResponseWorld {
  return setUpResponseWorld([
    { id: 'alpha', cell: 'c1' },
    { id: 'bravo', cell: 'c1' },
    { id: 'charlie', cell: 'c2' },
  ]);
}

/** The quarantine set: nothing in, HTTPS out to the CloudWatch Logs endpoint only, traffic shed. */
function expectQuarantined(siteId: string) {
  const snapshot = world.aws.snapshot(siteId);
  expect(snapshot.securityGroup.ingress).toEqual([]);
  expect(snapshot.securityGroup.egress.map((r) => `${r.protocol}:${r.fromPort}-${r.toPort}:${r.peer}`)).toEqual([
    `tcp:443-443:${world.fleet.logsEndpointSecurityGroupId}`,
  ]);
  expect(snapshot.listenerRule.actions).toEqual([expect.objectContaining({ Type: 'fixed-response' })]);
}

async function incidentsBySite(): Promise<Record<string, number>> {
  const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  const items = (await db.send(new ScanCommand({ TableName: world.tableName }))).Items ?? [];
  const counts: Record<string, number> = {};
  for (const item of items.filter((i) => i.sk === 'META')) counts[item.site] = (counts[item.site] ?? 0) + 1;
  return counts;
}

const opsMessages = () => world.aws.sns.published(world.fleet.opsTopicArn);

/** A task of a cluster that is not Bulkhead's, in the same account and region. */
function otherTeamsTask(): SequenceResource {
  return {
    uid: `arn:aws:ecs:${world.aws.region}:${world.aws.accountId}:task/payments-prod/0123456789abcdef0123456789abcdef`,
    resourceType: 'ECS_TASK',
    tags: [{ key: 'team', value: 'payments' }],
  };
}

describe('GuardDuty AttackSequence:ECS/CompromisedCluster', () => {
  it('contains each Bulkhead site whose task it names, once per site, and tells nobody when all is resolved', async () => {
    // Prepare: alpha named twice (its task, with its tags, and again without), bravo's task
    // without tags (ecs:DescribeTasks finds the site), their cluster, and alpha's container.
    world = threeSites();
    const alpha = sequenceTaskResource(world, 'alpha', { withTaskTags: true });
    const container: SequenceResource = {
      uid: ((alpha.data?.ecsTask as { containerUids: string[] }).containerUids[0] ?? '') as string,
      resourceType: 'CONTAINER',
      data: { container: { image: world.site('alpha').image } },
    };
    const event = ecsAttackSequenceEvent(world, [
      alpha,
      sequenceTaskResource(world, 'alpha'),
      sequenceTaskResource(world, 'bravo'),
      sequenceClusterResource(world, 'alpha'),
      container,
    ]);
    const charlieBefore = world.aws.snapshot('charlie');

    // Act
    const outcome = await containHandler(event);

    // Assess
    expect(outcome).toMatchObject({
      outcome: 'wide-finding',
      kind: 'attack-sequence',
      unresolved: [],
      notified: false,
    });
    const sites = outcome.outcome === 'wide-finding' ? outcome.sites : [];
    expect(sites.map((s) => [s.site, s.outcome]).sort()).toEqual([
      ['alpha', 'contained'],
      ['bravo', 'contained'],
    ]);
    expectQuarantined('alpha');
    expectQuarantined('bravo');
    expect(world.aws.snapshot('charlie')).toEqual(charlieBefore);
    expect(await incidentsBySite()).toEqual({ alpha: 1, bravo: 1 });
    expect(opsMessages()).toEqual([]);
  });

  it('tells the operators everything it names that it could not resolve, and contains what it could', async () => {
    // Prepare
    world = threeSites();
    const missingTask = `${world.site('alpha').clusterArn.replace(':cluster/', ':task/')}/ffffffffffffffffffffffffffffffff`;
    const event = ecsAttackSequenceEvent(world, [
      sequenceTaskResource(world, 'alpha', { withTaskTags: true }),
      { uid: missingTask, resourceType: 'ECS_TASK' },
      otherTeamsTask(),
      { uid: 'a1b2c3d4e5f6', resourceType: 'CONTAINER', data: { container: { image: 'evil/miner:latest' } } },
      { uid: 'i-0123456789abcdef0', resourceType: 'EC2_INSTANCE' },
      sequenceClusterResource(world, 'charlie'),
    ]);
    const bravoBefore = world.aws.snapshot('bravo');
    const charlieBefore = world.aws.snapshot('charlie');

    // Act
    const outcome = await containHandler(event);

    // Assess: alpha contained; bravo and charlie untouched; one message naming each of the rest.
    expect(outcome).toMatchObject({ outcome: 'wide-finding', notified: true });
    expectQuarantined('alpha');
    expect(world.aws.snapshot('bravo')).toEqual(bravoBefore);
    expect(world.aws.snapshot('charlie')).toEqual(charlieBefore);
    expect(await incidentsBySite()).toEqual({ alpha: 1 });
    const messages = opsMessages();
    expect(messages).toHaveLength(1);
    const text = messages[0]?.Message ?? '';
    expect(text).toContain('Contained: alpha (contained');
    expect(text).toContain(`ECS task ${missingTask}`);
    expect(text).toContain('task/payments-prod/0123456789abcdef0123456789abcdef');
    expect(text).toContain('CONTAINER a1b2c3d4e5f6');
    expect(text).toContain('EC2_INSTANCE i-0123456789abcdef0');
    expect(text).toContain(`cluster ${world.site('charlie').clusterName} (cell c2): sites charlie`);
    expect(messages[0]?.MessageAttributes?.kind?.StringValue).toBe('attack-sequence');
  });

  it('naming only a Bulkhead cluster, tells the operators the cluster and its sites and changes nothing', async () => {
    // Prepare
    world = threeSites();
    const before = ['alpha', 'bravo', 'charlie'].map((id) => world.aws.snapshot(id));
    const event = ecsAttackSequenceEvent(world, [sequenceClusterResource(world, 'alpha')]);

    // Act
    const outcome = await containHandler(event);

    // Assess
    expect(outcome).toMatchObject({ outcome: 'wide-finding', sites: [], notified: true });
    expect(['alpha', 'bravo', 'charlie'].map((id) => world.aws.snapshot(id))).toEqual(before);
    expect(await incidentsBySite()).toEqual({});
    expect(
      opsMessages()
        .map((m) => m.Message)
        .join('\n'),
    ).toContain(`cluster ${world.site('alpha').clusterName} (cell c1): sites alpha, bravo`);
    expect(world.aws.mutatingCalls().map((c) => `${c.service}:${c.command}`)).toEqual(['SNS:Publish']);
  });
});

describe('an ECS finding about a whole Bulkhead cluster (no task)', () => {
  it('reaches the operators naming the cluster and the sites in it, and changes nothing else', async () => {
    // Prepare: the sample ECS finding with its task details taken away.
    world = threeSites();
    const event = ecsFindingEvent(world, 'charlie') as {
      detail: { resource: { ecsClusterDetails: Record<string, unknown> } };
    };
    delete event.detail.resource.ecsClusterDetails.taskDetails;
    const before = ['alpha', 'bravo', 'charlie'].map((id) => world.aws.snapshot(id));

    // Act
    const outcome = await containHandler(event);

    // Assess
    expect(outcome).toMatchObject({ outcome: 'wide-finding', kind: 'cluster-finding', sites: [], notified: true });
    expect(['alpha', 'bravo', 'charlie'].map((id) => world.aws.snapshot(id))).toEqual(before);
    const messages = opsMessages();
    expect(messages).toHaveLength(1);
    expect(messages[0]?.Message).toContain(`cluster ${world.site('charlie').clusterName} (cell c2): sites charlie`);
    expect(messages[0]?.Message).not.toContain('alpha');
    expect(world.aws.mutatingCalls().map((c) => `${c.service}:${c.command}`)).toEqual(['SNS:Publish']);
  });
});

describe('foreign and malformed variants change nothing and tell nobody', () => {
  const variants: [string, string, (w: ResponseWorld) => unknown][] = [
    [
      'an attack sequence of another type naming a Bulkhead task',
      'not-ecs-finding',
      (w) =>
        ecsAttackSequenceEvent(w, [sequenceTaskResource(w, 'alpha', { withTaskTags: true })], {
          type: 'AttackSequence:IAM/CompromisedCredentials',
        }),
    ],
    [
      'an ECS attack sequence that names another account',
      'foreign-account',
      (w) =>
        ecsAttackSequenceEvent(w, [sequenceTaskResource(w, 'alpha', { withTaskTags: true })], {
          accountId: '999999999999',
        }),
    ],
    [
      "an ECS attack sequence naming only another team's task and cluster",
      'foreign-cluster',
      (w) =>
        ecsAttackSequenceEvent(w, [
          otherTeamsTask(),
          {
            uid: `arn:aws:ecs:${w.aws.region}:${w.aws.accountId}:cluster/payments-prod`,
            resourceType: 'ECS_CLUSTER',
          },
        ]),
    ],
    [
      'an ECS attack sequence without its sequence',
      'malformed-event',
      (w) => {
        const event = ecsAttackSequenceEvent(w, [sequenceTaskResource(w, 'alpha', { withTaskTags: true })]) as {
          detail: { service: Record<string, unknown> };
        };
        delete event.detail.service.detection;
        return event;
      },
    ],
    [
      'an ECS attack sequence whose resources are not a list',
      'foreign-cluster',
      (w) => {
        const event = ecsAttackSequenceEvent(w, []) as {
          detail: { service: { detection: { sequence: Record<string, unknown> } } };
        };
        event.detail.service.detection.sequence.resources = 'alpha';
        return event;
      },
    ],
    [
      'a finding about a whole cluster that is not Bulkhead’s',
      'foreign-cluster',
      (w) => {
        const event = ecsFindingEvent(w, 'alpha', {
          clusterArn: `arn:aws:ecs:${w.aws.region}:${w.aws.accountId}:cluster/payments-prod`,
        }) as { detail: { resource: { ecsClusterDetails: Record<string, unknown> } } };
        delete event.detail.resource.ecsClusterDetails.taskDetails;
        return event;
      },
    ],
  ];

  it.each(variants)('%s: ignored as %s', async (_name, code, build) => {
    // Prepare
    world = threeSites();
    const event = build(world);
    const before = ['alpha', 'bravo', 'charlie'].map((id) => world.aws.snapshot(id));

    // Act
    const outcome = await containHandler(event);

    // Assess
    expect(outcome).toMatchObject({ outcome: 'ignored', code });
    expect(world.aws.mutatingCalls()).toEqual([]);
    expect(['alpha', 'bravo', 'charlie'].map((id) => world.aws.snapshot(id))).toEqual(before);
    expect(opsMessages()).toEqual([]);
  });
});
