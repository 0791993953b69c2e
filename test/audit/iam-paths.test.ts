import { beforeAll, describe, expect, it } from 'vitest';
import {
  auditAssembly,
  type CloudAssembly,
  type Finding,
  formatAuditSummary,
  renderAuditHtml,
} from '../../tools/audit';
import {
  exampleAssembly,
  logicalIdOf,
  type MutableTemplate,
  mutated,
  siteStackName,
  taskRolePolicy,
  withoutTaskRoleBoundaries,
} from './audit-support';

/**
 * IAM paths (tools/audit/iam-paths.ts): every principal a site's code acts as, evaluated as AWS
 * evaluates it. Compliant and non-compliant templates per category: resource policies,
 * Deny and boundaries, conditions, platform things, control paths, AWS managed policies.
 */
let assembly: CloudAssembly;
beforeAll(() => {
  // Paths through a task role's own permissions: from the shape without its boundary (audit-support.ts).
  assembly = withoutTaskRoleBoundaries(exampleAssembly());
});

const A = 'acme-shop';
const B = 'bakery';
const ACCOUNT = '111122223333';
const SITES = ['acme-shop', 'bakery', 'clinic', 'dentist'];
const OTHERS = SITES.filter((s) => s !== A);
const DATA = 'Bulkhead-example-Data';
const RESPONSE = 'Bulkhead-example-Response';

/** An IAM policy variable, `${key}`, as a policy writes it. */
function variable(key: string): string {
  return `\${${key}}`;
}

function pairs(findings: readonly Finding[], kind: Finding['kind'] = 'iam'): string[] {
  return [...new Set(findings.filter((f) => f.kind === kind).map((f) => `${f.from}→${f.to}`))].sort();
}

function allFrom(site: string): string[] {
  return SITES.filter((s) => s !== site)
    .map((s) => `${site}→${s}`)
    .sort();
}

/** Adds statements to A's task role policy. */
function grantA(...statements: Record<string, unknown>[]) {
  return (t: MutableTemplate) => {
    taskRolePolicy(t).document.Statement.push(...statements);
  };
}

/** Exports a site's task role ARN under `name`. */
function exportTaskRole(name: string) {
  return (t: MutableTemplate) => {
    const role = logicalIdOf(t, 'AWS::IAM::Role', 'task-role');
    t.Outputs = {
      ...t.Outputs,
      [name.replaceAll('-', '')]: { Value: { 'Fn::GetAtt': [role, 'Arn'] }, Export: { Name: name } },
    };
  };
}

function secretId(t: MutableTemplate): string {
  return logicalIdOf(t, 'AWS::SecretsManager::Secret');
}

describe('IAM paths: resource-based policies', () => {
  it("names a secret resource policy of B that allows A's task role (no identity grant needed in one account)", () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName(A)]: exportTaskRole('acme-task-role-arn'),
      [siteStackName(B)]: (t) => {
        t.Resources.SharingPolicy = {
          Type: 'AWS::SecretsManager::ResourcePolicy',
          Properties: {
            SecretId: { Ref: secretId(t) },
            ResourcePolicy: {
              Version: '2012-10-17',
              Statement: [
                {
                  Sid: 'LetAcmeRead',
                  Effect: 'Allow',
                  Principal: { AWS: { 'Fn::ImportValue': 'acme-task-role-arn' } },
                  Action: 'secretsmanager:GetSecretValue',
                  Resource: '*',
                },
              ],
            },
          },
        };
      },
    });

    // Act
    const result = auditAssembly(changed);

    // Assess
    expect(result.findings).toEqual([
      expect.objectContaining({
        kind: 'iam',
        from: A,
        to: B,
        summary: expect.stringMatching(
          /^acme-shop's task role CompartmentTaskRole\w+ may use bakery's secret bulkhead\/example\/sites\/bakery\/database/,
        ),
        rules: [
          {
            stack: siteStackName(B),
            logicalId: 'SharingPolicy',
            rule: expect.stringMatching(/^Sid LetAcmeRead of resource policy: Allow secretsmanager:GetSecretValue on /),
          },
        ],
      }),
    ]);
  });

  it("is compliant when B's secret policy names only B's own role, or the account (which needs an identity grant too)", () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName(B)]: (t) => {
        const role = logicalIdOf(t, 'AWS::IAM::Role', 'task-role');
        t.Resources.OwnPolicy = {
          Type: 'AWS::SecretsManager::ResourcePolicy',
          Properties: {
            SecretId: { Ref: secretId(t) },
            ResourcePolicy: {
              Statement: [
                {
                  Effect: 'Allow',
                  Principal: { AWS: { 'Fn::GetAtt': [role, 'Arn'] } },
                  Action: 'secretsmanager:GetSecretValue',
                  Resource: '*',
                },
                {
                  Effect: 'Allow',
                  Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
                  Action: 'secretsmanager:*',
                  Resource: '*',
                },
              ],
            },
          },
        };
      },
    });

    // Act
    const result = auditAssembly(changed);

    // Assess
    expect(result.findings).toEqual([]);
    expect(result.passed).toBe(true);
  });

  it("names a role trust policy of B's task role that trusts A's task role: A can become B", () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName(A)]: exportTaskRole('acme-task-role-arn'),
      [siteStackName(B)]: (t) => {
        const role = t.Resources[logicalIdOf(t, 'AWS::IAM::Role', 'task-role')] as MutableTemplate['Resources'][string];
        (role.Properties.AssumeRolePolicyDocument as { Statement: unknown[] }).Statement.push({
          Effect: 'Allow',
          Principal: { AWS: { 'Fn::ImportValue': 'acme-task-role-arn' } },
          Action: 'sts:AssumeRole',
        });
      },
    });

    // Act
    const result = auditAssembly(changed);

    // Assess
    expect(pairs(result.findings)).toEqual([`${A}→${B}`]);
    expect(result.findings[0]?.summary).toMatch(/may use bakery's role CompartmentTaskRole\w+ \(task-role\)/);
    expect(result.findings[0]?.rules[0]?.rule).toMatch(/^Statement\[1\] of trust policy: Allow sts:AssumeRole/);
  });

  it('is compliant when a trust policy names the account but the caller has no sts:AssumeRole of its own', () => {
    // Prepare: B's role trusts the account (delegating to IAM policies); A's policies do not allow AssumeRole.
    const changed = mutated(assembly, {
      [siteStackName(B)]: (t) => {
        const role = t.Resources[logicalIdOf(t, 'AWS::IAM::Role', 'task-role')] as MutableTemplate['Resources'][string];
        (role.Properties.AssumeRolePolicyDocument as { Statement: unknown[] }).Statement.push({
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
          Action: 'sts:AssumeRole',
        });
      },
    });

    // Act / Assess
    expect(auditAssembly(changed).findings).toEqual([]);
  });

  it("names a key policy that lets A's task role decrypt with the platform's key (it encrypts every site's evidence)", () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName(A)]: exportTaskRole('acme-task-role-arn'),
      [RESPONSE]: (t) => {
        const key = logicalIdOf(t, 'AWS::KMS::Key');
        (t.Resources[key]?.Properties.KeyPolicy as { Statement: unknown[] }).Statement.push({
          Sid: 'AcmeDecrypts',
          Effect: 'Allow',
          Principal: { AWS: { 'Fn::ImportValue': 'acme-task-role-arn' } },
          Action: 'kms:Decrypt',
          Resource: '*',
        });
      },
    });

    // Act
    const result = auditAssembly(changed);

    // Assess
    expect(pairs(result.findings)).toEqual(allFrom(A));
    expect(result.findings[0]?.summary).toMatch(
      /may use platform KMS key ResponseKey\w+ \(holding \S+'s data or controlling \S+\)$/,
    );
  });

  it("names a bucket policy that lets A's task role read the platform's evidence bucket", () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName(A)]: exportTaskRole('acme-task-role-arn'),
      [RESPONSE]: (t) => {
        const policy = t.Resources[logicalIdOf(t, 'AWS::S3::BucketPolicy')] as MutableTemplate['Resources'][string];
        const bucket = logicalIdOf(t, 'AWS::S3::Bucket');
        (policy.Properties.PolicyDocument as { Statement: unknown[] }).Statement.push({
          Effect: 'Allow',
          Principal: { AWS: { 'Fn::ImportValue': 'acme-task-role-arn' } },
          Action: 's3:GetObject',
          Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/*']] },
        });
      },
    });

    // Act
    const result = auditAssembly(changed);

    // Assess
    expect(pairs(result.findings)).toEqual(allFrom(A));
    expect(result.findings[0]?.summary).toMatch(/objects of platform bucket/);
  });
});

describe('IAM paths: Deny and permissions boundaries are honoured (no false alarm)', () => {
  const everySecret = {
    Effect: 'Allow',
    Action: 'secretsmanager:GetSecretValue',
    Resource: `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:*`,
  };

  it('is compliant when a Deny keeps the role to secrets tagged with its own site (service-specific key, policy variable)', () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName(A)]: grantA(everySecret, {
        Sid: 'OnlyOwnSite',
        Effect: 'Deny',
        Action: 'secretsmanager:*',
        Resource: '*',
        Condition: {
          StringNotEquals: { 'secretsmanager:ResourceTag/bulkhead:site': variable('aws:PrincipalTag/bulkhead:site') },
        },
      }),
    });

    // Act / Assess
    expect(auditAssembly(changed).findings).toEqual([]);
  });

  it('is compliant when a permissions boundary allows only its own secret', () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName(A)]: (t) => {
        grantA(everySecret)(t);
        const role = t.Resources[logicalIdOf(t, 'AWS::IAM::Role', 'task-role')] as MutableTemplate['Resources'][string];
        t.Resources.Boundary = {
          Type: 'AWS::IAM::ManagedPolicy',
          Properties: {
            ManagedPolicyName: 'acme-boundary',
            PolicyDocument: {
              Statement: [
                { Effect: 'Allow', Action: 'secretsmanager:*', Resource: { Ref: secretId(t) } },
                { Effect: 'Allow', Action: 'elasticfilesystem:*', Resource: '*' },
              ],
            },
          },
        };
        role.Properties.PermissionsBoundary = { Ref: 'Boundary' };
      },
    });

    // Act / Assess
    expect(auditAssembly(changed).findings).toEqual([]);
  });

  it('is not compliant when the same Deny is conditioned with IfExists on a tag the platform secret lacks', () => {
    // Prepare: ...IfExists on a missing key is true: the Allow below applies to the untagged admin secret.
    const changed = mutated(assembly, {
      [siteStackName(A)]: grantA({
        ...everySecret,
        Condition: { StringEqualsIfExists: { 'aws:ResourceTag/bulkhead:site': 'acme-shop' } },
      }),
    });

    // Act
    const result = auditAssembly(changed);

    // Assess: no other site's own (tagged) secret, but the untagged database admin secret (every
    // site), and any untagged secret a site may have under its contract prefix.
    expect(pairs(result.findings)).toEqual(allFrom(A));
    for (const f of result.findings) {
      // The admin secret is named with its stack instance (`admin-<12 hex>`, infra/platform/data-stack.ts).
      expect(f.summary).toMatch(/platform secret bulkhead\/example\/database\/admin-[0-9a-f]{12} \(holding/);
      expect(f.summary).not.toMatch(/secret bulkhead\/example\/sites\/[a-z-]+\/database/);
    }
  });
});

describe('IAM paths: what actions are authorized against', () => {
  it('names ssm:GetParametersByPath on the sites path: it returns every site record under it', () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName(A)]: grantA({
        Effect: 'Allow',
        Action: 'ssm:GetParametersByPath',
        Resource: `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/bulkhead/example/sites`,
      }),
    });

    // Act
    const result = auditAssembly(changed);

    // Assess
    expect(pairs(result.findings)).toEqual(allFrom(A));
    expect(result.findings.map((f) => f.summary)).toContain(
      `${A}'s task role ${logicalIdOf(changed.stacks.find((s) => s.name === siteStackName(A))?.template as unknown as MutableTemplate, 'AWS::IAM::Role', 'task-role')} may use ${B}'s parameter path /bulkhead/example/sites (GetParametersByPath returns /bulkhead/example/sites/${B})`,
    );
  });

  it('is compliant with ssm:GetParameter (not by path) on the same path: it names no parameter', () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName(A)]: grantA({
        Effect: 'Allow',
        Action: 'ssm:GetParameter',
        Resource: `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/bulkhead/example/sites`,
      }),
    });

    // Act / Assess
    expect(auditAssembly(changed).findings).toEqual([]);
  });
});

describe('IAM paths: platform things and functions', () => {
  it('names a role that may invoke any function: through the platform functions (console, db-user provider) it reaches every site', () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName(A)]: grantA({ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: '*' }),
    });

    // Act
    const result = auditAssembly(changed);

    // Assess
    expect(pairs(result.findings)).toEqual(allFrom(A));
    const summaries = result.findings.map((f) => f.summary).join('\n');
    expect(summaries).toMatch(
      /which may invoke function DatabaseUserFunction\w+ \(role DatabaseUserFunctionServiceRole\w+\), may use/,
    );
    expect(summaries).toMatch(/which may invoke function ConsoleFunction\w+/);
  });

  it('is compliant when the role may invoke only a function whose role reaches no site', () => {
    // Prepare: the network stack's prefix-list lookup function only describes prefix lists.
    const changed = mutated(assembly, {
      [siteStackName(A)]: grantA({
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:Bulkhead-example-Network-*`,
      }),
    });

    // Act / Assess
    expect(auditAssembly(changed).findings).toEqual([]);
  });
});

describe('IAM paths: control paths', () => {
  const anyGroup = `arn:aws:ec2:eu-west-1:${ACCOUNT}:security-group/*`;

  it("names a role that may change any security group's rules", () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName(A)]: grantA({ Effect: 'Allow', Action: 'ec2:AuthorizeSecurityGroupIngress', Resource: anyGroup }),
    });

    // Act
    const result = auditAssembly(changed);

    // Assess
    expect(pairs(result.findings)).toEqual(allFrom(A));
    expect(result.findings[0]?.summary).toMatch(/security group CompartmentSecurityGroup\w+/);
  });

  it('is compliant when the same grant is scoped by tag to its own site', () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName(A)]: grantA({
        Effect: 'Allow',
        Action: 'ec2:AuthorizeSecurityGroupIngress',
        Resource: anyGroup,
        Condition: { StringEquals: { 'aws:ResourceTag/bulkhead:site': variable('aws:PrincipalTag/bulkhead:site') } },
      }),
    });

    // Act / Assess
    expect(auditAssembly(changed).findings).toEqual([]);
  });

  it('names ECS exec into any task, listener-rule changes and service updates', () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName(A)]: grantA(
        {
          Sid: 'Exec',
          Effect: 'Allow',
          Action: 'ecs:ExecuteCommand',
          Resource: `arn:aws:ecs:eu-west-1:${ACCOUNT}:task/*`,
        },
        { Sid: 'Rules', Effect: 'Allow', Action: 'elasticloadbalancing:ModifyRule', Resource: '*' },
        {
          Sid: 'Services',
          Effect: 'Allow',
          Action: 'ecs:UpdateService',
          Resource: `arn:aws:ecs:eu-west-1:${ACCOUNT}:service/*`,
        },
      ),
    });

    // Act
    const result = auditAssembly(changed);

    // Assess
    const rules = result.findings.flatMap((f) => f.rules.map((r) => r.rule.split(':')[0]));
    expect(pairs(result.findings)).toEqual(allFrom(A));
    expect(new Set(rules)).toEqual(
      new Set([
        'Sid Exec of policy ' + taskRolePolicyName(changed),
        'Sid Rules of policy ' + taskRolePolicyName(changed),
        'Sid Services of policy ' + taskRolePolicyName(changed),
      ]),
    );
  });

  it('is compliant when ECS exec is limited to tasks tagged with its own site', () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName(A)]: grantA({
        Effect: 'Allow',
        Action: 'ecs:ExecuteCommand',
        Resource: `arn:aws:ecs:eu-west-1:${ACCOUNT}:task/*`,
        Condition: { StringEquals: { 'ecs:ResourceTag/bulkhead:site': A } },
      }),
    });

    // Act / Assess
    expect(auditAssembly(changed).findings).toEqual([]);
  });
});

describe('IAM paths: AWS managed policies', () => {
  it('resolves an AWS managed policy from the shipped data: a read-only S3 policy reads the platform buckets', () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName(A)]: (t) => {
        const role = t.Resources[logicalIdOf(t, 'AWS::IAM::Role', 'task-role')] as MutableTemplate['Resources'][string];
        role.Properties.ManagedPolicyArns = ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'];
      },
    });

    // Act
    const result = auditAssembly(changed);

    // Assess
    expect(pairs(result.findings)).toEqual(allFrom(A));
    expect(result.findings[0]?.rules[0]).toEqual(
      expect.objectContaining({ stack: 'AWS', logicalId: 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess' }),
    );
  });

  it('reports an AWS managed policy it cannot read as needs review, not as a path', () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName(A)]: (t) => {
        const role = t.Resources[logicalIdOf(t, 'AWS::IAM::Role', 'task-role')] as MutableTemplate['Resources'][string];
        role.Properties.ManagedPolicyArns = ['arn:aws:iam::aws:policy/NoSuchPolicyInTheData'];
      },
    });

    // Act
    const result = auditAssembly(changed);

    // Assess
    expect(result.findings).toEqual([]);
    expect(result.passed).toBe(true);
    expect(result.reviews).toEqual([
      expect.objectContaining({
        site: A,
        summary: expect.stringMatching(
          /has managed policy arn:aws:iam::aws:policy\/NoSuchPolicyInTheData, which the audit cannot read$/,
        ),
      }),
    ]);
    expect(formatAuditSummary(result)).toMatch(
      /^Needs review \(1; not paths: the audit cannot read these\):\n {2}\? acme-shop's task role/m,
    );
    expect(renderAuditHtml(result)).toContain('<h2>Needs review (1)</h2>');
  });

  it('is compliant with an AWS managed policy that grants nothing on other sites (AWSXrayWriteOnlyAccess)', () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName(A)]: (t) => {
        const role = t.Resources[logicalIdOf(t, 'AWS::IAM::Role', 'task-role')] as MutableTemplate['Resources'][string];
        role.Properties.ManagedPolicyArns = ['arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess'];
      },
    });

    // Act
    const result = auditAssembly(changed);

    // Assess
    expect(result.findings).toEqual([]);
    expect(result.reviews).toEqual([]);
  });
});

function taskRolePolicyName(changed: CloudAssembly): string {
  const t = changed.stacks.find((s) => s.name === siteStackName(A))?.template as unknown as MutableTemplate;
  return taskRolePolicy(t).id;
}

void OTHERS;
void DATA;
