import { readFileSync } from 'node:fs';
import { App, CfnResource, Stack, TagManager } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadFleetFile, parseFleet } from '../../infra/config/load-fleet';
import { addFleet, UnknownSiteError } from '../../infra/fleet-app';
import { StackName } from '../../contracts/names';
import { TAG_COMPONENT, TAG_ENV, TAG_SITE } from '../../infra/shared/tags';
import {
  cdkJsonContext,
  type SynthesizedFleet,
  synthExample,
  synthFleet,
  synthGenerated,
} from '../support/synth-fleet';
import {
  onlyResource,
  policyStatements,
  resourcesOfType,
  securityGroupRules,
  tagsOf,
} from '../support/template-queries';

let example: SynthesizedFleet;
beforeAll(() => {
  example = synthExample();
});

/** Rules held by each platform security group, by the group's stack and logical id. */
function platformGroupRuleCounts(synth: SynthesizedFleet): Map<string, number> {
  const counts = new Map<string, number>();
  for (const [stackName, template] of synth.json) {
    if (stackName.includes('-Site-')) continue;
    for (const [id] of resourcesOfType(template, 'AWS::EC2::SecurityGroup'))
      counts.set(`${stackName.replace(/-Cell-.*/, '-Cell')}/${id}`, 0);
    for (const rule of securityGroupRules(template)) {
      if (!rule.holder) continue;
      const key = `${stackName.replace(/-Cell-.*/, '-Cell')}/${rule.holder}`;
      counts.set(key, Math.max(counts.get(key) ?? 0, 0) + 1);
    }
  }
  return counts;
}

describe('the fleet scales without shared groups growing', () => {
  it('shared groups hold the same rules for 4 sites and for 300, and no site adds a rule to a group it does not own', () => {
    // Prepare
    const big = synthGenerated(300);

    // Act
    const small = platformGroupRuleCounts(example);
    const large = platformGroupRuleCounts(big);
    // Cells repeat per 90 sites; each cell's groups must match the example's cell groups.
    const perGroup = (counts: Map<string, number>) =>
      [...counts.entries()].map(([k, v]) => `${k.replace(/^Bulkhead-[a-z]+-/, '')}=${v}`).sort();

    // Assess
    expect([...new Set(perGroup(large))]).toEqual([...new Set(perGroup(small))]);
    expect(big.fleet.cells.length).toBe(4);
    for (const [stackName, template] of big.json) {
      if (!stackName.includes('-Site-')) continue;
      const ownGroups = new Set(resourcesOfType(template, 'AWS::EC2::SecurityGroup').map(([id]) => id));
      for (const rule of securityGroupRules(template)) {
        expect(rule.holder && ownGroups.has(rule.holder), `${stackName}/${rule.resource}`).toBe(true);
      }
    }
  });

  it('every stack stays far under 500 resources, with or without strict sites', () => {
    for (const [stackName, template] of example.json) {
      expect(Object.keys(template.Resources).length, stackName).toBeLessThan(100);
    }
  });
});

describe('the tag contract', () => {
  it('every taggable resource carries bulkhead:env and bulkhead:component, and site resources bulkhead:site', () => {
    // Prepare
    const missing: string[] = [];
    let checked = 0;

    // Act
    for (const construct of example.app.node.findAll()) {
      if (!CfnResource.isCfnResource(construct)) continue;
      if (!TagManager.isTaggable(construct) && !TagManager.isTaggableV2(construct)) continue;
      // CloudFormation has no Tags on listeners and listener rules (cfn-lint E3002); infra/site/site-app.ts drops them.
      if (
        ['AWS::ElasticLoadBalancingV2::Listener', 'AWS::ElasticLoadBalancingV2::ListenerRule'].includes(
          construct.cfnResourceType,
        )
      )
        continue;
      const stack = Stack.of(construct);
      const template = example.json.get(stack.stackName);
      const resource = template?.Resources[stack.getLogicalId(construct)];
      if (!resource) continue;
      checked++;
      const tags = tagsOf(resource);
      const wanted = [TAG_ENV, TAG_COMPONENT, ...(stack.stackName.includes('-Site-') ? [TAG_SITE] : [])];
      for (const key of wanted) {
        if (tags[key] === undefined) missing.push(`${construct.node.path} (${resource.Type}) lacks ${key}`);
      }
      if (stack.stackName.includes('-Site-')) {
        expect(tags[TAG_SITE]).toBe(stack.stackName.replace(/^.*-Site-/, ''));
      }
      if (tags[TAG_ENV] !== undefined && tags[TAG_ENV] !== example.fleet.environment) {
        missing.push(`${construct.node.path} has ${TAG_ENV}=${String(tags[TAG_ENV])}`);
      }
    }

    // Assess
    expect(missing).toEqual([]);
    expect(checked).toBeGreaterThan(80);
  });

  it('site components are tagged with the documented names', () => {
    const json = example.siteJson('clinic');
    const component = (type: string) => resourcesOfType(json, type).map(([, r]) => tagsOf(r)[TAG_COMPONENT]);
    expect(component('AWS::EC2::SecurityGroup').sort()).toEqual(['site-sg', 'site-sg-standby']);
    expect(component('AWS::ECS::Service')).toEqual(['service']);
    expect(component('AWS::IAM::Role').sort()).toEqual(['execution-role', 'task-role']);
    expect(component('AWS::SecretsManager::Secret')).toEqual(['secret']);
    expect(component('AWS::EFS::AccessPoint')).toEqual(['uploads']);
    expect(component('AWS::ElasticLoadBalancingV2::TargetGroup')).toEqual(['target-group']);
    expect(component('AWS::EC2::NetworkAcl')).toEqual(['network-acl']);
    expect(component('AWS::EC2::Subnet')).toEqual(['subnet', 'subnet']);
  });
});

describe('cdk-nag (AwsSolutions)', () => {
  it('reports no unacknowledged finding on the example fleet', () => {
    const report = JSON.parse(readFileSync(`${example.outdir}/validation-report.json`, 'utf8')) as {
      pluginReports: { pluginName: string; conclusion: string; violations: unknown[] }[];
    };
    // AwsSolutions reports only when it finds something; CloudFormation's own template
    // validation (cdk.json) runs too and may only warn.
    expect(report.pluginReports.filter((r) => r.pluginName === 'AwsSolutions').flatMap((r) => r.violations)).toEqual(
      [],
    );
    expect(report.pluginReports.filter((r) => r.conclusion !== 'success')).toEqual([]);
  });

  it('does run: an unencrypted, unlogged bucket added to a site stack fails synthesis', () => {
    // Prepare
    const app = new App({ context: cdkJsonContext() });
    const stacks = addFleet(app, loadFleetFile('config/example.yaml'), { site: 'bakery' });
    new s3.Bucket(stacks.sites[0] as Stack, 'Careless');

    // Act + Assess
    expect(() => app.synth()).toThrow(/[Vv]alidation/);
  });
});

describe('one site at a time (-c site=<id>)', () => {
  it('synthesizes only that site, with the same template as in the whole fleet', () => {
    // Act
    const one = synthFleet(example.fleet, { site: 'clinic' });

    // Assess
    expect([...one.json.keys()]).toEqual([StackName.site('example', 'clinic')]);
    expect(one.siteJson('clinic')).toEqual(example.siteJson('clinic'));
  });

  it('refuses an unknown site and lists the known ones', () => {
    const app = new App();
    expect(() => addFleet(app, example.fleet, { site: 'nope' })).toThrow(UnknownSiteError);
    expect(() => addFleet(new App(), example.fleet, { site: 'nope' })).toThrow(/acme-shop, bakery, clinic, dentist/);
  });
});

describe('the platform', () => {
  it('has the VPC endpoints Fargate, Secrets Manager and CloudWatch Logs need', () => {
    const network = example.json.get(StackName.network('example'));
    const services = resourcesOfType(network as never, 'AWS::EC2::VPCEndpoint').map(([, r]) =>
      JSON.stringify(r.Properties?.ServiceName),
    );
    for (const service of ['ecr.api', 'ecr.dkr', 'secretsmanager', 'logs', 's3']) {
      expect(
        services.some((s) => s.includes(`.${service}`)),
        service,
      ).toBe(true);
    }
  });

  it('has a NAT path only when some site may reach the internet', () => {
    // Prepare
    const raw = parse(readFileSync('config/example.yaml', 'utf8'));
    for (const site of raw.sites) site.internetEgress = false;
    raw.defaults.internetEgress = false;

    // Act
    const offline = synthFleet(parseFleet(stringify(raw), 'offline.yaml'), { nag: false });

    // Assess
    const count = (s: SynthesizedFleet) =>
      resourcesOfType(s.json.get(StackName.network('example')) as never, 'AWS::EC2::NatGateway').length;
    expect(count(example)).toBe(2);
    expect(count(offline)).toBe(0);
  });

  it('has a quarantine ACL that denies everything but HTTPS to the endpoint subnets and its answers', () => {
    const network = example.json.get(StackName.network('example'));
    const acls = resourcesOfType(network as never, 'AWS::EC2::NetworkAcl');
    expect(acls.map(([, r]) => tagsOf(r)[TAG_COMPONENT])).toEqual(['quarantine-acl']);
    // The entries themselves: test/infra/runtime-monitoring.test.ts (a contained site stays watched).
    const entries = resourcesOfType(network as never, 'AWS::EC2::NetworkAclEntry').map(([, e]) => e.Properties ?? {});
    expect(entries.every((e) => e.RuleAction === 'allow' && e.Protocol === 6 && e.CidrBlock !== '0.0.0.0/0')).toBe(
      true,
    );
  });

  it('has one database-user function for the whole fleet, inside the VPC', () => {
    const data = example.json.get(StackName.data('example'));
    const functions = resourcesOfType(data as never, 'AWS::Lambda::Function').filter(
      ([, r]) => r.Properties?.VpcConfig,
    );
    expect(functions).toHaveLength(1);
    expect(functions[0]?.[1].Properties?.Runtime).toBe('nodejs22.x');
  });

  it('the uploads file system admits only TLS, only through an access point, never as root, and grants no mount to anyone', () => {
    const data = example.json.get(StackName.data('example'));
    const [, fs] = onlyResource<{
      FileSystemPolicy: {
        Statement: {
          Sid?: string;
          Effect: string;
          Action: string | string[];
          Condition?: unknown;
        }[];
      };
    }>(data as never, 'AWS::EFS::FileSystem');
    const statements = fs.Properties.FileSystemPolicy.Statement;
    const denies = statements.filter((s) => s.Effect === 'Deny').map((s) => s.Sid);
    expect(denies.sort()).toEqual(['DenyRootAccess', 'DenyWithoutAccessPoint', 'DenyWithoutTls']);
    const allowed = statements.filter((s) => s.Effect === 'Allow').flatMap((s) => [s.Action].flat());
    expect(allowed).not.toContain('elasticfilesystem:ClientMount');
  });

  it("the database-user provider reads only this environment's site secrets, by name and by tag", () => {
    const data = example.json.get(StackName.data('example'));
    const statements = policyStatements(data as never);
    expect(statements.find((s) => s.Sid === 'ReadSiteDatabaseSecrets')).toMatchObject({
      Resource: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:bulkhead/example/sites/*',
      Condition: {
        StringEquals: {
          'aws:ResourceTag/bulkhead:env': 'example',
          'aws:ResourceTag/bulkhead:component': 'secret',
        },
      },
    });
  });
});
