import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  StopTaskCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AwsModel, installAwsModel, seedFleet, type SiteHandles } from '../support/aws-model';

const ecs = new ECSClient({ region: 'eu-west-1' });
const elb = new ElasticLoadBalancingV2Client({ region: 'eu-west-1' });

describe('ECS deployments', () => {
  let aws: AwsModel;
  let site: SiteHandles;

  beforeEach(() => {
    aws = installAwsModel({ retries: 'off' });
    site = seedFleet(aws, { environment: 'test', sites: [{ id: 'acme', cell: 'c1', desiredCount: 2 }] }).sites
      .acme as SiteHandles;
  });
  afterEach(() => aws.restore());

  it('rolls a new task definition out: new tasks first, old ones stopped once the new are healthy', async () => {
    // Prepare
    const current = await ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: site.taskDefinitionArn, include: ['TAGS'] }),
    );
    const image = `${site.image.split('@')[0]}@sha256:${'a'.repeat(64)}`;
    const next = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: site.family,
        taskRoleArn: current.taskDefinition?.taskRoleArn,
        cpu: '512',
        memory: '1024',
        containerDefinitions: (current.taskDefinition?.containerDefinitions ?? []).map((c) => ({ ...c, image })),
        tags: current.tags,
      }),
    );

    // Act
    const updated = await ecs.send(
      new UpdateServiceCommand({
        cluster: site.clusterName,
        service: site.serviceName,
        taskDefinition: next.taskDefinition?.taskDefinitionArn,
      }),
    );
    aws.advanceUntil(() => aws.ecs.state.services[site.serviceArn]?.deployments.length === 1, { maxMs: 30 * 60_000 });

    // Assess
    expect(next.taskDefinition?.revision).toBe(2);
    expect(updated.service?.deployments?.map((d) => d.status)).toEqual(['PRIMARY', 'ACTIVE']);
    const service = (
      await ecs.send(new DescribeServicesCommand({ cluster: site.clusterName, services: [site.serviceName] }))
    ).services?.[0];
    expect(service).toMatchObject({ runningCount: 2, taskDefinition: next.taskDefinition?.taskDefinitionArn });
    expect(service?.deployments?.[0]).toMatchObject({ status: 'PRIMARY', rolloutState: 'COMPLETED' });
    expect(service?.events?.[0]?.message).toBe(`(service ${site.serviceName}) has reached a steady state.`);
    const stopped = await ecs.send(
      new ListTasksCommand({ cluster: site.clusterName, serviceName: site.serviceName, desiredStatus: 'STOPPED' }),
    );
    expect([...(stopped.taskArns ?? [])].sort()).toEqual([...site.taskArns].sort());
    const health = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: site.targetGroupArn }));
    expect(health.TargetHealthDescriptions?.map((d) => d.TargetHealth?.State).sort()).toEqual(['healthy', 'healthy']);
  });

  it('replaces a task stopped with StopTask and keeps its stop reason', async () => {
    // Act
    const [victim] = site.taskArns;
    const out = await ecs.send(
      new StopTaskCommand({ cluster: site.clusterName, task: victim, reason: 'forensic hold ended' }),
    );
    aws.advance(60_000);

    // Assess
    expect(out.task).toMatchObject({
      desiredStatus: 'STOPPED',
      stoppedReason: 'forensic hold ended',
      stopCode: 'UserInitiated',
    });
    const running = await ecs.send(new ListTasksCommand({ cluster: site.clusterName, serviceName: site.serviceName }));
    expect(running.taskArns).toHaveLength(2);
    expect(running.taskArns).not.toContain(victim);
    const unknown = await ecs
      .send(new StopTaskCommand({ cluster: site.clusterName, task: 'nope' }))
      .catch((e: unknown) => e);
    expect(unknown).toMatchObject({ name: 'InvalidParameterException' });
  });

  it('refuses to update a service that does not exist', async () => {
    const error = await ecs
      .send(new UpdateServiceCommand({ cluster: site.clusterName, service: 'missing', desiredCount: 1 }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ServiceNotFoundException', $fault: 'client' });
  });
});
