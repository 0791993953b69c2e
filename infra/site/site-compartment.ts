import { CfnMapping, CustomResource, Duration, RemovalPolicy, Stack, Tags, Token, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import type { SiteConfig } from '../config/load-fleet';
import {
  ECR_PULL_ACTIONS,
  GUARDDUTY_AGENT_ACCOUNTS,
  GUARDDUTY_AGENT_REPOSITORY,
  guardDutyAgentRepositoryArn,
} from '../../contracts/guardduty';
import {
  siteAlarmName,
  siteFlowLogGroupName,
  siteLogGroupName,
  siteRejectMetric,
  siteNoticeTopicName,
  siteSecretName,
  siteTaskFamily,
  siteTaskRoleBoundaryName,
} from '../../contracts/names';
import { stackInstanceSuffix } from '../shared/stack-exports';
import { type SiteRecord, siteRecordParameterName } from '../../contracts/site-record';
import {
  Component,
  TAG_ISOLATION,
  TAG_LISTENER_RULE,
  TAG_RESPONSE_POLICY,
  TAG_SECURITY_GROUP,
  TAG_SEVERITY_THRESHOLD,
  tagComponent,
} from '../shared/tags';
import type { CompartmentPlatform } from './compartment-platform';

export interface SiteCompartmentProps {
  /** Environment name (`bulkhead:env`). */
  readonly environment: string;
  /** The site, resolved from the fleet file. */
  readonly site: SiteConfig;
  /** The platform pieces the site attaches to. */
  readonly platform: CompartmentPlatform;
  /** Port the container listens on; the cell's load balancer sends only to this port. */
  readonly containerPort: number;
  /** Most connections the site's database user may hold at once. */
  readonly maxDatabaseConnections: number;
  /**
   * How long the site's container logs are kept.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Writable scratch directories the container gets on an otherwise read-only root
   * filesystem (Fargate task storage, gone when the task stops).
   * @default ['/tmp', '/var/run']
   */
  readonly scratchPaths?: readonly string[];
}

const UPLOADS_PATH = '/var/www/html/wp-content/uploads';

/** The fields of a site's REJECT flow records, in order (the log format below). */
const REJECT_LOG_FIELDS = [
  'version',
  'interface',
  'source',
  'destination',
  'sourcePort',
  'destinationPort',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'action',
  'status',
  'direction',
] as const;
/** VPC flow log custom format: `${field}` per field (VPC User Guide, "Flow log records"). */
const REJECT_LOG_FORMAT = [
  'version',
  'interface-id',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'action',
  'log-status',
  'flow-direction',
]
  .map((field) => `$${'{'}${field}}`)
  .join(' ');
const CONTAINER_NAME = 'site';

/** One entry of a site's network ACL: its construct id and its properties. */
type AclEntry = [id: string, props: Omit<ec2.CfnNetworkAclEntryProps, 'networkAclId'>];

/**
 * The entries of a site's own network ACL, in creation order. A standard site's ACL admits
 * everything (its security group does the filtering). A strict site's ACL is a second, stateless
 * wall: in, only from the VPC and answers (1024-65535) from anywhere; out, only to the VPC and
 * HTTPS anywhere (S3's gateway endpoint and, with internetEgress, the internet): whatever its
 * group would let through by mistake on another port to outside the VPC, the ACL drops.
 */
function siteAclEntries(site: SiteConfig, platform: CompartmentPlatform): AclEntry[] {
  if (site.isolation !== 'strict') {
    return [
      ['AclIngress', { ruleNumber: 100, protocol: -1, ruleAction: 'allow', egress: false, cidrBlock: '0.0.0.0/0' }],
      ['AclEgress', { ruleNumber: 100, protocol: -1, ruleAction: 'allow', egress: true, cidrBlock: '0.0.0.0/0' }],
    ];
  }
  const vpcCidr = platform.vpc.vpcCidrBlock;
  // In a cell's own VPC, the database and uploads are in the platform VPC's shared range
  // (through peering; docs/network.md, "A VPC per cell").
  const cellVpc = platform.cellVpc;
  const platformEntries: AclEntry[] = cellVpc
    ? [
        [
          'AclPlatformIngress',
          { ruleNumber: 105, protocol: -1, ruleAction: 'allow', egress: false, cidrBlock: cellVpc.platformSharedRange },
        ],
        [
          'AclPlatformEgress',
          { ruleNumber: 105, protocol: -1, ruleAction: 'allow', egress: true, cidrBlock: cellVpc.platformSharedRange },
        ],
      ]
    : [];
  return [
    ['AclIngress', { ruleNumber: 100, protocol: -1, ruleAction: 'allow', egress: false, cidrBlock: vpcCidr }],
    ['AclEgress', { ruleNumber: 100, protocol: -1, ruleAction: 'allow', egress: true, cidrBlock: vpcCidr }],
    ...platformEntries,
    [
      'AclAnswersIngress',
      {
        ruleNumber: 110,
        protocol: 6,
        ruleAction: 'allow',
        egress: false,
        cidrBlock: '0.0.0.0/0',
        portRange: { from: 1024, to: 65535 },
      },
    ],
    [
      'AclHttpsEgress',
      {
        ruleNumber: 110,
        protocol: 6,
        ruleAction: 'allow',
        egress: true,
        cidrBlock: '0.0.0.0/0',
        portRange: { from: 443, to: 443 },
      },
    ],
  ];
}

/**
 * One site, sealed: its own security group, Fargate service and task definition (image by
 * digest, read-only root filesystem, secrets injected at runtime), task and execution
 * roles that reach only its own secret, repository, log group and access point, its own
 * database user and schema, uploads access point (own uid/gid and directory), log group,
 * target group and listener rule, and alarms, and its own subnets and network ACL, which
 * quarantine swaps for the quarantine ACL.
 */
export class SiteCompartment extends Construct {
  /** The site's own security group: in from its load balancer only, out to its own dependencies. */
  readonly securityGroup: ec2.SecurityGroup;
  /** Same rules as `securityGroup`; holds the restored tasks while contained ones are kept. */
  readonly standbySecurityGroup: ec2.SecurityGroup;
  /** The site's database credentials (password generated by Secrets Manager; retained). */
  readonly secret: secretsmanager.Secret;
  /** What the site's code may do: read its own secret and mount its own uploads, within a boundary of that. */
  readonly taskRole: iam.Role;
  /** What ECS does for the site: pull its image and GuardDuty's agent, write its logs, inject its secret. */
  readonly executionRole: iam.Role;
  /** The site's task definition (image by digest, read-only root filesystem). */
  readonly taskDefinition: ecs.FargateTaskDefinition;
  /** The site's Fargate service, in its own subnets and security group. */
  readonly service: ecs.FargateService;
  /** The site's uploads access point (its own POSIX identity and directory). */
  readonly accessPoint: efs.AccessPoint;
  /** The site's container log group (retained). */
  readonly logGroup: logs.LogGroup;
  /** The site's own target group on its cell's load balancer. */
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** The site's own rule on its cell's HTTPS listener (its domains, by host header). */
  readonly listenerRule: elbv2.ApplicationListenerRule;
  /** The site's own database user and schema (custom resource). */
  readonly databaseUser: CustomResource;
  /** The site's alarms: error rate, egress and rejected connections, in that order. */
  readonly alarms: cloudwatch.Alarm[];
  /** The site's certificate (its own ACM certificate, or the one the fleet file names). */
  readonly certificate: acm.ICertificate;
  /** The site's notice topic; its contact is subscribed. */
  readonly noticeTopic: sns.Topic;
  /** The SSM parameter holding the site record (`contracts/site-record.ts`). */
  readonly record: ssm.StringParameter;
  /** Its own subnets, one per AZ. */
  readonly subnets: ec2.CfnSubnet[];
  /** Its own network ACL (the one quarantine swaps for the quarantine ACL and release puts back). */
  readonly networkAcl: ec2.CfnNetworkAcl;

  constructor(scope: Construct, id: string, props: SiteCompartmentProps) {
    super(scope, id);
    const { site, platform, environment } = props;

    // --- Network: the site's own group, with nothing shared and nothing of another site.
    this.securityGroup = this.siteGroup('SecurityGroup', props, '');
    tagComponent(this.securityGroup, Component.siteSecurityGroup);
    // The standby group: the same rules, no tasks at rest. A restore starts the known-good
    // tasks in it while the contained tasks stay sealed in the quarantined group, then
    // moves the service back (docs/restore-design.md).
    this.standbySecurityGroup = this.siteGroup(
      'StandbySecurityGroup',
      props,
      ' (standby: used while a restore replaces contained tasks)',
    );
    tagComponent(this.standbySecurityGroup, Component.siteStandbySecurityGroup);

    // Every site's tasks run in subnets of its own (one per AZ) with an ACL of its own, so
    // quarantine can move them to the quarantine ACL and cut established connections too,
    // without touching a neighbour (docs/network.md).
    const own = this.ownSubnets(site, platform);
    this.subnets = own.subnets;
    this.networkAcl = own.networkAcl;
    const serviceSubnets = this.ownSubnetReferences(platform);

    // --- Secret: database credentials, generated by Secrets Manager, never in the template.
    this.secret = this.createSecret(environment, site, platform);
    this.databaseUser = this.createDatabaseUser(site, platform, props.maxDatabaseConnections);

    // --- Logs
    this.logGroup = this.createLogGroup(environment, site, props.logRetention);

    // --- Uploads: own access point, own POSIX identity, own directory.
    this.accessPoint = this.createUploadsAccessPoint(site, platform);

    // --- Roles
    this.taskRole = this.createTaskRole(environment, site, platform);
    this.executionRole = this.createExecutionRole(site);

    // --- Task definition: image by digest, read-only root, secrets injected at runtime.
    this.taskDefinition = this.createTaskDefinition(environment, site);
    this.addSiteContainer(props);
    this.allowGuardDutyAgentPull();

    // --- Service
    this.service = this.createService(site, platform, serviceSubnets);

    // --- Load balancer: own target group and listener rule on the cell's listener.
    this.targetGroup = this.createTargetGroup(site, platform, props.containerPort);
    this.listenerRule = this.createListenerRule(site, platform);
    // Propagated to every task, so containment reads the rule in its first round.
    Tags.of(this.service).add(TAG_LISTENER_RULE, this.listenerRule.listenerRuleArn);
    this.certificate = this.attachCertificate(site, platform);

    // --- Alarms (the response plane listens for their ALARM state changes).
    this.alarms = this.createAlarms(environment, site, platform);

    // --- The site's own notice topic (its contact), named in its record.
    this.noticeTopic = this.createNoticeTopic(environment, site, platform);

    // --- The site record the response plane reads (one call) to contain this site.
    this.record = this.createSiteRecord(props);
  }

  /** The site's own subnets as `ISubnet`s (for the service's `vpcSubnets`), in AZ order. */
  private ownSubnetReferences(platform: CompartmentPlatform): ec2.ISubnet[] {
    return this.subnets.map((subnet, i) =>
      ec2.Subnet.fromSubnetAttributes(this, `OwnSubnetRef${i}`, {
        subnetId: subnet.ref,
        availabilityZone: platform.availabilityZones[i],
        routeTableId: platform.routeTableIds[i],
      }),
    );
  }

  /**
   * The site's database credentials: user, schema and endpoint from the fleet file and the
   * platform, the password generated by Secrets Manager (never in the template).
   */
  private createSecret(environment: string, site: SiteConfig, platform: CompartmentPlatform): secretsmanager.Secret {
    const secret = new secretsmanager.Secret(this, 'Secret', {
      // Retained: a re-created stack gets a new one (infra/shared/stack-exports.ts stackInstanceSuffix).
      secretName: `${siteSecretName(environment, site.id)}-${stackInstanceSuffix(this)}`,
      description: `Bulkhead site ${site.id}: database credentials`,
      generateSecretString: {
        secretStringTemplate: Stack.of(this).toJsonString({
          username: site.database.user,
          dbname: site.database.schema,
          host: platform.databaseEndpoint,
          port: platform.databasePort,
        }),
        generateStringKey: 'password',
        passwordLength: 40,
        excludePunctuation: true,
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    tagComponent(secret, Component.secret);
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotation must change the MySQL password in the same step (AWSPENDING, ALTER USER, test, AWSCURRENT); Bulkhead runs it through its own rotate-credentials and restore workflows, not a scheduled rotation Lambda.',
    });
    return secret;
  }

  /** The site's own database user and schema, made by the platform's provider with the site's secret. */
  private createDatabaseUser(
    site: SiteConfig,
    platform: CompartmentPlatform,
    maxDatabaseConnections: number,
  ): CustomResource {
    const databaseUser = new CustomResource(this, 'DatabaseUser', {
      serviceToken: platform.databaseUserServiceToken,
      resourceType: 'Custom::BulkheadDatabaseUser',
      properties: {
        SiteId: site.id,
        Schema: site.database.schema,
        User: site.database.user,
        SecretArn: this.secret.secretArn,
        MaxConnections: String(maxDatabaseConnections),
      },
    });
    tagComponent(databaseUser, Component.databaseUser);
    return databaseUser;
  }

  /** The site's container log group (retained: a re-created stack gets a new one). */
  private createLogGroup(environment: string, site: SiteConfig, retention?: logs.RetentionDays): logs.LogGroup {
    const logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `${siteLogGroupName(environment, site.id)}/${stackInstanceSuffix(this)}`,
      retention: retention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    tagComponent(logGroup, Component.logGroup);
    return logGroup;
  }

  /** The site's uploads access point: its own POSIX identity and its own directory. */
  private createUploadsAccessPoint(site: SiteConfig, platform: CompartmentPlatform): efs.AccessPoint {
    const accessPoint = new efs.AccessPoint(this, 'Uploads', {
      fileSystem: platform.uploads,
      path: `/sites/${site.id}`,
      posixUser: { uid: String(site.uploadsPosixId), gid: String(site.uploadsPosixId) },
      createAcl: {
        ownerUid: String(site.uploadsPosixId),
        ownerGid: String(site.uploadsPosixId),
        permissions: '750',
      },
    });
    tagComponent(accessPoint, Component.uploads);
    return accessPoint;
  }

  /**
   * The task role: reads its own secret and mounts its own uploads, within a permissions boundary
   * of exactly that, so that no policy put on the role later (containment puts one, its session
   * deny) can grant more ("An entity's permissions boundary allows it to perform only the actions
   * that are allowed by both its identity-based policies and its permissions boundaries": IAM User
   * Guide, "Permissions boundaries for IAM entities"). Containment and recovery may change only
   * roles that carry such a boundary (iam:PermissionsBoundary, infra/shared/iam-statements.ts).
   */
  private createTaskRole(environment: string, site: SiteConfig, platform: CompartmentPlatform): iam.Role {
    const stack = Stack.of(this);
    const boundary = new iam.ManagedPolicy(this, 'TaskRoleBoundary', {
      managedPolicyName: siteTaskRoleBoundaryName(environment, stack.region, site.id),
      description: `Bulkhead site ${site.id}: the most its task role can ever do (its own secret and uploads)`,
      statements: [
        new iam.PolicyStatement({
          sid: 'OwnSecretOnly',
          actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          resources: [this.secret.secretArn],
        }),
        new iam.PolicyStatement({
          sid: 'OwnUploadsOnly',
          actions: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
          resources: [platform.uploads.fileSystemArn],
          conditions: {
            StringEquals: { 'elasticfilesystem:AccessPointArn': this.accessPoint.accessPointArn },
          },
        }),
      ],
    });
    const taskRole = new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: `Bulkhead site ${site.id}: what the site's code may do (its own secret and uploads only)`,
      permissionsBoundary: boundary,
    });
    this.secret.grantRead(taskRole);
    taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'MountOwnUploadsOnly',
        actions: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
        resources: [platform.uploads.fileSystemArn],
        conditions: {
          StringEquals: { 'elasticfilesystem:AccessPointArn': this.accessPoint.accessPointArn },
        },
      }),
    );
    tagComponent(taskRole, Component.taskRole);
    return taskRole;
  }

  /** The execution role: ECS uses it to pull the site's image, write its logs and inject its secret. */
  private createExecutionRole(site: SiteConfig): iam.Role {
    const executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: `Bulkhead site ${site.id}: pulls its image, writes its logs, injects its secret`,
    });
    tagComponent(executionRole, Component.executionRole);
    return executionRole;
  }

  /** The site's Fargate task definition (Linux, x86-64), with the site's task and execution roles. */
  private createTaskDefinition(environment: string, site: SiteConfig): ecs.FargateTaskDefinition {
    const taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      family: siteTaskFamily(environment, site.id),
      cpu: site.cpu,
      memoryLimitMiB: site.memory,
      taskRole: this.taskRole,
      executionRole: this.executionRole,
      runtimePlatform: {
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
        cpuArchitecture: ecs.CpuArchitecture.X86_64,
      },
    });
    tagComponent(taskDefinition, Component.taskDefinition);
    return taskDefinition;
  }

  /**
   * The site's container: its image by digest, a read-only root filesystem, no root and no Linux
   * capability, its logs to its own group, its database credentials injected from its secret, its
   * uploads mounted through its own access point, and writable scratch directories.
   */
  private addSiteContainer(props: SiteCompartmentProps): void {
    const { site, platform, containerPort } = props;
    const repository = ecr.Repository.fromRepositoryAttributes(this, 'Repository', {
      repositoryName: site.image.repositoryName,
      repositoryArn: `arn:${Stack.of(this).partition}:ecr:${site.image.repositoryRegion}:${site.image.repositoryAccount}:repository/${site.image.repositoryName}`,
    });
    const container = this.taskDefinition.addContainer(CONTAINER_NAME, {
      image: ecs.ContainerImage.fromEcrRepository(repository, site.image.digest),
      readonlyRootFilesystem: true,
      essential: true,
      // Never root: a numeric uid[:gid] from the fleet file ("If specifying a UID or GID, you must
      // specify it as a positive integer": ECS API reference, ContainerDefinition user).
      user: site.runAsUser,
      // No Linux capability at all ("drop: The Linux capabilities for the container that have been
      // removed from the default configuration provided by Docker", valid values include "ALL";
      // Fargate allows adding only SYS_PTRACE and none is added), and an init process that
      // "forwards signals and reaps processes" (ECS API reference, KernelCapabilities,
      // LinuxParameters). Privileged containers are not supported on Fargate and none is asked for.
      linuxParameters: this.hardenedLinux(),
      portMappings: [{ containerPort, protocol: ecs.Protocol.TCP }],
      logging: ecs.LogDrivers.awsLogs({
        logGroup: this.logGroup,
        streamPrefix: 'site',
        mode: ecs.AwsLogDriverMode.NON_BLOCKING,
      }),
      secrets: {
        WORDPRESS_DB_HOST: ecs.Secret.fromSecretsManager(this.secret, 'host'),
        WORDPRESS_DB_USER: ecs.Secret.fromSecretsManager(this.secret, 'username'),
        WORDPRESS_DB_PASSWORD: ecs.Secret.fromSecretsManager(this.secret, 'password'),
        WORDPRESS_DB_NAME: ecs.Secret.fromSecretsManager(this.secret, 'dbname'),
      },
    });
    this.taskDefinition.addVolume({
      name: 'uploads',
      efsVolumeConfiguration: {
        fileSystemId: platform.uploads.fileSystemId,
        transitEncryption: 'ENABLED',
        authorizationConfig: { accessPointId: this.accessPoint.accessPointId, iam: 'ENABLED' },
      },
    });
    container.addMountPoints({
      sourceVolume: 'uploads',
      containerPath: UPLOADS_PATH,
      readOnly: false,
    });
    (props.scratchPaths ?? ['/tmp', '/var/run']).forEach((containerPath, i) => {
      const name = `scratch${i}`;
      this.taskDefinition.addVolume({ name });
      container.addMountPoints({ sourceVolume: name, containerPath, readOnly: false });
    });
  }

  /**
   * GuardDuty Runtime Monitoring adds its agent as a sidecar to every new task; the execution
   * role pulls it from GuardDuty's repository in the region (contracts/guardduty.ts).
   */
  private allowGuardDutyAgentPull(): void {
    this.executionRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'PullGuardDutyAgent',
        actions: [...ECR_PULL_ACTIONS],
        resources: [this.guardDutyAgentRepository()],
      }),
    );
    Validations.of(this.executionRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken has no resource-level permissions (AWS documents Resource "*"); image pulls themselves are limited to this site\'s repository.',
    });
  }

  /**
   * The site's Fargate service, in its own subnets and its own security group, tagged so that its
   * tasks carry what containment needs.
   */
  private createService(
    site: SiteConfig,
    platform: CompartmentPlatform,
    serviceSubnets: ec2.ISubnet[],
  ): ecs.FargateService {
    const service = new ecs.FargateService(this, 'Service', {
      serviceName: site.id,
      cluster: platform.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: site.desiredCount,
      securityGroups: [this.securityGroup],
      vpcSubnets: { subnets: serviceSubnets },
      assignPublicIp: false,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
      enableECSManagedTags: true,
      circuitBreaker: { rollback: true },
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      healthCheckGracePeriod: Duration.seconds(120),
      platformVersion: ecs.FargatePlatformVersion.LATEST,
      enableExecuteCommand: false,
    });
    service.node.addDependency(this.databaseUser);
    tagComponent(service, Component.service);
    // Propagated to every task: a GuardDuty finding that names the task's tags lets
    // containment start without first looking the task up (see infra/shared/tags.ts).
    Tags.of(service).add(TAG_ISOLATION, site.isolation);
    Tags.of(service).add(TAG_RESPONSE_POLICY, site.response.policy);
    Tags.of(service).add(TAG_SEVERITY_THRESHOLD, String(site.response.severityThreshold));
    Tags.of(service).add(TAG_SECURITY_GROUP, this.securityGroup.securityGroupId);
    return service;
  }

  /** The site's own target group: its service's tasks, by IP, on the container port. */
  private createTargetGroup(
    site: SiteConfig,
    platform: CompartmentPlatform,
    containerPort: number,
  ): elbv2.ApplicationTargetGroup {
    const targetGroup = new elbv2.ApplicationTargetGroup(this, 'TargetGroup', {
      vpc: platform.vpc,
      port: containerPort,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
      deregistrationDelay: Duration.seconds(30),
      healthCheck: {
        path: site.healthCheckPath,
        healthyHttpCodes: '200-399',
        interval: Duration.seconds(15),
      },
      targets: [this.service.loadBalancerTarget({ containerName: CONTAINER_NAME, containerPort })],
    });
    tagComponent(targetGroup, Component.targetGroup);
    return targetGroup;
  }

  /** The site's own rule on its cell's listener: its domains, by host header, to its target group. */
  private createListenerRule(site: SiteConfig, platform: CompartmentPlatform): elbv2.ApplicationListenerRule {
    const listenerRule = new elbv2.ApplicationListenerRule(this, 'ListenerRule', {
      listener: platform.listener,
      priority: site.listenerPriority,
      conditions: [elbv2.ListenerCondition.hostHeaders([...site.domains])],
      targetGroups: [this.targetGroup],
    });
    tagComponent(listenerRule, Component.listenerRule);
    return listenerRule;
  }

  /** The site record (`contracts/site-record.ts`) the response plane reads, in one call, to contain this site. */
  private createSiteRecord(props: SiteCompartmentProps): ssm.StringParameter {
    const { site, platform, environment, containerPort } = props;
    const record: SiteRecord = {
      version: 1,
      environment,
      site: site.id,
      cell: site.cell,
      securityGroupId: this.securityGroup.securityGroupId,
      standbySecurityGroupId: this.standbySecurityGroup.securityGroupId,
      listenerArn: platform.listener.listenerArn,
      listenerRuleArn: this.listenerRule.listenerRuleArn,
      targetGroupArn: this.targetGroup.targetGroupArn,
      taskRoleArn: this.taskRole.roleArn,
      taskRoleName: this.taskRole.roleName,
      clusterArn: platform.cluster.clusterArn,
      serviceName: this.service.serviceName,
      taskDefinitionFamily: this.taskDefinition.family,
      logGroupName: this.logGroup.logGroupName,
      secretArn: this.secret.secretArn,
      accessPointArn: this.accessPoint.accessPointArn,
      fileSystemArn: platform.uploads.fileSystemArn,
      containerPort,
      isolation: site.isolation,
      networkAclId: this.networkAcl.ref,
      subnetIds: this.subnets.map((s) => s.ref),
      ...(platform.cellVpc
        ? {
            quarantineAclId: platform.cellVpc.quarantineAclId,
            logsEndpointSecurityGroupId: platform.cellVpc.logsEndpointSecurityGroupId,
          }
        : {}),
      image: { repository: site.image.repository, digest: site.image.digest },
      contact: site.contact,
      noticeTopicArn: this.noticeTopic.topicArn,
      response: site.response,
    };
    const parameter = new ssm.StringParameter(this, 'SiteRecord', {
      parameterName: siteRecordParameterName(environment, site.id),
      description: `Bulkhead site ${site.id}: what the response plane needs to contain it`,
      stringValue: Stack.of(this).toJsonString(record),
      tier: ssm.ParameterTier.STANDARD,
    });
    tagComponent(parameter, Component.siteRecord);
    return parameter;
  }

  /**
   * The site's certificate on its cell's HTTPS listener, by SNI, from the site's own stack
   * ("AWS::ElasticLoadBalancingV2::ListenerCertificate: Specifies an SSL server certificate to
   * add to the certificate list for an HTTPS or TLS listener", CloudFormation reference), so the
   * cell's listener never changes. Without an ARN in the fleet file the stack requests an ACM
   * certificate for the site's domains with DNS validation: CloudFormation waits until the
   * validation record (shown in the stack's events) is in the domain's DNS.
   */
  private attachCertificate(site: SiteConfig, platform: CompartmentPlatform): acm.ICertificate {
    const [first, ...rest] = site.domains as [string, ...string[]];
    const certificate = site.certificateArn
      ? acm.Certificate.fromCertificateArn(this, 'Certificate', site.certificateArn)
      : new acm.Certificate(this, 'Certificate', {
          domainName: first,
          ...(rest.length > 0 ? { subjectAlternativeNames: rest } : {}),
          validation: acm.CertificateValidation.fromDns(),
        });
    if (certificate instanceof acm.Certificate) tagComponent(certificate, Component.certificate);
    new elbv2.ApplicationListenerCertificate(this, 'ListenerCertificate', {
      listener: platform.listener,
      certificates: [elbv2.ListenerCertificate.fromArn(certificate.certificateArn)],
    });
    return certificate;
  }

  /**
   * The site's own notice topic, its contact subscribed by email (AWS sends a confirmation on
   * the first deploy). One topic per site needs no subscription filter policy, whose default
   * quota (200 per topic; "Amazon SNS endpoints and quotas",
   * https://docs.aws.amazon.com/general/latest/gr/sns.html, as issue 12's review read it) a
   * shared topic hit at the 201st site. Topics: "One account can create a maximum of 100,000
   * standard topics" (CloudFormation reference, AWS::SNS::Topic).
   */
  private createNoticeTopic(environment: string, site: SiteConfig, platform: CompartmentPlatform): sns.Topic {
    const topic = new sns.Topic(this, 'Notices', {
      topicName: siteNoticeTopicName(environment, site.id),
      displayName: `Bulkhead ${environment} ${site.id}`.slice(0, 100),
      masterKey: kms.Key.fromKeyArn(this, 'NoticeKey', platform.responseKeyArn),
      enforceSSL: true,
    });
    topic.addSubscription(new subscriptions.EmailSubscription(site.contact));
    tagComponent(topic, Component.notifications);
    return topic;
  }

  /** The container's Linux parameters: an init process, and every Linux capability dropped. */
  private hardenedLinux(): ecs.LinuxParameters {
    const linux = new ecs.LinuxParameters(this, 'Linux', { initProcessEnabled: true });
    linux.dropCapabilities(ecs.Capability.ALL);
    return linux;
  }

  /**
   * GuardDuty's agent repository in the stack's region: from the table when the fleet pins its
   * region, else a mapping CloudFormation resolves at deployment (a region missing from it
   * fails the deployment, as the table refuses it at synthesis).
   */
  private guardDutyAgentRepository(): string {
    const stack = Stack.of(this);
    if (!Token.isUnresolved(stack.region)) return guardDutyAgentRepositoryArn(stack.region, stack.partition);
    const accounts =
      (stack.node.tryFindChild('GuardDutyAgentAccounts') as CfnMapping | undefined) ??
      new CfnMapping(stack, 'GuardDutyAgentAccounts', {
        mapping: Object.fromEntries(Object.entries(GUARDDUTY_AGENT_ACCOUNTS).map(([r, a]) => [r, { account: a }])),
      });
    return `arn:${stack.partition}:ecr:${stack.region}:${accounts.findInMap(stack.region, 'account')}:repository/${GUARDDUTY_AGENT_REPOSITORY}`;
  }

  /**
   * The site's own subnets (one per AZ, from its slot of the VPC's site range) on the shared
   * route tables of its tier, and its own network ACL with the entries of `siteAclEntries`.
   * The construct ids are the ones strict sites had before every site had subnets, so their
   * subnets are never replaced.
   */
  private ownSubnets(
    site: SiteConfig,
    platform: CompartmentPlatform,
  ): { subnets: ec2.CfnSubnet[]; networkAcl: ec2.CfnNetworkAcl } {
    const networkAcl = new ec2.CfnNetworkAcl(this, 'NetworkAcl', { vpcId: platform.vpc.vpcId });
    tagComponent(networkAcl, Component.networkAcl);
    Validations.of(networkAcl).acknowledge({
      id: 'AwsSolutions-VPC3',
      reason:
        'Every site gets its own network ACL on purpose: quarantine swaps it for the quarantine ACL to cut established connections, which a security-group change cannot do.',
    });
    for (const [id, props] of siteAclEntries(site, platform)) {
      const entry = new ec2.CfnNetworkAclEntry(this, id, { networkAclId: networkAcl.ref, ...props });
      Validations.of(entry).acknowledge({
        id: 'AwsSolutions-VPC3',
        reason:
          "The site's normal ACL: its security group does the filtering (a strict site's ACL also keeps other ports inside the VPC); it exists to be swapped for the quarantine ACL.",
      });
    }
    const subnets = site.subnetCidrs.map((cidrBlock, i) => {
      const subnet = new ec2.CfnSubnet(this, `Subnet${i}`, {
        vpcId: platform.vpc.vpcId,
        cidrBlock,
        availabilityZone: platform.availabilityZones[i],
        mapPublicIpOnLaunch: false,
      });
      tagComponent(subnet, Component.subnet);
      new ec2.CfnSubnetRouteTableAssociation(this, `RouteTableAssociation${i}`, {
        subnetId: subnet.ref,
        routeTableId: platform.routeTableIds[i] as string,
      });
      new ec2.CfnSubnetNetworkAclAssociation(this, `NetworkAclAssociation${i}`, {
        subnetId: subnet.ref,
        networkAclId: networkAcl.ref,
      });
      return subnet;
    });
    return { subnets, networkAcl };
  }

  /** A group with the site's normal rules: in from its load balancer, out to its own dependencies. */
  private siteGroup(id: string, props: SiteCompartmentProps, purpose: string): ec2.SecurityGroup {
    const { site, platform, containerPort } = props;
    const group = new ec2.SecurityGroup(this, id, {
      vpc: platform.vpc,
      allowAllOutbound: false,
      description: `Bulkhead site ${site.id}${purpose}: in from its load balancer only; out to its database, uploads and endpoints${site.internetEgress ? ' and HTTPS' : ''}`,
    });
    group.addIngressRule(
      platform.loadBalancerSecurityGroup,
      ec2.Port.tcp(containerPort),
      'From the cell load balancer on the container port',
    );
    const egress: [ec2.IPeer, ec2.Port, string][] = [
      [platform.databaseSecurityGroup, ec2.Port.tcp(3306), 'MySQL (own user and schema)'],
      [platform.uploadsSecurityGroup, ec2.Port.tcp(2049), 'NFS (own access point)'],
      [platform.endpointSecurityGroup, ec2.Port.tcp(443), 'ECR and Secrets Manager endpoints'],
      [platform.logsEndpointSecurityGroup, ec2.Port.tcp(443), 'CloudWatch Logs and GuardDuty data endpoints'],
      [ec2.Peer.prefixList(platform.s3PrefixListId), ec2.Port.tcp(443), 'S3 gateway endpoint (ECR image layers)'],
    ];
    if (site.internetEgress)
      egress.push([ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to the internet (site config: internetEgress)']);
    for (const [peer, port, description] of egress) group.addEgressRule(peer, port, description);
    return group;
  }

  /** The site's error-rate and egress alarms, and its rejected-connections alarm (`rejectAlarm`). */
  private createAlarms(environment: string, site: SiteConfig, platform: CompartmentPlatform): cloudwatch.Alarm[] {
    const lbDimensions = {
      LoadBalancer: platform.loadBalancerFullName,
      TargetGroup: this.targetGroup.targetGroupFullName,
    };
    const errors = new cloudwatch.Metric({
      namespace: 'AWS/ApplicationELB',
      metricName: 'HTTPCode_Target_5XX_Count',
      dimensionsMap: lbDimensions,
      statistic: 'Sum',
      period: Duration.minutes(1),
    });
    const requests = new cloudwatch.Metric({
      namespace: 'AWS/ApplicationELB',
      metricName: 'RequestCount',
      dimensionsMap: lbDimensions,
      statistic: 'Sum',
      period: Duration.minutes(1),
    });
    const errorRate = new cloudwatch.Alarm(this, 'ErrorRateAlarm', {
      alarmName: siteAlarmName(environment, site.id, 'error-rate'),
      alarmDescription: `Bulkhead site ${site.id}: target 5xx above ${site.alarms.errorRatePercent}% of requests in 3 of 5 minutes`,
      metric: new cloudwatch.MathExpression({
        expression: 'IF(requests > 0, 100 * errors / requests, 0)',
        usingMetrics: { errors, requests },
        period: Duration.minutes(1),
        label: '5xx rate (%)',
      }),
      threshold: site.alarms.errorRatePercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // Container Insights reports NetworkTxBytes per service in bytes/second.
    const egress = new cloudwatch.Alarm(this, 'EgressAlarm', {
      alarmName: siteAlarmName(environment, site.id, 'egress'),
      alarmDescription: `Bulkhead site ${site.id}: sends more than ${site.alarms.egressBytesPerMinute} bytes a minute (unusual egress)`,
      metric: new cloudwatch.Metric({
        namespace: 'ECS/ContainerInsights',
        metricName: 'NetworkTxBytes',
        dimensionsMap: {
          ClusterName: platform.cluster.clusterName,
          ServiceName: this.service.serviceName,
        },
        statistic: 'Sum',
        period: Duration.minutes(1),
      }),
      threshold: Math.ceil(site.alarms.egressBytesPerMinute / 60),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const rejects = this.rejectAlarm(environment, site, platform);
    for (const alarm of [errorRate, egress, rejects]) tagComponent(alarm, Component.alarm);
    return [errorRate, egress, rejects];
  }

  /**
   * Connections the site's own tasks try and are refused: VPC flow logs of its own subnets,
   * REJECT records only, into a log group of its own; a metric filter counts the outbound ones
   * (`flow-direction` egress: what its tasks started, not what others tried on it), and the
   * `rejected-connections` alarm fires past the fleet file's threshold in five minutes, which
   * the response plane treats like the site's other alarms (containment). A scan of the
   * neighbours on ports the site's group does not allow out is refused by that group and lands
   * here; a probe on a port it does allow out (443 with internetEgress) is refused by the
   * neighbour's group and is recorded in the neighbour's subnets, as inbound, so it is not
   * counted (docs/network.md, "REJECT alarm").
   * Flow log fields: "flow-direction: The direction of the flow with respect to the interface
   * where traffic is captured. The possible values are: ingress | egress" (VPC User Guide,
   * "Flow log records", available fields).
   */
  private rejectAlarm(environment: string, site: SiteConfig, platform: CompartmentPlatform): cloudwatch.Alarm {
    const group = new logs.LogGroup(this, 'FlowRejects', {
      logGroupName: siteFlowLogGroupName(environment, site.id, stackInstanceSuffix(this)),
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    tagComponent(group, Component.flowLogs);
    this.subnets.forEach((subnet, i) => {
      const flowLog = new ec2.CfnFlowLog(this, `FlowRejects${i}`, {
        resourceType: 'Subnet',
        resourceId: subnet.ref,
        trafficType: 'REJECT',
        logDestinationType: 'cloud-watch-logs',
        logGroupName: group.logGroupName,
        deliverLogsPermissionArn: platform.siteFlowLogsRoleArn,
        maxAggregationInterval: 60,
        logFormat: REJECT_LOG_FORMAT,
      });
      tagComponent(flowLog, Component.flowLogs);
    });
    const { namespace, metricName } = siteRejectMetric(environment, site.id);
    new logs.MetricFilter(this, 'RejectedConnections', {
      logGroup: group,
      filterPattern: logs.FilterPattern.spaceDelimited(...REJECT_LOG_FIELDS)
        .whereString('action', '=', 'REJECT')
        .whereString('direction', '=', 'egress'),
      metricNamespace: namespace,
      metricName,
      metricValue: '1',
    });
    const threshold = site.alarms.rejectedConnectionsPerFiveMinutes;
    return new cloudwatch.Alarm(this, 'RejectedConnectionsAlarm', {
      alarmName: siteAlarmName(environment, site.id, 'rejected-connections'),
      alarmDescription: `Bulkhead site ${site.id}: its tasks tried more than ${threshold} connections its network refused in 5 minutes (a scan of the neighbours?)`,
      metric: new cloudwatch.Metric({ namespace, metricName, statistic: 'Sum', period: Duration.minutes(5) }),
      threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}
