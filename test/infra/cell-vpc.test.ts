import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseFleet } from '../../infra/config/load-fleet';
import { StackName } from '../../contracts/names';
import { auditAssembly } from '../../tools/audit';
import { loadCloudAssembly } from '../../tools/audit/cloud-assembly';
import { ESTABLISHED_CONNECTIONS_NUMBER } from '../../tools/audit/questions/established-connections';
import { mutated, resourceOf } from '../audit/audit-support';
import { ACCEPTED_CFN_LINT_WARNINGS, cfnLint, describeMatch, templatesIn } from '../support/cfn-lint';
import { type CfnResource, type CfnTemplate, synthFleet, type SynthesizedFleet } from '../support/synth-fleet';

/**
 * A cell with a VPC of its own (docs/network.md, "A VPC per cell"): the example fleet with its
 * green cell (clinic, strict; dentist) moved to 10.41.0.0/16, synthesized with cdk-nag on.
 */
let synthesized: SynthesizedFleet;
const ENV = 'example';

beforeAll(() => {
  const file = parse(readFileSync('config/example.yaml', 'utf8'));
  file.cells[1].network = { cidr: '10.41.0.0/16' };
  const text = stringify(file);
  synthesized = synthFleet(parseFleet(text, 'cell-vpc.yaml'), { fleetText: text });
});

const template = (name: string): CfnTemplate => {
  const t = synthesized.json.get(name);
  if (!t) throw new Error(`no stack ${name}`);
  return t;
};
const ofType = (t: CfnTemplate, type: string): [string, CfnResource][] =>
  Object.entries(t.Resources).filter(([, r]) => r.Type === type);
const props = (r: CfnResource) => r.Properties as Record<string, unknown>;
const importName = (value: unknown) => (value as { 'Fn::ImportValue'?: string })['Fn::ImportValue'];

describe("a cell's own VPC", () => {
  it('is a stack of its own with the VPC, its quarantine ACL and its exports under the cell name', () => {
    // Act
    const network = template(StackName.cellNetwork(ENV, 'green'));

    // Assess
    const vpcs = ofType(network, 'AWS::EC2::VPC');
    expect(vpcs.map(([, r]) => props(r).CidrBlock)).toEqual(['10.41.0.0/16']);
    const acls = ofType(network, 'AWS::EC2::NetworkAcl').filter(([, r]) =>
      (props(r).Tags as { Key: string; Value: string }[]).some(
        (t) => t.Key === 'bulkhead:component' && t.Value === 'quarantine-acl',
      ),
    );
    expect(acls).toHaveLength(1);
    const exported = Object.values(network.Outputs ?? {}).flatMap((o) => (o.Export ? [o.Export.Name] : []));
    expect(exported).toEqual(
      expect.arrayContaining([
        'bulkhead-example-cell-green-vpc-id',
        'bulkhead-example-cell-green-quarantine-acl-id',
        'bulkhead-example-cell-green-logs-endpoint-sg-id',
        'bulkhead-example-cell-green-isolated-route-table-ids',
      ]),
    );
    // The blue cell stays in the platform VPC: no stack of its own.
    expect(synthesized.json.has(StackName.cellNetwork(ENV, 'blue'))).toBe(false);
  });

  it("is peered with the platform VPC, routed to the platform's isolated subnets only and back to its site range only", () => {
    // Prepare
    const network = template(StackName.cellNetwork(ENV, 'green'));
    const platformIsolated = ofType(template(StackName.network(ENV)), 'AWS::EC2::Subnet')
      .filter(([id]) => id.startsWith('Vpcisolated'))
      .map(([, r]) => props(r).CidrBlock);

    // Act
    const peerings = ofType(network, 'AWS::EC2::VPCPeeringConnection');
    const routes = ofType(network, 'AWS::EC2::Route').filter(([, r]) => props(r).VpcPeeringConnectionId);

    // Assess
    expect(peerings).toHaveLength(1);
    expect(platformIsolated).toHaveLength(2);
    const toPlatform = routes
      .filter(([id]) => id.startsWith('ToPlatform'))
      .map(([, r]) => props(r).DestinationCidrBlock);
    const fromPlatform = routes
      .filter(([id]) => id.startsWith('FromPlatform'))
      .map(([, r]) => props(r).DestinationCidrBlock);
    expect(new Set(toPlatform)).toEqual(new Set(platformIsolated));
    expect(fromPlatform).toEqual(['10.41.128.0/17', '10.41.128.0/17']);
    expect(routes).toHaveLength(toPlatform.length + fromPlatform.length);
  });

  it('resolves the uploads file system through a private hosted zone of its own', () => {
    const network = template(StackName.cellNetwork(ENV, 'green'));
    const [zone] = ofType(network, 'AWS::Route53::HostedZone');
    const [record] = ofType(network, 'AWS::Route53::RecordSet');
    expect(JSON.stringify(props(zone?.[1] as CfnResource).Name)).toContain('.efs.eu-west-1.amazonaws.com');
    expect(props(zone?.[1] as CfnResource).VPCs).toHaveLength(1);
    expect(props(record?.[1] as CfnResource)).toMatchObject({ Type: 'A' });
    expect(props(record?.[1] as CfnResource).ResourceRecords).toHaveLength(2);
  });

  it("lets the database and uploads admit the cell's site range (the platform's app-subnets list)", () => {
    const [, list] = ofType(template(StackName.network(ENV)), 'AWS::EC2::PrefixList')[0] as [string, CfnResource];
    expect((props(list).Entries as { Cidr: string }[]).map((e) => e.Cidr)).toContain('10.41.128.0/17');
  });
});

describe("a site in a cell's own VPC", () => {
  it("runs in subnets of that VPC's site range and names that VPC's quarantine ACL and Logs group in its record", () => {
    // Act
    const clinic = synthesized.siteJson('clinic');

    // Assess
    const subnets = ofType(clinic, 'AWS::EC2::Subnet');
    expect(subnets.map(([, r]) => props(r).CidrBlock)).toEqual(['10.41.128.0/26', '10.41.128.64/26']);
    for (const [, s] of subnets) expect(importName(props(s).VpcId)).toBe('bulkhead-example-cell-green-vpc-id');
    const [, record] = ofType(clinic, 'AWS::SSM::Parameter')[0] as [string, CfnResource];
    const value = JSON.stringify(props(record).Value);
    expect(value).toContain('quarantineAclId');
    expect(value).toContain('bulkhead-example-cell-green-quarantine-acl-id');
    expect(value).toContain('bulkhead-example-cell-green-logs-endpoint-sg-id');
  });

  it("a strict one admits the platform VPC's shared range (database, uploads) through its own ACL, and nothing wider", () => {
    const entries = ofType(synthesized.siteJson('clinic'), 'AWS::EC2::NetworkAclEntry').map(([, r]) => [
      props(r).RuleNumber,
      props(r).Egress,
      props(r).CidrBlock,
    ]);
    expect(entries).toEqual(
      expect.arrayContaining([
        [105, false, '10.40.0.0/17'],
        [105, true, '10.40.0.0/17'],
        [100, false, '10.41.0.0/16'],
        [100, true, '10.41.0.0/16'],
      ]),
    );
    // Nothing of the platform VPC's site range (its other sites' subnets) is admitted.
    expect(entries.map((e) => e[2])).not.toContain('10.40.0.0/16');
  });

  it('a site of a cell without its own VPC is built as before (no cell-VPC fields in its record)', () => {
    const acme = synthesized.siteJson('acme-shop');
    const [, record] = ofType(acme, 'AWS::SSM::Parameter')[0] as [string, CfnResource];
    expect(JSON.stringify(props(record).Value)).not.toContain('quarantineAclId');
    for (const [, s] of ofType(acme, 'AWS::EC2::Subnet'))
      expect(importName(props(s).VpcId)).toBe('bulkhead-example-vpc-id');
  });

  it("the cell's load balancer sits in the cell's own VPC", () => {
    const green = template(StackName.cell(ENV, 'green'));
    const [, lb] = ofType(green, 'AWS::ElasticLoadBalancingV2::LoadBalancer')[0] as [string, CfnResource];
    expect(JSON.stringify(props(lb).Subnets)).toContain('Bulkhead-example-Cell-green-Network');
  });
});

describe('the isolation audit on the cell-VPC fleet', () => {
  it("answers every question as for the example fleet, and question 14 checks each VPC's quarantine ACL", () => {
    // Act
    const report = auditAssembly(loadCloudAssembly(synthesized.outdir));

    // Assess: 12 ("can a site send data to another account ...?") is the one whose good answer is no.
    expect(report.questions.map((q) => [q.number, q.answer])).toEqual(
      report.questions.map((q) => [q.number, q.number === 12 ? 'no' : 'yes']),
    );
    const q14 = report.questions.find((q) => q.number === ESTABLISHED_CONNECTIONS_NUMBER);
    expect(q14?.evidence.filter((e) => e.startsWith('Quarantine ACL')).map((e) => e.split(':')[0])).toEqual([
      expect.stringMatching(/^Quarantine ACL Bulkhead-example-Network\/QuarantineAcl/),
      expect.stringMatching(/^Quarantine ACL Bulkhead-example-Cell-green-Network\/QuarantineAcl/),
    ]);
  });

  it("is no for the cell's sites, and only them, when the cell's VPC has no quarantine ACL", () => {
    // Prepare: the cell VPC's quarantine ACL loses its tag (nothing marks it as the one to move onto).
    const changed = mutated(loadCloudAssembly(synthesized.outdir), {
      [StackName.cellNetwork(ENV, 'green')]: (t) => {
        const { resource } = resourceOf(t, 'AWS::EC2::NetworkAcl', 'quarantine-acl');
        resource.Properties.Tags = [];
      },
    });

    // Act
    const q14 = auditAssembly(changed).questions.find((q) => q.number === ESTABLISHED_CONNECTIONS_NUMBER);

    // Assess
    expect(q14?.answer).toBe('no');
    const failing = q14?.evidence.filter((e) => e.startsWith('✗')) ?? [];
    expect(failing).toEqual([
      expect.stringMatching(/^✗ clinic: its VPC .* has no quarantine ACL/),
      expect.stringMatching(/^✗ dentist: its VPC .* has no quarantine ACL/),
    ]);
  });
});

describe('cfn-lint on the cell-VPC fleet', () => {
  it('finds no error and no warning but the accepted ones (test/support/cfn-lint.ts)', () => {
    const matches = cfnLint(templatesIn(synthesized.outdir), 'eu-west-1');
    expect(
      matches.filter((m) => !ACCEPTED_CFN_LINT_WARNINGS[m.Rule.Id] || m.Level === 'Error').map(describeMatch),
    ).toEqual([]);
  });
});
