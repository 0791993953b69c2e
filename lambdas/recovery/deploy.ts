import {
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  type ECSClient,
  type NetworkConfiguration,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  type TaskDefinition,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';

export class RestoreDeployError extends Error {
  override readonly name = 'RestoreDeployError';
}

/** The fields of a described task definition that RegisterTaskDefinition takes back. */
const REGISTERABLE: readonly (keyof TaskDefinition & keyof RegisterTaskDefinitionCommandInput)[] = [
  'family',
  'taskRoleArn',
  'executionRoleArn',
  'networkMode',
  'containerDefinitions',
  'volumes',
  'placementConstraints',
  'requiresCompatibilities',
  'cpu',
  'memory',
  'pidMode',
  'ipcMode',
  'proxyConfiguration',
  'inferenceAccelerators',
  'ephemeralStorage',
  'runtimePlatform',
];

/**
 * The request that registers a new revision of `current` that differs only in the image of
 * its essential container(s): `repository@digest`. Pure, so "differs only in the image" is
 * checked on the request itself.
 */
export function revisionWithImage(
  current: TaskDefinition,
  image: string,
  tags?: RegisterTaskDefinitionCommandInput['tags'],
): RegisterTaskDefinitionCommandInput {
  if (!/@sha256:[0-9a-f]{64}$/.test(image)) throw new RestoreDeployError(`${image} is not pinned by digest`);
  const input: Record<string, unknown> = {};
  for (const key of REGISTERABLE) {
    if (current[key] !== undefined) input[key] = structuredClone(current[key]);
  }
  const containers = (input.containerDefinitions as NonNullable<TaskDefinition['containerDefinitions']>) ?? [];
  const essential = containers.filter((c) => c.essential !== false);
  if (essential.length === 0)
    throw new RestoreDeployError(`task definition ${current.taskDefinitionArn} has no essential container`);
  for (const container of essential) container.image = image;
  return { ...(input as unknown as RegisterTaskDefinitionCommandInput), ...(tags ? { tags } : {}) };
}

/**
 * Registers the known-good revision of the site's current task definition and starts a new
 * deployment of the service on it (in `networkConfiguration` when given). Returns the new
 * task definition ARN.
 */
export async function deployImage(
  ecs: ECSClient,
  clusterArn: string,
  serviceName: string,
  image: string,
  networkConfiguration?: NetworkConfiguration,
): Promise<string> {
  const service = (await ecs.send(new DescribeServicesCommand({ cluster: clusterArn, services: [serviceName] })))
    .services?.[0];
  if (!service?.taskDefinition) throw new RestoreDeployError(`service ${serviceName} not found in ${clusterArn}`);
  const described = await ecs.send(
    new DescribeTaskDefinitionCommand({ taskDefinition: service.taskDefinition, include: ['TAGS'] }),
  );
  if (!described.taskDefinition) throw new RestoreDeployError(`task definition ${service.taskDefinition} not found`);
  const registered = await ecs.send(
    new RegisterTaskDefinitionCommand(revisionWithImage(described.taskDefinition, image, described.tags)),
  );
  const arn = registered.taskDefinition?.taskDefinitionArn;
  if (!arn) throw new RestoreDeployError('RegisterTaskDefinition returned no task definition');
  await ecs.send(
    new UpdateServiceCommand({
      cluster: clusterArn,
      service: serviceName,
      taskDefinition: arn,
      forceNewDeployment: true,
      ...(networkConfiguration ? { networkConfiguration } : {}),
    }),
  );
  return arn;
}

export interface HealthWait {
  readonly healthy: boolean;
  /** The new tasks' targets and their states at the end. */
  readonly targets: readonly { readonly ip: string; readonly state: string }[];
  readonly reason: string;
}

/**
 * Waits (bounded) until every running task of the new task definition is a healthy target
 * of the site's target group. `sleep` is injected: real time in Lambda, the model's clock in
 * tests. Never throws for a timeout: it says why, so the caller can leave the site contained.
 */
export async function waitForHealthyTargets(
  ecs: ECSClient,
  elbv2: ElasticLoadBalancingV2Client,
  options: {
    readonly clusterArn: string;
    readonly serviceName: string;
    readonly taskDefinitionArn: string;
    readonly targetGroupArn: string;
    readonly timeoutMs: number;
    readonly pollMs: number;
    readonly sleep: (ms: number) => Promise<void>;
  },
): Promise<HealthWait> {
  let waited = 0;
  let targets: { ip: string; state: string }[] = [];
  for (;;) {
    const arns =
      (
        await ecs.send(
          new ListTasksCommand({
            cluster: options.clusterArn,
            serviceName: options.serviceName,
            desiredStatus: 'RUNNING',
          }),
        )
      ).taskArns ?? [];
    const tasks = arns.length
      ? ((await ecs.send(new DescribeTasksCommand({ cluster: options.clusterArn, tasks: arns }))).tasks ?? [])
      : [];
    const fresh = tasks.filter((t) => t.taskDefinitionArn === options.taskDefinitionArn && t.lastStatus === 'RUNNING');
    const ips = fresh.flatMap((t) =>
      (t.attachments ?? []).flatMap((a) =>
        (a.details ?? []).filter((d) => d.name === 'privateIPv4Address').map((d) => d.value as string),
      ),
    );
    const health =
      (await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: options.targetGroupArn })))
        .TargetHealthDescriptions ?? [];
    targets = ips.map((ip) => ({
      ip,
      state: health.find((h) => h.Target?.Id === ip)?.TargetHealth?.State ?? 'not registered',
    }));
    if (targets.length > 0 && targets.every((t) => t.state === 'healthy')) {
      return {
        healthy: true,
        targets,
        reason: `${targets.length} new task(s) healthy after ${Math.round(waited / 1000)} s`,
      };
    }
    if (waited >= options.timeoutMs) {
      return {
        healthy: false,
        targets,
        reason: `new tasks not healthy after ${Math.round(options.timeoutMs / 1000)} s (${targets.map((t) => `${t.ip}: ${t.state}`).join(', ') || 'no running task of the new revision'})`,
      };
    }
    await options.sleep(options.pollMs);
    waited += options.pollMs;
  }
}
