import {
  DescribeSecurityGroupsCommand,
  DescribeTagsCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
} from '@aws-sdk/client-ec2';
import {
  DescribeTagsCommand as DescribeElbTagsCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { SSMClient } from '@aws-sdk/client-ssm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadSiteRecord } from '../../runtime/shared/site-records';
import { type AwsModel, type FleetHandles, installAwsModel, seedFleet, snapshotSite } from '../support/aws-model';

const ec2 = new EC2Client({ region: 'eu-west-1' });
const elb = new ElasticLoadBalancingV2Client({ region: 'eu-west-1' });
const ssm = new SSMClient({ region: 'eu-west-1' });

describe('seeded fleet', () => {
  let aws: AwsModel;
  let fleet: FleetHandles;

  beforeEach(() => {
    aws = installAwsModel({ retries: 'off' });
    fleet = seedFleet(aws, {
      environment: 'test',
      sites: [
        { id: 'acme', cell: 'c1' },
        { id: 'shop', cell: 'c1', internetEgress: true, desiredCount: 2 },
        { id: 'vault', cell: 'c2', isolation: 'strict' },
      ],
    });
  });
  afterEach(() => aws.restore());

  it('gives each site a tagged group with only the documented rules', async () => {
    const groups = await ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: 'tag:bulkhead:component', Values: ['site-sg'] },
          { Name: 'tag:bulkhead:env', Values: ['test'] },
        ],
      }),
    );
    expect(groups.SecurityGroups?.map((g) => g.Tags?.find((t) => t.Key === 'bulkhead:site')?.Value).sort()).toEqual([
      'acme',
      'shop',
      'vault',
    ]);
    const shop = snapshotSite(aws, 'shop').securityGroup;
    expect(shop.ingress).toEqual([
      {
        protocol: 'tcp',
        fromPort: 8080,
        toPort: 8080,
        peer: fleet.cells.c1?.lbSecurityGroupId,
        description: 'From the cell load balancer',
      },
    ]);
    expect(shop.egress.map((r) => `${r.peer}:${r.fromPort}`).sort()).toEqual(
      [
        `${fleet.dbSecurityGroupId}:3306`,
        `${fleet.endpointsSecurityGroupId}:443`,
        `${fleet.logsEndpointSecurityGroupId}:443`,
        `${fleet.s3PrefixListId}:443`,
        `${fleet.efsSecurityGroupId}:2049`,
        '0.0.0.0/0:443',
      ].sort(),
    );
    expect(snapshotSite(aws, 'acme').securityGroup.egress.some((r) => r.peer === '0.0.0.0/0')).toBe(false);
  });

  it('tags load balancer resources and EC2 resources so they can be found by site', async () => {
    const site = fleet.sites.vault;
    const tags = await elb.send(
      new DescribeElbTagsCommand({ ResourceArns: [site?.targetGroupArn ?? '', site?.listenerRuleArn ?? ''] }),
    );
    const subnets = await ec2.send(
      new DescribeTagsCommand({
        Filters: [
          { Name: 'resource-type', Values: ['subnet'] },
          { Name: 'key', Values: ['bulkhead:site'] },
          { Name: 'value', Values: ['vault'] },
        ],
      }),
    );
    expect(tags.TagDescriptions?.map((d) => d.Tags?.find((t) => t.Key === 'bulkhead:component')?.Value)).toEqual([
      'target-group',
      'listener-rule',
    ]);
    expect(subnets.Tags?.map((t) => t.ResourceId).sort()).toEqual([...(site?.subnetIds ?? [])].sort());
  });

  it('snapshots a site as plain data that shows exactly what changed', async () => {
    // Prepare
    const before = snapshotSite(aws, 'acme');
    const site = fleet.sites.acme;

    // Act
    await ec2.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: site?.securityGroupId,
        SecurityGroupRuleIds: before.securityGroup.ruleIds.ingress,
      }),
    );
    const after = snapshotSite(aws, 'acme');

    // Assess
    expect(after.securityGroup.ingress).toEqual([]);
    expect({ ...after, securityGroup: before.securityGroup }).toEqual(before);
    expect(snapshotSite(aws, 'shop').tasks).toHaveLength(2);
  });

  it('publishes each site record in SSM in the shape the response plane reads', async () => {
    // Act
    const vault = await loadSiteRecord(ssm, 'test', 'vault');
    const missing = await loadSiteRecord(ssm, 'test', 'nope').catch((e: unknown) => e);

    // Assess
    const site = fleet.sites.vault;
    expect(vault).toMatchObject({
      site: 'vault',
      serviceName: 'vault',
      securityGroupId: site?.securityGroupId,
      listenerRuleArn: site?.listenerRuleArn,
      networkAclId: site?.siteAclId,
      subnetIds: site?.subnetIds,
      isolation: 'strict',
    });
    expect(missing).toMatchObject({ name: 'SiteRecordError', reason: 'missing' });
    expect(aws.callsTo('SSM', 'GetParameter').map((c) => c.error?.name)).toEqual([undefined, 'ParameterNotFound']);
  });
});
