import { Arn, ArnFormat, type Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';

/**
 * Who may publish to the operators' topic. A CloudWatch alarm's SNS action publishes as the
 * service principal `cloudwatch.amazonaws.com`, so the topic's policy must allow it; the
 * policy CDK writes for `enforceSSL` holds only a deny, which left the plane's own alarms
 * (dead letters, containment failed, workflow failed) unable to reach anyone.
 *
 * Held to this account (`aws:SourceAccount`) and to the plane's own alarms by name
 * (`aws:SourceArn`) against the confused deputy, as the SNS guide's access-policy examples do
 * for service principals ("aws:SourceAccount versus aws:SourceOwner", "Allow CloudWatch alarms
 * ... to publish to a topic": https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html).
 *
 * No EventBridge rule targets this topic (GuardDuty coverage events go through the coverage
 * function, which names the site), so EventBridge gets no grant here.
 */

/** Names of the response plane's own alarms: `bulkhead-response-<env>-<what>`. */
export function responseAlarmName(environment: string, what: string): string {
  return `${responseAlarmPrefix(environment)}${what}`;
}

function responseAlarmPrefix(environment: string): string {
  return `bulkhead-response-${environment}-`;
}

function alarmArnPattern(stack: Stack, environment: string): string {
  return Arn.format(
    {
      service: 'cloudwatch',
      resource: 'alarm',
      resourceName: `${responseAlarmPrefix(environment)}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    },
    stack,
  );
}

function fromOwnAlarms(stack: Stack, environment: string): Record<string, Record<string, string>> {
  return {
    StringEquals: { 'aws:SourceAccount': stack.account },
    ArnLike: { 'aws:SourceArn': alarmArnPattern(stack, environment) },
  };
}

/** Lets the response plane's alarms publish to `topic`, and nothing else. */
export function allowAlarmsToPublish(topic: sns.ITopic, stack: Stack, environment: string): void {
  topic.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'ResponseAlarmsPublish',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
      conditions: fromOwnAlarms(stack, environment),
    }),
  );
}

/**
 * Lets the response plane's alarms use the key of the encrypted topic: "add the following
 * statement to the access policy of the AWS KMS key ... kms:Decrypt, kms:GenerateDataKey*"
 * (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
 */
export function allowAlarmsToEncrypt(key: kms.IKey, stack: Stack, environment: string): void {
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'ResponseAlarmsEncryptForTopic',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: fromOwnAlarms(stack, environment),
    }),
  );
}
