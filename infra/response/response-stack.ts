import * as path from 'node:path';
import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
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
import { acknowledge, acknowledgeResources, acknowledgeWildcards, LAMBDA_BASIC_EXECUTION, nagArn } from '../shared/nag';
import { stackArn } from '../shared/iam-statements';
import {
  clusterArns,
  deployKnownGoodRevisionStatements,
  listenerRuleArns,
  listSiteRecordsStatement,
  listSiteTasksStatement,
  putSiteNetworkBackStatements,
  readSiteRecordsStatement,
  readSiteServicesStatement,
  readTaskDefinitionsStatement,
  restoreProbeStatements,
  rotateSitePasswordStatements,
  siteListenerRuleStatement,
  siteNetworkLookupsStatement,
  siteTasksStatement,
  swapSiteNetworkStatements,
  taskRoleSessionDenyStatement,
  updateSiteServicesStatement,
} from '../shared/capabilities';
import { siteRecordParameterPrefix } from '../../contracts/site-record';
import { Component, tagComponent } from '../shared/tags';
import { IncidentWorkflow } from './incident-workflow';
import { coverageEnvironment, RuntimeCoverageAlerts } from './runtime-coverage';
import { allowAlarmsToEncrypt, allowAlarmsToPublish, responseAlarmName } from './ops-topic-publishers';

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
  /** The validated fleet. */
  readonly fleet: FleetConfig;
  /**
   * The platform VPC's CloudWatch Logs endpoint group: the one destination a quarantined site
   * keeps (a site in a cell's own VPC names its VPC's in its record).
   */
  readonly logsEndpointSecurityGroup: ec2.ISecurityGroup;
  /**
   * The platform VPC's deny-all ACL, which quarantine moves a site's subnets onto (a site in a
   * cell's own VPC names its VPC's in its record).
   */
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

    this.key = this.addKey(env);
    this.incidents = this.addIncidentTable();
    this.evidence = this.addEvidenceBucket(props.accessLogs);
    this.opsTopic = this.addOpsTopic(fleet);
    const { vault, backupRole } = this.addIncidentBackups(env);
    const { workflowLogs, functionLogs } = this.addLogGroups();
    const clusterNames = fleet.cells.map((c) => cellClusterName(env, c.id));

    // --- Incident workflow
    this.incidentFunction = this.addIncidentFunction(env, functionLogs, clusterNames, vault, backupRole);
    this.grantIncidentSteps(this.incidentFunction, fleet, clusterNames, vault, backupRole);

    // --- Recovery: approval, release and restore steps (and the ops console's release/restore)
    this.recoveryFunction = this.addRecoveryFunction(props, functionLogs, clusterNames);

    this.workflow = this.addWorkflow(workflowLogs);

    // --- Containment
    this.containFunction = this.addContainFunction(props, functionLogs, clusterNames);
    this.enableParameterStoreHigherThroughput();
    this.grantContainment(
      this.containFunction,
      fleet,
      clusterNames,
      fleet.cells.map((c) => importCell(env, c.id, 'listenerArn')),
    );

    // --- Triggers
    this.deadLetters = this.addDeadLetters();
    this.sendFailedContainmentsToDeadLetters();
    const triggers = this.addContainmentTriggers(fleet);
    this.findingRule = triggers.findingRule;
    this.attackSequenceRule = triggers.attackSequenceRule;
    this.alarmRule = triggers.alarmRule;

    // --- Ledger of images: every completed deployment of a site's service.
    this.ledgerFunction = this.addLedgerFunction(env, functionLogs, clusterNames);
    this.deploymentRule = this.addDeploymentRule(env, clusterNames);
    for (const rule of [this.findingRule, this.attackSequenceRule, this.alarmRule, this.deploymentRule])
      tagComponent(rule, Component.responseTriggers);

    // --- GuardDuty runtime coverage changes, to the operators naming the sites.
    const coverage = this.addRuntimeCoverage(fleet, functionLogs);
    this.coverageFunction = coverage.coverageFunction;
    this.coverageRule = coverage.coverageRule;

    this.addPlaneAlarms(env);

    // Site stacks encrypt their notice topics with the plane's key (by export name).
    exportPlatformValues(this, env, { responseKeyArn: this.key.keyArn });
    new CfnOutput(this, 'IncidentTableName', { value: this.incidents.tableName });
    new CfnOutput(this, 'StateMachineArn', { value: this.workflow.stateMachine.stateMachineArn });
  }

  /** The plane's key: topics, queues, evidence and backups. */
  private addKey(env: string): kms.Key {
    const key = new kms.Key(this, 'ResponseKey', {
      description: `Bulkhead ${env} response plane: topics, queues, evidence, backups`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    tagComponent(key, Component.evidence);
    key.grantEncryptDecrypt(new iam.ServicePrincipal('events.amazonaws.com'));
    // The plane's own alarms publish to the encrypted ops topic as cloudwatch.amazonaws.com, which
    // needs the key ("Enable compatibility between event sources from AWS services and encrypted
    // topics": https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services),
    // held to this account and these alarms (infra/response/ops-topic-publishers.ts).
    allowAlarmsToEncrypt(key, this, env);
    return key;
  }

  private addIncidentTable(): dynamodb.Table {
    const incidents = new dynamodb.Table(this, 'Incidents', {
      partitionKey: { name: INCIDENT_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: INCIDENT_TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    incidents.addGlobalSecondaryIndex({
      indexName: INCIDENT_TABLE.siteIndex,
      partitionKey: { name: INCIDENT_TABLE.siteIndexPartitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: INCIDENT_TABLE.siteIndexSortKey, type: dynamodb.AttributeType.STRING },
    });
    tagComponent(incidents, Component.incidents);
    return incidents;
  }

  /** Evidence under Object Lock (governance, a year), encrypted with the plane's key. */
  private addEvidenceBucket(accessLogs: s3.IBucket): s3.Bucket {
    const evidence = new s3.Bucket(this, 'Evidence', {
      versioned: true,
      objectLockEnabled: true,
      objectLockDefaultRetention: s3.ObjectLockRetention.governance(Duration.days(365)),
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'evidence/',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    tagComponent(evidence, Component.evidence);
    return evidence;
  }

  private addOpsTopic(fleet: FleetConfig): sns.Topic {
    const env = fleet.environment;
    const topic = new sns.Topic(this, 'OpsTopic', {
      displayName: `Bulkhead ${env} operators`,
      masterKey: this.key,
      enforceSSL: true,
    });
    if (fleet.operators.email) topic.addSubscription(new subscriptions.EmailSubscription(fleet.operators.email));
    allowAlarmsToPublish(topic, this, env);
    // Client notices go to each site's own topic, made by its stack (infra/site/site-compartment.ts).
    tagComponent(topic, Component.notifications);
    return topic;
  }

  /** The vault (locked) and the role AWS Backup uses for the uploads' on-demand backups during incidents. */
  private addIncidentBackups(env: string): { vault: backup.BackupVault; backupRole: iam.Role } {
    const vault = new backup.BackupVault(this, 'IncidentBackups', {
      // Retained (and locked): a re-created stack gets a vault of its own.
      backupVaultName: `bulkhead-${env}-incidents-${stackInstanceSuffix(this)}`,
      encryptionKey: this.key,
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
    return { vault, backupRole };
  }

  private addLogGroups(): { workflowLogs: logs.LogGroup; functionLogs: logs.LogGroup } {
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
    return { workflowLogs, functionLogs };
  }

  private addIncidentFunction(
    env: string,
    logGroup: logs.ILogGroup,
    clusterNames: readonly string[],
    vault: backup.IBackupVault,
    backupRole: iam.IRole,
  ): nodejs.NodejsFunction {
    return this.responseFunction(
      'IncidentFunction',
      'incident',
      'Bulkhead incident workflow steps: evidence, notify, stop contained tasks',
      logGroup,
      {
        BULKHEAD_ENV: env,
        INCIDENT_TABLE: this.incidents.tableName,
        EVIDENCE_BUCKET: this.evidence.bucketName,
        BACKUP_VAULT: vault.backupVaultName,
        BACKUP_ROLE_ARN: backupRole.roleArn,
        OPS_TOPIC_ARN: this.opsTopic.topicArn,
      },
    );
  }

  private addRecoveryFunction(
    props: ResponseStackProps,
    logGroup: logs.ILogGroup,
    clusterNames: readonly string[],
  ): nodejs.NodejsFunction {
    const env = props.fleet.environment;
    const fn = this.responseFunction(
      'RecoveryFunction',
      'recovery',
      'Bulkhead recovery: releases false positives and restores sites from known-good images',
      logGroup,
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
      fn,
      props.fleet,
      clusterNames,
      props.fleet.cells.map((c) => importCell(env, c.id, 'listenerArn')),
    );
    return fn;
  }

  /** GuardDuty runtime coverage changes, to the operators naming the sites. */
  private addRuntimeCoverage(
    fleet: FleetConfig,
    logGroup: logs.ILogGroup,
  ): { coverageFunction: nodejs.NodejsFunction; coverageRule: events.Rule } {
    const env = fleet.environment;
    const coverageClusters = fleet.cells.map((c) => ({ name: cellClusterName(env, c.id), cell: c.id }));
    const coverageFunction = this.responseFunction(
      'CoverageFunction',
      'coverage',
      'Bulkhead runtime coverage: tells the operators which sites GuardDuty no longer (or again) watches',
      logGroup,
      coverageEnvironment(env, this.opsTopic.topicArn, coverageClusters),
    );
    const coverageRule = new RuntimeCoverageAlerts(this, 'RuntimeCoverage', {
      environment: env,
      coverageFunction,
      clusters: coverageClusters,
      opsTopic: this.opsTopic,
      key: this.key,
      deadLetters: this.deadLetters,
    }).rule;
    return { coverageFunction, coverageRule };
  }

  private addWorkflow(logGroup: logs.ILogGroup): IncidentWorkflow {
    const workflow = new IncidentWorkflow(this, 'IncidentWorkflow', {
      stepFunction: this.incidentFunction,
      recoveryFunction: this.recoveryFunction,
      logGroup,
    });
    tagComponent(workflow, Component.workflow);
    const stateMachineRole = workflow.stateMachine.role;
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
    return workflow;
  }

  private addContainFunction(
    props: ResponseStackProps,
    logGroup: logs.ILogGroup,
    clusterNames: readonly string[],
  ): nodejs.NodejsFunction {
    const { fleet } = props;
    const fn = this.responseFunction(
      'ContainFunction',
      'contain',
      'Bulkhead containment: isolates a site on a GuardDuty finding or site alarm',
      logGroup,
      {
        BULKHEAD_ENV: fleet.environment,
        BULKHEAD_ACCOUNT: this.account,
        INCIDENT_TABLE: this.incidents.tableName,
        STATE_MACHINE_ARN: this.workflow.stateMachine.stateMachineArn,
        LOGS_ENDPOINT_SG_ID: props.logsEndpointSecurityGroup.securityGroupId,
        QUARANTINE_ACL_ID: props.quarantineAcl.networkAclId,
        CLUSTER_ARNS: clusterArns(this, clusterNames).join(','),
        OPS_TOPIC_ARN: this.opsTopic.topicArn,
      },
      CONTAIN_TIMEOUT,
    );
    // Every site of the fleet may be contained at once: containment's concurrency is reserved
    // (no other function in the account can take it) and sized from the fleet.
    (fn.node.defaultChild as lambda.CfnFunction).reservedConcurrentExecutions = containmentReservedConcurrency(fleet);
    return fn;
  }

  private addDeadLetters(): sqs.Queue {
    const deadLetters = new sqs.Queue(this, 'TriggerDeadLetters', {
      encryptionMasterKey: this.key,
      encryption: sqs.QueueEncryption.KMS,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(deadLetters, 'AwsSolutions-SQS3', 'This queue is itself the dead-letter queue of the response rules.');
    tagComponent(deadLetters, Component.responseTriggers);
    return deadLetters;
  }

  /**
   * A containment that could not isolate throws, so the event runs again. Lambda user guide,
   * "How Lambda handles errors and retries with asynchronous invocation": "If the function
   * returns an error, by default Lambda attempts to run it two more times, with a one-minute
   * wait between the first two attempts, and two minutes between the second and third
   * attempts." Said here, with what is left over going to the dead-letter queue.
   */
  private sendFailedContainmentsToDeadLetters(): void {
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
              resources: [this.key.keyArn],
            }),
          );
          return { destination: this.deadLetters.queueArn };
        },
      },
    });
  }

  /** GuardDuty ECS findings, attack sequences about ECS clusters and the sites' alarms, to containment. */
  private addContainmentTriggers(fleet: FleetConfig): {
    findingRule: events.Rule;
    attackSequenceRule: events.Rule;
    alarmRule: events.Rule;
  } {
    const env = fleet.environment;
    const minimumThreshold = Math.min(...fleet.sites.map((s) => s.response.severityThreshold));
    const target = new targets.LambdaFunction(this.containFunction, {
      retryAttempts: 8,
      maxEventAge: Duration.hours(2),
      deadLetterQueue: this.deadLetters,
    });
    const findingRule = new events.Rule(this, 'GuardDutyEcsFindings', {
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
    const attackSequenceRule = new events.Rule(this, 'GuardDutyEcsAttackSequences', {
      description: `Bulkhead ${env}: GuardDuty attack sequences about ECS clusters (${ECS_ATTACK_SEQUENCE_TYPE})`,
      eventPattern: {
        source: ['aws.guardduty'],
        detailType: ['GuardDuty Finding'],
        detail: { type: [ECS_ATTACK_SEQUENCE_TYPE] },
      },
      targets: [target],
    });
    const alarmRule = new events.Rule(this, 'SiteAlarms', {
      description: `Bulkhead ${env}: site alarms entering ALARM`,
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        // Prefix of this environment's site alarms only (a dot ends the environment id).
        detail: { alarmName: [{ prefix: siteAlarmPrefix(env) }], state: { value: ['ALARM'] } },
      },
      targets: [target],
    });
    return { findingRule, attackSequenceRule, alarmRule };
  }

  /** The ledger of images: reads a completed deployment's service and revision, writes the incident table. */
  private addLedgerFunction(
    env: string,
    logGroup: logs.ILogGroup,
    clusterNames: readonly string[],
  ): nodejs.NodejsFunction {
    const fn = this.responseFunction(
      'LedgerFunction',
      'ledger',
      'Bulkhead ledger of images: records the digest a site runs when its deployment completes',
      logGroup,
      { BULKHEAD_ENV: env, INCIDENT_TABLE: this.incidents.tableName },
    );
    this.grantIncidentTable(fn);
    fn.addToRolePolicy(readSiteServicesStatement(this, clusterNames));
    fn.addToRolePolicy(readTaskDefinitionsStatement());
    acknowledgeWildcards(fn, {
      '*': 'ecs:DescribeTaskDefinition supports no resource-level permissions; it is read-only.',
      [`<${this.incidentsLogicalId()}.Arn>/index/*`]: "The incident table's own indexes.",
      ...Object.fromEntries(
        clusterNames.map((name) => [
          nagArn(this, 'ecs', `service/${name}/*`),
          "Services of Bulkhead's own clusters only (read-only).",
        ]),
      ),
    });
    return fn;
  }

  private addDeploymentRule(env: string, clusterNames: readonly string[]): events.Rule {
    return new events.Rule(this, 'SiteDeployments', {
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
  }

  /** Alarms on the response plane itself, to the operators' topic. */
  private addPlaneAlarms(env: string): void {
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
    const ruleArns = listenerRuleArns(listenerArns);
    addStatements(fn, [
      ...swapSiteNetworkStatements(this, env),
      siteListenerRuleStatement('ShedSiteTraffic', ruleArns),
      taskRoleSessionDenyStatement(this, env, 'RevokeTaskRoleSessions', ['iam:PutRolePolicy']),
      siteTasksStatement(this, clusterNames, 'FindTheSite', ['ecs:DescribeTasks']),
      siteNetworkLookupsStatement(),
      readSiteRecordsStatement(this, env),
      // A finding about a whole cluster names the sites of its cell: every site record, by path.
      listSiteRecordsStatement(this, env),
      // What an attack sequence or a cluster finding names but containment cannot resolve goes
      // to the operators (the topic is encrypted with the plane's key: SNS developer guide,
      // "Encryption at rest": publishers need kms:GenerateDataKey and kms:Decrypt).
      new iam.PolicyStatement({
        sid: 'TellOperatorsUnresolved',
        actions: ['sns:Publish'],
        resources: [this.opsTopic.topicArn],
      }),
      new iam.PolicyStatement({
        sid: 'EncryptOperatorNotices',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [this.key.keyArn],
      }),
      this.incidentTableStatement(),
    ]);
    this.workflow.stateMachine.grantStartExecution(fn);
    acknowledgeResources(
      fn,
      ruleArns,
      "Rules of one cell listener of Bulkhead's, any priority: a site's rule is found from its record.",
    );
    acknowledgeWildcards(fn, {
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
    const ruleArns = listenerRuleArns(listenerArns);
    addStatements(fn, [
      ...putSiteNetworkBackStatements(this, env),
      siteListenerRuleStatement('RestoreListenerRules', ruleArns),
      ...restoreProbeStatements(this, env, listenerArns, ruleArns),
      taskRoleSessionDenyStatement(this, env, 'LiftSessionDeny', ['iam:DeleteRolePolicy']),
      ...rotateSitePasswordStatements(this, env),
      ...deployKnownGoodRevisionStatements(this, env, clusterNames),
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
      readSiteRecordsStatement(this, env),
      this.incidentTableStatement(),
    ]);
    acknowledgeWildcards(fn, {
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
    acknowledgeResources(
      fn,
      ruleArns,
      "Rules of one cell listener of Bulkhead's: a site's rule is found from its record; deletes only rules tagged restore-probe.",
    );
  }

  private grantIncidentSteps(
    fn: lambda.Function,
    fleet: FleetConfig,
    clusterNames: readonly string[],
    vault: backup.IBackupVault,
    backupRole: iam.IRole,
  ) {
    const env = fleet.environment;
    addStatements(fn, [
      readSiteRecordsStatement(this, env),
      this.incidentTableStatement(),
      new iam.PolicyStatement({
        sid: 'WriteEvidence',
        actions: ['s3:PutObject'],
        resources: [this.evidence.arnForObjects('incidents/*')],
      }),
      new iam.PolicyStatement({
        sid: 'PublishNotices',
        actions: ['sns:Publish'],
        resources: [
          this.opsTopic.topicArn,
          this.arn('sns', `${siteNoticeTopicPrefix(env)}*`, undefined, ArnFormat.NO_RESOURCE_NAME),
        ],
      }),
      new iam.PolicyStatement({
        sid: 'EncryptEvidenceAndNotices',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [this.key.keyArn],
      }),
      siteTasksStatement(this, clusterNames, 'DescribeAndStopContainedTasks', ['ecs:DescribeTasks', 'ecs:StopTask']),
      // After the hold with no restore: desired count 0, so the compromised revision is not relaunched.
      updateSiteServicesStatement(this, env, clusterNames, 'StopRelaunchingContainedRevision'),
      readSiteServicesStatement(this, clusterNames),
      listSiteTasksStatement(this, clusterNames, 'ListTasksOfClusters'),
      new iam.PolicyStatement({
        sid: 'ReadOnlyEvidence',
        actions: ['ecs:DescribeTaskDefinition', 'ec2:DescribeNetworkInterfaces'],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        sid: 'ReadSiteLogs',
        actions: ['logs:FilterLogEvents'],
        resources: [this.arn('logs', 'log-group', `${siteLogGroupName(env, '*')}:*`, ArnFormat.COLON_RESOURCE_NAME)],
      }),
      new iam.PolicyStatement({
        sid: 'BackUpUploads',
        actions: ['backup:StartBackupJob'],
        resources: [vault.backupVaultArn],
      }),
    ]);
    backupRole.grantPassRole(fn.grantPrincipal);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'WorkflowFailureMetric',
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': 'Bulkhead' } },
      }),
    );
    acknowledgeWildcards(fn, {
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
  private incidentTableStatement(): iam.PolicyStatement {
    return new iam.PolicyStatement({
      sid: 'IncidentsWithoutDelete',
      actions: [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:Query',
        'dynamodb:ConditionCheckItem',
      ],
      resources: [this.incidents.tableArn, `${this.incidents.tableArn}/index/*`],
    });
  }

  private grantIncidentTable(fn: lambda.Function) {
    fn.addToRolePolicy(this.incidentTableStatement());
  }

  private incidentsLogicalId(): string {
    return this.getLogicalId(this.incidents.node.defaultChild as dynamodb.CfnTable);
  }
}

function addStatements(fn: lambda.IFunction, statements: readonly iam.PolicyStatement[]): void {
  for (const statement of statements) fn.addToRolePolicy(statement);
}
