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

  describe('the deployment circuit breaker', () => {
    /** Registers revision 2 on another image and deploys it, every new task answering 500. */
    async function failingDeployment(rollback: boolean) {
      const current = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: site.taskDefinitionArn }));
      const image = `${site.image.split('@')[0]}@sha256:${'e'.repeat(64)}`;
      const next = await ecs.send(
        new RegisterTaskDefinitionCommand({
          family: site.family,
          containerDefinitions: (current.taskDefinition?.containerDefinitions ?? []).map((c) => ({ ...c, image })),
        }),
      );
      const updated = await ecs.send(
        new UpdateServiceCommand({
          cluster: site.clusterName,
          service: site.serviceName,
          taskDefinition: next.taskDefinition?.taskDefinitionArn,
          deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback } },
        }),
      );
      const failedId = updated.service?.deployments?.find((d) => d.status === 'PRIMARY')?.id ?? '';
      for (let i = 0; i < 20 * 60; i += 5) {
        for (const t of aws.ecs.tasksOf(site.serviceArn)) {
          if (t.deploymentId === failedId) aws.ecs.setAppHealth(t.taskArn, 'error');
        }
        aws.advance(5_000);
      }
      return { failedId, image };
    }

    it('with rollback: after 3 failed tasks the deployment fails and the last completed one comes back', async () => {
      // Act
      const { failedId, image } = await failingDeployment(true);

      // Assess
      const service = aws.ecs.state.services[site.serviceArn];
      expect(service?.events.map((e) => e.message)).toContain(
        `(service acme) (deployment ${failedId}) deployment failed: tasks failed to start.`,
      );
      expect(service?.taskDefinition).toBe(site.taskDefinitionArn);
      const running = aws.ecs.runningTasks(site.serviceArn);
      expect(running).toHaveLength(2);
      expect(running.every((t) => t.containers[0]?.image === site.image && t.containers[0]?.image !== image)).toBe(
        true,
      );
    });

    it('without rollback: the deployment fails, nothing more is launched for it, the old tasks keep running', async () => {
      // Act
      const { failedId } = await failingDeployment(false);

      // Assess
      const service = aws.ecs.state.services[site.serviceArn];
      const failed = service?.deployments.find((d) => d.id === failedId);
      expect(failed).toMatchObject({ status: 'PRIMARY', rolloutState: 'FAILED' });
      const launchedForIt = Object.values(aws.ecs.state.tasks).filter((t) => t.deploymentId === failedId);
      expect(launchedForIt.length).toBeGreaterThanOrEqual(3);
      expect(launchedForIt.every((t) => t.desiredStatus === 'STOPPED')).toBe(true);
      expect(
        aws.ecs
          .runningTasks(site.serviceArn)
          .map((t) => t.taskArn)
          .sort(),
      ).toEqual([...site.taskArns].sort());
    });
  });
});
