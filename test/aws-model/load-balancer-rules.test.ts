import {
  AddTagsCommand,
  CreateRuleCommand,
  DeregisterTargetsCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
  PriorityInUseException,
  RegisterTargetsCommand,
  RuleNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ECSClient, ListTagsForResourceCommand, TagResourceCommand } from '@aws-sdk/client-ecs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AwsModel, type FleetHandles, installAwsModel, seedFleet, type SiteHandles } from '../support/aws-model';

const elb = new ElasticLoadBalancingV2Client({ region: 'eu-west-1' });
const ecs = new ECSClient({ region: 'eu-west-1' });

describe('ELBv2 listener rules and targets', () => {
  let aws: AwsModel;
  let fleet: FleetHandles;
  let site: SiteHandles;

  beforeEach(() => {
    aws = installAwsModel({ retries: 'off' });
    fleet = seedFleet(aws, {
      environment: 'test',
      sites: [
        { id: 'acme', cell: 'c1', priority: 10 },
        { id: 'shop', cell: 'c1', priority: 20 },
      ],
    });
    site = fleet.sites.acme as SiteHandles;
  });
  afterEach(() => aws.restore());

  it('lists a listener’s rules by priority with the default rule last, and echoes forward config', async () => {
    const rules = await elb.send(new DescribeRulesCommand({ ListenerArn: site.listenerArn }));
    expect(rules.Rules?.map((r) => r.Priority)).toEqual(['10', '20', 'default']);
    expect(rules.Rules?.[0]?.Actions?.[0]).toEqual({
      Type: 'forward',
      Order: 1,
      TargetGroupArn: site.targetGroupArn,
      ForwardConfig: {
        TargetGroups: [{ TargetGroupArn: site.targetGroupArn, Weight: 1 }],
        TargetGroupStickinessConfig: { Enabled: false },
      },
    });
    expect(rules.Rules?.[0]?.Conditions).toEqual([
      { Field: 'host-header', Values: ['acme.example.com'], HostHeaderConfig: { Values: ['acme.example.com'] } },
    ]);
  });

  it('refuses a second rule at a priority in use, and ModifyRule on an unknown rule', async () => {
    const inUse = await elb
      .send(
        new CreateRuleCommand({
          ListenerArn: site.listenerArn,
          Priority: 10,
          Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['x.example.com'] } }],
          Actions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '503' } }],
        }),
      )
      .catch((e: unknown) => e);
    const missing = await elb
      .send(
        new ModifyRuleCommand({
          RuleArn: `${site.listenerRuleArn}0`,
          Actions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '503' } }],
        }),
      )
      .catch((e: unknown) => e);
    expect(inUse).toBeInstanceOf(PriorityInUseException);
    expect(inUse).toMatchObject({
      name: 'PriorityInUseException',
      Code: 'PriorityInUse',
      message: "Priority '10' is currently in use",
    });
    expect(missing).toBeInstanceOf(RuleNotFoundException);
  });

  it('detaches the target group when its rule answers with a fixed response, and reattaches on restore', async () => {
    // Act
    await elb.send(
      new ModifyRuleCommand({
        RuleArn: site.listenerRuleArn,
        Actions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '503' } }],
      }),
    );
    const detached = await elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [site.targetGroupArn] }));
    await elb.send(
      new ModifyRuleCommand({
        RuleArn: site.listenerRuleArn,
        Actions: [{ Type: 'forward', TargetGroupArn: site.targetGroupArn }],
      }),
    );
    aws.advance(60_000);
    const health = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: site.targetGroupArn }));

    // Assess
    expect(detached.TargetGroups?.[0]?.LoadBalancerArns).toEqual([]);
    expect(health.TargetHealthDescriptions?.map((d) => d.TargetHealth?.State)).toEqual(['healthy']);
  });

  it('registers a target (initial, then healthy after one check) and drains it on deregistration', async () => {
    // Prepare: a free address in the site's subnet that nothing answers on.
    const ip = '10.40.16.200';

    // Act
    await elb.send(
      new RegisterTargetsCommand({ TargetGroupArn: site.targetGroupArn, Targets: [{ Id: ip, Port: 8080 }] }),
    );
    const registered = await elb.send(
      new DescribeTargetHealthCommand({ TargetGroupArn: site.targetGroupArn, Targets: [{ Id: ip, Port: 8080 }] }),
    );
    aws.advance(90_000);
    const checked = await elb.send(
      new DescribeTargetHealthCommand({ TargetGroupArn: site.targetGroupArn, Targets: [{ Id: ip, Port: 8080 }] }),
    );
    await elb.send(
      new DeregisterTargetsCommand({ TargetGroupArn: site.targetGroupArn, Targets: [{ Id: ip, Port: 8080 }] }),
    );
    const draining = await elb.send(
      new DescribeTargetHealthCommand({ TargetGroupArn: site.targetGroupArn, Targets: [{ Id: ip, Port: 8080 }] }),
    );
    aws.advance(301_000);
    const gone = await elb.send(
      new DescribeTargetHealthCommand({ TargetGroupArn: site.targetGroupArn, Targets: [{ Id: ip, Port: 8080 }] }),
    );

    // Assess
    expect(registered.TargetHealthDescriptions?.[0]?.TargetHealth).toMatchObject({
      State: 'initial',
      Reason: 'Elb.RegistrationInProgress',
    });
    expect(checked.TargetHealthDescriptions?.[0]?.TargetHealth).toMatchObject({
      State: 'unhealthy',
      Reason: 'Target.Timeout',
    });
    expect(draining.TargetHealthDescriptions?.[0]?.TargetHealth).toMatchObject({
      State: 'draining',
      Reason: 'Target.DeregistrationInProgress',
    });
    expect(gone.TargetHealthDescriptions?.[0]?.TargetHealth).toMatchObject({
      State: 'unused',
      Reason: 'Target.NotRegistered',
    });
  });

  it('refuses duplicate tag keys in AddTags', async () => {
    const error = await elb
      .send(
        new AddTagsCommand({
          ResourceArns: [site.targetGroupArn],
          Tags: [
            { Key: 'a', Value: '1' },
            { Key: 'a', Value: '2' },
          ],
        }),
      )
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'DuplicateTagKeysException' });
  });

  it('tags ECS resources with lowercase key/value pairs', async () => {
    await ecs.send(
      new TagResourceCommand({ resourceArn: site.serviceArn, tags: [{ key: 'bulkhead:quarantined', value: 'true' }] }),
    );
    const out = await ecs.send(new ListTagsForResourceCommand({ resourceArn: site.serviceArn }));
    expect(out.tags).toEqual(expect.arrayContaining([{ key: 'bulkhead:quarantined', value: 'true' }]));
  });
});
