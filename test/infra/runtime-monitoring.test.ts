import { beforeAll, describe, expect, it } from 'vitest';
import { loadFleetFile } from '../../infra/config/load-fleet';
import { StackName } from '../../contracts/names';
import { UnknownGuardDutyRegionError } from '../../contracts/guardduty';
import { type CfnTemplate, type SynthesizedFleet, synthExample, synthFleet } from '../support/synth-fleet';
import { policyStatements, resourcesOfType, securityGroupRules, tagsOf } from '../support/template-queries';

/**
 * Issue 12, item 1: GuardDuty Runtime Monitoring must see every site's tasks. The agent is a
 * sidecar pulled by the task execution role from GuardDuty's repository in the region, and it
 * sends runtime events through a `guardduty-data` VPC endpoint
 * (https://docs.aws.amazon.com/guardduty/latest/ug/prereq-runtime-monitoring-ecs-support.html,
 * https://docs.aws.amazon.com/guardduty/latest/ug/runtime-monitoring-agent-connectivity.html).
 */

let synth: SynthesizedFleet;
let network: CfnTemplate;
let response: CfnTemplate;

beforeAll(() => {
  synth = synthExample();
  network = synth.json.get(StackName.network('example')) as CfnTemplate;
  response = synth.json.get(StackName.response('example')) as CfnTemplate;
});

function endpointFor(service: string): Record<string, unknown> | undefined {
  return resourcesOfType(network, 'AWS::EC2::VPCEndpoint')
    .map(([, r]) => r.Properties ?? {})
    .find((p) => JSON.stringify(p.ServiceName).includes(service));
}

const LOGS_GROUP = { 'Fn::GetAtt': [expect.stringMatching(/^LogsEndpointSecurityGroup/), 'GroupId'] };

describe('the site tasks reach the GuardDuty data endpoint', () => {
  it('the network has a guardduty-data interface endpoint with private DNS, in the isolated subnets', () => {
    // Act
    const endpoint = endpointFor('.guardduty-data');
    // Assess
    expect(endpoint).toMatchObject({ VpcEndpointType: 'Interface', PrivateDnsEnabled: true });
    expect(endpoint?.SubnetIds).toEqual(endpointFor('.logs')?.SubnetIds);
  });

  it('it shares the Logs endpoint’s group, the one group a quarantined site keeps HTTPS to', () => {
    // Prepare
    const contain = resourcesOfType(response, 'AWS::Lambda::Function').find(([id]) => id.startsWith('ContainFunction'));
    const quarantineKeeps = (contain?.[1].Properties?.Environment as { Variables: Record<string, unknown> }).Variables
      .LOGS_ENDPOINT_SG_ID;
    // Act
    const guardDuty = endpointFor('.guardduty-data')?.SecurityGroupIds;
    const logs = endpointFor('.logs')?.SecurityGroupIds;
    // Assess
    expect(guardDuty).toEqual([LOGS_GROUP]);
    expect(logs).toEqual(guardDuty);
    expect(JSON.stringify(quarantineKeeps)).toMatch(/LogsEndpointSecurityGroup/);
  });

  it('only this account may use the endpoint (the policy the GuardDuty guide gives)', () => {
    // Act
    const policy = endpointFor('.guardduty-data')?.PolicyDocument as { Statement: Record<string, unknown>[] };
    // Assess
    expect(policy.Statement).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Effect: 'Deny',
          Condition: { StringNotEquals: { 'aws:PrincipalAccount': '111122223333' } },
        }),
      ]),
    );
  });

  it('every site group sends HTTPS to that group', () => {
    for (const site of synth.fleet.sites) {
      // Act
      const egress = securityGroupRules(synth.siteJson(site.id)).filter(
        (r) =>
          r.direction === 'egress' &&
          r.fromPort === 443 &&
          String(JSON.stringify(r.peerGroup)).includes('logs-endpoint-sg-id'),
      );
      // Assess: the site's own group and its standby group.
      expect(egress, site.id).toHaveLength(2);
    }
  });

  it('the quarantine ACL lets a contained site reach only HTTPS in the watch subnets (and the answers), where only the Logs and GuardDuty endpoints live; and the load balancer its port', () => {
    // Prepare
    const subnets = resourcesOfType(network, 'AWS::EC2::Subnet');
    const watch = subnets.filter(([id]) => /^WatchSubnet\d+$/.test(id));
    const publicCidrs = subnets.filter(([id]) => /public/i.test(id)).map(([, s]) => s.Properties?.CidrBlock);
    const endpoints = resourcesOfType(network, 'AWS::EC2::VPCEndpoint');
    // Act
    const entries = resourcesOfType(network, 'AWS::EC2::NetworkAclEntry').map(([, e]) => e.Properties ?? {});
    const toWatch = entries.filter((e) => !publicCidrs.includes(e.CidrBlock));
    const toLoadBalancer = entries.filter((e) => publicCidrs.includes(e.CidrBlock));
    const inWatch = endpoints.filter(([, e]) =>
      String(JSON.stringify(e.Properties?.SubnetIds)).includes(`"${watch[0]?.[0]}"`),
    );
    // Assess
    expect(watch.length).toBe(2);
    expect(toWatch).toHaveLength(2 * watch.length);
    for (const e of toWatch) {
      expect(watch.map(([, s]) => s.Properties?.CidrBlock)).toContain(e.CidrBlock);
      expect(e).toMatchObject({ Protocol: 6, RuleAction: 'allow' });
      expect(e.PortRange).toEqual(e.Egress ? { From: 443, To: 443 } : { From: 1024, To: 65535 });
    }
    expect(toLoadBalancer).toHaveLength(2 * publicCidrs.length);
    for (const e of toLoadBalancer) {
      expect(e.PortRange).toEqual(
        e.Egress ? { From: 1024, To: 65535 } : { From: synth.fleet.containerPort, To: synth.fleet.containerPort },
      );
    }
    expect(inWatch).toHaveLength(2);
    for (const [id] of inWatch) expect(id).toMatch(/^Vpc(Logs|GuardDutyData)Endpoint/);
  });
});

describe('the site tasks may pull GuardDuty’s agent', () => {
  it('each execution role may pull from GuardDuty’s repository in the region, and from no other repository but its own', () => {
    for (const site of synth.fleet.sites) {
      // Prepare
      const template = synth.siteJson(site.id);
      const [roleId] = resourcesOfType(template, 'AWS::IAM::Role').find(
        ([, r]) => tagsOf(r)['bulkhead:component'] === 'execution-role',
      ) ?? [''];
      // Act
      const pulls = resourcesOfType(template, 'AWS::IAM::Policy')
        .filter(([, p]) => JSON.stringify(p.Properties?.Roles).includes(roleId))
        .flatMap(([id, p]) => policyStatements({ Resources: { [id]: p } }))
        .filter((s) => [s.Action].flat().includes('ecr:BatchGetImage'));
      const repositories = pulls.flatMap((s) => [s.Resource].flat()).map((r) => JSON.stringify(r));
      // Assess
      expect(repositories, site.id).toHaveLength(2);
      expect(repositories).toContain('"arn:aws:ecr:eu-west-1:694911143906:repository/aws-guardduty-agent-fargate"');
      expect(repositories.some((r) => r.includes(`repository/${site.image.repositoryName}`))).toBe(true);
    }
  });

  it('a fleet in a region whose agent repository is not known is refused, naming the page to copy it from', () => {
    // Prepare
    const fleet = { ...loadFleetFile('config/example.yaml'), region: 'ap-northeast-9' };
    // Act
    const act = () => synthFleet(fleet, { nag: false, cloudFormationValidation: false });
    // Assess
    expect(act).toThrow(UnknownGuardDutyRegionError);
    expect(act).toThrow(/ecs-runtime-agent-ecr-image-uri\.html/);
  });

  it('each cell cluster carries GuardDutyManaged=true, so per-cluster agent management covers it too', () => {
    for (const cell of synth.fleet.cells) {
      // Act
      const [[, cluster]] = resourcesOfType(
        synth.json.get(StackName.cell('example', cell.id)) as CfnTemplate,
        'AWS::ECS::Cluster',
      ) as [[string, { Properties?: Record<string, unknown>; Type: string }]];
      // Assess
      expect(tagsOf(cluster as never).GuardDutyManaged, cell.id).toBe('true');
    }
  });
});

describe('coverage changes reach the operators', () => {
  it('a rule hears GuardDuty coverage changes of Bulkhead’s clusters and hands them to the coverage function', () => {
    // Act
    const rule = resourcesOfType(response, 'AWS::Events::Rule')
      .map(([, r]) => r.Properties ?? {})
      .find((p) => JSON.stringify(p.EventPattern).includes('GuardDuty Runtime Protection Unhealthy'));
    // Assess
    expect(rule?.EventPattern).toEqual({
      source: ['aws.guardduty'],
      'detail-type': ['GuardDuty Runtime Protection Unhealthy', 'GuardDuty Runtime Protection Healthy'],
      detail: {
        resourceDetails: {
          resourceType: ['ECS'],
          ecsClusterDetails: { clusterName: ['bulkhead-example-blue', 'bulkhead-example-green'] },
        },
      },
    });
    expect(JSON.stringify(rule?.Targets)).toMatch(/CoverageFunction/);
  });
});
