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
  type UpdateServiceCommandInput,
  type UpdateServiceCommandOutput,
} from '@aws-sdk/client-ecs';
import { RestoreDeployError } from './errors';

export { RestoreDeployError };

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

/** A deployment a restore started: the revision it runs and the deployment to wait on. */
export interface StartedDeployment {
  readonly taskDefinitionArn: string;
  readonly deploymentId: string;
}

/**
 * The PRIMARY deployment in UpdateService's own answer ("The full description of your service
 * following the update call"). A DescribeServices right after may still show the previous
 * one: "The Amazon ECS API follows an eventual consistency model ... the result of an API
 * command you run that affects your Amazon ECS resources might not be immediately visible to
 * all subsequent commands you run."
 */
export function startedDeploymentId(output: UpdateServiceCommandOutput, serviceName: string): string {
  const id = output.service?.deployments?.find((d) => d.status === 'PRIMARY')?.id;
  if (!id) throw new RestoreDeployError(`UpdateService of ${serviceName} answered no primary deployment`);
  return id;
}

/**
 * Registers the known-good revision of the site's current task definition and starts a new
 * deployment of the service on it (in `networkConfiguration` when given, with the
 * `serviceUpdate` fields too). Returns the new task definition and the deployment started.
 */
export async function deployImage(
  ecs: ECSClient,
  clusterArn: string,
  serviceName: string,
  image: string,
  networkConfiguration?: NetworkConfiguration,
  serviceUpdate: Pick<UpdateServiceCommandInput, 'desiredCount' | 'deploymentConfiguration'> = {},
): Promise<StartedDeployment> {
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
  const updated = await ecs.send(
    new UpdateServiceCommand({
      cluster: clusterArn,
      service: serviceName,
      taskDefinition: arn,
      forceNewDeployment: true,
      ...(networkConfiguration ? { networkConfiguration } : {}),
      ...serviceUpdate,
    }),
  );
  return { taskDefinitionArn: arn, deploymentId: startedDeploymentId(updated, serviceName) };
}

/** A task's private IP, from its network-interface attachment. */
export function taskIp(attachments: { details?: { name?: string; value?: string }[] }[] | undefined): string {
  return (attachments ?? []).flatMap((a) => a.details ?? []).find((d) => d.name === 'privateIPv4Address')?.value ?? '';
}

export interface DeploymentHealth {
  /** The deployment's running tasks' targets and their states. */
  readonly targets: readonly { readonly ip: string; readonly state: string }[];
  readonly healthyCount: number;
  /** `ip: state, ...`, or a sentence when the deployment has no running task. */
  readonly listing: string;
}

/**
 * One look at a deployment's running tasks (ECS sets `startedBy` to the deployment id) as
 * targets of the site's target group. Callers poll it (the workflow waits between looks).
 */
export async function deploymentHealth(
  ecs: ECSClient,
  elbv2: ElasticLoadBalancingV2Client,
  options: {
    readonly clusterArn: string;
    readonly serviceName: string;
    readonly deploymentId: string;
    readonly targetGroupArn: string;
  },
): Promise<DeploymentHealth> {
  const [listed, described] = await Promise.all([
    ecs.send(
      new ListTasksCommand({ cluster: options.clusterArn, serviceName: options.serviceName, desiredStatus: 'RUNNING' }),
    ),
    elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: options.targetGroupArn })),
  ]);
  const arns = listed.taskArns ?? [];
  const tasks = arns.length
    ? ((await ecs.send(new DescribeTasksCommand({ cluster: options.clusterArn, tasks: arns }))).tasks ?? [])
    : [];
  const health = described.TargetHealthDescriptions ?? [];
  const targets = tasks
    .filter((t) => t.startedBy === options.deploymentId && t.lastStatus === 'RUNNING')
    .map((t) => {
      const ip = taskIp(t.attachments);
      return { ip, state: health.find((h) => h.Target?.Id === ip)?.TargetHealth?.State ?? 'not registered' };
    });
  return {
    targets,
    healthyCount: targets.filter((t) => t.state === 'healthy').length,
    listing: targets.map((t) => `${t.ip}: ${t.state}`).join(', ') || 'no running task of the new deployment',
  };
}
