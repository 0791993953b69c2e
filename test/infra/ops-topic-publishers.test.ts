import { beforeAll, describe, expect, it } from 'vitest';
import { StackName } from '../../contracts/names';
import { type CfnTemplate, synthExample } from '../support/synth-fleet';
import { resourcesOfType } from '../support/template-queries';

/**
 * Issue 12, item 2: the response plane's own alarms must be able to reach the operators.
 * A CloudWatch alarm publishes to its SNS action as the service principal
 * `cloudwatch.amazonaws.com`; an encrypted topic also needs the key to let it encrypt
 * ("Enable compatibility between event sources from AWS services and encrypted topics",
 * https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
 * The statements are held to this account and to the publishers' own ARNs (confused deputy:
 * https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html).
 */

interface Statement {
  Sid?: string;
  Effect: string;
  Principal?: { Service?: string | string[]; AWS?: unknown } | string;
  Action: string | string[];
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

let response: CfnTemplate;
const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';

beforeAll(() => {
  const json = synthExample().json.get(StackName.response('example'));
  if (!json) throw new Error('no response stack');
  response = json;
});

function opsTopicId(): string {
  const [id] =
    resourcesOfType(response, 'AWS::SNS::Topic').find(([logicalId]) => logicalId.startsWith('OpsTopic')) ?? [];
  if (!id) throw new Error('no ops topic');
  return id;
}

function topicPolicyStatements(topicId: string): Statement[] {
  return resourcesOfType(response, 'AWS::SNS::TopicPolicy')
    .filter(([, p]) => JSON.stringify(p.Properties?.Topics) === JSON.stringify([{ Ref: topicId }]))
    .flatMap(([, p]) => (p.Properties?.PolicyDocument as { Statement: Statement[] }).Statement);
}

/** IAM's ArnLike: `*` and `?` wildcards within the ARN, compared segment by segment. */
function arnLike(pattern: string, arn: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return regex.test(arn);
}

function services(s: Statement): string[] {
  return typeof s.Principal === 'object' ? [s.Principal.Service ?? []].flat() : [];
}

/** Whether some Allow statement lets `service` publish to the topic on behalf of `sourceArn`. */
function allowsPublish(statements: readonly Statement[], service: string, sourceArn: string): boolean {
  return statements.some((s) => {
    if (s.Effect !== 'Allow' || !services(s).includes(service)) return false;
    if (![s.Action].flat().includes('sns:Publish')) return false;
    const account = s.Condition?.StringEquals?.['aws:SourceAccount'];
    const arns = [s.Condition?.ArnLike?.['aws:SourceArn'] ?? s.Condition?.ArnEquals?.['aws:SourceArn'] ?? []].flat();
    return account === ACCOUNT && arns.some((pattern) => typeof pattern === 'string' && arnLike(pattern, sourceArn));
  });
}

describe('the operators’ topic accepts its publishers, and only them', () => {
  it('every alarm whose action is the ops topic may publish to it, held to this account and to its own ARN', () => {
    // Prepare
    const topic = opsTopicId();
    const statements = topicPolicyStatements(topic);
    const alarms = resourcesOfType(response, 'AWS::CloudWatch::Alarm').filter(([, a]) =>
      JSON.stringify(a.Properties?.AlarmActions ?? []).includes(`"Ref":"${topic}"`),
    );
    // Act
    const names = alarms.map(([, a]) => a.Properties?.AlarmName as string);
    const refused = names.filter(
      (name) =>
        !allowsPublish(statements, 'cloudwatch.amazonaws.com', `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${name}`),
    );
    // Assess
    expect(names).toEqual(
      expect.arrayContaining([
        'bulkhead-response-example-dead-letters',
        'bulkhead-response-example-containment-failed',
        'bulkhead-response-example-workflow-failed',
      ]),
    );
    expect(refused).toEqual([]);
    expect(
      allowsPublish(statements, 'cloudwatch.amazonaws.com', `arn:aws:cloudwatch:${REGION}:444455556666:alarm:x`),
    ).toBe(false);
    expect(
      allowsPublish(
        statements,
        'cloudwatch.amazonaws.com',
        `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:someone-else`,
      ),
    ).toBe(false);
  });

  it('every EventBridge rule that targets the ops topic may publish to it, held to this account and to the rule', () => {
    // Prepare
    const topic = opsTopicId();
    const statements = topicPolicyStatements(topic);
    // Act
    const rules = resourcesOfType(response, 'AWS::Events::Rule').filter(([, r]) =>
      JSON.stringify(r.Properties?.Targets ?? []).includes(`"Ref":"${topic}"`),
    );
    const eventStatements = statements.filter((s) => services(s).includes('events.amazonaws.com'));
    // Assess: an EventBridge grant exists exactly when some rule delivers to the topic.
    if (rules.length === 0) expect(eventStatements).toEqual([]);
    for (const s of eventStatements) {
      expect(s.Condition?.StringEquals?.['aws:SourceAccount']).toBe(ACCOUNT);
      expect(s.Condition?.ArnEquals?.['aws:SourceArn'] ?? s.Condition?.ArnLike?.['aws:SourceArn']).toBeDefined();
    }
  });

  it('allows no principal without a condition, and still refuses publishing without TLS', () => {
    // Prepare
    const statements = topicPolicyStatements(opsTopicId());
    // Act
    const unconditioned = statements.filter((s) => s.Effect === 'Allow' && !s.Condition);
    const denyWithoutTls = statements.find(
      (s) =>
        s.Effect === 'Deny' &&
        JSON.stringify(s.Condition) === JSON.stringify({ Bool: { 'aws:SecureTransport': 'false' } }),
    );
    // Assess
    expect(unconditioned).toEqual([]);
    expect(denyWithoutTls).toBeDefined();
  });

  it('the key lets CloudWatch encrypt alarm messages for the topic, held to this account and these alarms', () => {
    // Prepare
    const [, key] = resourcesOfType(response, 'AWS::KMS::Key').find(([id]) => id.startsWith('ResponseKey')) ?? [];
    const statements = (key?.Properties?.KeyPolicy as { Statement: Statement[] }).Statement;
    // Act
    const cloudwatch = statements.filter((s) => services(s).includes('cloudwatch.amazonaws.com'));
    // Assess
    expect(cloudwatch).not.toHaveLength(0);
    for (const s of cloudwatch) {
      expect([s.Action].flat()).toEqual(expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey*']));
      expect(s.Condition?.StringEquals?.['aws:SourceAccount']).toBe(ACCOUNT);
      expect(s.Condition?.ArnLike?.['aws:SourceArn']).toEqual(
        `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:bulkhead-response-example-*`,
      );
    }
  });
});
