import * as path from 'node:path';
import { Arn, ArnFormat, CfnOutput, Duration, Fn, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import type { FleetConfig } from '../config/load-fleet';
import type { FunctionEnvironment, FunctionWithEnvironment } from '../../contracts/function-environment';
import { ECS_ATTACK_SEQUENCE_TYPE } from '../../contracts/guardduty';
import { INCIDENT_TABLE } from '../../contracts/incident-table';
import { containmentReservedConcurrency } from '../config/quotas';
import {
  cellClusterName,
  databaseUserFunctionName,
  siteLogGroupName,
  siteNoticeTopicPrefix,
  siteSecretNamePrefix,
  siteAlarmPrefix,
  siteTaskFamilyPrefix,
} from '../../contracts/names';
import { exportPlatformValues, importCell, stackInstanceSuffix } from '../shared/stack-exports';
import { lambdaBundling } from '../shared/lambda-defaults';
import { acknowledge, LAMBDA_BASIC_EXECUTION, nagArn, nagResource } from '../shared/nag';
import {
  boundedTaskRoles,
  listTasksInClusters,
  siteGroupRuleStatements,
  siteTaskDefinitionsOnly,
  siteAclStatements,
  stackArn,
} from '../shared/iam-statements';
import { siteRecordParameterPrefix } from '../../contracts/site-record';
import { Component, TAG_COMPONENT, TAG_ENV, TAG_SECURITY_GROUP, tagComponent } from '../shared/tags';
import { IncidentWorkflow } from './incident-workflow';
import { coverageEnvironment, RuntimeCoverageAlerts } from './runtime-coverage';
import { allowAlarmsToEncrypt, allowAlarmsToPublish, responseAlarmName } from './ops-topic-publishers';

/** Rules of the given listeners (`.../listener-rule/app/<lb>/<id>/<listener>/*`): listener rules cannot be tagged through CloudFormation. */
function listenerRuleArns(listenerArns: readonly string[]): string[] {
  return listenerArns.map((arn) =>
    Fn.join('', [
      Fn.select(0, Fn.split(':listener/', arn)),
      ':listener-rule/',
      Fn.select(1, Fn.split(':listener/', arn)),
      '/*',
    ]),
  );
}

/**
 * Containment may persist through throttling (`STEP_PERSISTENCE_MS`) and then tidy interim
 * rules after a delay; its timeout covers both, and a lock is taken over only once a
 * holder is surely dead (`TAKEOVER_AFTER_MS`, checked in the tests to exceed this).
 */
export const CONTAIN_TIMEOUT = Duration.minutes(5);

/** Construct id CDK gives the one Lambda behind every AwsCustomResource in a stack. */
const AWS_CUSTOM_RESOURCE_SINGLETON = 'AWS679f53fac002430cb0da5b7982bd2287';

/** How long a restore waits for the known-good tasks to be healthy before it gives up (site stays contained). */
export const RESTORE_HEALTH_TIMEOUT = Duration.minutes(15);

export interface ResponseStackProps extends StackProps {
  readonly fleet: FleetConfig;
  /** The CloudWatch Logs endpoint's group: the one destination a quarantined site keeps. */
  readonly logsEndpointSecurityGroup: ec2.ISecurityGroup;
  /** The deny-all ACL strict sites are swapped onto. */
  readonly quarantineAcl: ec2.INetworkAcl;
  /** Bucket for the evidence bucket's own access logs. */
  readonly accessLogs: s3.IBucket;
}

/**
 * The response plane: EventBridge rules for GuardDuty ECS findings and the sites' alarms,
 * the containment function, the incident table, the evidence bucket (Object Lock), the
 * notification topics and the incident workflow. Containment may touch only resources
 * tagged as this environment's (IAM conditions on `aws:ResourceTag`).
 */
export class ResponseStack extends Stack {
  readonly key: kms.Key;
  readonly incidents: dynamodb.Table;
  readonly evidence: s3.Bucket;
  readonly opsTopic: sns.Topic;
  /** GuardDuty attack sequences about ECS clusters, to containment. */
  readonly attackSequenceRule: events.Rule;
  readonly containFunction: nodejs.NodejsFunction;
  readonly incidentFunction: nodejs.NodejsFunction;
  readonly recoveryFunction: nodejs.NodejsFunction;
  readonly workflow: IncidentWorkflow;
  readonly deadLetters: sqs.Queue;
  readonly findingRule: events.Rule;
  readonly ledgerFunction: nodejs.NodejsFunction;
  readonly deploymentRule: events.Rule;
  readonly alarmRule: events.Rule;
  readonly coverageFunction: nodejs.NodejsFunction;
  readonly coverageRule: events.Rule;

  constructor(scope: Construct, id: string, props: ResponseStackProps) {
    super(scope, id, props);
    const { fleet } = props;
    const env = fleet.environment;

    const key = (this.key = new kms.Key(this, 'ResponseKey', {
      description: `Bulkhead ${env} response plane: topics, queues, evidence, backups`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    }));
    tagComponent(key, Component.evidence);
    key.grantEncryptDecrypt(new iam.ServicePrincipal('events.amazonaws.com'));
    // The plane's own alarms publish to the encrypted ops topic as cloudwatch.amazonaws.com, which
    // needs the key ("Enable compatibility between event sources from AWS services and encrypted
    // topics": https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services),
    // held to this account and these alarms (infra/response/ops-topic-publishers.ts).
    allowAlarmsToEncrypt(key, this, env);

    this.incidents = new dynamodb.Table(this, 'Incidents', {
      partitionKey: { name: INCIDENT_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: INCIDENT_TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.incidents.addGlobalSecondaryIndex({
      indexName: INCIDENT_TABLE.siteIndex,
      partitionKey: { name: INCIDENT_TABLE.siteIndexPartitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: INCIDENT_TABLE.siteIndexSortKey, type: dynamodb.AttributeType.STRING },
    });
    tagComponent(this.incidents, Component.incidents);

    this.evidence = new s3.Bucket(this, 'Evidence', {
      versioned: true,
      objectLockEnabled: true,
      objectLockDefaultRetention: s3.ObjectLockRetention.governance(Duration.days(365)),
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.accessLogs,
      serverAccessLogsPrefix: 'evidence/',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    tagComponent(this.evidence, Component.evidence);

    this.opsTopic = new sns.Topic(this, 'OpsTopic', {
      displayName: `Bulkhead ${env} operators`,
      masterKey: key,
      enforceSSL: true,
    });
    if (fleet.operators.email)
      this.opsTopic.addSubscription(new subscriptions.EmailSubscription(fleet.operators.email));
    allowAlarmsToPublish(this.opsTopic, this, env);
    // Client notices go to each site's own topic, made by its stack (infra/site/site-compartment.ts).
    tagComponent(this.opsTopic, Component.notifications);

    const vault = new backup.BackupVault(this, 'IncidentBackups', {
      // Retained (and locked): a re-created stack gets a vault of its own.
      backupVaultName: `bulkhead-${env}-incidents-${stackInstanceSuffix(this)}`,
      encryptionKey: key,
      removalPolicy: RemovalPolicy.RETAIN,
      lockConfiguration: { minRetention: Duration.days(7) },
    });
    const backupRole = new iam.Role(this, 'BackupRole', {
      assumedBy: new iam.ServicePrincipal('backup.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSBackupServiceRolePolicyForBackup')],
      description: 'AWS Backup: on-demand backups of the uploads file system during incidents',
    });
    acknowledge(
      backupRole,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]',
      'The AWS-managed service role policy AWS Backup documents for running backup jobs.',
    );
    tagComponent(vault, Component.evidence);
    tagComponent(backupRole, Component.evidence);

    const workflowLogs = new logs.LogGroup(this, 'WorkflowLogs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const functionLogs = new logs.LogGroup(this, 'FunctionLogs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    tagComponent(workflowLogs, Component.workflow);
    tagComponent(functionLogs, Component.responseFunction);
    const clusterNames = fleet.cells.map((c) => cellClusterName(env, c.id));

    // --- Incident workflow
    this.incidentFunction = this.responseFunction(
      'IncidentFunction',
      'incident',
      'Bulkhead incident workflow steps: evidence, notify, stop contained tasks',
      functionLogs,
      {
        BULKHEAD_ENV: env,
        INCIDENT_TABLE: this.incidents.tableName,
        EVIDENCE_BUCKET: this.evidence.bucketName,
        BACKUP_VAULT: vault.backupVaultName,
        BACKUP_ROLE_ARN: backupRole.roleArn,
        OPS_TOPIC_ARN: this.opsTopic.topicArn,
      },
    );
    this.grantIncidentSteps(this.incidentFunction, fleet, clusterNames, vault, backupRole);

    // --- Recovery: approval, release and restore steps (and the ops console's release/restore)
    this.recoveryFunction = this.responseFunction(
      'RecoveryFunction',
      'recovery',
      'Bulkhead recovery: releases false positives and restores sites from known-good images',
      functionLogs,
      {
        BULKHEAD_ENV: env,
        INCIDENT_TABLE: this.incidents.tableName,
        DB_USER_FUNCTION: databaseUserFunctionName(env),
        LOGS_ENDPOINT_SG_ID: props.logsEndpointSecurityGroup.securityGroupId,
        QUARANTINE_ACL_ID: props.quarantineAcl.networkAclId,
        RESTORE_HEALTH_TIMEOUT_SECONDS: String(RESTORE_HEALTH_TIMEOUT.toSeconds()),
      },
    );
    this.grantRecovery(
      this.recoveryFunction,
      fleet,
      clusterNames,
      fleet.cells.map((c) => importCell(env, c.id, 'listenerArn')),
    );

    this.workflow = new IncidentWorkflow(this, 'IncidentWorkflow', {
      stepFunction: this.incidentFunction,
      recoveryFunction: this.recoveryFunction,
      logGroup: workflowLogs,
    });
    tagComponent(this.workflow, Component.workflow);
    const stateMachineRole = this.workflow.stateMachine.role;
    for (const fn of [this.incidentFunction, this.recoveryFunction]) {
      acknowledge(
        stateMachineRole,
        `AwsSolutions-IAM5[Resource::<${this.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
        'Step Functions may invoke any version of its own step functions (incident and recovery), nothing else.',
      );
    }
    acknowledge(
      stateMachineRole,
      'AwsSolutions-IAM5[Resource::*]',
      'X-Ray tracing (xray:PutTraceSegments and friends) and log delivery support no resource-level permissions.',
    );

    // --- Containment
    this.containFunction = this.responseFunction(
      'ContainFunction',
      'contain',
      'Bulkhead containment: isolates a site on a GuardDuty finding or site alarm',
      functionLogs,
      {
        BULKHEAD_ENV: env,
        BULKHEAD_ACCOUNT: this.account,
        INCIDENT_TABLE: this.incidents.tableName,
        STATE_MACHINE_ARN: this.workflow.stateMachine.stateMachineArn,
        LOGS_ENDPOINT_SG_ID: props.logsEndpointSecurityGroup.securityGroupId,
        QUARANTINE_ACL_ID: props.quarantineAcl.networkAclId,
        CLUSTER_ARNS: clusterNames.map((name) => this.arn('ecs', 'cluster', name)).join(','),
        OPS_TOPIC_ARN: this.opsTopic.topicArn,
      },
      CONTAIN_TIMEOUT,
    );
    // Every site of the fleet may be contained at once: containment's concurrency is reserved
    // (no other function in the account can take it) and sized from the fleet.
    (this.containFunction.node.defaultChild as lambda.CfnFunction).reservedConcurrentExecutions =
      containmentReservedConcurrency(fleet);
    this.enableParameterStoreHigherThroughput();
    this.grantContainment(
      this.containFunction,
      fleet,
      clusterNames,
      fleet.cells.map((c) => importCell(env, c.id, 'listenerArn')),
    );

    // --- Triggers
    this.deadLetters = new sqs.Queue(this, 'TriggerDeadLetters', {
      encryptionMasterKey: key,
      encryption: sqs.QueueEncryption.KMS,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      this.deadLetters,
      'AwsSolutions-SQS3',
      'This queue is itself the dead-letter queue of the response rules.',
    );
    tagComponent(this.deadLetters, Component.responseTriggers);
    // A containment that could not isolate throws, so the event runs again. Lambda user guide,
    // "How Lambda handles errors and retries with asynchronous invocation": "If the function
    // returns an error, by default Lambda attempts to run it two more times, with a one-minute
    // wait between the first two attempts, and two minutes between the second and third
    // attempts." Said here, with what is left over going to the dead-letter queue.
    this.containFunction.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(2),
      onFailure: {
        // What SqsDestination grants, without its wildcards: SQS developer guide, "Key
        // management": producers to a queue with SSE-KMS need kms:GenerateDataKey and kms:Decrypt.
        bind: (_scope, fn) => {
          fn.addToRolePolicy(
            new iam.PolicyStatement({
              sid: 'DeadLetterFailedEvents',
              actions: ['sqs:SendMessage'],
              resources: [this.deadLetters.queueArn],
            }),
          );
          fn.addToRolePolicy(
            new iam.PolicyStatement({
              sid: 'EncryptDeadLetters',
              actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
              resources: [key.keyArn],
            }),
          );
          return { destination: this.deadLetters.queueArn };
        },
      },
    });
    const minimumThreshold = Math.min(...fleet.sites.map((s) => s.response.severityThreshold));
    const target = new targets.LambdaFunction(this.containFunction, {
      retryAttempts: 8,
      maxEventAge: Duration.hours(2),
      deadLetterQueue: this.deadLetters,
    });
    this.findingRule = new events.Rule(this, 'GuardDutyEcsFindings', {
      description: `Bulkhead ${env}: GuardDuty Runtime Monitoring findings about ECS tasks, at or above the lowest site threshold (${minimumThreshold})`,
      eventPattern: {
        source: ['aws.guardduty'],
        detailType: ['GuardDuty Finding'],
        detail: { resource: { resourceType: ['ECSCluster'] }, severity: [{ numeric: ['>=', minimumThreshold] }] },
      },
      targets: [target],
    });
    // GuardDuty Extended Threat Detection: an attack sequence about an ECS cluster is a finding
    // whose resource is the sequence (resource.resourceType "AttackSequence"), not ECSCluster,
    // so the rule above never sees it. Its type is documented ("GuardDuty attack sequence
    // finding types", default severity Critical); containment resolves the tasks it names
    // (runtime/contain/wide-findings.ts). Issue 11 item 4.
    this.attackSequenceRule = new events.Rule(this, 'GuardDutyEcsAttackSequences', {
      description: `Bulkhead ${env}: GuardDuty attack sequences about ECS clusters (${ECS_ATTACK_SEQUENCE_TYPE})`,
      eventPattern: {
        source: ['aws.guardduty'],
        detailType: ['GuardDuty Finding'],
        detail: { type: [ECS_ATTACK_SEQUENCE_TYPE] },
      },
      targets: [target],
    });
    this.alarmRule = new events.Rule(this, 'SiteAlarms', {
      description: `Bulkhead ${env}: site alarms entering ALARM`,
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        // Prefix of this environment's site alarms only (a dot ends the environment id).
        detail: { alarmName: [{ prefix: siteAlarmPrefix(env) }], state: { value: ['ALARM'] } },
      },
      targets: [target],
    });
    // --- Ledger of images: every completed deployment of a site's service.
    this.ledgerFunction = this.responseFunction(
      'LedgerFunction',
      'ledger',
      'Bulkhead ledger of images: records the digest a site runs when its deployment completes',
      functionLogs,
      { BULKHEAD_ENV: env, INCIDENT_TABLE: this.incidents.tableName },
    );
    this.grantIncidentTable(this.ledgerFunction);
    this.ledgerFunction.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadSiteServices',
        actions: ['ecs:DescribeServices'],
        resources: clusterNames.map((name) => this.arn('ecs', 'service', `${name}/*`)),
      }),
    );
    this.ledgerFunction.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadTaskDefinitions',
        actions: ['ecs:DescribeTaskDefinition'],
        resources: ['*'],
      }),
    );
    this.acknowledgeWildcards(this.ledgerFunction, {
      '*': 'ecs:DescribeTaskDefinition supports no resource-level permissions; it is read-only.',
      [`<${this.incidentsLogicalId()}.Arn>/index/*`]: "The incident table's own indexes.",
      ...Object.fromEntries(
        clusterNames.map((name) => [
          nagArn(this, 'ecs', `service/${name}/*`),
          "Services of Bulkhead's own clusters only (read-only).",
        ]),
      ),
    });
    this.deploymentRule = new events.Rule(this, 'SiteDeployments', {
      description: `Bulkhead ${env}: completed deployments of site services (the ledger of images)`,
      eventPattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Deployment State Change'],
        detail: { eventName: ['SERVICE_DEPLOYMENT_COMPLETED'] },
        // Services of this environment's own clusters, named exactly: a prefix of the cluster
        // name (`bulkhead-prod-`) would also take another environment's (`bulkhead-prod-eu-blue`).
        resources: clusterNames.map(
          (name) => ({ prefix: this.arn('ecs', 'service', `${name}/`) }) as unknown as string,
        ),
      },
      targets: [
        new targets.LambdaFunction(this.ledgerFunction, {
          retryAttempts: 8,
          maxEventAge: Duration.hours(2),
          deadLetterQueue: this.deadLetters,
        }),
      ],
    });
    for (const rule of [this.findingRule, this.attackSequenceRule, this.alarmRule, this.deploymentRule])
      tagComponent(rule, Component.responseTriggers);

    // --- GuardDuty runtime coverage changes, to the operators naming the sites.
    const coverageClusters = fleet.cells.map((c) => ({ name: cellClusterName(env, c.id), cell: c.id }));
    this.coverageFunction = this.responseFunction(
      'CoverageFunction',
      'coverage',
      'Bulkhead runtime coverage: tells the operators which sites GuardDuty no longer (or again) watches',
      functionLogs,
      coverageEnvironment(env, this.opsTopic.topicArn, coverageClusters),
    );
    this.coverageRule = new RuntimeCoverageAlerts(this, 'RuntimeCoverage', {
      environment: env,
      coverageFunction: this.coverageFunction,
      clusters: coverageClusters,
      opsTopic: this.opsTopic,
      key: this.key,
      deadLetters: this.deadLetters,
    }).rule;

    // --- Alarms on the response plane itself
    const alarmTopic = new cwActions.SnsAction(this.opsTopic);
    const alarms = [
      new cloudwatch.Alarm(this, 'TriggersDeadLettered', {
        alarmName: responseAlarmName(env, 'dead-letters'),
        alarmDescription:
          'Response events that containment could not take (after retries) are waiting in the dead-letter queue',
        metric: this.deadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'ContainmentFailed', {
        alarmName: responseAlarmName(env, 'containment-failed'),
        alarmDescription: 'A site could not be fully contained; see the incident for what was and was not done',
        metric: new cloudwatch.Metric({
          namespace: 'Bulkhead',
          metricName: 'ContainmentFailed',
          dimensionsMap: { service: 'bulkhead-contain' },
          statistic: 'Sum',
          period: Duration.minutes(1),
        }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'WorkflowFailed', {
        alarmName: responseAlarmName(env, 'workflow-failed'),
        alarmDescription: 'An incident workflow failed; its incident is marked FAILED with the reason',
        metric: this.workflow.stateMachine.metricFailed({ period: Duration.minutes(1), statistic: 'Sum' }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    ];
    for (const alarm of alarms) {
      alarm.addAlarmAction(alarmTopic);
      tagComponent(alarm, Component.responseTriggers);
    }

    // Site stacks encrypt their notice topics with the plane's key (by export name).
    exportPlatformValues(this, env, { responseKeyArn: this.key.keyArn });
    new CfnOutput(this, 'IncidentTableName', { value: this.incidents.tableName });
    new CfnOutput(this, 'StateMachineArn', { value: this.workflow.stateMachine.stateMachineArn });
  }

  private responseFunction<F extends FunctionWithEnvironment>(
    id: string,
    folder: F,
    description: string,
    logGroup: logs.ILogGroup,
    environment: FunctionEnvironment<F>,
    timeout = Duration.minutes(2),
  ) {
    const fn = new nodejs.NodejsFunction(this, id, {
      description,
      entry: path.join(__dirname, `../../runtime/${folder}/index.ts`),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 512,
      timeout,
      logGroup,
      environment: { ...environment, POWERTOOLS_METRICS_NAMESPACE: 'Bulkhead', NODE_OPTIONS: '--enable-source-maps' },
      bundling: lambdaBundling(),
      tracing: lambda.Tracing.ACTIVE,
    });
    tagComponent(fn, Component.responseFunction);
    acknowledge(
      fn,
      `AwsSolutions-IAM4[${LAMBDA_BASIC_EXECUTION}]`,
      "AWS-managed policy for writing the function's own logs only.",
    );
    acknowledge(
      fn,
      'AwsSolutions-L1',
      'Pinned to nodejs22.x, the runtime the project bundles for and tests against; a newer runtime is a deliberate, tested upgrade.',
    );
    return fn;
  }

  /**
   * Every containment reads its site record (SSM GetParameter). Parameter Store's default
   * throughput is 40 transactions a second for the account and Region, shared by
   * GetParameter, GetParameters and GetParametersByPath (AWS General Reference, "AWS Systems
   * Manager endpoints and quotas"): 100 containments at once would be throttled. The
   * documented remedy (Systems Manager User Guide, "Changing Parameter Store throughput":
   * "If you're experiencing ThrottlingException: Rate exceeded errors, we recommend enabling
   * higher throughput") is the service setting `/ssm/parameter-store/high-throughput-enabled`,
   * which this turns on. It applies to the whole account and Region and is charged per API
   * interaction (AWS Systems Manager pricing); deleting the stack leaves it on.
   */
  private enableParameterStoreHigherThroughput(): void {
    const settingId = '/ssm/parameter-store/high-throughput-enabled';
    const setting = new cr.AwsCustomResource(this, 'ParameterStoreHigherThroughput', {
      onUpdate: {
        service: 'SSM',
        action: 'updateServiceSetting',
        parameters: { SettingId: settingId, SettingValue: 'true' },
        physicalResourceId: cr.PhysicalResourceId.of(`parameter-store-high-throughput-${this.region}`),
      },
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({
          actions: ['ssm:UpdateServiceSetting'],
          resources: [this.arn('ssm', 'servicesetting', settingId.slice(1))],
        }),
      ]),
      installLatestAwsSdk: false,
    });
    tagComponent(setting, Component.responseFunction);
    const singleton = this.node.tryFindChild(AWS_CUSTOM_RESOURCE_SINGLETON);
    if (singleton) {
      tagComponent(singleton, Component.responseFunction);
      acknowledge(
        singleton,
        `AwsSolutions-IAM4[${LAMBDA_BASIC_EXECUTION}]`,
        'CDK AwsCustomResource function: AWS-managed policy for writing its own logs only.',
      );
      acknowledge(
        singleton,
        'AwsSolutions-L1',
        'The CDK AwsCustomResource function runs the runtime CDK chooses; it makes one SSM call at deploy time.',
      );
    }
  }

  private arn(service: string, resource: string, resourceName?: string, arnFormat?: ArnFormat): string {
    return stackArn(this, service, resource, resourceName, arnFormat);
  }

  /** Only what containment needs, and only on resources tagged as this environment's. */
  private grantContainment(
    fn: lambda.Function,
    fleet: FleetConfig,
    clusterNames: readonly string[],
    listenerArns: readonly string[],
  ) {
    const env = fleet.environment;
    const taggedForEnv = { [`aws:ResourceTag/${TAG_ENV}`]: env };
    this.allowSiteNetworkChanges(fn, env, {
      groupSid: 'SwapSiteSecurityGroupRules',
      groupActions: [
        'ec2:RevokeSecurityGroupIngress',
        'ec2:RevokeSecurityGroupEgress',
        'ec2:AuthorizeSecurityGroupEgress',
        'ec2:ModifySecurityGroupRules',
      ],
      aclSid: 'SwapSiteAcls',
    });
    // Listener rules cannot be tagged through CloudFormation, so ModifyRule is scoped by ARN:
    // rules of the cells' own listeners only.
    const ruleArns = listenerRuleArns(listenerArns);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ShedSiteTraffic',
        actions: ['elasticloadbalancing:ModifyRule'],
        resources: ruleArns,
      }),
    );
    for (const arn of ruleArns) {
      acknowledge(
        fn,
        `AwsSolutions-IAM5[Resource::${nagResource(this, arn)}]`,
        "Rules of one cell listener of Bulkhead's, any priority: a site's rule is found from its record.",
      );
    }
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'RevokeTaskRoleSessions',
        actions: ['iam:PutRolePolicy'],
        resources: [Arn.format({ service: 'iam', region: '', resource: 'role', resourceName: '*' }, this)],
        // Task roles only, and only those whose boundary caps what any policy put on them can grant.
        conditions: {
          StringEquals: { ...taggedForEnv, [`aws:ResourceTag/${TAG_COMPONENT}`]: Component.taskRole },
          ...boundedTaskRoles(this, env),
        },
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'FindTheSite',
        actions: ['ecs:DescribeTasks'],
        resources: clusterNames.map((name) => this.arn('ecs', 'task', `${name}/*`)),
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadOnlyLookups',
        actions: [
          'ec2:DescribeSecurityGroups',
          'ec2:DescribeSecurityGroupRules',
          'ec2:DescribeNetworkAcls',
          'elasticloadbalancing:DescribeRules',
        ],
        resources: ['*'],
      }),
    );
    this.grantSiteRecords(fn, env);
    // A finding about a whole cluster names the sites of its cell: every site record, by path.
    // GetParametersByPath is authorized against the path in the request, not the parameters it
    // returns (Systems Manager User Guide, "How Parameter Store authorizes parameter retrieval").
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ListSiteRecords',
        actions: ['ssm:GetParametersByPath'],
        resources: [this.arn('ssm', 'parameter', siteRecordParameterPrefix(env).replace(/^\//, '').replace(/\/$/, ''))],
      }),
    );
    // What an attack sequence or a cluster finding names but containment cannot resolve goes
    // to the operators (the topic is encrypted with the plane's key: SNS developer guide,
    // "Encryption at rest": publishers need kms:GenerateDataKey and kms:Decrypt).
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'TellOperatorsUnresolved',
        actions: ['sns:Publish'],
        resources: [this.opsTopic.topicArn],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'EncryptOperatorNotices',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [this.key.keyArn],
      }),
    );
    this.grantIncidentTable(fn);
    this.workflow.stateMachine.grantStartExecution(fn);
    this.acknowledgeWildcards(fn, {
      '*': 'ec2:DescribeSecurityGroups, ec2:DescribeSecurityGroupRules, ec2:DescribeNetworkAcls and elasticloadbalancing:DescribeRules support no resource-level permissions; they are read-only.',
      [nagArn(this, 'ec2', 'security-group/*')]:
        'Any security group, but only with the tags bulkhead:env of this environment and bulkhead:component=site-sg (condition).',
      [nagArn(this, 'ec2', 'security-group-rule/*')]:
        'ModifySecurityGroupRules also authorizes against each rule (untagged); every request names its group, which must be a site group of this environment (tag condition).',
      [nagArn(this, 'ec2', 'network-acl/*')]:
        "Any network ACL, but only tagged bulkhead:env of this environment (condition): the quarantine ACL and the strict sites' own.",
      [nagArn(this, 'ec2', 'subnet/*')]: 'Any subnet, but only tagged bulkhead:env of this environment (condition).',
      [nagArn(this, 'iam', 'role/*').replace(/:iam:[^:]*:/, ':iam::')]:
        'Any role, but only tagged bulkhead:env of this environment and bulkhead:component=task-role (condition).',
      [`<${this.incidentsLogicalId()}.Arn>/index/*`]: "The incident table's own indexes.",
      ...Object.fromEntries(
        clusterNames.map((name) => [nagArn(this, 'ecs', `task/${name}/*`), "Tasks of Bulkhead's own clusters only."]),
      ),
      [nagArn(this, 'ssm', `parameter${siteRecordParameterPrefix(env)}*`)]:
        "This environment's site records only (read-only).",
    });
  }

  /**
   * What approval, release and restore need: put a site's saved rules, ACL associations and
   * listener actions back, remove the session deny, rotate its password, deploy a revision
   * of its service, and a temporary probe rule. Every write is scoped by tag or by ARN to
   * this environment's sites; the only deletes are Bulkhead's own session-deny policy and
   * probe rules (tagged `restore-probe`).
   */
  private grantRecovery(
    fn: lambda.Function,
    fleet: FleetConfig,
    clusterNames: readonly string[],
    listenerArns: readonly string[],
  ) {
    const env = fleet.environment;
    const taggedForEnv = { [`aws:ResourceTag/${TAG_ENV}`]: env };
    this.allowSiteNetworkChanges(fn, env, {
      groupSid: 'PutSiteRulesBack',
      groupActions: [
        'ec2:AuthorizeSecurityGroupIngress',
        'ec2:AuthorizeSecurityGroupEgress',
        'ec2:RevokeSecurityGroupIngress',
        'ec2:RevokeSecurityGroupEgress',
      ],
      aclSid: 'PutSiteAclsBack',
    });
    const ruleArns = listenerRuleArns(listenerArns);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'RestoreListenerRules',
        actions: ['elasticloadbalancing:ModifyRule'],
        resources: ruleArns,
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'CreateProbeRules',
        actions: ['elasticloadbalancing:CreateRule'],
        resources: [...listenerArns],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'TagProbeRulesOnCreate',
        actions: ['elasticloadbalancing:AddTags'],
        resources: ruleArns,
        conditions: { StringEquals: { 'elasticloadbalancing:CreateAction': 'CreateRule' } },
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'RemoveOwnProbeRules',
        actions: ['elasticloadbalancing:DeleteRule'],
        resources: ruleArns,
        conditions: {
          StringEquals: { ...taggedForEnv, [`aws:ResourceTag/${TAG_COMPONENT}`]: Component.restoreProbeRule },
        },
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'TakeContainedTargetsOut',
        actions: ['elasticloadbalancing:DeregisterTargets'],
        resources: [this.arn('elasticloadbalancing', 'targetgroup', '*')],
        conditions: {
          StringEquals: { ...taggedForEnv, [`aws:ResourceTag/${TAG_COMPONENT}`]: Component.targetGroup },
        },
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'LiftSessionDeny',
        actions: ['iam:DeleteRolePolicy'],
        resources: [Arn.format({ service: 'iam', region: '', resource: 'role', resourceName: '*' }, this)],
        conditions: {
          StringEquals: { ...taggedForEnv, [`aws:ResourceTag/${TAG_COMPONENT}`]: Component.taskRole },
          ...boundedTaskRoles(this, env),
        },
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'RotateSitePasswords',
        actions: [
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetSecretValue',
          'secretsmanager:PutSecretValue',
          'secretsmanager:UpdateSecretVersionStage',
        ],
        resources: [
          Arn.format(
            {
              service: 'secretsmanager',
              resource: 'secret',
              resourceName: `${siteSecretNamePrefix(env)}*`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            },
            this,
          ),
        ],
        conditions: { StringEquals: { ...taggedForEnv, [`aws:ResourceTag/${TAG_COMPONENT}`]: Component.secret } },
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'RandomPasswords',
        actions: ['secretsmanager:GetRandomPassword'],
        resources: ['*'],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ChangeDatabasePasswords',
        actions: ['lambda:InvokeFunction'],
        resources: [this.arn('lambda', 'function', databaseUserFunctionName(env), ArnFormat.COLON_RESOURCE_NAME)],
      }),
    );
    const siteServices = clusterNames.map((name) => this.arn('ecs', 'service', `${name}/*`));
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'DeployKnownGoodRevisions',
        actions: ['ecs:UpdateService'],
        resources: siteServices,
        // Site services of this environment, and only to revisions of this environment's site families.
        conditions: {
          StringEquals: { ...taggedForEnv, [`aws:ResourceTag/${TAG_COMPONENT}`]: Component.service },
          ...siteTaskDefinitionsOnly(this, env),
        },
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadDeployedServices',
        actions: ['ecs:DescribeServices'],
        resources: siteServices,
        conditions: { StringEquals: taggedForEnv },
      }),
    );
    // A restore moves the service between its own and its standby group, and says so in the
    // one tag containment reads (bulkhead:security-group); this role may set no other tag.
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'RetagServiceSecurityGroup',
        actions: ['ecs:TagResource'],
        resources: siteServices,
        conditions: {
          StringEquals: taggedForEnv,
          'ForAllValues:StringEquals': { 'aws:TagKeys': [TAG_SECURITY_GROUP] },
        },
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ProtectAndReadSiteTasks',
        actions: ['ecs:UpdateTaskProtection', 'ecs:DescribeTasks'],
        resources: clusterNames.map((name) => this.arn('ecs', 'task', `${name}/*`)),
      }),
    );
    fn.addToRolePolicy(
      listTasksInClusters(
        'ListSiteTasks',
        clusterNames.map((name) => this.arn('ecs', 'cluster', name)),
      ),
    );
    // Revisions of this environment's site families only, carrying the environment's tag; the
    // tags go on at registration (ecs:CreateAction, Service Authorization Reference, Amazon ECS),
    // so TagResource cannot touch any task definition that already exists.
    const siteRevisions = this.arn('ecs', 'task-definition', `${siteTaskFamilyPrefix(env)}*:*`);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'RegisterRevisions',
        actions: ['ecs:RegisterTaskDefinition'],
        resources: [siteRevisions],
        conditions: { StringEquals: { [`aws:RequestTag/${TAG_ENV}`]: env } },
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'TagRevisionsOnRegister',
        actions: ['ecs:TagResource'],
        resources: [siteRevisions],
        conditions: { StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } },
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadTaskDefinitions',
        actions: ['ecs:DescribeTaskDefinition'],
        resources: ['*'],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'PassSiteRolesToEcs',
        actions: ['iam:PassRole'],
        resources: [Arn.format({ service: 'iam', region: '', resource: 'role', resourceName: '*' }, this)],
        // Site task and execution roles of this environment, to ECS tasks, and nothing else.
        conditions: {
          StringEquals: {
            ...taggedForEnv,
            [`aws:ResourceTag/${TAG_COMPONENT}`]: [Component.taskRole, Component.executionRole],
            'iam:PassedToService': 'ecs-tasks.amazonaws.com',
          },
        },
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadOnlyLookups',
        actions: [
          'ec2:DescribeSecurityGroups',
          'ec2:DescribeNetworkAcls',
          'elasticloadbalancing:DescribeRules',
          'elasticloadbalancing:DescribeTags',
          'elasticloadbalancing:DescribeTargetHealth',
        ],
        resources: ['*'],
      }),
    );
    this.grantSiteRecords(fn, env);
    this.grantIncidentTable(fn);
    this.acknowledgeWildcards(fn, {
      '*': "Describe calls (EC2 groups and ACLs, ELB rules, their tags and target health), secretsmanager:GetRandomPassword and ecs:DescribeTaskDefinition support no resource-level permissions; ecs:ListTasks is held to Bulkhead's clusters by the ecs:cluster condition (docs/iam.md), and only this environment's services may be updated (tag condition).",
      [nagArn(this, 'ec2', 'security-group/*')]:
        'Any security group, but only tagged bulkhead:env of this environment and bulkhead:component=site-sg (condition).',
      [nagArn(this, 'ec2', 'network-acl/*')]: 'Any network ACL, but only tagged bulkhead:env of this environment.',
      [nagArn(this, 'ec2', 'subnet/*')]: 'Any subnet, but only tagged bulkhead:env of this environment.',
      [nagArn(this, 'elasticloadbalancing', 'targetgroup/*')]:
        'Any target group, but only tagged bulkhead:env of this environment and bulkhead:component=target-group (condition).',
      [nagArn(this, 'iam', 'role/*').replace(/:iam:[^:]*:/, ':iam::')]:
        'Roles tagged bulkhead:env of this environment only (condition): task roles for the session deny, site roles passed to ECS tasks for a revision.',
      [nagArn(this, 'secretsmanager', `secret:${siteSecretNamePrefix(env)}*`)]:
        "This environment's site secrets only, by name and by the bulkhead:component=secret tag.",
      [`<${this.incidentsLogicalId()}.Arn>/index/*`]: "The incident table's own indexes.",
      [nagArn(this, 'ssm', `parameter${siteRecordParameterPrefix(env)}*`)]:
        "This environment's site records only (read-only).",
      ...Object.fromEntries(
        clusterNames.flatMap((name) => [
          [nagArn(this, 'ecs', `task/${name}/*`), "Tasks of Bulkhead's own clusters only."],
          [
            nagArn(this, 'ecs', `service/${name}/*`),
            "Services of Bulkhead's own clusters, tagged for this environment.",
          ],
        ]),
      ),
      [nagArn(this, 'ecs', `task-definition/${siteTaskFamilyPrefix(env)}*:*`)]:
        "Revisions of this environment's site families only, registered with the bulkhead:env tag (condition) and tagged only at registration (ecs:CreateAction).",
    });
    for (const arn of ruleArns) {
      acknowledge(
        fn,
        `AwsSolutions-IAM5[Resource::${nagResource(this, arn)}]`,
        "Rules of one cell listener of Bulkhead's: a site's rule is found from its record; deletes only rules tagged restore-probe.",
      );
    }
  }

  /**
   * Security-group rule changes only on groups tagged as this environment's site groups, and
   * ACL swaps only on ACLs and subnets tagged as this environment's (containment, recovery).
   */
  private allowSiteNetworkChanges(
    fn: lambda.Function,
    env: string,
    options: { groupSid: string; groupActions: string[]; aclSid: string },
  ) {
    for (const statement of [
      ...siteGroupRuleStatements(this, env, options.groupSid, options.groupActions),
      ...siteAclStatements(this, env, options.aclSid),
    ])
      fn.addToRolePolicy(statement);
  }

  private grantIncidentSteps(
    fn: lambda.Function,
    fleet: FleetConfig,
    clusterNames: readonly string[],
    vault: backup.IBackupVault,
    backupRole: iam.IRole,
  ) {
    const env = fleet.environment;
    this.grantSiteRecords(fn, env);
    this.grantIncidentTable(fn);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'WriteEvidence',
        actions: ['s3:PutObject'],
        resources: [this.evidence.arnForObjects('incidents/*')],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'PublishNotices',
        actions: ['sns:Publish'],
        resources: [
          this.opsTopic.topicArn,
          this.arn('sns', `${siteNoticeTopicPrefix(env)}*`, undefined, ArnFormat.NO_RESOURCE_NAME),
        ],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'EncryptEvidenceAndNotices',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [this.key.keyArn],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'DescribeAndStopContainedTasks',
        actions: ['ecs:DescribeTasks', 'ecs:StopTask'],
        resources: clusterNames.map((name) => this.arn('ecs', 'task', `${name}/*`)),
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        // After the hold with no restore: desired count 0, so the compromised revision is not relaunched.
        sid: 'StopRelaunchingContainedRevision',
        actions: ['ecs:UpdateService'],
        resources: clusterNames.map((name) => this.arn('ecs', 'service', `${name}/*`)),
        conditions: {
          StringEquals: {
            [`aws:ResourceTag/${TAG_ENV}`]: env,
            [`aws:ResourceTag/${TAG_COMPONENT}`]: Component.service,
          },
          ...siteTaskDefinitionsOnly(this, env),
        },
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadSiteServices',
        actions: ['ecs:DescribeServices'],
        resources: clusterNames.map((name) => this.arn('ecs', 'service', `${name}/*`)),
      }),
    );
    fn.addToRolePolicy(
      listTasksInClusters(
        'ListTasksOfClusters',
        clusterNames.map((name) => this.arn('ecs', 'cluster', name)),
      ),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadOnlyEvidence',
        actions: ['ecs:DescribeTaskDefinition', 'ec2:DescribeNetworkInterfaces'],
        resources: ['*'],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadSiteLogs',
        actions: ['logs:FilterLogEvents'],
        resources: [this.arn('logs', 'log-group', `${siteLogGroupName(env, '*')}:*`, ArnFormat.COLON_RESOURCE_NAME)],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'BackUpUploads',
        actions: ['backup:StartBackupJob'],
        resources: [vault.backupVaultArn],
      }),
    );
    backupRole.grantPassRole(fn.grantPrincipal);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'WorkflowFailureMetric',
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': 'Bulkhead' } },
      }),
    );
    this.acknowledgeWildcards(fn, {
      '*': "ecs:DescribeTaskDefinition and ec2:DescribeNetworkInterfaces support no resource-level permissions (read-only); cloudwatch:PutMetricData is limited to the Bulkhead namespace and ecs:ListTasks to Bulkhead's clusters (conditions; docs/iam.md).",
      [nagArn(this, 'ssm', `parameter${siteRecordParameterPrefix(env)}*`)]:
        "This environment's site records only (read-only).",
      [`<${this.incidentsLogicalId()}.Arn>/index/*`]: "The incident table's own indexes.",
      [`<${this.getLogicalId(this.evidence.node.defaultChild as s3.CfnBucket)}.Arn>/incidents/*`]:
        'Evidence objects under incidents/ only (Object Lock keeps them).',
      [nagArn(this, 'sns', `${siteNoticeTopicPrefix(env)}*`)]:
        "Publish only, to this environment's site notice topics (bulkhead-<env>-notices-<site>): each incident's notice to the site's contact.",
      [nagArn(this, 'logs', `log-group:${siteLogGroupName(env, '*')}:*`)]:
        "This environment's site log groups, read-only (FilterLogEvents) for evidence.",
      ...Object.fromEntries(
        clusterNames.flatMap((name) => [
          [nagArn(this, 'ecs', `task/${name}/*`), "Tasks of Bulkhead's own clusters only."],
          [nagArn(this, 'ecs', `service/${name}/*`), "Services of Bulkhead's own clusters only."],
        ]),
      ),
    });
  }

  /** Read and write incidents; never delete (closing an incident only clears the site's lock). */
  private grantIncidentTable(fn: lambda.Function) {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'IncidentsWithoutDelete',
        actions: [
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:Query',
          'dynamodb:ConditionCheckItem',
        ],
        resources: [this.incidents.tableArn, `${this.incidents.tableArn}/index/*`],
      }),
    );
  }

  private grantSiteRecords(fn: lambda.Function, env: string) {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadSiteRecords',
        actions: ['ssm:GetParameter'],
        resources: [this.arn('ssm', 'parameter', `${siteRecordParameterPrefix(env).replace(/^\//, '')}*`)],
      }),
    );
  }

  private incidentsLogicalId(): string {
    return this.getLogicalId(this.incidents.node.defaultChild as dynamodb.CfnTable);
  }

  /** Acknowledges cdk-nag IAM5 findings, one per wildcard resource, each with its reason. */
  private acknowledgeWildcards(fn: lambda.Function, reasons: Record<string, string>): void {
    for (const [resource, reason] of Object.entries(reasons)) {
      acknowledge(fn, `AwsSolutions-IAM5[Resource::${resource}]`, reason);
    }
  }
}
