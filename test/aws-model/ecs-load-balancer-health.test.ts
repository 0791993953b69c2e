import { EC2Client, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { DescribeServicesCommand, DescribeTasksCommand, ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import {
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AwsModel, type FleetHandles, installAwsModel, seedFleet, type SiteHandles } from '../support/aws-model';

const ec2 = new EC2Client({ region: 'eu-west-1' });
const ecs = new ECSClient({ region: 'eu-west-1' });
const elb = new ElasticLoadBalancingV2Client({ region: 'eu-west-1' });

async function revokeLoadBalancerIngress(site: SiteHandles, fleet: FleetHandles): Promise<void> {
  await ec2.send(
    new RevokeSecurityGroupIngressCommand({
      GroupId: site.securityGroupId,
      IpPermissions: [
        {
          IpProtocol: 'tcp',
          FromPort: site.containerPort,
          ToPort: site.containerPort,
          UserIdGroupPairs: [{ GroupId: fleet.cells[site.cell]?.lbSecurityGroupId }],
        },
      ],
    }),
  );
}

async function targetStates(site: SiteHandles) {
  const health = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: site.targetGroupArn }));
  return health.TargetHealthDescriptions?.map((d) => d.TargetHealth) ?? [];
}

async function task(site: SiteHandles, taskArn: string) {
  const out = await ecs.send(
    new DescribeTasksCommand({ cluster: site.clusterName, tasks: [taskArn], include: ['TAGS'] }),
  );
  return out.tasks?.[0];
}

describe('ECS replaces tasks that fail load balancer health checks', () => {
  let aws: AwsModel;
  let fleet: FleetHandles;
  let site: SiteHandles;

  beforeEach(() => {
    aws = installAwsModel({ retries: 'off' });
    fleet = seedFleet(aws, {
      environment: 'test',
      sites: [
        { id: 'acme', cell: 'c1' },
        { id: 'other', cell: 'c1' },
      ],
    });
    site = fleet.sites.acme as SiteHandles;
  });
  afterEach(() => aws.restore());

  it('starts from a healthy, registered task with the service tags and its network interface', async () => {
    const [taskArn] = site.taskArns;
    const t = await task(site, taskArn ?? '');
    expect(t).toMatchObject({ lastStatus: 'RUNNING', desiredStatus: 'RUNNING', group: `service:${site.serviceName}` });
    expect(t?.tags).toEqual(
      expect.arrayContaining([
        { key: 'bulkhead:site', value: 'acme' },
        { key: 'bulkhead:component', value: 'service' },
      ]),
    );
    const details = Object.fromEntries(t?.attachments?.[0]?.details?.map((d) => [d.name, d.value]) ?? []);
    expect(details.networkInterfaceId).toMatch(/^eni-/);
    expect(details.subnetId).toBe(site.subnetIds[0]);
    expect(t?.containers?.[0]?.imageDigest).toBe(site.image.split('@')[1]);
    expect(await targetStates(site)).toEqual([{ State: 'healthy' }]);
  });

  it('stops the task ("Task failed ELB health checks") when its group stops allowing the attached load balancer', async () => {
    // Prepare
    const [original] = site.taskArns;

    // Act: revoke the ingress from the load balancer while the listener still forwards.
    await revokeLoadBalancerIngress(site, fleet);
    aws.advance(3 * 60_000);

    // Assess
    const t = await task(site, original ?? '');
    expect(t?.desiredStatus).toBe('STOPPED');
    expect(t?.stoppedReason).toBe(`Task failed ELB health checks in (target-group ${site.targetGroupArn})`);
    expect(t?.stopCode).toBe('ServiceSchedulerInitiated');
    const service = (
      await ecs.send(new DescribeServicesCommand({ cluster: site.clusterName, services: [site.serviceName] }))
    ).services?.[0];
    expect(service?.events?.map((e) => e.message)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/is unhealthy in \(target-group .*\) due to \(reason Request timed out\)/),
      ]),
    );
    const running = await ecs.send(new ListTasksCommand({ cluster: site.clusterName, serviceName: site.serviceName }));
    expect(running.taskArns).not.toContain(original);
    expect(running.taskArns?.length).toBeGreaterThan(0);
    // The other site is untouched.
    const other = fleet.sites.other as SiteHandles;
    expect((await task(other, other.taskArns[0] ?? ''))?.lastStatus).toBe('RUNNING');
  });

  it('keeps the task running when the target group was detached by a fixed-response rule first', async () => {
    // Prepare
    const [original] = site.taskArns;

    // Act: shed traffic at the listener (maintenance page), then revoke the ingress.
    await elb.send(
      new ModifyRuleCommand({
        RuleArn: site.listenerRuleArn,
        Actions: [
          {
            Type: 'fixed-response',
            FixedResponseConfig: { StatusCode: '503', ContentType: 'text/plain', MessageBody: 'Maintenance' },
          },
        ],
      }),
    );
    await revokeLoadBalancerIngress(site, fleet);
    aws.advance(10 * 60_000);

    // Assess
    const t = await task(site, original ?? '');
    expect(t).toMatchObject({ lastStatus: 'RUNNING', desiredStatus: 'RUNNING' });
    expect(t?.stoppedReason).toBeUndefined();
    expect(await targetStates(site)).toEqual([
      {
        State: 'unused',
        Reason: 'Target.NotInUse',
        Description: 'Target group is not configured to receive traffic from the load balancer',
      },
    ]);
  });

  it('reports an unknown task as a MISSING failure, not an error', async () => {
    const out = await ecs.send(
      new DescribeTasksCommand({ cluster: site.clusterName, tasks: ['0123456789abcdef0123456789abcdef'] }),
    );
    expect(out.tasks).toEqual([]);
    expect(out.failures).toEqual([
      {
        arn: `arn:aws:ecs:${aws.region}:${aws.accountId}:task/${site.clusterName}/0123456789abcdef0123456789abcdef`,
        reason: 'MISSING',
      },
    ]);
    const missingCluster = await ecs
      .send(new DescribeTasksCommand({ cluster: 'nope', tasks: ['x'] }))
      .catch((e: unknown) => e);
    expect(missingCluster).toMatchObject({ name: 'ClusterNotFoundException', $fault: 'client' });
  });
});
