import { beforeAll, describe, expect, it } from 'vitest';
import { auditAssembly, type CloudAssembly } from '../../tools/audit';
import { RUNTIME_MONITORING_NUMBER, RUNTIME_MONITORING_QUESTION } from '../../tools/audit/questions/runtime-monitoring';
import { exampleAssembly, type MutableTemplate, mutated, siteStackName } from './audit-support';

/** Question 11 (issue 12, item 1): answered from the templates, "no" with the reason when a site is not watched. */

let assembly: CloudAssembly;
beforeAll(() => {
  assembly = exampleAssembly();
});

function question11(changed: CloudAssembly) {
  const q = auditAssembly(changed).questions.find((x) => x.number === RUNTIME_MONITORING_NUMBER);
  if (!q) throw new Error('no question 11');
  return q;
}

function statementsOf(template: MutableTemplate): Record<string, unknown>[] {
  return Object.values(template.Resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement);
}

describe('question 11: is every site watched by runtime monitoring?', () => {
  it('is yes for the example fleet, with the endpoint, the coverage rule and each site as evidence', () => {
    // Act
    const q = question11(assembly);
    // Assess
    expect(q.question).toBe(RUNTIME_MONITORING_QUESTION);
    expect(q.answer).toBe('yes');
    expect(q.evidence[0]).toMatch(/^GuardDuty data endpoint: Bulkhead-example-Network\/VpcGuardDutyDataEndpoint/);
    expect(q.evidence.join('\n')).toContain('acme-shop: pulls aws-guardduty-agent-fargate');
    expect(q.evidence.join('\n')).toContain('Coverage changes: Bulkhead-example-Response/');
  });

  it('is no, naming the site, when its execution role may not pull the agent', () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName('bakery')]: (t) => {
        for (const s of statementsOf(t))
          if (s.Sid === 'PullGuardDutyAgent') s.Resource = 'arn:aws:ecr:eu-west-1:111122223333:repository/other';
      },
    });
    // Act
    const q = question11(changed);
    // Assess
    expect(q.answer).toBe('no');
    expect(q.evidence).toContain('✗ bakery: its execution role may not pull GuardDuty’s agent');
  });

  it('is no when there is no GuardDuty data endpoint', () => {
    // Prepare
    const changed = mutated(assembly, {
      'Bulkhead-example-Network': (t) => {
        for (const [id, r] of Object.entries(t.Resources))
          if (r.Type === 'AWS::EC2::VPCEndpoint' && JSON.stringify(r.Properties.ServiceName).includes('guardduty-data'))
            delete t.Resources[id];
      },
    });
    // Act
    const q = question11(changed);
    // Assess
    expect(q.answer).toBe('no');
    expect(q.evidence[0]).toMatch(/^✗ No guardduty-data VPC endpoint/);
    expect(q.evidence.join('\n')).toContain('✗ clinic: its group has no HTTPS egress to the GuardDuty data endpoint');
  });

  it('is no when a cluster excludes itself with GuardDutyManaged=false', () => {
    // Prepare
    const changed = mutated(assembly, {
      'Bulkhead-example-Cell-green': (t) => {
        for (const r of Object.values(t.Resources))
          if (r.Type === 'AWS::ECS::Cluster')
            for (const tag of r.Properties.Tags as { Key: string; Value: string }[])
              if (tag.Key === 'GuardDutyManaged') tag.Value = 'false';
      },
    });
    // Act
    const q = question11(changed);
    // Assess
    expect(q.answer).toBe('no');
    expect(q.evidence.join('\n')).toMatch(
      /✗ clinic: its cluster Bulkhead-example-Cell-green\/Cluster\w* is tagged GuardDutyManaged=false/,
    );
  });
});
