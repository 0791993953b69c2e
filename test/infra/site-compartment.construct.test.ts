import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { beforeAll, describe, expect, it } from 'vitest';
import { siteAlarmName, siteLogGroupName, siteSecretName, siteTaskFamily } from '../../contracts/names';
import { TAG_COMPONENT } from '../../contracts/tag-names';
import { loadFleetFile, type SiteConfig } from '../../infra/config/load-fleet';
import type { CompartmentPlatform } from '../../infra/site/compartment-platform';
import { SiteCompartment } from '../../infra/site/site-compartment';

/**
 * The site compartment construct on its own, as aws-cdk-lib tests its constructs: a bare stack,
 * a platform made by hand from literal ids (no platform stacks, no exports), and fine-grained
 * assertions on the one template. The fleet-wide tests (compartment-isolation, fleet-shape)
 * check the same construct inside the whole synthesized fleet.
 */
const ENV = 'unit';

function handMadePlatform(stack: Stack): CompartmentPlatform {
  const availabilityZones = ['eu-west-1a', 'eu-west-1b'];
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    vpcCidrBlock: '10.40.0.0/16',
    availabilityZones,
  });
  const group = (id: string, groupId: string) =>
    ec2.SecurityGroup.fromSecurityGroupId(stack, id, groupId, { mutable: false, allowAllOutbound: false });
  const loadBalancerSecurityGroup = group('Lb', 'sg-0000000000000000a');
  const uploadsSecurityGroup = group('UploadsSg', 'sg-0000000000000000e');
  return {
    vpc,
    serviceSubnets: ['subnet-0000000000000000a', 'subnet-0000000000000000b'].map((subnetId, i) =>
      ec2.Subnet.fromSubnetAttributes(stack, `Subnet${i}`, {
        subnetId,
        availabilityZone: availabilityZones[i],
        routeTableId: `rtb-000000000000000${i}`,
      }),
    ),
    routeTableIds: ['rtb-0000000000000000', 'rtb-0000000000000001'],
    availabilityZones,
    cluster: ecs.Cluster.fromClusterAttributes(stack, 'Cluster', {
      clusterName: 'bulkhead-unit-blue',
      clusterArn: 'arn:aws:ecs:eu-west-1:111122223333:cluster/bulkhead-unit-blue',
      vpc,
      securityGroups: [],
    }),
    listener: elbv2.ApplicationListener.fromApplicationListenerAttributes(stack, 'Listener', {
      listenerArn:
        'arn:aws:elasticloadbalancing:eu-west-1:111122223333:listener/app/bulkhead-unit-blue/0123456789abcdef/0123456789abcdef',
      securityGroup: loadBalancerSecurityGroup,
    }),
    loadBalancerSecurityGroup,
    loadBalancerFullName: 'app/bulkhead-unit-blue/0123456789abcdef',
    databaseSecurityGroup: group('DbSg', 'sg-0000000000000000b'),
    endpointSecurityGroup: group('EndpointSg', 'sg-0000000000000000c'),
    logsEndpointSecurityGroup: group('LogsSg', 'sg-0000000000000000d'),
    uploadsSecurityGroup,
    uploads: efs.FileSystem.fromFileSystemAttributes(stack, 'Uploads', {
      fileSystemArn: 'arn:aws:elasticfilesystem:eu-west-1:111122223333:file-system/fs-0123456789abcdef0',
      securityGroup: uploadsSecurityGroup,
    }),
    s3PrefixListId: 'pl-6da54004',
    databaseEndpoint: 'db.cluster-abc.eu-west-1.rds.amazonaws.com',
    databasePort: '3306',
    databaseUserServiceToken: 'arn:aws:lambda:eu-west-1:111122223333:function:bulkhead-unit-db-user-provider',
    responseKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/01234567-89ab-cdef-0123-456789abcdef',
    siteFlowLogsRoleArn: 'arn:aws:iam::111122223333:role/bulkhead-unit-site-flow-logs',
  };
}

let site: SiteConfig;
let template: Template;

beforeAll(() => {
  // Prepare: one site of the example fleet, on a bare stack with a hand-made platform.
  const fleet = loadFleetFile('config/example.yaml');
  site = fleet.sites[0] as SiteConfig;
  const stack = new Stack(new App(), 'Compartment', { env: { account: '111122223333', region: 'eu-west-1' } });
  // Act
  new SiteCompartment(stack, 'Site', {
    environment: ENV,
    site,
    platform: handMadePlatform(stack),
    containerPort: 8080,
    maxDatabaseConnections: 40,
  });
  template = Template.fromStack(stack);
});

describe('SiteCompartment on a bare stack', () => {
  it('runs one Fargate service in its own group and its own subnets, on the platform’s cluster, without a public address', () => {
    template.resourceCountIs('AWS::ECS::Service', 1);
    template.hasResourceProperties('AWS::ECS::Service', {
      Cluster: 'bulkhead-unit-blue',
      LaunchType: 'FARGATE',
      NetworkConfiguration: {
        AwsvpcConfiguration: Match.objectLike({
          AssignPublicIp: 'DISABLED',
          SecurityGroups: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^SiteSecurityGroup'), 'GroupId'] }],
          // Its own subnets (issue 14): quarantine swaps their ACL, cutting established connections.
          Subnets: Match.arrayWith([{ Ref: Match.stringLikeRegexp('Subnet') }]),
        }),
      },
    });
  });

  it('pins the image by digest and takes the database secret at runtime, never in plain environment', () => {
    const [definition] = Object.values(template.findResources('AWS::ECS::TaskDefinition'));
    const containers = (definition?.Properties as { ContainerDefinitions: Record<string, unknown>[] })
      .ContainerDefinitions;
    const container = containers.find((c) => c.Name === 'site') as Record<string, unknown>;
    // The image is `<repository URI>@sha256:<digest>`, joined with the account's and region's tokens.
    expect(JSON.stringify(container.Image)).toMatch(/@sha256:[0-9a-f]{64}"\]\]\}$/);
    expect(container.ReadonlyRootFilesystem).toBe(true);
    expect(container.Secrets).toEqual(
      expect.arrayContaining([expect.objectContaining({ ValueFrom: expect.anything() })]),
    );
    const plain = (container.Environment as { Name: string }[] | undefined) ?? [];
    expect(plain.map((e) => e.Name).filter((n) => /PASSWORD|SECRET/i.test(n))).toEqual([]);
    template.hasResourceProperties('AWS::ECS::TaskDefinition', { Family: siteTaskFamily(ENV, site.id) });
  });

  it('names its secret, log group and alarms by the contracts, for this site only', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([`${siteSecretName(ENV, site.id)}-`])] }),
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([`${siteLogGroupName(ENV, site.id)}/`])] }),
    });
    for (const kind of ['error-rate', 'egress'] as const) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: siteAlarmName(ENV, site.id, kind) });
    }
  });

  it('tags its groups with their component, which the response roles’ tag conditions read (the stack adds env and site)', () => {
    for (const component of ['site-sg', 'site-sg-standby']) {
      template.hasResourceProperties('AWS::EC2::SecurityGroup', {
        Tags: Match.arrayWith([{ Key: TAG_COMPONENT, Value: component }]),
      });
    }
  });

  it('opens its group to the load balancer on the container port only, and to nothing else from outside', () => {
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).map(
      (r) => r.Properties as Record<string, unknown>,
    );
    const fromOutside = ingress.filter((rule) => rule.SourceSecurityGroupId !== undefined || rule.CidrIp !== undefined);
    expect(fromOutside.length).toBeGreaterThan(0);
    for (const rule of fromOutside) {
      expect(rule.CidrIp).toBeUndefined();
      expect([rule.FromPort, rule.ToPort]).toEqual([8080, 8080]);
    }
  });
});
