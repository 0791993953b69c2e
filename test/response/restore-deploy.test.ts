import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterEach, describe, expect, it } from 'vitest';
import { deployImage, deploymentHealth, revisionWithImage } from '../../runtime/recovery/deploy';
import { type ResponseWorld, setUpResponseWorld } from '../support/response-world';

const goodDigest = `sha256:${'c'.repeat(64)}`;

describe('a known-good revision of the task definition', () => {
  it('differs from the current one only in the image', () => {
    // Prepare
    const current: TaskDefinition = {
      taskDefinitionArn: 'arn:aws:ecs:eu-west-1:111122223333:task-definition/bulkhead-test-acme:7',
      family: 'bulkhead-test-acme',
      revision: 7,
      status: 'ACTIVE',
      taskRoleArn: 'arn:aws:iam::111122223333:role/task',
      executionRoleArn: 'arn:aws:iam::111122223333:role/exec',
      networkMode: 'awsvpc',
      cpu: '512',
      memory: '1024',
      requiresCompatibilities: ['FARGATE'],
      containerDefinitions: [
        {
          name: 'site',
          image: `111122223333.dkr.ecr.eu-west-1.amazonaws.com/sites/acme@sha256:${'a'.repeat(64)}`,
          essential: true,
          readonlyRootFilesystem: true,
          secrets: [
            {
              name: 'WORDPRESS_DB_PASSWORD',
              valueFrom: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:x:password::',
            },
          ],
        },
      ],
      volumes: [{ name: 'uploads', efsVolumeConfiguration: { fileSystemId: 'fs-1', transitEncryption: 'ENABLED' } }],
    };
    const image = `111122223333.dkr.ecr.eu-west-1.amazonaws.com/sites/acme@${goodDigest}`;

    // Act
    const request = revisionWithImage(current, image);

    // Assess
    const { containerDefinitions, ...rest } = request;
    const {
      containerDefinitions: before,
      taskDefinitionArn: _arn,
      revision: _rev,
      status: _status,
      ...restBefore
    } = current;
    expect(rest).toEqual(restBefore);
    expect(containerDefinitions).toEqual([{ ...before?.[0], image }]);
    expect(current.containerDefinitions?.[0]?.image).not.toBe(image); // the input is not changed
  });

  it('refuses an image that is not pinned by digest', () => {
    expect(() =>
      revisionWithImage({ containerDefinitions: [{ name: 'site', image: 'x', essential: true }] }, 'wordpress:latest'),
    ).toThrow(/not pinned by digest/);
  });
});

describe('deploying the known-good image (AWS model)', () => {
  let world: ResponseWorld;
  afterEach(() => world?.aws.restore());

  it('registers the revision and starts a deployment whose tasks run that image', async () => {
    // Prepare
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    const site = world.site('acme');
    const image = `${site.image.split('@')[0]}@${goodDigest}`;
    const ecs = new ECSClient({});

    // Act
    const { taskDefinitionArn: arn } = await deployImage(ecs, site.clusterArn, site.serviceName, image);
    world.aws.advance(10 * 60_000);

    // Assess
    const registered = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }))).taskDefinition;
    expect(registered?.containerDefinitions?.[0]?.image).toBe(image);
    const snapshot = world.aws.snapshot('acme');
    expect(snapshot.service.taskDefinition).toBe(arn);
    const running = snapshot.tasks.filter((t) => t.lastStatus === 'RUNNING');
    expect(running.length).toBeGreaterThan(0);
    expect(running.every((t) => !site.taskArns.includes(t.taskArn))).toBe(true);
    const described = await ecs.send(
      new DescribeTasksCommand({ cluster: site.clusterArn, tasks: running.map((t) => t.taskArn) }),
    );
    expect(described.tasks?.flatMap((t) => (t.containers ?? []).map((c) => c.imageDigest))).toEqual(
      running.map(() => goodDigest),
    );
  });
});

describe('waiting for the new tasks to be healthy (AWS model)', () => {
  let world: ResponseWorld;
  afterEach(() => world?.aws.restore());

  /**
   * Deploys the good image, then looks at the deployment's health every 15 s of the model's
   * clock (as the workflow does), for at most 10 minutes. With `broken`, every task of the
   * new revision answers its health checks with errors.
   */
  async function deployAndWait(broken: boolean) {
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    const site = world.site('acme');
    const ecs = new ECSClient({});
    const { taskDefinitionArn } = await deployImage(
      ecs,
      site.clusterArn,
      site.serviceName,
      `${site.image.split('@')[0]}@${goodDigest}`,
    );
    const service = (
      await ecs.send(new DescribeServicesCommand({ cluster: site.clusterArn, services: [site.serviceName] }))
    ).services?.[0];
    const deploymentId = service?.deployments?.find((d) => d.status === 'PRIMARY')?.id ?? '';
    let health = await deploymentHealth(ecs, new ElasticLoadBalancingV2Client({}), {
      clusterArn: site.clusterArn,
      serviceName: site.serviceName,
      deploymentId,
      targetGroupArn: site.targetGroupArn,
    });
    for (
      let waited = 0;
      waited < 10 * 60_000 && !(health.healthyCount > 0 && health.healthyCount === health.targets.length);
      waited += 15_000
    ) {
      if (broken) {
        for (const task of world.aws.ecs.runningTasks(site.serviceArn)) {
          if (task.taskDefinitionArn === taskDefinitionArn) world.aws.ecs.setAppHealth(task.taskArn, 'error');
        }
      }
      world.aws.advance(15_000);
      health = await deploymentHealth(ecs, new ElasticLoadBalancingV2Client({}), {
        clusterArn: site.clusterArn,
        serviceName: site.serviceName,
        deploymentId,
        targetGroupArn: site.targetGroupArn,
      });
    }
    return { ...health, healthy: health.healthyCount > 0 && health.healthyCount === health.targets.length };
  }

  it('says healthy once every new task passes its target group health checks', async () => {
    const result = await deployAndWait(false);
    expect(result.healthy).toBe(true);
    expect(result.targets.length).toBeGreaterThan(0);
  });

  it('after the 10-minute bound, the new tasks are still not healthy and the listing says why', async () => {
    const result = await deployAndWait(true);
    expect(result.healthy).toBe(false);
    expect(result.healthyCount).toBe(0);
    expect(result.listing).toMatch(/unhealthy|not registered|initial|no running task/);
  });
});
