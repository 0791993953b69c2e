import { Arn, Duration, type Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { FunctionEnvironment } from '../../contracts/function-environment';
import { COVERAGE_HEALTHY, COVERAGE_UNHEALTHY } from '../../contracts/guardduty';
import { acknowledge, nagArn } from '../shared/nag';
import { siteRecordParameterPrefix } from '../../contracts/site-record';
import { Component, tagComponent } from '../shared/tags';

export interface RuntimeCoverageAlertsProps {
  /** The fleet's environment name: which site records the function reads, and the rule's description. */
  readonly environment: string;
  /** The coverage function (`runtime/coverage`), made by the response stack like its others. */
  readonly coverageFunction: lambda.Function;
  /** Bulkhead's clusters and their cells. */
  readonly clusters: readonly { readonly name: string; readonly cell: string }[];
  /** The operators' topic the function publishes coverage changes to. */
  readonly opsTopic: sns.ITopic;
  /** The KMS key the operators' topic is encrypted with (the function may use it to publish). */
  readonly key: kms.IKey;
  /** Where EventBridge puts coverage events it could not deliver to the function. */
  readonly deadLetters: sqs.IQueue;
}

/**
 * The coverage function's environment (contracts/function-environment.ts): its cluster-to-cell
 * map is `<cluster>=<cell>,...`.
 */
export function coverageEnvironment(
  environment: string,
  opsTopicArn: string,
  clusters: readonly { readonly name: string; readonly cell: string }[],
): FunctionEnvironment<'coverage'> {
  return {
    BULKHEAD_ENV: environment,
    OPS_TOPIC_ARN: opsTopicArn,
    CLUSTER_CELLS: clusters.map((c) => `${c.name}=${c.cell}`).join(','),
  };
}

/**
 * GuardDuty runtime coverage changes of Bulkhead's clusters, to the operators naming the
 * sites: "GuardDuty Runtime Protection Unhealthy" / "... Healthy" events (sent by GuardDuty
 * to the default bus; EventBridge events reference, Amazon GuardDuty) about ECS clusters
 * (`detail.resourceDetails.resourceType: ECS`, "Coverage status change with EventBridge
 * notifications": https://docs.aws.amazon.com/guardduty/latest/ug/gdu-assess-coverage-ecs.html).
 */
export class RuntimeCoverageAlerts extends Construct {
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: RuntimeCoverageAlertsProps) {
    super(scope, id);
    const fn = props.coverageFunction;
    const stack = fn.stack as Stack;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'TellOperators',
        actions: ['sns:Publish'],
        resources: [props.opsTopic.topicArn],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'EncryptOperatorNotices',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [props.key.keyArn],
      }),
    );
    const records = `${siteRecordParameterPrefix(props.environment).replace(/^\//, '')}*`;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ConfirmSites',
        actions: ['ssm:GetParameter'],
        resources: [Arn.format({ service: 'ssm', resource: 'parameter', resourceName: records }, stack)],
      }),
    );
    acknowledge(
      fn,
      'AwsSolutions-IAM5[Resource::*]',
      'X-Ray tracing (xray:PutTraceSegments, PutTelemetryRecords) supports no resource-level permissions.',
    );
    acknowledge(
      fn,
      `AwsSolutions-IAM5[Resource::${nagArn(stack, 'ssm', `parameter/${records}`)}]`,
      "This environment's site records only (read-only): a site is named only once its record confirms it.",
    );

    this.rule = new events.Rule(this, 'Rule', {
      description: `Bulkhead ${props.environment}: GuardDuty runtime coverage changes of Bulkhead's clusters`,
      eventPattern: {
        source: ['aws.guardduty'],
        detailType: [COVERAGE_UNHEALTHY, COVERAGE_HEALTHY],
        detail: {
          resourceDetails: {
            resourceType: ['ECS'],
            ecsClusterDetails: { clusterName: props.clusters.map((c) => c.name) },
          },
        },
      },
      targets: [
        new targets.LambdaFunction(fn, {
          retryAttempts: 8,
          maxEventAge: Duration.hours(2),
          deadLetterQueue: props.deadLetters,
        }),
      ],
    });
    tagComponent(this.rule, Component.responseTriggers);
  }
}
