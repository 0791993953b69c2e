import { beforeAll, describe, expect, it } from 'vitest';
import { StackName } from '../../contracts/names';
import { type SynthesizedFleet, synthGenerated } from '../support/synth-fleet';
import { policyStatements, resourcesOfType } from '../support/template-queries';

/**
 * Issue 12, item 3: client notices for 5,000 sites without a quota request. SNS allows 200
 * subscription filter policies per topic by default ("Amazon SNS endpoints and quotas",
 * https://docs.aws.amazon.com/general/latest/gr/sns.html, as the review read it), and
 * "One account can create a maximum of 100,000 standard topics" (CloudFormation reference,
 * AWS::SNS::Topic). One topic per site, in the site's own stack, with its contact subscribed
 * unfiltered, uses no filter policy at all: 5,000 sites stay far under 100,000 topics.
 */

let synth: SynthesizedFleet;

beforeAll(() => {
  synth = synthGenerated(300);
});

describe('client notices at 300 sites', () => {
  it('no topic carries more than 200 filter policies (in fact none carries any)', () => {
    // Act
    const filtered = [...synth.json.values()].flatMap((t) =>
      resourcesOfType(t, 'AWS::SNS::Subscription').filter(([, s]) => s.Properties?.FilterPolicy !== undefined),
    );
    const perTopic = new Map<string, number>();
    for (const [, s] of filtered) {
      const topic = JSON.stringify(s.Properties?.TopicArn);
      perTopic.set(topic, (perTopic.get(topic) ?? 0) + 1);
    }
    // Assess
    expect(Math.max(0, ...perTopic.values())).toBeLessThanOrEqual(200);
    expect(filtered).toEqual([]);
  });

  it('each site has its own encrypted notice topic, its contact subscribed by email, named in its site record', () => {
    for (const site of synth.fleet.sites) {
      // Prepare
      const template = synth.siteJson(site.id);
      // Act
      const topics = resourcesOfType(template, 'AWS::SNS::Topic');
      const subscriptions = resourcesOfType(template, 'AWS::SNS::Subscription');
      const [[, record]] = resourcesOfType(template, 'AWS::SSM::Parameter') as unknown as [
        [string, { Properties?: Record<string, unknown> }],
      ];
      // Assess
      expect(topics, site.id).toHaveLength(1);
      const [[topicId, topic]] = topics as unknown as [[string, { Properties?: Record<string, unknown> }]];
      expect(topic.Properties?.TopicName).toBe(`bulkhead-bench-notices-${site.id}`);
      expect(topic.Properties?.KmsMasterKeyId).toEqual({ 'Fn::ImportValue': 'bulkhead-bench-response-key-arn' });
      expect(subscriptions.map(([, s]) => s.Properties)).toEqual([
        { Protocol: 'email', Endpoint: site.contact, TopicArn: { Ref: topicId } },
      ]);
      expect(JSON.stringify(record.Properties?.Value)).toContain('noticeTopicArn');
      expect(JSON.stringify(record.Properties?.Value)).toContain(topicId);
    }
  });

  it('the response plane holds no client topic, and may publish to the sites’ notice topics by name', () => {
    // Prepare
    const response = synth.json.get(StackName.response('bench'));
    if (!response) throw new Error('no response stack');
    // Act
    const topics = resourcesOfType(response, 'AWS::SNS::Topic').map(([id]) => id);
    const publish = policyStatements(response).find((s) => s.Sid === 'PublishNotices');
    // Assess
    expect(topics.filter((id) => !id.startsWith('OpsTopic'))).toEqual([]);
    expect(JSON.stringify(publish?.Resource)).toContain('arn:aws:sns:eu-west-1:111122223333:bulkhead-bench-notices-*');
  });
});
