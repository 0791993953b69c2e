import { createHash } from 'node:crypto';
import type {
  ContainerDefinition,
  CreateServiceCommandInput,
  CreateServiceCommandOutput,
  DescribeClustersCommandInput,
  DescribeClustersCommandOutput,
  DescribeServicesCommandInput,
  DescribeServicesCommandOutput,
  DescribeTaskDefinitionCommandInput,
  DescribeTaskDefinitionCommandOutput,
  DescribeTasksCommandInput,
  DescribeTasksCommandOutput,
  Failure,
  ListServicesCommandInput,
  ListServicesCommandOutput,
  ListTagsForResourceCommandInput,
  ListTagsForResourceCommandOutput,
  ListTaskDefinitionsCommandInput,
  ListTaskDefinitionsCommandOutput,
  ListTasksCommandInput,
  ListTasksCommandOutput,
  LoadBalancer,
  NetworkConfiguration,
  PropagateTags,
  RegisterTaskDefinitionCommandInput,
  RegisterTaskDefinitionCommandOutput,
  Service,
  StopTaskCommandInput,
  StopTaskCommandOutput,
  Tag,
  TagResourceCommandInput,
  TagResourceCommandOutput,
  Task,
  TaskDefinition,
  UntagResourceCommandInput,
  UntagResourceCommandOutput,
  UpdateServiceCommandInput,
  UpdateServiceCommandOutput,
  UpdateTaskProtectionCommandInput,
  UpdateTaskProtectionCommandOutput,
  GetTaskProtectionCommandInput,
  GetTaskProtectionCommandOutput,
  ProtectedTask,
} from '@aws-sdk/client-ecs';
import { type Handler, type Out, ServiceModel } from '../service-model';
import { paginate } from '../util/pagination';
import { schedule } from './scheduler';
import type {
  AppHealth,
  ClusterRecord,
  DeploymentRecord,
  EcsState,
  ServiceRecord,
  TaskDefinitionRecord,
  TaskRecord,
} from './types';

/** Virtual durations of a Fargate task's lifecycle steps. */
export interface EcsTimings {
  /** PROVISIONING → PENDING (network interface attached). */
  provisioningMs: number;
  /** PENDING → RUNNING (image pull and start). */
  pendingMs: number;
  /** STOPPING → DEPROVISIONING (containers get SIGTERM and exit). */
  stoppingMs: number;
  /** DEPROVISIONING → STOPPED (interface detached and deleted). */
  deprovisioningMs: number;
  /** How long STOPPED tasks stay visible ("at least one hour"). */
  stoppedRetentionMs: number;
}

/** The account id ECS's managed interfaces name as requester. */
const ECS_REQUESTER_ID = '578734482556';

/**
 * Elastic Container Service on Fargate: clusters, task definitions, services with
 * deployments and events, and tasks with their network interfaces. The service scheduler
 * (see scheduler.ts) runs on the model's clock.
 */
export class EcsModel extends ServiceModel<EcsState> {
  readonly service = 'ECS' as const;
  timings: EcsTimings = {
    provisioningMs: 5_000,
    pendingMs: 10_000,
    stoppingMs: 2_000,
    deprovisioningMs: 3_000,
    stoppedRetentionMs: 3_600_000,
  };
  /** Tasks started during the current scheduler step, per service (for batched events). */
  pendingEvents = new Map<string, { started: string[]; stopped: string[] }>();

  protected initialState(): EcsState {
    return { clusters: {}, taskDefinitions: {}, services: {}, tasks: {}, appHealth: {}, imageDigests: {} };
  }

  handlers(): Record<string, Handler> {
    return {
      DescribeClusters: (i: DescribeClustersCommandInput) => this.describeClusters(i),
      ListServices: (i: ListServicesCommandInput) => this.listServices(i),
      DescribeServices: (i: DescribeServicesCommandInput) => this.describeServices(i),
      CreateService: (i: CreateServiceCommandInput) => this.createServiceCommand(i),
      UpdateService: (i: UpdateServiceCommandInput) => this.updateService(i),
      ListTasks: (i: ListTasksCommandInput) => this.listTasks(i),
      DescribeTasks: (i: DescribeTasksCommandInput) => this.describeTasks(i),
      StopTask: (i: StopTaskCommandInput) => this.stopTaskCommand(i),
      UpdateTaskProtection: (i: UpdateTaskProtectionCommandInput) => this.updateTaskProtection(i),
      GetTaskProtection: (i: GetTaskProtectionCommandInput) => this.getTaskProtection(i),
      DescribeTaskDefinition: (i: DescribeTaskDefinitionCommandInput) => this.describeTaskDefinition(i),
      RegisterTaskDefinition: (i: RegisterTaskDefinitionCommandInput) => this.registerTaskDefinitionCommand(i),
      ListTaskDefinitions: (i: ListTaskDefinitionsCommandInput) => this.listTaskDefinitions(i),
      ListTagsForResource: (i: ListTagsForResourceCommandInput) => this.listTagsForResource(i),
      TagResource: (i: TagResourceCommandInput) => this.tagResource(i),
      UntagResource: (i: UntagResourceCommandInput) => this.untagResource(i),
    };
  }

  /** Runs one scheduler step at the current virtual time (the model calls this). */
  schedule(): void {
    schedule(this.model);
  }

  // ---- seeding and test helpers -------------------------------------------------

  createCluster(options: { name: string; tags?: Tag[] }): ClusterRecord {
    const cluster: ClusterRecord = {
      clusterArn: this.arn('ecs', `cluster/${options.name}`),
      clusterName: options.name,
      tags: options.tags ?? [],
    };
    this.state.clusters[cluster.clusterArn] = cluster;
    return cluster;
  }

  /** Registers the next revision of a family (what RegisterTaskDefinition does). */
  registerTaskDefinition(options: {
    family: string;
    containerDefinitions: ContainerDefinition[];
    taskRoleArn?: string;
    executionRoleArn?: string;
    cpu?: string;
    memory?: string;
    tags?: Tag[];
  }): TaskDefinitionRecord {
    const revision =
      Object.values(this.state.taskDefinitions)
        .filter((t) => t.family === options.family)
        .reduce((max, t) => Math.max(max, t.revision), 0) + 1;
    const td: TaskDefinitionRecord = {
      taskDefinitionArn: this.arn('ecs', `task-definition/${options.family}:${revision}`),
      family: options.family,
      revision,
      status: 'ACTIVE',
      containerDefinitions: options.containerDefinitions,
      taskRoleArn: options.taskRoleArn,
      executionRoleArn: options.executionRoleArn,
      cpu: options.cpu ?? '256',
      memory: options.memory ?? '512',
      registeredAt: this.now,
      tags: options.tags ?? [],
    };
    this.state.taskDefinitions[td.taskDefinitionArn] = td;
    return td;
  }

  /** Creates a service; with `running: true` its tasks start RUNNING, registered and healthy. */
  createService(options: {
    cluster: string;
    name: string;
    taskDefinition: string;
    desiredCount: number;
    subnets: string[];
    securityGroups: string[];
    loadBalancers?: LoadBalancer[];
    propagateTags?: PropagateTags;
    enableECSManagedTags?: boolean;
    healthCheckGracePeriodSeconds?: number;
    maximumPercent?: number;
    minimumHealthyPercent?: number;
    /** The deployment circuit breaker. @default off */
    circuitBreaker?: { enable: boolean; rollback: boolean };
    tags?: Tag[];
    running?: boolean;
  }): ServiceRecord {
    const cluster = this.resolveCluster(options.cluster);
    const td = this.resolveTaskDefinition(options.taskDefinition);
    if (!td) throw new Error(`aws-model: no task definition ${options.taskDefinition}`);
    const networkConfiguration: NetworkConfiguration = {
      awsvpcConfiguration: {
        subnets: [...options.subnets],
        securityGroups: [...options.securityGroups],
        assignPublicIp: 'DISABLED',
      },
    };
    const service: ServiceRecord = {
      serviceArn: this.arn('ecs', `service/${cluster.clusterName}/${options.name}`),
      serviceName: options.name,
      clusterArn: cluster.clusterArn,
      status: 'ACTIVE',
      desiredCount: options.desiredCount,
      taskDefinition: td.taskDefinitionArn,
      platformVersion: 'LATEST',
      loadBalancers: options.loadBalancers ?? [],
      networkConfiguration,
      propagateTags: options.propagateTags ?? 'NONE',
      enableECSManagedTags: options.enableECSManagedTags ?? false,
      healthCheckGracePeriodSeconds: options.healthCheckGracePeriodSeconds ?? 0,
      deploymentConfiguration: {
        maximumPercent: options.maximumPercent ?? 200,
        minimumHealthyPercent: options.minimumHealthyPercent ?? 100,
        deploymentCircuitBreaker: options.circuitBreaker ?? { enable: false, rollback: false },
      },
      deployments: [],
      events: [],
      createdAt: this.now,
      tags: options.tags ?? [],
      steady: false,
    };
    this.state.services[service.serviceArn] = service;
    const deployment = this.newDeployment(service);
    if (options.running) {
      for (let i = 0; i < service.desiredCount; i++) this.launchTask(service, deployment, { running: true });
      deployment.rolloutState = 'COMPLETED';
      deployment.rolloutStateReason = `ECS deployment ${deployment.id} completed.`;
      service.lastCompleted = {
        id: deployment.id,
        taskDefinition: deployment.taskDefinition,
        networkConfiguration: structuredClone(deployment.networkConfiguration),
      };
    }
    return service;
  }

  /** What a task's application answers to load balancer health checks. */
  setAppHealth(taskArn: string, health: AppHealth): void {
    this.state.appHealth[taskArn] = health;
  }

  appHealth(taskArn: string): AppHealth {
    return this.state.appHealth[taskArn] ?? 'ok';
  }

  /** The digest ECS reports for an image given by tag. */
  setImageDigest(image: string, digest: string): void {
    this.state.imageDigests[image] = digest;
  }

  taskByInterface(networkInterfaceId: string): TaskRecord | undefined {
    return Object.values(this.state.tasks).find((t) => t.networkInterfaceId === networkInterfaceId);
  }

  /** Tasks of a service (by ARN or name), optionally by desired status. */
  tasksOf(service: string, desiredStatus?: 'RUNNING' | 'STOPPED'): TaskRecord[] {
    const svc =
      this.state.services[service] ?? Object.values(this.state.services).find((s) => s.serviceName === service);
    if (!svc) return [];
    return Object.values(this.state.tasks).filter(
      (t) => t.serviceArn === svc.serviceArn && (desiredStatus === undefined || t.desiredStatus === desiredStatus),
    );
  }

  /** Tasks of a service whose last status is RUNNING. */
  runningTasks(service: string): TaskRecord[] {
    return this.tasksOf(service).filter((t) => t.lastStatus === 'RUNNING');
  }

  /** Adds a service event (newest first, at most 100 kept). */
  addEvent(service: ServiceRecord, message: string): void {
    service.events.unshift({ id: this.model.ids.uuid(), createdAt: this.now, message });
    if (service.events.length > 100) service.events.length = 100;
  }

  newDeployment(service: ServiceRecord): DeploymentRecord {
    for (const d of service.deployments) d.status = 'ACTIVE';
    const deployment: DeploymentRecord = {
      id: `ecs-svc/${this.model.ids.digits(19)}`,
      status: 'PRIMARY',
      taskDefinition: service.taskDefinition,
      desiredCount: service.desiredCount,
      failedTasks: 0,
      createdAt: this.now,
      updatedAt: this.now,
      rolloutState: 'IN_PROGRESS',
      rolloutStateReason: '',
      networkConfiguration: structuredClone(service.networkConfiguration),
    };
    deployment.rolloutStateReason = `ECS deployment ${deployment.id} in progress.`;
    service.deployments.unshift(deployment);
    service.steady = false;
    return deployment;
  }

  /**
   * Starts a task for a deployment: a network interface in the next subnet (spreading over
   * AZs) with the deployment's security groups, tags propagated as the service says.
   */
  launchTask(service: ServiceRecord, deployment: DeploymentRecord, options: { running?: boolean } = {}): TaskRecord {
    const td = this.resolveTaskDefinition(deployment.taskDefinition);
    if (!td) throw new Error(`aws-model: no task definition ${deployment.taskDefinition}`);
    const cluster = this.state.clusters[service.clusterArn];
    const clusterName = cluster?.clusterName ?? 'default';
    const vpcConfig = deployment.networkConfiguration.awsvpcConfiguration;
    const subnets = vpcConfig?.subnets ?? [];
    const existing = Object.values(this.state.tasks).filter(
      (t) => t.serviceArn === service.serviceArn && t.desiredStatus === 'RUNNING',
    );
    const subnetId =
      [...subnets].sort(
        (a, b) => existing.filter((t) => t.subnetId === a).length - existing.filter((t) => t.subnetId === b).length,
      )[0] ?? '';
    const taskId = this.model.ids.hex(32);
    const attachmentId = this.model.ids.uuid();
    const eni = this.model.ec2.createNetworkInterface({
      subnetId,
      groups: vpcConfig?.securityGroups ?? [],
      description: `arn:aws:ecs:${this.region}:${this.accountId}:attachment/${attachmentId}`,
      requesterId: ECS_REQUESTER_ID,
      requesterManaged: true,
      attachmentId: `ela-attach-${this.model.ids.hex(8)}`,
    });
    const taskArn = this.arn('ecs', `task/${clusterName}/${taskId}`);
    const tags: Tag[] = [];
    if (service.enableECSManagedTags) {
      tags.push(
        { key: 'aws:ecs:clusterName', value: clusterName },
        { key: 'aws:ecs:serviceName', value: service.serviceName },
      );
    }
    if (service.propagateTags === 'SERVICE') tags.push(...service.tags.map((t) => ({ ...t })));
    if (service.propagateTags === 'TASK_DEFINITION') tags.push(...td.tags.map((t) => ({ ...t })));
    const task: TaskRecord = {
      taskArn,
      clusterArn: service.clusterArn,
      taskDefinitionArn: td.taskDefinitionArn,
      serviceArn: service.serviceArn,
      deploymentId: deployment.id,
      group: `service:${service.serviceName}`,
      startedBy: deployment.id,
      lastStatus: 'PROVISIONING',
      desiredStatus: 'RUNNING',
      createdAt: this.now,
      availabilityZone: eni.AvailabilityZone,
      cpu: td.cpu,
      memory: td.memory,
      attachmentId,
      networkInterfaceId: eni.NetworkInterfaceId,
      subnetId,
      privateIp: eni.PrivateIpAddress,
      macAddress: eni.MacAddress,
      containers: td.containerDefinitions.map((c) => ({
        containerArn: this.arn('ecs', `container/${clusterName}/${taskId}/${this.model.ids.uuid()}`),
        name: c.name ?? 'app',
        image: c.image ?? '',
        imageDigest: this.digestOf(c.image ?? ''),
        runtimeId: `${taskId}-${this.model.ids.digits(10)}`,
        cpu: String(c.cpu ?? 0),
        memory: c.memory !== undefined ? String(c.memory) : undefined,
      })),
      tags,
      version: 1,
      registrations: [],
      nextStepAt: this.now + this.timings.provisioningMs,
    };
    this.state.tasks[taskArn] = task;
    this.noteEvent(service.serviceArn, 'started', taskId);
    if (options.running) {
      task.lastStatus = 'RUNNING';
      task.connectivityAt = this.now;
      task.pullStartedAt = this.now;
      task.pullStoppedAt = this.now;
      task.startedAt = this.now;
      this.registerTargets(task, { healthy: true });
    }
    return task;
  }

  /** Registers a RUNNING service task in its service's target groups. */
  registerTargets(task: TaskRecord, options: { healthy?: boolean } = {}): void {
    const service = task.serviceArn ? this.state.services[task.serviceArn] : undefined;
    if (!service) return;
    for (const lb of service.loadBalancers) {
      if (!lb.targetGroupArn || lb.containerPort === undefined) continue;
      this.model.elbv2.register(lb.targetGroupArn, task.privateIp, lb.containerPort);
      if (options.healthy) this.model.elbv2.markHealthy(lb.targetGroupArn, task.privateIp, lb.containerPort);
      task.registrations.push({ targetGroupArn: lb.targetGroupArn, port: lb.containerPort });
      this.addEvent(
        service,
        `(service ${service.serviceName}) registered 1 targets in (target-group ${lb.targetGroupArn})`,
      );
    }
  }

  /** Asks a task to stop (ECS deregisters it from its target groups first). */
  stopTask(task: TaskRecord, reason: string, stopCode: NonNullable<TaskRecord['stopCode']>): void {
    if (task.desiredStatus === 'STOPPED') return;
    task.desiredStatus = 'STOPPED';
    task.stoppingAt = this.now;
    task.stoppedReason = reason;
    task.stopCode = stopCode;
    task.version++;
    if (task.lastStatus === 'RUNNING' || task.lastStatus === 'ACTIVATING') {
      task.lastStatus = 'DEACTIVATING';
      for (const r of task.registrations) this.model.elbv2.deregister(r.targetGroupArn, task.privateIp, r.port);
    } else if (task.lastStatus !== 'STOPPED') {
      task.lastStatus = 'DEPROVISIONING';
      task.nextStepAt = this.now + this.timings.deprovisioningMs;
    }
    if (task.serviceArn) this.noteEvent(task.serviceArn, 'stopped', task.taskArn.split('/').pop() ?? '');
  }

  noteEvent(serviceArn: string, kind: 'started' | 'stopped', taskId: string): void {
    let entry = this.pendingEvents.get(serviceArn);
    if (!entry) {
      entry = { started: [], stopped: [] };
      this.pendingEvents.set(serviceArn, entry);
    }
    entry[kind].push(taskId);
  }

  /** Writes the batched "has started/stopped N tasks" events of this step. */
  flushEvents(): void {
    for (const [arn, entry] of this.pendingEvents) {
      const service = this.state.services[arn];
      if (!service) continue;
      if (entry.stopped.length) {
        this.addEvent(
          service,
          `(service ${service.serviceName}) has stopped ${entry.stopped.length} running tasks: ${entry.stopped.map((id) => `(task ${id})`).join(' ')}.`,
        );
      }
      if (entry.started.length) {
        this.addEvent(
          service,
          `(service ${service.serviceName}) has started ${entry.started.length} tasks: ${entry.started.map((id) => `(task ${id})`).join(' ')}.`,
        );
      }
    }
    this.pendingEvents.clear();
  }

  override resetState(): void {
    super.resetState();
    this.pendingEvents.clear();
  }

  private digestOf(image: string): string {
    const pinned = /@(sha256:[0-9a-f]{64})$/.exec(image);
    if (pinned?.[1]) return pinned[1];
    return this.state.imageDigests[image] ?? `sha256:${createHash('sha256').update(image).digest('hex')}`;
  }

  // ---- resolution -----------------------------------------------------------------

  resolveCluster(cluster: string | undefined): ClusterRecord {
    const key = cluster ?? 'default';
    const found = this.state.clusters[key] ?? Object.values(this.state.clusters).find((c) => c.clusterName === key);
    if (!found) this.fail('ClusterNotFoundException', 'Cluster not found.');
    return found;
  }

  private findService(cluster: ClusterRecord, service: string | undefined): ServiceRecord | undefined {
    if (!service) return undefined;
    return (
      this.state.services[service] ??
      Object.values(this.state.services).find((s) => s.clusterArn === cluster.clusterArn && s.serviceName === service)
    );
  }

  /** A task definition by `family`, `family:revision` or ARN (family alone: latest ACTIVE). */
  resolveTaskDefinition(ref: string | undefined): TaskDefinitionRecord | undefined {
    if (!ref) return undefined;
    const all = Object.values(this.state.taskDefinitions);
    if (ref.startsWith('arn:')) return this.state.taskDefinitions[ref];
    const [family, revision] = ref.split(':');
    const candidates = all.filter((t) => t.family === family);
    if (revision !== undefined) return candidates.find((t) => t.revision === Number(revision));
    return candidates.filter((t) => t.status === 'ACTIVE').sort((a, b) => b.revision - a.revision)[0];
  }

  private findTask(cluster: ClusterRecord, ref: string): TaskRecord | undefined {
    if (ref.startsWith('arn:')) {
      const task = this.state.tasks[ref];
      return task?.clusterArn === cluster.clusterArn ? task : undefined;
    }
    return Object.values(this.state.tasks).find(
      (t) => t.clusterArn === cluster.clusterArn && t.taskArn.endsWith(`/${ref}`),
    );
  }

  // ---- output shapes ----------------------------------------------------------------

  toTask(task: TaskRecord, withTags: boolean): Task {
    const stopped = task.lastStatus === 'STOPPED';
    const date = (ms?: number) => (ms === undefined ? undefined : new Date(ms));
    return {
      taskArn: task.taskArn,
      clusterArn: task.clusterArn,
      taskDefinitionArn: task.taskDefinitionArn,
      group: task.group,
      startedBy: task.startedBy,
      lastStatus: task.lastStatus,
      desiredStatus: task.desiredStatus,
      launchType: 'FARGATE',
      platformVersion: '1.4.0',
      platformFamily: 'Linux',
      availabilityZone: task.availabilityZone,
      cpu: task.cpu,
      memory: task.memory,
      connectivity: task.connectivityAt !== undefined && !stopped ? 'CONNECTED' : undefined,
      connectivityAt: date(task.connectivityAt),
      createdAt: date(task.createdAt),
      pullStartedAt: date(task.pullStartedAt),
      pullStoppedAt: date(task.pullStoppedAt),
      startedAt: date(task.startedAt),
      stoppingAt: date(task.stoppingAt),
      executionStoppedAt: date(task.executionStoppedAt),
      stoppedAt: date(task.stoppedAt),
      stoppedReason: task.stoppedReason,
      stopCode: task.stopCode,
      healthStatus: 'UNKNOWN',
      enableExecuteCommand: false,
      version: task.version,
      ephemeralStorage: { sizeInGiB: 20 },
      attributes: [{ name: 'ecs.cpu-architecture', value: 'x86_64' }],
      overrides: {
        containerOverrides: task.containers.map((c) => ({ name: c.name })),
        inferenceAcceleratorOverrides: [],
      },
      attachments: [
        {
          id: task.attachmentId,
          type: 'ElasticNetworkInterface',
          status: stopped ? 'DELETED' : task.lastStatus === 'PROVISIONING' ? 'PRECREATED' : 'ATTACHED',
          details: [
            { name: 'subnetId', value: task.subnetId },
            { name: 'networkInterfaceId', value: task.networkInterfaceId },
            { name: 'macAddress', value: task.macAddress },
            {
              name: 'privateDnsName',
              value: `ip-${task.privateIp.replaceAll('.', '-')}.${this.region}.compute.internal`,
            },
            { name: 'privateIPv4Address', value: task.privateIp },
          ],
        },
      ],
      containers: task.containers.map((c) => ({
        containerArn: c.containerArn,
        taskArn: task.taskArn,
        name: c.name,
        image: c.image,
        imageDigest: task.pullStoppedAt !== undefined ? c.imageDigest : undefined,
        runtimeId: task.startedAt !== undefined ? c.runtimeId : undefined,
        lastStatus: stopped ? 'STOPPED' : task.lastStatus === 'RUNNING' ? 'RUNNING' : 'PENDING',
        networkBindings: [],
        networkInterfaces: [{ attachmentId: task.attachmentId, privateIpv4Address: task.privateIp }],
        healthStatus: 'UNKNOWN',
        cpu: c.cpu,
        memory: c.memory,
      })),
      tags: withTags ? task.tags.map((t) => ({ ...t })) : undefined,
    };
  }

  private counts(tasks: TaskRecord[]) {
    return {
      runningCount: tasks.filter((t) => t.lastStatus === 'RUNNING').length,
      pendingCount: tasks.filter((t) => ['PROVISIONING', 'PENDING', 'ACTIVATING'].includes(t.lastStatus)).length,
    };
  }

  toService(service: ServiceRecord, withTags: boolean): Service {
    const tasks = Object.values(this.state.tasks).filter((t) => t.serviceArn === service.serviceArn);
    return {
      serviceArn: service.serviceArn,
      serviceName: service.serviceName,
      clusterArn: service.clusterArn,
      loadBalancers: service.loadBalancers.map((lb) => ({ ...lb })),
      serviceRegistries: [],
      status: service.status,
      desiredCount: service.desiredCount,
      ...this.counts(tasks),
      launchType: 'FARGATE',
      platformVersion: service.platformVersion,
      platformFamily: 'Linux',
      taskDefinition: service.taskDefinition,
      deploymentConfiguration: structuredClone(service.deploymentConfiguration),
      deployments: service.deployments.map((d) => ({
        id: d.id,
        status: d.status,
        taskDefinition: d.taskDefinition,
        desiredCount: d.desiredCount,
        ...this.counts(tasks.filter((t) => t.deploymentId === d.id)),
        failedTasks: d.failedTasks,
        createdAt: new Date(d.createdAt),
        updatedAt: new Date(d.updatedAt),
        launchType: 'FARGATE',
        platformVersion: '1.4.0',
        platformFamily: 'Linux',
        networkConfiguration: structuredClone(d.networkConfiguration),
        rolloutState: d.rolloutState,
        rolloutStateReason: d.rolloutStateReason,
      })),
      events: service.events.map((e) => ({ id: e.id, createdAt: new Date(e.createdAt), message: e.message })),
      createdAt: new Date(service.createdAt),
      placementConstraints: [],
      placementStrategy: [],
      networkConfiguration: structuredClone(service.networkConfiguration),
      healthCheckGracePeriodSeconds: service.loadBalancers.length ? service.healthCheckGracePeriodSeconds : undefined,
      schedulingStrategy: 'REPLICA',
      deploymentController: { type: 'ECS' },
      enableECSManagedTags: service.enableECSManagedTags,
      propagateTags: service.propagateTags,
      enableExecuteCommand: false,
      tags: withTags ? service.tags.map((t) => ({ ...t })) : undefined,
    };
  }

  private toTaskDefinition(td: TaskDefinitionRecord): TaskDefinition {
    return {
      taskDefinitionArn: td.taskDefinitionArn,
      family: td.family,
      revision: td.revision,
      status: td.status,
      containerDefinitions: structuredClone(td.containerDefinitions),
      taskRoleArn: td.taskRoleArn,
      executionRoleArn: td.executionRoleArn,
      networkMode: 'awsvpc',
      cpu: td.cpu,
      memory: td.memory,
      requiresCompatibilities: ['FARGATE'],
      compatibilities: ['EC2', 'FARGATE'],
      volumes: [],
      placementConstraints: [],
      requiresAttributes: [],
      registeredAt: new Date(td.registeredAt),
    };
  }

  // ---- commands --------------------------------------------------------------------

  private describeClusters(input: DescribeClustersCommandInput): Out<DescribeClustersCommandOutput> {
    const refs = input.clusters?.length ? input.clusters : ['default'];
    const clusters = [];
    const failures: Failure[] = [];
    for (const ref of refs) {
      const c = this.state.clusters[ref] ?? Object.values(this.state.clusters).find((x) => x.clusterName === ref);
      if (!c) {
        failures.push({ arn: ref.startsWith('arn:') ? ref : this.arn('ecs', `cluster/${ref}`), reason: 'MISSING' });
        continue;
      }
      const tasks = Object.values(this.state.tasks).filter((t) => t.clusterArn === c.clusterArn);
      clusters.push({
        clusterArn: c.clusterArn,
        clusterName: c.clusterName,
        status: 'ACTIVE',
        runningTasksCount: tasks.filter((t) => t.lastStatus === 'RUNNING').length,
        pendingTasksCount: tasks.filter((t) => ['PROVISIONING', 'PENDING'].includes(t.lastStatus)).length,
        activeServicesCount: Object.values(this.state.services).filter(
          (s) => s.clusterArn === c.clusterArn && s.status === 'ACTIVE',
        ).length,
        registeredContainerInstancesCount: 0,
        tags: input.include?.includes('TAGS') ? c.tags.map((t) => ({ ...t })) : undefined,
      });
    }
    return { clusters, failures };
  }

  private listServices(input: ListServicesCommandInput): Out<ListServicesCommandOutput> {
    const cluster = this.resolveCluster(input.cluster);
    const arns = Object.values(this.state.services)
      .filter((s) => s.clusterArn === cluster.clusterArn && s.status !== 'INACTIVE')
      .map((s) => s.serviceArn);
    const page = paginate(arns, input.maxResults, input.nextToken, 10);
    if (!page) return this.fail('InvalidParameterException', 'Invalid nextToken.');
    return { serviceArns: page.items, nextToken: page.nextToken };
  }

  private describeServices(input: DescribeServicesCommandInput): Out<DescribeServicesCommandOutput> {
    const cluster = this.resolveCluster(input.cluster);
    const refs = input.services ?? [];
    if (refs.length === 0 || refs.length > 10) {
      this.fail('InvalidParameterException', 'services must contain between 1 and 10 items.');
    }
    const services: Service[] = [];
    const failures: Failure[] = [];
    for (const ref of refs) {
      const service = this.findService(cluster, ref);
      if (!service) {
        failures.push({
          arn: ref.startsWith('arn:') ? ref : this.arn('ecs', `service/${cluster.clusterName}/${ref}`),
          reason: 'MISSING',
        });
      } else {
        services.push(this.toService(service, input.include?.includes('TAGS') ?? false));
      }
    }
    return { services, failures };
  }

  private createServiceCommand(input: CreateServiceCommandInput): Out<CreateServiceCommandOutput> {
    const cluster = this.resolveCluster(input.cluster);
    const name = input.serviceName ?? '';
    const existing = this.findService(cluster, name);
    if (existing && existing.status !== 'INACTIVE') {
      this.fail('InvalidParameterException', 'Creation of service was not idempotent.');
    }
    if (!this.resolveTaskDefinition(input.taskDefinition)) {
      this.fail('ClientException', 'TaskDefinition not found.');
    }
    const vpc = input.networkConfiguration?.awsvpcConfiguration;
    if (!vpc?.subnets?.length) {
      this.fail(
        'InvalidParameterException',
        "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
      );
    }
    this.checkLoadBalancers(input.loadBalancers ?? []);
    const service = this.createService({
      cluster: cluster.clusterArn,
      name,
      taskDefinition: input.taskDefinition ?? '',
      desiredCount: input.desiredCount ?? 0,
      subnets: vpc.subnets,
      securityGroups: vpc.securityGroups ?? [],
      loadBalancers: input.loadBalancers,
      propagateTags: input.propagateTags,
      enableECSManagedTags: input.enableECSManagedTags,
      healthCheckGracePeriodSeconds: input.healthCheckGracePeriodSeconds,
      maximumPercent: input.deploymentConfiguration?.maximumPercent,
      minimumHealthyPercent: input.deploymentConfiguration?.minimumHealthyPercent,
      circuitBreaker: input.deploymentConfiguration?.deploymentCircuitBreaker
        ? {
            enable: input.deploymentConfiguration.deploymentCircuitBreaker.enable ?? false,
            rollback: input.deploymentConfiguration.deploymentCircuitBreaker.rollback ?? false,
          }
        : undefined,
      tags: input.tags,
    });
    return { service: this.toService(service, false) };
  }

  private checkLoadBalancers(loadBalancers: LoadBalancer[]): void {
    for (const lb of loadBalancers) {
      if (!lb.targetGroupArn || !this.model.elbv2.state.targetGroups[lb.targetGroupArn]) {
        this.fail(
          'InvalidParameterException',
          `Unable to assume role and validate the specified targetGroupArn. Please verify that the ECS service role being passed has the proper permissions.`,
        );
      }
      if (this.model.elbv2.loadBalancersUsing(lb.targetGroupArn).length === 0) {
        this.fail(
          'InvalidParameterException',
          `The target group with targetGroupArn ${lb.targetGroupArn} does not have an associated load balancer.`,
        );
      }
    }
  }

  /**
   * UpdateService. A new task definition, `forceNewDeployment`, new network configuration
   * or new load balancers start a new deployment (the scheduler then replaces the tasks,
   * which is why containment never touches the service). `desiredCount` alone rescales.
   */
  private updateService(input: UpdateServiceCommandInput): Out<UpdateServiceCommandOutput> {
    const cluster = this.resolveCluster(input.cluster);
    const service = this.findService(cluster, input.service);
    if (!service) return this.fail('ServiceNotFoundException', 'Service not found.');
    if (service.status !== 'ACTIVE') this.fail('ServiceNotActiveException', 'Service was not ACTIVE.');
    let redeploy = input.forceNewDeployment ?? false;
    if (input.taskDefinition !== undefined) {
      const td = this.resolveTaskDefinition(input.taskDefinition);
      if (!td) return this.fail('ClientException', 'TaskDefinition not found.');
      if (td.status !== 'ACTIVE') this.fail('ClientException', 'TaskDefinition is inactive');
      if (td.taskDefinitionArn !== service.taskDefinition) redeploy = true;
      service.taskDefinition = td.taskDefinitionArn;
    }
    if (input.desiredCount !== undefined) {
      if (input.desiredCount < 0) this.fail('InvalidParameterException', 'desiredCount must be >= 0');
      service.desiredCount = input.desiredCount;
      const primary = service.deployments.find((d) => d.status === 'PRIMARY');
      if (primary) primary.desiredCount = input.desiredCount;
      service.steady = false;
    }
    if (input.networkConfiguration) {
      if (!input.networkConfiguration.awsvpcConfiguration?.subnets?.length) {
        this.fail('InvalidParameterException', 'subnets can not be empty.');
      }
      service.networkConfiguration = structuredClone(input.networkConfiguration);
      redeploy = true;
    }
    if (input.loadBalancers) {
      this.checkLoadBalancers(input.loadBalancers);
      service.loadBalancers = input.loadBalancers.map((lb) => ({ ...lb }));
      redeploy = true;
    }
    if (input.healthCheckGracePeriodSeconds !== undefined) {
      if (!service.loadBalancers.length) {
        this.fail(
          'InvalidParameterException',
          'Health check grace period is only valid for services configured to use load balancers',
        );
      }
      service.healthCheckGracePeriodSeconds = input.healthCheckGracePeriodSeconds;
    }
    if (input.propagateTags) service.propagateTags = input.propagateTags;
    if (input.enableECSManagedTags !== undefined) service.enableECSManagedTags = input.enableECSManagedTags;
    if (input.deploymentConfiguration) {
      service.deploymentConfiguration = { ...service.deploymentConfiguration, ...input.deploymentConfiguration };
    }
    if (input.platformVersion && input.platformVersion !== service.platformVersion) {
      service.platformVersion = input.platformVersion;
      redeploy = true;
    }
    if (redeploy) this.newDeployment(service);
    return { service: this.toService(service, false) };
  }

  private listTasks(input: ListTasksCommandInput): Out<ListTasksCommandOutput> {
    const cluster = this.resolveCluster(input.cluster);
    let service: ServiceRecord | undefined;
    if (input.serviceName) {
      service = this.findService(cluster, input.serviceName);
      if (!service) this.fail('ServiceNotFoundException', 'Service not found.');
    }
    const desired = input.desiredStatus ?? 'RUNNING';
    const arns = Object.values(this.state.tasks)
      .filter((t) => t.clusterArn === cluster.clusterArn)
      .filter((t) => !service || t.serviceArn === service.serviceArn)
      .filter((t) => (desired === 'PENDING' ? false : t.desiredStatus === desired))
      .filter((t) => !input.family || t.taskDefinitionArn.includes(`:task-definition/${input.family}:`))
      .filter((t) => !input.startedBy || t.startedBy === input.startedBy)
      .map((t) => t.taskArn);
    if (input.maxResults !== undefined && (input.maxResults < 1 || input.maxResults > 100)) {
      this.fail('InvalidParameterException', 'maxResults must be between 1 and 100.');
    }
    const page = paginate(arns, input.maxResults, input.nextToken, 100);
    if (!page) return this.fail('InvalidParameterException', 'Invalid nextToken.');
    return { taskArns: page.items, nextToken: page.nextToken };
  }

  /** DescribeTasks: unknown (or expired) tasks come back in `failures` with reason MISSING. */
  private describeTasks(input: DescribeTasksCommandInput): Out<DescribeTasksCommandOutput> {
    const cluster = this.resolveCluster(input.cluster);
    const refs = input.tasks ?? [];
    if (refs.length === 0 || refs.length > 100) {
      this.fail('InvalidParameterException', 'Tasks cannot be empty.');
    }
    const tasks: Task[] = [];
    const failures: Failure[] = [];
    const withTags = input.include?.includes('TAGS') ?? false;
    for (const ref of refs) {
      const task = this.findTask(cluster, ref);
      if (task) tasks.push(this.toTask(task, withTags));
      else
        failures.push({
          arn: ref.startsWith('arn:') ? ref : this.arn('ecs', `task/${cluster.clusterName}/${ref}`),
          reason: 'MISSING',
        });
    }
    return { tasks, failures };
  }

  /** Whether the task is under scale-in protection now. */
  isProtected(task: TaskRecord): boolean {
    return task.protectedUntil !== undefined && task.protectedUntil > this.now;
  }

  private protection(task: TaskRecord): ProtectedTask {
    const on = this.isProtected(task);
    return {
      taskArn: task.taskArn,
      protectionEnabled: on,
      ...(on ? { expirationDate: new Date(task.protectedUntil as number) } : {}),
    };
  }

  /**
   * As ECS documents: 1 to 2,880 minutes (default 120), at most 10 tasks per call, only tasks
   * that belong to a service (others are failures `TASK_NOT_VALID`), a stopped task is
   * `MISSING`; protected tasks are not stopped by deployments or scale-in.
   */
  private updateTaskProtection(input: UpdateTaskProtectionCommandInput): Out<UpdateTaskProtectionCommandOutput> {
    const cluster = this.resolveCluster(input.cluster);
    const refs = input.tasks ?? [];
    if (refs.length === 0 || refs.length > 10) this.fail('InvalidParameterException', 'tasks must list 1 to 10 tasks.');
    if (input.protectionEnabled === undefined) this.fail('InvalidParameterException', 'protectionEnabled is required.');
    const minutes = input.expiresInMinutes ?? 120;
    if (input.protectionEnabled && (!Number.isInteger(minutes) || minutes < 1 || minutes > 2880)) {
      this.fail('InvalidParameterException', 'expiresInMinutes must be between 1 and 2880.');
    }
    const protectedTasks: ProtectedTask[] = [];
    const failures: Failure[] = [];
    for (const ref of refs) {
      const task = this.findTask(cluster, ref);
      if (!task || task.desiredStatus === 'STOPPED') {
        failures.push({ arn: ref, reason: 'MISSING' });
        continue;
      }
      if (!task.serviceArn) {
        failures.push({ arn: task.taskArn, reason: 'TASK_NOT_VALID', detail: 'The task is not part of a service.' });
        continue;
      }
      task.protectedUntil = input.protectionEnabled ? this.now + minutes * 60_000 : undefined;
      protectedTasks.push(this.protection(task));
    }
    return { protectedTasks, failures };
  }

  private getTaskProtection(input: GetTaskProtectionCommandInput): Out<GetTaskProtectionCommandOutput> {
    const cluster = this.resolveCluster(input.cluster);
    const protectedTasks: ProtectedTask[] = [];
    const failures: Failure[] = [];
    for (const ref of input.tasks ?? []) {
      const task = this.findTask(cluster, ref);
      if (!task) failures.push({ arn: ref, reason: 'MISSING' });
      else protectedTasks.push(this.protection(task));
    }
    return { protectedTasks, failures };
  }

  private stopTaskCommand(input: StopTaskCommandInput): Out<StopTaskCommandOutput> {
    const cluster = this.resolveCluster(input.cluster);
    const task = this.findTask(cluster, input.task ?? '');
    if (!task) return this.fail('InvalidParameterException', 'The referenced task was not found.');
    this.stopTask(task, input.reason ?? 'Task stopped by user', 'UserInitiated');
    return { task: this.toTask(task, false) };
  }

  private describeTaskDefinition(input: DescribeTaskDefinitionCommandInput): Out<DescribeTaskDefinitionCommandOutput> {
    const td = this.resolveTaskDefinition(input.taskDefinition);
    if (!td) return this.fail('ClientException', 'Unable to describe task definition.');
    return {
      taskDefinition: this.toTaskDefinition(td),
      tags: input.include?.includes('TAGS') ? td.tags.map((t) => ({ ...t })) : undefined,
    };
  }

  private registerTaskDefinitionCommand(
    input: RegisterTaskDefinitionCommandInput,
  ): Out<RegisterTaskDefinitionCommandOutput> {
    const family = input.family ?? '';
    if (!/^[a-zA-Z0-9_-]{1,255}$/.test(family)) {
      this.fail(
        'ClientException',
        'Family contains invalid characters. Up to 255 letters (uppercase and lowercase), numbers, hyphens, and underscores are allowed.',
      );
    }
    const containers = input.containerDefinitions ?? [];
    if (!containers.length) this.fail('ClientException', 'Container list cannot be empty.');
    for (const c of containers) {
      if (!c.name) this.fail('ClientException', 'Container.name should not be null or empty.');
      if (!c.image) this.fail('ClientException', 'Container.image should not be null or empty.');
    }
    this.checkTags(input.tags ?? []);
    const td = this.registerTaskDefinition({
      family,
      containerDefinitions: containers,
      taskRoleArn: input.taskRoleArn,
      executionRoleArn: input.executionRoleArn,
      cpu: input.cpu,
      memory: input.memory,
      tags: input.tags,
    });
    return {
      taskDefinition: this.toTaskDefinition(td),
      tags: td.tags.length ? td.tags.map((t) => ({ ...t })) : undefined,
    };
  }

  private listTaskDefinitions(input: ListTaskDefinitionsCommandInput): Out<ListTaskDefinitionsCommandOutput> {
    const status = input.status ?? 'ACTIVE';
    const arns = Object.values(this.state.taskDefinitions)
      .filter((t) => t.status === status && (!input.familyPrefix || t.family.startsWith(input.familyPrefix)))
      .sort((a, b) => (a.family === b.family ? a.revision - b.revision : a.family < b.family ? -1 : 1))
      .map((t) => t.taskDefinitionArn);
    if (input.sort === 'DESC') arns.reverse();
    const page = paginate(arns, input.maxResults, input.nextToken, 100);
    if (!page) return this.fail('InvalidParameterException', 'Invalid nextToken.');
    return { taskDefinitionArns: page.items, nextToken: page.nextToken };
  }

  private taggable(arn: string): { tags: Tag[] } {
    const found =
      this.state.clusters[arn] ?? this.state.services[arn] ?? this.state.tasks[arn] ?? this.state.taskDefinitions[arn];
    if (!found) return this.fail('InvalidParameterException', 'The specified resource could not be found.');
    return found;
  }

  private checkTags(tags: Tag[]): void {
    for (const tag of tags) {
      if (!tag.key || tag.key.length > 128)
        this.fail('InvalidParameterException', 'Tag key must be 1 to 128 characters.');
      if (tag.key.toLowerCase().startsWith('aws:')) {
        this.fail('InvalidParameterException', 'Tag keys starting with aws: are reserved for AWS use.');
      }
    }
  }

  private listTagsForResource(input: ListTagsForResourceCommandInput): Out<ListTagsForResourceCommandOutput> {
    return { tags: this.taggable(input.resourceArn ?? '').tags.map((t) => ({ ...t })) };
  }

  private tagResource(input: TagResourceCommandInput): Out<TagResourceCommandOutput> {
    const resource = this.taggable(input.resourceArn ?? '');
    this.checkTags(input.tags ?? []);
    const merged = [...resource.tags];
    for (const tag of input.tags ?? []) {
      const found = merged.find((t) => t.key === tag.key);
      if (found) found.value = tag.value;
      else merged.push({ key: tag.key, value: tag.value });
    }
    if (merged.length > 50) this.fail('InvalidParameterException', 'The number of tags exceeds the limit of 50.');
    resource.tags = merged;
    return {};
  }

  private untagResource(input: UntagResourceCommandInput): Out<UntagResourceCommandOutput> {
    const resource = this.taggable(input.resourceArn ?? '');
    resource.tags = resource.tags.filter((t) => !(input.tagKeys ?? []).includes(t.key ?? ''));
    return {};
  }
}
