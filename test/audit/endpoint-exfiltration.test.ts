import { beforeAll, describe, expect, it } from 'vitest';
import { auditAssembly, type CloudAssembly } from '../../tools/audit';
import {
  ENDPOINT_EXFILTRATION_NUMBER,
  ENDPOINT_EXFILTRATION_QUESTION,
} from '../../tools/audit/questions/endpoint-exfiltration';
import { answeredWell } from '../../tools/audit/types';
import { exampleAssembly, type MutableTemplate, mutated } from './audit-support';

/**
 * Question 12 (issue 15, item 1): "Can a site send data to another account through a Bulkhead
 * endpoint?" A sealed fleet answers no: every endpoint's policy refuses other accounts' principals
 * (a presigned URL, an attacker's keys) and this account's principals writing to other accounts'
 * resources, and DNS Firewall closes names as a way out.
 */

const NETWORK = 'Bulkhead-example-Network';

let assembly: CloudAssembly;
beforeAll(() => {
  assembly = exampleAssembly();
});

function question12(changed: CloudAssembly) {
  const q = auditAssembly(changed).questions.find((x) => x.number === ENDPOINT_EXFILTRATION_NUMBER);
  if (!q) throw new Error('no question 12');
  return q;
}

/** The endpoint whose service name ends in `.<service>`. */
function endpoint(template: MutableTemplate, service: string) {
  const found = Object.values(template.Resources).filter(
    (r) => r.Type === 'AWS::EC2::VPCEndpoint' && JSON.stringify(r.Properties.ServiceName).endsWith(`.${service}"]]}`),
  );
  const literal = Object.values(template.Resources).filter(
    (r) =>
      r.Type === 'AWS::EC2::VPCEndpoint' &&
      typeof r.Properties.ServiceName === 'string' &&
      r.Properties.ServiceName.endsWith(`.${service}`),
  );
  const [one, ...rest] = [...found, ...literal];
  if (!one || rest.length > 0) throw new Error(`expected one ${service} endpoint`);
  return one;
}

type PolicyStatement = { Sid?: string; Condition?: Record<string, Record<string, unknown>> };
const statementsOf = (r: { Properties: Record<string, unknown> }) =>
  (r.Properties.PolicyDocument as { Statement: PolicyStatement[] }).Statement;

describe('question 12: can a site send data to another account through a Bulkhead endpoint?', () => {
  it('is no for the example fleet: every endpoint and the resolver, with evidence', () => {
    // Act
    const q = question12(assembly);

    // Assess
    expect(q.question).toBe(ENDPOINT_EXFILTRATION_QUESTION);
    expect(q).toMatchObject({ answer: 'no', wanted: 'no' });
    expect(answeredWell(q)).toBe(true);
    const evidence = q.evidence.join('\n');
    for (const service of ['s3', 'ecr.api', 'ecr.dkr', 'secretsmanager', 'logs']) {
      expect(evidence).toMatch(
        new RegExp(
          `${NETWORK}/\\w+ \\(${service.replace('.', '\\.')}\\): refuses other accounts' principals and resources`,
        ),
      );
    }
    expect(evidence).toContain(
      "(guardduty-data): refuses other accounts' principals (the service has no resource policies)",
    );
    expect(evidence).toMatch(
      /DNS: the VPC's resolver answers through DNS Firewall rule groups .*blocks DNS tunnelling/,
    );
    expect(q.evidence.filter((e) => e.startsWith('✗'))).toEqual([]);
  });

  it('is yes when the Logs endpoint (the one a quarantined site keeps) has no policy: AWS’s default allows everything', () => {
    // Prepare
    const changed = mutated(assembly, {
      [NETWORK]: (t) => {
        delete endpoint(t, 'logs').Properties.PolicyDocument;
      },
    });

    // Act
    const q = question12(changed);

    // Assess
    expect(q.answer).toBe('yes');
    expect(answeredWell(q)).toBe(false);
    expect(q.evidence.join('\n')).toMatch(/✗ Bulkhead-example-Network\/\w+ \(logs\): no endpoint policy/);
  });

  it('is yes when the S3 endpoint admits any principal to any bucket (a presigned URL to an attacker’s bucket)', () => {
    // Prepare: the own-account statement without its conditions
    const changed = mutated(assembly, {
      [NETWORK]: (t) => {
        for (const s of statementsOf(endpoint(t, 's3'))) delete s.Condition;
      },
    });

    // Act
    const q = question12(changed);

    // Assess
    expect(q.answer).toBe('yes');
    expect(q.evidence.join('\n')).toMatch(
      /✗ .*\(s3\): another account's principal may s3:PutObject to its own resources; this account's principals may s3:PutObject to another account's resources/,
    );
  });

  it("is yes when an endpoint checks only the principal's account: a site's own role writes to another account's secret", () => {
    // Prepare
    const changed = mutated(assembly, {
      [NETWORK]: (t) => {
        for (const s of statementsOf(endpoint(t, 'secretsmanager')))
          delete (s.Condition?.StringEquals as Record<string, unknown> | undefined)?.['aws:ResourceAccount'];
      },
    });

    // Act
    const q = question12(changed);

    // Assess
    expect(q.answer).toBe('yes');
    expect(q.evidence.join('\n')).toMatch(
      /✗ .*\(secretsmanager\): this account's principals may secretsmanager:PutSecretValue to another account's resources/,
    );
    expect(q.evidence.join('\n')).not.toMatch(/\(secretsmanager\): another account's principal/);
  });

  it('is yes when no DNS Firewall rule group is associated with the VPC', () => {
    // Prepare
    const changed = mutated(assembly, {
      [NETWORK]: (t) => {
        for (const [id, r] of Object.entries(t.Resources))
          if (r.Type === 'AWS::Route53Resolver::FirewallRuleGroupAssociation') delete t.Resources[id];
      },
    });

    // Act
    const q = question12(changed);

    // Assess
    expect(q.answer).toBe('yes');
    expect(q.evidence[0]).toMatch(/^✗ DNS: no DNS Firewall rule group associated with the VPC/);
  });
});
