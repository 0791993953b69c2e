import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient, RegisterTaskDefinitionCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import {
  chooseRestoreDigest,
  Ledger,
  type LedgerEntry,
  recordDeploymentFromService,
} from '../../runtime/recovery/ledger';
import { type ResponseWorld, setUpResponseWorld } from '../support/response-world';

const digest = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
const entry = (n: number, firstLiveAt: string, extra: Partial<LedgerEntry> = {}): LedgerEntry => ({
  site: 'acme',
  digest: digest(n),
  repository: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/sites/acme',
  firstLiveAt,
  lastLiveAt: firstLiveAt,
  deployments: 1,
  ...extra,
});

describe('choosing the digest to restore', () => {
  const detectedAt = '2026-11-20T12:00:00.000Z';

  it('takes the newest digest that ran 24 h before the incident and was never suspect', () => {
    const entries = [
      entry(1, '2026-11-01T00:00:00Z'),
      entry(2, '2026-11-10T00:00:00Z'),
      entry(3, '2026-11-20T00:00:00Z'),
      entry(4, '2026-11-15T00:00:00Z', { status: 'suspect', suspectIncidentId: 'i-0' }),
    ];
    expect(chooseRestoreDigest(entries, { detectedAt })).toMatchObject({ digest: digest(2) });
  });

  it('an operator mark makes a digest known-good before 24 h', () => {
    const entries = [
      entry(1, '2026-11-01T00:00:00Z'),
      entry(2, '2026-11-20T06:00:00Z', { status: 'known-good', markedBy: 'alice' }),
    ];
    expect(chooseRestoreDigest(entries, { detectedAt })).toMatchObject({
      digest: digest(2),
      reason: 'marked known-good by alice',
    });
  });

  it('never picks a digest that went live after the incident was detected', () => {
    const choice = chooseRestoreDigest([entry(1, '2026-11-21T00:00:00Z', { status: 'known-good', markedBy: 'a' })], {
      detectedAt,
    });
    expect(choice.digest).toBeUndefined();
  });

  it('says why when there is no known-good digest', () => {
    const choice = chooseRestoreDigest([entry(1, '2026-11-20T00:00:00Z')], { detectedAt });
    expect(choice.digest).toBeUndefined();
    expect(choice.reason).toMatch(/no known-good digest went live before 2026-11-20T12:00:00.000Z/);
  });

  it("takes the operator's choice, but refuses a suspect or unknown digest", () => {
    const entries = [
      entry(1, '2026-11-01T00:00:00Z'),
      entry(2, '2026-11-19T00:00:00Z', { status: 'suspect', suspectIncidentId: 'i-9' }),
    ];
    expect(chooseRestoreDigest(entries, { detectedAt, requested: digest(1) })).toMatchObject({
      digest: digest(1),
      reason: 'chosen by the operator',
    });
    const suspect = chooseRestoreDigest(entries, { detectedAt, requested: digest(2) });
    expect([suspect.digest, suspect.reason]).toEqual([
      undefined,
      expect.stringContaining('suspect (seen in incident i-9)'),
    ]);
    const unknown = chooseRestoreDigest(entries, { detectedAt, requested: digest(7) });
    expect([unknown.digest, unknown.reason]).toEqual([
      undefined,
      expect.stringContaining('not a digest this site has run'),
    ]);
  });
});

describe('the ledger against the AWS model', () => {
  let world: ResponseWorld;
  afterEach(() => world?.aws.restore());
  const ledger = () => new Ledger(DynamoDBDocumentClient.from(new DynamoDBClient({})), world.tableName);

  it('records each deployment of a site: first and last time live, number of deployments', async () => {
    // Prepare
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    const site = world.site('acme');
    const ecs = new ECSClient({});

    // Act: the seeded deployment, then a new image, then the seeded image again.
    await recordDeploymentFromService(
      ecs,
      ledger(),
      'test',
      site.clusterArn,
      site.serviceArn,
      '2026-11-01T00:00:00.000Z',
    );
    const next = `${site.image.split('@')[0]}@${digest(9)}`;
    const registered = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: site.family,
        containerDefinitions: [{ name: 'wordpress', image: next, essential: true }],
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '512',
        memory: '1024',
      }),
    );
    await ecs.send(
      new UpdateServiceCommand({
        cluster: site.clusterArn,
        service: site.serviceName,
        taskDefinition: registered.taskDefinition?.taskDefinitionArn,
      }),
    );
    await recordDeploymentFromService(
      ecs,
      ledger(),
      'test',
      site.clusterArn,
      site.serviceArn,
      '2026-11-05T00:00:00.000Z',
    );
    const entries = await ledger().entries('acme');

    // Assess
    expect(entries.map((e) => [e.digest, e.firstLiveAt, e.deployments]).sort()).toEqual(
      [
        [site.image.split('@')[1], '2026-11-01T00:00:00.000Z', 1],
        [digest(9), '2026-11-05T00:00:00.000Z', 1],
      ].sort(),
    );
  });

  it('a suspect digest cannot be marked known-good', async () => {
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    const image = world.site('acme').image;
    await ledger().recordLive('acme', image, '2026-11-01T00:00:00.000Z');
    const seen = image.split('@')[1] as string;

    await ledger().markSuspect('acme', seen, 'incident-1');

    await expect(ledger().markKnownGood('acme', seen, 'alice')).rejects.toThrow(/suspect/);
    expect((await ledger().entries('acme'))[0]).toMatchObject({ status: 'suspect', suspectIncidentId: 'incident-1' });
  });

  it('refuses an image that is not pinned by digest', async () => {
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    await expect(ledger().recordLive('acme', 'wordpress:latest', '2026-11-01T00:00:00.000Z')).rejects.toThrow(
      /not pinned by digest/,
    );
  });

  it('the ledger function records a site when ECS reports its deployment completed, and ignores other events', async () => {
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    const site = world.site('acme');
    const { recordDeployment } = await import('../../runtime/ledger/index');
    // The documented "ECS Deployment State Change" shape (built here: no public sample is shared).
    const event = (eventName: string) => ({
      version: '0',
      id: randomUUID(),
      'detail-type': 'ECS Deployment State Change',
      source: 'aws.ecs',
      account: world.aws.accountId,
      time: '2026-11-02T10:00:00Z',
      region: world.aws.region,
      resources: [site.serviceArn],
      detail: {
        eventType: 'INFO',
        eventName,
        deploymentId: 'ecs-svc/123',
        updatedAt: '2026-11-02T10:00:00Z',
        reason: 'ECS deployment completed.',
      },
    });

    const recorded = await recordDeployment(event('SERVICE_DEPLOYMENT_COMPLETED'));
    const inProgress = await recordDeployment(event('SERVICE_DEPLOYMENT_IN_PROGRESS'));
    const foreign = await recordDeployment({ source: 'aws.guardduty' });

    expect(recorded).toMatchObject({
      site: 'acme',
      digest: site.image.split('@')[1],
      firstLiveAt: '2026-11-02T10:00:00Z',
    });
    expect(inProgress).toMatchObject({ ignored: expect.stringContaining('not a completed deployment') });
    expect(foreign).toMatchObject({ ignored: expect.stringContaining('not an ECS deployment event') });
    expect(await ledger().entries('acme')).toHaveLength(1);
  });
});
