import * as path from 'node:path';
import { Arn, ArnFormat, CfnOutput, Duration, Fn, RemovalPolicy, Stack, type StackProps, Token } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import {
  CONSOLE_ANSWER_SECONDS_ENV,
  CONSOLE_API_PATH,
  CONSOLE_API_STAGE,
  consoleApiName,
  consoleApiUrlParameterName,
  consoleFunctionName,
  DRILL_DETAIL_TYPE,
  DRILL_EVENT_BUS_ENV,
  DRILL_SOURCE,
  drillEventBusName,
} from '../../contracts/console-api';
import type { FleetConfig } from '../config/load-fleet';
import type { FunctionEnvironment } from '../../contracts/function-environment';
import { INCIDENT_TABLE } from '../../contracts/incident-table';
import {
  cellClusterName,
  databaseUserFunctionName,
  operatorRoleName,
  siteSecretNamePrefix,
} from '../../contracts/names';
import { importCell } from '../shared/stack-exports';
import { stackArn } from '../shared/iam-statements';
import {
  clusterArns,
  listenerRuleArns,
  listSiteTasksStatement,
  quarantineAndRestoreSiteNetworkStatements,
  readAndListSiteRecordsStatement,
  readSiteServicesStatement,
  readTaskRoleSessionDenyStatement,
  rotateSitePasswordStatements,
  siteListenerRuleStatement,
  siteNetworkLookupsStatement,
  siteTasksStatement,
  taskRoleSessionDenyStatement,
  updateSiteServicesStatement,
} from '../shared/capabilities';
import { lambdaBundling } from '../shared/lambda-defaults';
import { acknowledge, acknowledgeResources, acknowledgeWildcards, LAMBDA_BASIC_EXECUTION, nagArn } from '../shared/nag';
import { siteRecordParameterPrefix } from '../../contracts/site-record';
import { Component, tagComponent } from '../shared/tags';

/**
 * The console may hold a site's lock while it quarantines (containment's own code), so its
 * timeout stays under the lock takeover age (`TAKEOVER_AFTER_MS`, 6 minutes), like containment's.
 * A drill waits at most 240 s for containment, then releases.
 */
export const CONSOLE_TIMEOUT = Duration.minutes(5);

/**
 * Regions whose CloudFormation offers AWS::Lambda::ResourcePolicy (the only way to put a Deny on a
 * function), as cfn-lint 1.51's region schemas list it (`cfnlint/data/schemas/providers/<region>.py`);
 * elsewhere the console function gets an allow-only AWS::Lambda::Permission. Add a region here when
 * its schema lists the type (`cfn-lint --regions <region>` on the Ops template: no E3006).
 */
export const LAMBDA_RESOURCE_POLICY_REGIONS: ReadonlySet<string> = new Set(['eu-west-1', 'eu-south-1']);

/**
 * The console API's stage throttling: a handful of operators, each command one request (a
 * restore's follow-up polls every few seconds). "Throttling limits ... the steady-state rate and
 * the burst" (API Gateway Developer Guide, "Throttle requests to your REST APIs").
 */
export const CONSOLE_API_THROTTLING = { rateLimit: 5, burstLimit: 10 } as const;

/** How long an operator's session lasts, and the most an MFA sign-in may be old when it starts. */
export const OPERATOR_SESSION = Duration.hours(1);

/**
 * The fleet's operators, trusted only with MFA: one trust statement naming every principal,
 * `sts:AssumeRole` (and `sts:SetSourceIdentity`, so an operator's own name follows the session
 * into CloudTrail), under the MFA conditions.
 */
class OperatorsWithMfa extends iam.PrincipalBase {
  constructor(
    private readonly arns: readonly string[],
    private readonly conditions: Record<string, Record<string, string>>,
  ) {
    super();
  }

  get policyFragment(): iam.PrincipalPolicyFragment {
    return new iam.PrincipalPolicyFragment({ AWS: [...this.arns] }, this.conditions);
  }

  override addToAssumeRolePolicy(document: iam.PolicyDocument): void {
    document.addStatements(
      new iam.PolicyStatement({
        sid: 'OperatorsWithMfa',
        actions: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
        principals: this.arns.map((arn) => new iam.ArnPrincipal(arn)),
        conditions: this.conditions,
      }),
    );
  }

  dedupeString(): string {
    return `OperatorsWithMfa:${JSON.stringify([this.arns, this.conditions])}`;
  }

  override toString(): string {
    return `OperatorsWithMfa(${this.arns.join(', ')})`;
  }
}

export interface OpsStackProps extends StackProps {
  /** The validated fleet. */
  readonly fleet: FleetConfig;
  /** The response plane's incident table (the console reads and writes incidents). */
  readonly incidents: dynamodb.ITable;
  /** The incident workflow (the console starts restores and answers approvals). */
  readonly workflow: sfn.IStateMachine;
  /** The containment function: drill findings go to it. */
  readonly containFunction: lambda.IFunction;
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
}

/**
 * The ops console (`Bulkhead-<env>-Ops`): the console function (`bulkhead-<env>-ops-console`),
 * the operator role (the only principal that may invoke it; assumable only by the fleet's
 * `operators.principals`, with MFA), the drill event bus (only the console's role may put events on
 * it) and its rule that hands drill findings to containment. The console runs containment's and recovery's own code, so its role holds
 * the same tag-scoped grants they do, and nothing that deletes a site's data.
 */
export class OpsStack extends Stack {
  readonly consoleFunction: nodejs.NodejsFunction;
  readonly operatorRole: iam.Role;
  /** `bulkhead-<env>-ops-console`: the REST API, the console's only door. */
  readonly consoleApi: apigateway.RestApi;
  readonly drillRule: events.Rule;
  /** `bulkhead-<env>-drills`: the only bus a drill finding can travel on. */
  readonly drillBus: events.EventBus;

  constructor(scope: Construct, id: string, props: OpsStackProps) {
    super(scope, id, props);
    const { fleet } = props;
    const env = fleet.environment;
    const clusterNames = fleet.cells.map((c) => cellClusterName(env, c.id));
    const listenerArns = fleet.cells.map((c) => importCell(env, c.id, 'listenerArn'));

    this.drillBus = new events.EventBus(this, 'DrillBus', {
      eventBusName: drillEventBusName(env),
      description: `Bulkhead ${env}: drill findings from siteops drill; only the ops console's role may put events`,
    });
    tagComponent(this.drillBus, Component.opsConsole);

    const logGroup = new logs.LogGroup(this, 'ConsoleLogs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    tagComponent(logGroup, Component.opsConsole);

    const consoleEnvironment: FunctionEnvironment<'console'> = {
      BULKHEAD_ENV: env,
      BULKHEAD_ACCOUNT: this.account,
      INCIDENT_TABLE: props.incidents.tableName,
      STATE_MACHINE_ARN: props.workflow.stateMachineArn,
      LOGS_ENDPOINT_SG_ID: props.logsEndpointSecurityGroup.securityGroupId,
      QUARANTINE_ACL_ID: props.quarantineAcl.networkAclId,
      CLUSTER_ARNS: clusterArns(this, clusterNames).join(','),
      DB_USER_FUNCTION: databaseUserFunctionName(env),
      [DRILL_EVENT_BUS_ENV]: this.drillBus.eventBusName,
      DRILL_TIMEOUT_SECONDS: '120',
      // The API answers within its integration timeout: the console bounds its waits (a drill) by it.
      [CONSOLE_ANSWER_SECONDS_ENV]: String(fleet.operators.consoleTimeoutSeconds),
    };
    const fn = (this.consoleFunction = new nodejs.NodejsFunction(this, 'ConsoleFunction', {
      functionName: consoleFunctionName(env),
      description: 'Bulkhead ops console: status, incidents, quarantine, release, restore, rotation, approval, drills',
      entry: path.join(__dirname, '../../runtime/console/index.ts'),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 512,
      timeout: CONSOLE_TIMEOUT,
      logGroup,
      environment: {
        ...consoleEnvironment,
        POWERTOOLS_METRICS_NAMESPACE: 'Bulkhead',
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: lambdaBundling(),
      tracing: lambda.Tracing.ACTIVE,
    }));
    tagComponent(fn, Component.opsConsole);
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
    this.grantConsole(fn, props, clusterNames, listenerArns);

    // --- The operator role: the fleet's operators, with MFA, may invoke the console and nothing else.
    const mfa = {
      Bool: { 'aws:MultiFactorAuthPresent': 'true' },
      NumericLessThan: { 'aws:MultiFactorAuthAge': String(OPERATOR_SESSION.toSeconds()) },
    };
    this.operatorRole = new iam.Role(this, 'OperatorRole', {
      // IAM names are account-wide: the region keeps two regions of one environment apart.
      roleName: operatorRoleName(env, this.region),
      description: `Bulkhead ${env} operators (siteops): may invoke the ops console only; assumed with MFA`,
      maxSessionDuration: OPERATOR_SESSION,
      assumedBy: new OperatorsWithMfa(fleet.operators.principals, mfa),
    });
    tagComponent(this.operatorRole, Component.operatorRole);
    this.consoleApi = this.addConsoleApi(env, fn, fleet.operators.consoleTimeoutSeconds);

    // --- Drills: `siteops drill` sends a synthetic finding; containment handles it like a real one.
    // It travels on the drill bus, never on the default bus: any principal of the account allowed
    // events:PutEvents could put a drill-shaped event there. "Only the rules that are associated with
    // this event bus are used to match the event" (EventBridge API reference, PutEventsRequestEntry
    // EventBusName), and no rule of the default bus matches a drill (test/infra/drill-bus.test.ts).
    this.restrictDrillBus(env, fn);
    this.drillRule = new events.Rule(this, 'Drills', {
      eventBus: this.drillBus,
      description: `Bulkhead ${env}: drill findings from siteops drill, to the containment function`,
      eventPattern: { source: [DRILL_SOURCE], detailType: [DRILL_DETAIL_TYPE] },
      targets: [
        // Interactive: the console waits for the incident and reports a delivery that never came.
        new targets.LambdaFunction(props.containFunction, {
          retryAttempts: 2,
          maxEventAge: Duration.minutes(5),
        }),
      ],
    });
    tagComponent(this.drillRule, Component.opsConsole);

    new CfnOutput(this, 'OperatorRoleArn', {
      value: this.operatorRole.roleArn,
      description: "role_arn of the operators' AWS profile (with mfa_serial); see docs/siteops.md",
    });
    new CfnOutput(this, 'ConsoleFunctionName', { value: fn.functionName });
  }

  /**
   * The console's only door: a Regional REST API, one `POST /requests` method with IAM authorization
   * (callers sign with SigV4; API Gateway verifies the signature and the caller's permission to
   * `execute-api:Invoke` before anything reaches the function), a resource policy that admits the
   * operator role and denies every other principal, and a Lambda proxy integration, which hands the
   * function the verified caller in `requestContext.identity` ("userArn", "caller", "accountId": API
   * Gateway Developer Guide, "$context variables for data models, authorizers, mapping templates,
   * and access logging" and "Input format of a Lambda function for proxy integration").
   *
   * Who may call, as API Gateway decides for IAM-authorized APIs: "If the API caller is in the same
   * account as the API owner ... an explicit allow in either the IAM policy or the resource policy is
   * enough ... an explicit deny in either policy overrides the allow" (API Gateway Developer Guide,
   * "How API Gateway resource policies affect authorization workflow"). A PowerUser's own
   * `execute-api:Invoke` on `*` would be enough on its own, so the resource policy denies every
   * principal that is not the operator role (`aws:PrincipalArn` of a role session is the role's ARN:
   * IAM User Guide, "AWS global condition context keys").
   */
  private addConsoleApi(env: string, fn: lambda.Function, timeoutSeconds: number): apigateway.RestApi {
    const api = this.addConsoleRestApi(env, this.consoleApiPolicy());
    this.addConsoleMethod(api, fn, timeoutSeconds);
    this.restrictConsoleFunction(fn, api.arnForExecuteApi('POST', CONSOLE_API_PATH, CONSOLE_API_STAGE));
    this.letOperatorsCallTheConsole(env, api);
    this.acknowledgeConsoleApi(api);
    return api;
  }

  /** The API's resource policy: the operator role may call `POST /requests`; every other principal is denied. */
  private consoleApiPolicy(): iam.PolicyDocument {
    const operatorRoleArn = this.operatorRole.roleArn;
    // The API's own id is not known inside its own policy: `*` for it, the stage and method spelled out.
    const invokeArn = (stage: string, method: string, path: string) =>
      Arn.format(
        {
          service: 'execute-api',
          resource: '*',
          resourceName: `${stage}/${method}${path}`,
          arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
        },
        this,
      );
    return new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          sid: 'OperatorRoleCallsTheConsole',
          principals: [new iam.ArnPrincipal(operatorRoleArn)],
          actions: ['execute-api:Invoke'],
          resources: [invokeArn(CONSOLE_API_STAGE, 'POST', CONSOLE_API_PATH)],
        }),
        new iam.PolicyStatement({
          sid: 'NoOtherPrincipal',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['execute-api:Invoke'],
          // Every method of this API (a resource policy applies to its own API only).
          resources: [Arn.format({ service: 'execute-api', resource: '*' }, this)],
          conditions: { ArnNotEquals: { 'aws:PrincipalArn': operatorRoleArn } },
        }),
      ],
    });
  }

  /** The Regional REST API, its stage (throttled, traced) and the stage's access log, one JSON line per request. */
  private addConsoleRestApi(env: string, policy: iam.PolicyDocument): apigateway.RestApi {
    const accessLogs = new logs.LogGroup(this, 'ConsoleApiAccessLogs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    tagComponent(accessLogs, Component.opsConsole);

    const api = new apigateway.RestApi(this, 'ConsoleApi', {
      restApiName: consoleApiName(env),
      description: `Bulkhead ${env}: the ops console (siteops); IAM authorization, the operator role only`,
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      policy,
      // The account-wide API Gateway logging role is not Bulkhead's to set (one per account and region).
      cloudWatchRole: false,
      deployOptions: {
        stageName: CONSOLE_API_STAGE,
        description: 'siteops: POST / with a console request',
        throttlingRateLimit: CONSOLE_API_THROTTLING.rateLimit,
        throttlingBurstLimit: CONSOLE_API_THROTTLING.burstLimit,
        tracingEnabled: true,
        metricsEnabled: true,
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        // One JSON line per request, with the verified caller ($context.identity.*) beside the outcome.
        accessLogFormat: apigateway.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            extendedRequestId: '$context.extendedRequestId',
            requestTime: '$context.requestTime',
            httpMethod: '$context.httpMethod',
            resourcePath: '$context.resourcePath',
            status: '$context.status',
            responseLength: '$context.responseLength',
            integrationStatus: '$context.integrationStatus',
            integrationLatency: '$context.integrationLatency',
            errorMessage: '$context.error.message',
            errorType: '$context.error.responseType',
            userArn: '$context.identity.userArn',
            caller: '$context.identity.caller',
            accountId: '$context.identity.accountId',
            sourceIp: '$context.identity.sourceIp',
            userAgent: '$context.identity.userAgent',
          }),
        ),
      },
    });
    tagComponent(api, Component.opsConsole);
    return api;
  }

  private addConsoleMethod(api: apigateway.RestApi, fn: lambda.Function, timeoutSeconds: number): void {
    // A Lambda proxy integration written out (AWS_PROXY, Lambda's Invoke path): CDK's LambdaIntegration
    // would add AWS::Lambda::Permission resources, and "using both AWS::Lambda::Permission and
    // AWS::Lambda::ResourcePolicy to set permissions on a function can result in errors" (CloudFormation
    // Template Reference, AWS::Lambda::ResourcePolicy). The function's one policy is below.
    api.root.addResource(CONSOLE_API_PATH.slice(1)).addMethod(
      'POST',
      new apigateway.Integration({
        type: apigateway.IntegrationType.AWS_PROXY,
        integrationHttpMethod: 'POST',
        uri: Fn.join('', [
          'arn:',
          this.partition,
          ':apigateway:',
          this.region,
          ':lambda:path/2015-03-31/functions/',
          fn.functionArn,
          '/invocations',
        ]),
        options: { timeout: Duration.seconds(timeoutSeconds) },
      }),
      { authorizationType: apigateway.AuthorizationType.IAM },
    );
  }

  /** The operator role may invoke the API's one method and read where the API is (its URL parameter). */
  private letOperatorsCallTheConsole(env: string, api: apigateway.RestApi): void {
    this.operatorRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'CallOpsConsoleOnly',
        actions: ['execute-api:Invoke'],
        resources: [api.arnForExecuteApi('POST', CONSOLE_API_PATH, CONSOLE_API_STAGE)],
      }),
    );
    const urlParameter = new ssm.StringParameter(this, 'ConsoleApiUrlParameter', {
      parameterName: consoleApiUrlParameterName(env),
      description: `Bulkhead ${env}: the ops console API's URL (siteops reads it)`,
      stringValue: api.url,
    });
    tagComponent(urlParameter, Component.opsConsole);
    // GetParameter alone (grantRead adds ssm:DescribeParameters, which takes no resource: Service
    // Authorization Reference, AWS Systems Manager).
    this.operatorRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadConsoleApiUrl',
        actions: ['ssm:GetParameter'],
        resources: [urlParameter.parameterArn],
      }),
    );
    new CfnOutput(this, 'ConsoleApiUrl', { value: api.url, description: 'siteops --url (else read from SSM)' });
  }

  private acknowledgeConsoleApi(api: apigateway.RestApi): void {
    acknowledge(
      api,
      'AwsSolutions-APIG2',
      'The console validates every body against its schema (contracts/console-api.ts) before it reads or changes anything; an invalid body is answered invalid-request and audited.',
    );
    acknowledge(
      api,
      'AwsSolutions-APIG3',
      'IAM authorization and a resource policy that denies every principal but the operator role refuse any other caller before the integration; the stage is throttled. A web ACL adds nothing for a SigV4-only API with one caller.',
    );
    acknowledge(
      api,
      'AwsSolutions-APIG6',
      "Execution logging needs the account-wide API Gateway CloudWatch role (AWS::ApiGateway::Account, one per account and region), which is not Bulkhead's to own; every request is in the stage's access log with its verified caller, and the function logs each call.",
    );
    acknowledge(
      api,
      'AwsSolutions-COG4',
      'IAM authorization (SigV4, the operator role assumed with MFA), not Cognito: the operators are IAM principals.',
    );
  }

  /**
   * The drill bus admits the console's role and no one else. Same-account principals need no grant
   * from a bus policy (the identity policy suffices, as for the account's own default bus, which
   * "only allows events from one account": EventBridge User Guide, "Permissions for event buses"),
   * so the policy denies: "An explicit deny in any policy overrides any allows" (IAM User Guide,
   * "Policy evaluation logic"). `aws:PrincipalArn` of a role session is the role's ARN ("For IAM
   * roles, the request context returns the ARN of the role, not the ARN of the user that assumed
   * the role": IAM User Guide, "AWS global condition context keys").
   */
  private restrictDrillBus(env: string, fn: lambda.Function): void {
    const consoleRole = fn.role;
    if (!consoleRole) throw new Error('the console function has no role');
    // The bus's ARN by its fixed name: the bus's own GetAtt would make its policy depend on itself.
    const busArn = this.arn('events', 'event-bus', drillEventBusName(env));
    const policy = new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          sid: 'ConsoleRolePutsDrills',
          principals: [new iam.ArnPrincipal(consoleRole.roleArn)],
          actions: ['events:PutEvents'],
          resources: [busArn],
        }),
        new iam.PolicyStatement({
          sid: 'NoOneElsePutsDrills',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['events:PutEvents'],
          resources: [busArn],
          conditions: { ArnNotEquals: { 'aws:PrincipalArn': consoleRole.roleArn } },
        }),
      ],
    });
    // The bus's own Policy property (AWS::Events::EventBus): one document, no separate EventBusPolicy resources.
    (this.drillBus.node.defaultChild as events.CfnEventBus).policy = policy;
  }

  /**
   * The console function's resource policy (AWS::Lambda::ResourcePolicy, Lambda's PutResourcePolicy):
   * API Gateway may invoke it for the console API's `POST /requests` on its stage, and every other invoke is
   * denied. A deny is needed: "When a user tries to access a Lambda resource, Lambda considers both the
   * user's identity-based policies and the resource's resource-based policy" (Lambda Developer Guide,
   * "Granting other AWS entities access to your Lambda functions"), so in the same account a
   * principal whose own policy allows lambda:InvokeFunction (PowerUserAccess) could otherwise invoke
   * it directly, and Lambda's resource policies take "Effect: Whether you want to allow or deny"
   * (Lambda Developer Guide, "Working with resource-based policies in Lambda"); "an explicit deny in
   * any policy overrides any allows" (IAM User Guide, "Policy evaluation logic"). A direct invoke
   * carries no `aws:SourceArn`, and a negated condition operator on a missing key matches ("...IfExists"
   * aside; IAM User Guide, "Condition operators"), so the deny applies to it. The handler refuses any
   * event that is not this API's request with a verified operator caller as well
   * (runtime/console/gateway.ts).
   */
  private restrictConsoleFunction(fn: lambda.Function, sourceArn: string): void {
    if (Token.isUnresolved(this.region) || !LAMBDA_RESOURCE_POLICY_REGIONS.has(this.region)) {
      // Where CloudFormation has no AWS::Lambda::ResourcePolicy, an allow-only permission (no deny):
      // the handler's check is then the only refusal of a direct invoke (docs/iam.md).
      new lambda.CfnPermission(this, 'ConsoleApiInvokes', {
        functionName: fn.functionArn,
        action: 'lambda:InvokeFunction',
        principal: 'apigateway.amazonaws.com',
        sourceArn,
        sourceAccount: this.account,
      });
      return;
    }
    const policy = new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          sid: 'ConsoleApiInvokes',
          principals: [new iam.ServicePrincipal('apigateway.amazonaws.com')],
          actions: ['lambda:InvokeFunction'],
          resources: [fn.functionArn],
          conditions: {
            ArnLike: { 'AWS:SourceArn': sourceArn },
            StringEquals: { 'AWS:SourceAccount': this.account },
          },
        }),
        new iam.PolicyStatement({
          sid: 'NothingElseInvokes',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['lambda:InvokeFunction'],
          resources: [fn.functionArn],
          conditions: { ArnNotLike: { 'AWS:SourceArn': sourceArn } },
        }),
      ],
    });
    new lambda.CfnResourcePolicy(this, 'ConsoleFunctionPolicy', {
      resourceArn: fn.functionArn,
      policyDocument: policy.toJSON(),
    });
  }

  private arn(service: string, resource: string, resourceName?: string, arnFormat?: ArnFormat): string {
    return stackArn(this, service, resource, resourceName, arnFormat);
  }

  /**
   * What the console's actions need, scoped as the response plane's own functions are, from the
   * same capabilities (infra/shared/capabilities):
   * - quarantine (containment's code): swap a site group's rules, a strict site's ACL,
   *   shed at its listener rule, deny older sessions of its task role, start the workflow;
   * - release (recovery's code): put those back, lift the session deny;
   * - restore / approve: start an execution / answer the workflow's wait;
   * - rotate-credentials: the site's secret, the database-user function, a new deployment;
   * - drill: put drill events (source and detail-type conditions), list a site's tasks;
   * - status / incidents: read services, tasks, site records and the incident table.
   * Every write is limited by tag or ARN to this environment's sites; nothing can delete.
   */
  private grantConsole(
    fn: lambda.Function,
    props: OpsStackProps,
    clusterNames: readonly string[],
    listenerArns: readonly string[],
  ): void {
    const env = props.fleet.environment;
    const ruleArns = listenerRuleArns(listenerArns);
    const add = (statements: readonly iam.PolicyStatement[]) => {
      for (const statement of statements) fn.addToRolePolicy(statement);
    };
    add([
      ...quarantineAndRestoreSiteNetworkStatements(this, env),
      siteListenerRuleStatement('ShedAndReopenSiteListenerRules', ruleArns),
      taskRoleSessionDenyStatement(this, env, 'TaskRoleSessionDeny', ['iam:PutRolePolicy', 'iam:DeleteRolePolicy']),
      readTaskRoleSessionDenyStatement(this, env),
      siteNetworkLookupsStatement(),
      readSiteServicesStatement(this, clusterNames),
      siteTasksStatement(this, clusterNames, 'ReadSiteTasks', ['ecs:DescribeTasks']),
      listSiteTasksStatement(this, clusterNames),
      updateSiteServicesStatement(this, env, clusterNames, 'RedeployAfterRotation'),
      readAndListSiteRecordsStatement(this, env),
      new iam.PolicyStatement({
        sid: 'IncidentsAndAuditWithoutDelete',
        actions: [
          'dynamodb:GetItem',
          'dynamodb:BatchGetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:Query',
          'dynamodb:ConditionCheckItem',
        ],
        resources: [props.incidents.tableArn, `${props.incidents.tableArn}/index/${INCIDENT_TABLE.siteIndex}`],
      }),
    ]);
    props.workflow.grantStartExecution(fn);
    add([
      // states:SendTaskSuccess supports no resource-level permissions (Service Authorization
      // Reference, AWS Step Functions: no resource type): naming the state machine would match no
      // request and `siteops approve` would be refused. Only a holder of a task token can answer.
      new iam.PolicyStatement({
        sid: 'AnswerApprovalWaits',
        actions: ['states:SendTaskSuccess'],
        resources: ['*'],
      }),
      ...rotateSitePasswordStatements(this, env),
      new iam.PolicyStatement({
        sid: 'SendDrillFindings',
        actions: ['events:PutEvents'],
        resources: [this.arn('events', 'event-bus', drillEventBusName(env))],
        conditions: { StringEquals: { 'events:source': DRILL_SOURCE, 'events:detail-type': DRILL_DETAIL_TYPE } },
      }),
    ]);
    this.acknowledgeConsoleWildcards(fn, env, clusterNames, ruleArns);
  }

  private acknowledgeConsoleWildcards(
    fn: lambda.Function,
    env: string,
    clusterNames: readonly string[],
    ruleArns: readonly string[],
  ): void {
    acknowledgeWildcards(fn, {
      '*': "Describe calls (EC2 groups, group rules and ACLs; ELB rules), secretsmanager:GetRandomPassword and states:SendTaskSuccess support no resource-level permissions (only a task token's holder can answer a wait); ecs:ListTasks is held to Bulkhead's clusters by the ecs:cluster condition (docs/iam.md).",
      [nagArn(this, 'ec2', 'security-group-rule/*')]:
        'ModifySecurityGroupRules also authorizes against each rule (untagged); every request names its group, which must be a site group of this environment (tag condition).',
      [nagArn(this, 'ec2', 'security-group/*')]:
        'Any security group, but only tagged bulkhead:env of this environment and bulkhead:component=site-sg (condition).',
      [nagArn(this, 'ec2', 'network-acl/*')]:
        "Any network ACL, but only tagged bulkhead:env of this environment (condition): the quarantine ACL and the strict sites' own.",
      [nagArn(this, 'ec2', 'subnet/*')]: 'Any subnet, but only tagged bulkhead:env of this environment (condition).',
      [nagArn(this, 'iam', 'role/*').replace(/:iam:[^:]*:/, ':iam::')]:
        'Any role, but only tagged bulkhead:env of this environment and bulkhead:component=task-role (condition): the session deny of quarantine and release.',
      [nagArn(this, 'ssm', `parameter${siteRecordParameterPrefix(env)}*`)]:
        "This environment's site records only (read-only).",
      [nagArn(this, 'secretsmanager', `secret:${siteSecretNamePrefix(env)}*`)]:
        "This environment's site secrets only, by name and by the bulkhead:component=secret tag.",
      ...Object.fromEntries(
        clusterNames.flatMap((name) => [
          [nagArn(this, 'ecs', `task/${name}/*`), "Tasks of Bulkhead's own clusters only (read-only)."],
          [
            nagArn(this, 'ecs', `service/${name}/*`),
            "Services of Bulkhead's own clusters (read; UpdateService only when tagged for this environment).",
          ],
        ]),
      ),
    });
    acknowledgeResources(
      fn,
      ruleArns,
      "Rules of one cell listener of Bulkhead's: a site's rule is found from its record (ModifyRule only).",
    );
  }
}
