import type {
  ContainerDefinition,
  DeploymentConfiguration,
  LoadBalancer,
  NetworkConfiguration,
  PropagateTags,
  Tag,
} from '@aws-sdk/client-ecs';

export interface ClusterRecord {
  clusterArn: string;
  clusterName: string;
  tags: Tag[];
}

export interface TaskDefinitionRecord {
  taskDefinitionArn: string;
  family: string;
  revision: number;
  status: 'ACTIVE' | 'INACTIVE';
  containerDefinitions: ContainerDefinition[];
  taskRoleArn?: string;
  executionRoleArn?: string;
  cpu: string;
  memory: string;
  registeredAt: number;
  tags: Tag[];
}

export interface DeploymentRecord {
  id: string;
  status: 'PRIMARY' | 'ACTIVE';
  taskDefinition: string;
  desiredCount: number;
  failedTasks: number;
  createdAt: number;
  updatedAt: number;
  rolloutState: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  rolloutStateReason: string;
  networkConfiguration: NetworkConfiguration;
}

export interface ServiceEventRecord {
  id: string;
  createdAt: number;
  message: string;
}

export interface ServiceRecord {
  serviceArn: string;
  serviceName: string;
  clusterArn: string;
  status: 'ACTIVE' | 'DRAINING' | 'INACTIVE';
  desiredCount: number;
  taskDefinition: string;
  platformVersion: string;
  loadBalancers: LoadBalancer[];
  networkConfiguration: NetworkConfiguration;
  propagateTags: PropagateTags;
  enableECSManagedTags: boolean;
  healthCheckGracePeriodSeconds: number;
  deploymentConfiguration: DeploymentConfiguration;
  deployments: DeploymentRecord[];
  events: ServiceEventRecord[];
  createdAt: number;
  tags: Tag[];
  /** Whether the "steady state" event has been sent since the last change. */
  steady: boolean;
  /**
   * What the most recent deployment to reach COMPLETED ran: the deployment circuit breaker
   * rolls back to it ("it looks for the most recent deployment that is in a COMPLETED state").
   */
  lastCompleted?: { id: string; taskDefinition: string; networkConfiguration: NetworkConfiguration };
}

export type TaskStatus =
  'PROVISIONING' | 'PENDING' | 'ACTIVATING' | 'RUNNING' | 'DEACTIVATING' | 'STOPPING' | 'DEPROVISIONING' | 'STOPPED';

export interface TaskContainerRecord {
  containerArn: string;
  name: string;
  image: string;
  imageDigest: string;
  runtimeId: string;
  cpu: string;
  memory?: string;
}

export interface TaskRecord {
  taskArn: string;
  clusterArn: string;
  taskDefinitionArn: string;
  serviceArn?: string;
  deploymentId?: string;
  group: string;
  startedBy?: string;
  lastStatus: TaskStatus;
  desiredStatus: 'RUNNING' | 'STOPPED';
  createdAt: number;
  connectivityAt?: number;
  pullStartedAt?: number;
  pullStoppedAt?: number;
  startedAt?: number;
  stoppingAt?: number;
  executionStoppedAt?: number;
  stoppedAt?: number;
  stoppedReason?: string;
  stopCode?:
    | 'TaskFailedToStart'
    | 'EssentialContainerExited'
    | 'UserInitiated'
    | 'ServiceSchedulerInitiated'
    | 'SpotInterruption'
    | 'TerminationNotice';
  availabilityZone: string;
  cpu: string;
  memory: string;
  attachmentId: string;
  networkInterfaceId: string;
  subnetId: string;
  privateIp: string;
  macAddress: string;
  containers: TaskContainerRecord[];
  tags: Tag[];
  version: number;
  /** Targets ECS registered for this task. */
  registrations: Array<{ targetGroupArn: string; port: number }>;
  /** Virtual time of the next lifecycle step. */
  nextStepAt: number;
  /** Scale-in protection (UpdateTaskProtection): deployments and scale-in do not stop it before this time. */
  protectedUntil?: number;
}

export type AppHealth = 'ok' | 'error' | 'hang';

export interface EcsState {
  clusters: Record<string, ClusterRecord>;
  taskDefinitions: Record<string, TaskDefinitionRecord>;
  services: Record<string, ServiceRecord>;
  tasks: Record<string, TaskRecord>;
  /** What a task's application answers to health checks (default ok). */
  appHealth: Record<string, AppHealth>;
  /** Image reference to digest, for images not pinned by digest. */
  imageDigests: Record<string, string>;
}
