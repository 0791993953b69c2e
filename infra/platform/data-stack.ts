import * as path from 'node:path';
import { ArnFormat, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import type { FleetConfig } from '../config/load-fleet';
import { databaseUserFunctionName, type PlatformExportKey, siteSecretNamePrefix } from '../../contracts/names';
import { exportPlatformValues, stackInstanceSuffix } from '../shared/stack-exports';
import { lambdaBundling } from '../shared/lambda-defaults';
import { acknowledge, LAMBDA_BASIC_EXECUTION, LAMBDA_VPC_EXECUTION, nagArn } from '../shared/nag';
import { Component, TAG_COMPONENT, TAG_ENV, tagComponent } from '../shared/tags';

const DATABASE_LOG_EXPORTS = ['audit', 'error', 'general', 'slowquery'] as const;

export interface DataStackProps extends StackProps {
  /** The resolved fleet file: the environment's name and the database settings (engine, class, readers, backups). */
  readonly fleet: FleetConfig;
  /** The fleet's VPC (Network stack): the cluster, the file system and the provider go in its isolated subnets. */
  readonly vpc: ec2.IVpc;
  /** Prefix list of the subnets site tasks run in: the only sources shared groups admit. */
  readonly appSubnets: ec2.IPrefixList;
  /** Security group of the Secrets Manager endpoint (the provider reads secrets through it). */
  readonly endpointSecurityGroup: ec2.ISecurityGroup;
}

/**
 * Data the sites share physically but never logically: the MySQL-compatible cluster (one
 * user and schema per site, made by the database-user provider), and the uploads file
 * system (one access point, uid/gid and directory per site, IAM authorization enforced).
 */
export class DataStack extends Stack {
  readonly cluster: rds.DatabaseCluster;
  readonly databaseSecurityGroup: ec2.SecurityGroup;
  readonly uploads: efs.FileSystem;
  readonly uploadsSecurityGroup: ec2.SecurityGroup;
  readonly databaseUserProvider: cr.Provider;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    const { fleet, vpc, appSubnets } = props;
    const isolated = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
    const fromApps = ec2.Peer.prefixList(appSubnets.prefixListId);

    const database = this.newDatabase(fleet, vpc, fromApps, isolated);
    this.databaseSecurityGroup = database.securityGroup;
    this.cluster = database.cluster;
    const uploads = this.newUploads(vpc, fromApps, isolated);
    this.uploadsSecurityGroup = uploads.securityGroup;
    this.uploads = uploads.fileSystem;

    this.databaseUserProvider = this.databaseUserProviderFor(fleet, vpc, props.endpointSecurityGroup);

    const exports: Partial<Record<PlatformExportKey, string>> = {
      databaseSecurityGroupId: this.databaseSecurityGroup.securityGroupId,
      databaseEndpoint: this.cluster.clusterEndpoint.hostname,
      databasePort: this.cluster.clusterEndpoint.port.toString(),
      databaseUserServiceToken: this.databaseUserProvider.serviceToken,
      uploadsFileSystemId: this.uploads.fileSystemId,
      uploadsFileSystemArn: this.uploads.fileSystemArn,
      uploadsSecurityGroupId: this.uploadsSecurityGroup.securityGroupId,
    };
    exportPlatformValues(this, fleet.environment, exports);
  }

  /**
   * The MySQL-compatible cluster, TLS only, in the isolated subnets, behind a security group
   * that admits the app subnets only; its log groups and admin secret outlive the stack.
   */
  private newDatabase(
    fleet: FleetConfig,
    vpc: ec2.IVpc,
    fromApps: ec2.IPeer,
    isolated: ec2.SubnetSelection,
  ): { securityGroup: ec2.SecurityGroup; cluster: rds.DatabaseCluster } {
    const databaseSecurityGroup = new ec2.SecurityGroup(this, 'DatabaseSecurityGroup', {
      vpc,
      allowAllOutbound: false,
      description: 'Bulkhead database: MySQL from app subnets only; per-site isolation is per database user',
    });
    databaseSecurityGroup.addIngressRule(fromApps, ec2.Port.tcp(3306), 'MySQL from app subnets');
    tagComponent(databaseSecurityGroup, Component.databaseSecurityGroup);

    const engine = rds.DatabaseClusterEngine.auroraMysql({
      version: rds.AuroraMysqlEngineVersion.of(fleet.database.engineVersion, '8.0'),
    });
    const parameterGroup = new rds.ParameterGroup(this, 'DatabaseParameters', {
      engine,
      description: 'Bulkhead: TLS required for every connection',
      parameters: { require_secure_transport: 'ON' },
    });
    tagComponent(parameterGroup, Component.database);
    const instanceType = new ec2.InstanceType(fleet.database.instanceClass.replace(/^db\./, ''));
    // Names of what outlives the stack (the admin secret and the database's log groups, named
    // after the cluster) carry the stack instance, so the Data stack can be deleted and deployed
    // again (infra/shared/stack-exports.ts stackInstanceSuffix).
    const clusterIdentifier = `bulkhead-${fleet.environment}-${stackInstanceSuffix(this)}`;
    const adminSecret = new rds.DatabaseSecret(this, 'AdminSecret', {
      username: 'bulkhead_admin',
      secretName: `bulkhead/${fleet.environment}/database/admin-${stackInstanceSuffix(this)}`,
    });
    adminSecret.applyRemovalPolicy(RemovalPolicy.RETAIN);
    tagComponent(adminSecret, Component.database);
    const cluster = new rds.DatabaseCluster(this, 'Database', {
      engine,
      credentials: rds.Credentials.fromSecret(adminSecret),
      writer: rds.ClusterInstance.provisioned('Writer', {
        instanceType,
        publiclyAccessible: false,
      }),
      readers: Array.from({ length: fleet.database.readers }, (_, i) =>
        rds.ClusterInstance.provisioned(`Reader${i + 1}`, {
          instanceType,
          publiclyAccessible: false,
        }),
      ),
      parameterGroup,
      vpc,
      vpcSubnets: isolated,
      securityGroups: [databaseSecurityGroup],
      port: 3306,
      storageEncrypted: true,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.SNAPSHOT,
      backup: { retention: Duration.days(fleet.database.backupRetentionDays) },
      backtrackWindow: Duration.hours(24),
      iamAuthentication: true,
      clusterIdentifier,
      cloudwatchLogsExports: [...DATABASE_LOG_EXPORTS],
    });
    // The log groups RDS would create, made here with a retention (and kept), so no
    // log-retention Lambda is needed.
    for (const kind of DATABASE_LOG_EXPORTS) {
      const group = new logs.LogGroup(this, `DatabaseLogs-${kind}`, {
        logGroupName: `/aws/rds/cluster/${clusterIdentifier}/${kind}`,
        retention: logs.RetentionDays.ONE_YEAR,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      tagComponent(group, Component.database);
      cluster.node.addDependency(group);
    }
    tagComponent(cluster, Component.database);
    Validations.of(cluster).acknowledge({
      id: 'AwsSolutions-RDS11',
      reason:
        'WordPress and its plugins assume 3306; a non-default port adds no isolation, which comes from per-site users, TLS and the prefix-list-scoped security group.',
    });
    cluster.addRotationSingleUser({
      automaticallyAfter: Duration.days(30),
      vpcSubnets: isolated,
    });
    // With RemovalPolicy.SNAPSHOT, CDK gives the cluster's secret a resource policy denying
    // secretsmanager:DeleteSecret to the whole account, which keeps the Data stack from ever
    // being deleted. The secret is retained by CloudFormation instead (DeletionPolicy Retain),
    // so deleting the stack keeps it beside the final snapshot, and the deny is not needed.
    for (const policy of this.node.findAll().filter((c) => c instanceof secretsmanager.CfnResourcePolicy)) {
      const owner = policy.node.scope;
      owner?.node.scope?.node.tryRemoveChild(owner.node.id);
    }
    return { securityGroup: databaseSecurityGroup, cluster };
  }

  /** The uploads file system: reached only through an access point, over TLS, never as root. */
  private newUploads(
    vpc: ec2.IVpc,
    fromApps: ec2.IPeer,
    isolated: ec2.SubnetSelection,
  ): { securityGroup: ec2.SecurityGroup; fileSystem: efs.FileSystem } {
    const uploadsSecurityGroup = new ec2.SecurityGroup(this, 'UploadsSecurityGroup', {
      vpc,
      allowAllOutbound: false,
      description:
        'Bulkhead uploads file system: NFS from app subnets only; per-site isolation is per access point and IAM',
    });
    uploadsSecurityGroup.addIngressRule(fromApps, ec2.Port.tcp(2049), 'NFS from app subnets');
    tagComponent(uploadsSecurityGroup, Component.uploadsSecurityGroup);
    const uploads = new efs.FileSystem(this, 'Uploads', {
      vpc,
      vpcSubnets: isolated,
      securityGroup: uploadsSecurityGroup,
      encrypted: true,
      enableAutomaticBackups: true,
      performanceMode: efs.PerformanceMode.GENERAL_PURPOSE,
      throughputMode: efs.ThroughputMode.ELASTIC,
      removalPolicy: RemovalPolicy.RETAIN,
      allowAnonymousAccess: false,
    });
    // Every client must come through an access point over TLS; what it may then do is
    // decided by its own task role (mount and write only its own access point).
    uploads.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyWithoutTls',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['*'],
        conditions: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
    uploads.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyWithoutAccessPoint',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: [
          'elasticfilesystem:ClientMount',
          'elasticfilesystem:ClientWrite',
          'elasticfilesystem:ClientRootAccess',
        ],
        conditions: { Null: { 'elasticfilesystem:AccessPointArn': 'true' } },
      }),
    );
    // No site ever needs root on the shared file system. (CDK's anonymous-access default
    // adds an allow of ClientWrite/ClientRootAccess for any principal via mount targets;
    // this deny overrides the root half, and mounting at all needs ClientMount, which only
    // each site's own task role holds, for its own access point.)
    uploads.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyRootAccess',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['elasticfilesystem:ClientRootAccess'],
      }),
    );
    tagComponent(uploads, Component.uploadsFileSystem);
    return { securityGroup: uploadsSecurityGroup, fileSystem: uploads };
  }

  /** One Lambda for every site's database user (no Lambda per site). */
  private databaseUserProviderFor(
    fleet: FleetConfig,
    vpc: ec2.IVpc,
    endpointSecurityGroup: ec2.ISecurityGroup,
  ): cr.Provider {
    const securityGroup = new ec2.SecurityGroup(this, 'DatabaseUserProviderSecurityGroup', {
      vpc,
      allowAllOutbound: false,
      description: 'Bulkhead database-user provider: MySQL to the cluster and HTTPS to the Secrets Manager endpoint',
    });
    securityGroup.addEgressRule(
      ec2.Peer.securityGroupId(this.databaseSecurityGroup.securityGroupId),
      ec2.Port.tcp(3306),
      'MySQL to the cluster',
    );
    securityGroup.addEgressRule(
      ec2.Peer.securityGroupId(endpointSecurityGroup.securityGroupId),
      ec2.Port.tcp(443),
      'Secrets Manager endpoint',
    );
    tagComponent(securityGroup, Component.databaseUserProvider);
    const logGroup = new logs.LogGroup(this, 'DatabaseUserProviderLogs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    tagComponent(logGroup, Component.databaseUserProvider);
    const handler = new nodejs.NodejsFunction(this, 'DatabaseUserFunction', {
      // A fixed name: the response plane's recovery function invokes it to rotate passwords.
      functionName: databaseUserFunctionName(fleet.environment),
      description: 'Bulkhead: creates, updates and drops per-site database users (schemas are never dropped)',
      entry: path.join(__dirname, '../../runtime/db-user/index.ts'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.minutes(2),
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [securityGroup],
      logGroup,
      environment: {
        DB_HOST: this.cluster.clusterEndpoint.hostname,
        DB_PORT: this.cluster.clusterEndpoint.port.toString(),
        DB_ADMIN_SECRET_ARN: this.cluster.secret?.secretArn ?? '',
        DB_TLS: 'required',
        POWERTOOLS_SERVICE_NAME: 'bulkhead-db-user',
      },
      bundling: lambdaBundling(),
    });
    this.cluster.secret?.grantRead(handler);
    // Site secrets: only Bulkhead's, only this environment's, by name and by tag.
    handler.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadSiteDatabaseSecrets',
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        resources: [
          Stack.of(this).formatArn({
            service: 'secretsmanager',
            resource: 'secret',
            resourceName: `${siteSecretNamePrefix(fleet.environment)}*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
        conditions: {
          StringEquals: {
            [`aws:ResourceTag/${TAG_ENV}`]: fleet.environment,
            [`aws:ResourceTag/${TAG_COMPONENT}`]: Component.secret,
          },
        },
      }),
    );
    tagComponent(handler, Component.databaseUserProvider);
    for (const managed of [LAMBDA_BASIC_EXECUTION, LAMBDA_VPC_EXECUTION]) {
      acknowledge(
        handler,
        `AwsSolutions-IAM4[${managed}]`,
        'AWS-managed execution policies: writing its own logs and creating the network interfaces of a Lambda in a VPC; they grant nothing on data.',
      );
    }
    acknowledge(
      handler,
      `AwsSolutions-IAM5[Resource::${nagArn(this, 'secretsmanager', `secret:${siteSecretNamePrefix(fleet.environment)}*`)}]`,
      "One provider serves every site; the wildcard covers only this environment's site secrets by name and is further limited by the bulkhead:env and bulkhead:component=secret tag conditions.",
    );
    acknowledge(
      handler,
      'AwsSolutions-L1',
      'Pinned to nodejs22.x, the runtime the project bundles for (esbuild target node22) and tests against; a newer runtime is a deliberate, tested upgrade.',
    );

    const provider = new cr.Provider(this, 'DatabaseUserProvider', {
      onEventHandler: handler,
      logGroup,
    });
    tagComponent(provider, Component.databaseUserProvider);
    const framework = provider.node.findChild('framework-onEvent');
    acknowledge(
      framework,
      `AwsSolutions-IAM4[${LAMBDA_BASIC_EXECUTION}]`,
      'CDK custom-resource provider framework: AWS-managed policy for writing its own logs only.',
    );
    acknowledge(
      framework,
      'AwsSolutions-IAM5[Resource::<DatabaseUserFunctionCB82BD79.Arn>:*]',
      'CDK custom-resource provider framework: may invoke any version of the one database-user function, nothing else.',
    );
    return provider;
  }
}
