import { beforeAll, describe, expect, it } from 'vitest';
import { auditAssembly, type CloudAssembly } from '../../tools/audit';
import {
  ESTABLISHED_CONNECTIONS_NUMBER,
  ESTABLISHED_CONNECTIONS_QUESTION,
} from '../../tools/audit/questions/established-connections';
import { exampleAssembly, type MutableTemplate, mutated, siteStackName } from './audit-support';

/** Question 14 (issue 14, item 5): answered per site from the templates, with the evidence. */

let assembly: CloudAssembly;
beforeAll(() => {
  assembly = exampleAssembly();
});

function question14(changed: CloudAssembly) {
  const q = auditAssembly(changed).questions.find((x) => x.number === ESTABLISHED_CONNECTIONS_NUMBER);
  if (!q) throw new Error('no question 14');
  return q;
}

const NETWORK = 'Bulkhead-example-Network';

function quarantineEntries(t: MutableTemplate): [string, MutableTemplate['Resources'][string]][] {
  return Object.entries(t.Resources).filter(
    ([, r]) =>
      r.Type === 'AWS::EC2::NetworkAclEntry' && JSON.stringify(r.Properties.NetworkAclId).includes('QuarantineAcl'),
  );
}

describe('question 14: are established connections cut on quarantine?', () => {
  it('is yes for the example fleet: each site in its own subnets on its own ACL, and the quarantine ACL keeping only the Logs and GuardDuty endpoints', () => {
    // Act
    const q = question14(assembly);

    // Assess
    expect(q.question).toBe(ESTABLISHED_CONNECTIONS_QUESTION);
    expect(q.answer).toBe('yes');
    expect(q.evidence[0]).toMatch(/^Quarantine ACL Bulkhead-example-Network\/QuarantineAcl\w*: allows /);
    expect(q.evidence[0]).toMatch(
      /out to 10\.40\.112\.0\/21 TCP 443-443 \(Bulkhead-example-Network\/WatchSubnet0: \S+\.logs, \S+\.guardduty-data only\)/,
    );
    expect(q.evidence.join('\n')).toContain("the load balancer's health checks");
    expect(q.evidence.join('\n')).toMatch(
      /acme-shop: runs only in its own subnets 10\.40\.\d+\.\d+\/26, 10\.40\.\d+\.\d+\/26, each on its own ACL/,
    );
  });

  it('is no when the quarantine ACL admits more than the quarantine set', () => {
    // Prepare
    const changed = mutated(assembly, {
      [NETWORK]: (t) => {
        t.Resources.AllOut = {
          Type: 'AWS::EC2::NetworkAclEntry',
          Properties: {
            ...(quarantineEntries(t)[0]?.[1].Properties ?? {}),
            RuleNumber: 90,
            Protocol: -1,
            CidrBlock: '0.0.0.0/0',
            Egress: true,
            PortRange: undefined,
          },
        };
      },
    });

    // Act
    const q = question14(changed);

    // Assess
    expect(q.answer).toBe('no');
    expect(q.evidence).toContainEqual(
      expect.stringMatching(
        /^✗ the quarantine ACL allows out to 0\.0\.0\.0\/0 protocol -1 all ports \(Bulkhead-example-Network\/AllOut\)/,
      ),
    );
  });

  it('is no, naming the site, when its service runs in subnets not its own', () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName('bakery')]: (t) => {
        const service = Object.values(t.Resources).find((r) => r.Type === 'AWS::ECS::Service');
        const config = (service?.Properties.NetworkConfiguration as { AwsvpcConfiguration: { Subnets: unknown[] } })
          .AwsvpcConfiguration;
        config.Subnets = [{ 'Fn::ImportValue': 'bulkhead-example-isolated-subnet-ids' }];
      },
    });

    // Act
    const q = question14(changed);

    // Assess
    expect(q.answer).toBe('no');
    expect(q.evidence).toContainEqual(expect.stringMatching(/^✗ bakery: its service \w+ runs in subnets not its own/));
    expect(q.evidence.join('\n')).not.toContain('✗ acme-shop');
  });

  it('is no when a site has no ACL of its own to swap', () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName('acme-shop')]: (t) => {
        for (const [id, r] of Object.entries(t.Resources))
          if (
            r.Type === 'AWS::EC2::NetworkAcl' ||
            r.Type === 'AWS::EC2::NetworkAclEntry' ||
            r.Type === 'AWS::EC2::SubnetNetworkAclAssociation'
          )
            delete t.Resources[id];
      },
    });

    // Act
    const q = question14(changed);

    // Assess
    expect(q.answer).toBe('no');
    expect(q.evidence).toContain('✗ acme-shop: it has no network ACL of its own to swap');
  });
});
