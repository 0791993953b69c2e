import { beforeAll, describe, expect, it } from 'vitest';
import { type AssemblyStack, auditAssembly, type CloudAssembly, OPERATOR_ROLE_COMPONENT } from '../../tools/audit';
import { exampleAssembly, type MutableTemplate, mutated, resourceOf, siteStackName } from './audit-support';

let assembly: CloudAssembly;
beforeAll(() => {
  assembly = exampleAssembly();
});

function answerOf(changed: CloudAssembly, n: number) {
  const q = auditAssembly(changed).questions[n - 1];
  if (!q) throw new Error(`no question ${n}`);
  return q;
}

const OPS_STACK = 'Bulkhead-example-Ops';

/** The assembly without its Ops stack (the operator role's). */
function withoutOps(): CloudAssembly {
  const copy = structuredClone(assembly) as CloudAssembly;
  return { ...copy, stacks: copy.stacks.filter((s) => s.name !== OPS_STACK) };
}

/** The assembly with its Ops stack replaced by one holding one operator role with this trust policy. */
function withOperatorRole(statements: Record<string, unknown>[]): CloudAssembly {
  const copy = withoutOps();
  const ops: AssemblyStack = {
    name: OPS_STACK,
    artifactId: OPS_STACK,
    templateFile: 'Bulkhead-example-Ops.template.json',
    account: '111122223333',
    region: 'eu-west-1',
    template: {
      Resources: {
        OperatorRole: {
          Type: 'AWS::IAM::Role',
          Properties: {
            AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: statements },
            Tags: [
              { Key: 'bulkhead:env', Value: 'example' },
              { Key: 'bulkhead:component', Value: OPERATOR_ROLE_COMPONENT },
            ],
          },
        },
      },
    },
  };
  return { ...copy, stacks: [...copy.stacks, ops] };
}

const ASSUME_FROM_OPERATORS = {
  Effect: 'Allow',
  Action: 'sts:AssumeRole',
  Principal: { AWS: 'arn:aws:iam::111122223333:role/PlatformOperators' },
};

describe('question 4: MFA for operator roles', () => {
  it('is yes when every Allow statement of the operator role trust policy requires MFA', () => {
    // Prepare
    const changed = withOperatorRole([
      {
        ...ASSUME_FROM_OPERATORS,
        Condition: {
          Bool: { 'aws:MultiFactorAuthPresent': 'true' },
          NumericLessThan: { 'aws:MultiFactorAuthAge': 3600 },
        },
      },
    ]);

    // Act
    const q = answerOf(changed, 4);

    // Assess
    expect(q.answer).toBe('yes');
    expect(q.evidence).toEqual([
      'Bulkhead-example-Ops/OperatorRole: all 1 Allow statement(s) of its trust policy require Bool aws:MultiFactorAuthPresent = true, with a maximum MFA age',
    ]);
  });

  it('is no when a statement lacks MFA or only asks for it "if exists"', () => {
    // Prepare
    const lax = withOperatorRole([
      { ...ASSUME_FROM_OPERATORS, Condition: { Bool: { 'aws:MultiFactorAuthPresent': true } } },
      { ...ASSUME_FROM_OPERATORS, Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'true' } } },
    ]);

    // Act
    const q = answerOf(lax, 4);

    // Assess
    expect(q.answer).toBe('no');
    expect(q.evidence[0]).toContain(
      '1 of 2 Allow statement(s) of its trust policy do not require aws:MultiFactorAuthPresent',
    );
  });

  it('is no, with the reason, when there is no operator role', () => {
    // Act
    const q = answerOf(withoutOps(), 4);

    // Assess
    expect(q.answer).toBe('no');
    expect(q.evidence.join(' ')).toContain('expected in stack Bulkhead-example-Ops');
  });
});

describe('answers follow the templates, not assumptions', () => {
  it('1: a writable root filesystem makes it no', () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName('bakery')]: (t) => {
        const [container] = resourceOf(t, 'AWS::ECS::TaskDefinition').resource.Properties
          .ContainerDefinitions as Record<string, unknown>[];
        if (container) container.ReadonlyRootFilesystem = false;
      },
    });

    // Act
    const q = answerOf(changed, 1);

    // Assess
    expect(q.answer).toBe('no');
    expect(q.evidence[0]).toBe('✗ bakery: container site has a writable root filesystem');
  });

  it('2: a database user resource that manages another site’s account makes it no', () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName('acme-shop')]: (t) => {
        resourceOf(t, 'Custom::BulkheadDatabaseUser').resource.Properties.User = 'site_clinic';
      },
    });

    // Act
    const q = answerOf(changed, 2);

    // Assess
    expect(q.answer).toBe('no');
    expect(q.evidence.join('\n')).toMatch(/acme-shop/);
  });

  it('3: an uploads access point rooted at the file system root makes it no', () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName('clinic')]: (t) => {
        const accessPoint = resourceOf(t, 'AWS::EFS::AccessPoint').resource.Properties;
        accessPoint.RootDirectory = { ...(accessPoint.RootDirectory as Record<string, unknown>), Path: '/' };
      },
    });

    // Act
    const q = answerOf(changed, 3);

    // Assess
    expect(q.answer).toBe('no');
    expect(q.evidence.join('\n')).toMatch(/✗ clinic: .*rooted at the file system root/);
  });

  it('5: a rule that admits another site’s group makes it no', () => {
    // Prepare: acme-shop exports its group; bakery admits it on 443, where acme-shop's egress goes.
    const changed = mutated(assembly, {
      [siteStackName('acme-shop')]: (t) => {
        const group = resourceOf(t, 'AWS::EC2::SecurityGroup', 'site-sg').id;
        t.Outputs = {
          ...t.Outputs,
          LeakedGroup: { Value: { 'Fn::GetAtt': [group, 'GroupId'] }, Export: { Name: 'leaked-acme-sg' } },
        };
      },
      [siteStackName('bakery')]: (t) => {
        t.Resources.FromAcme = {
          Type: 'AWS::EC2::SecurityGroupIngress',
          Properties: {
            GroupId: { 'Fn::GetAtt': [resourceOf(t, 'AWS::EC2::SecurityGroup', 'site-sg').id, 'GroupId'] },
            IpProtocol: 'tcp',
            FromPort: 443,
            ToPort: 443,
            SourceSecurityGroupId: { 'Fn::ImportValue': 'leaked-acme-sg' },
          },
        };
      },
    });

    // Act
    const q = answerOf(changed, 5);

    // Assess
    expect(answerOf(assembly, 5).answer).toBe('yes');
    expect(q.answer).toBe('no');
  });

  it('6: a password in a plain environment variable makes it no', () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName('dentist')]: (t) => {
        const [container] = resourceOf(t, 'AWS::ECS::TaskDefinition').resource.Properties
          .ContainerDefinitions as Record<string, unknown>[];
        if (container) container.Environment = [{ Name: 'WORDPRESS_DB_PASSWORD', Value: 'hunter2hunter2' }];
      },
    });

    // Act
    const q = answerOf(changed, 6);

    // Assess
    expect(q.answer).toBe('no');
    expect(q.evidence[0]).toBe('✗ dentist: plain environment variable WORDPRESS_DB_PASSWORD looks like a credential');
  });

  it('7: without the GuardDuty rule, or with a site alarm the alarm rule does not take, it is no', () => {
    // Prepare
    const noGuardDuty = mutated(assembly, {
      'Bulkhead-example-Response': (t) => {
        const id = Object.keys(t.Resources).find((k) => k.startsWith('GuardDutyEcsFindings')) as string;
        delete t.Resources[id];
      },
    });
    const renamedAlarm = mutated(assembly, {
      [siteStackName('clinic')]: (t) => {
        const id = Object.keys(t.Resources).find((k) => k.startsWith('CompartmentEgressAlarm')) as string;
        (t.Resources[id] as MutableTemplate['Resources'][string]).Properties.AlarmName = 'clinic-egress';
      },
    });

    // Act
    const withoutRule = answerOf(noGuardDuty, 7);
    const missed = answerOf(renamedAlarm, 7);

    // Assess
    expect(withoutRule.answer).toBe('no');
    expect(withoutRule.evidence).toContain(
      '✗ No enabled EventBridge rule for aws.guardduty "GuardDuty Finding" about ECS tasks with a Lambda target.',
    );
    expect(missed.answer).toBe('no');
    expect(missed.evidence).toContain('✗ clinic: alarm clinic-egress is not taken by the alarm rule');
  });

  it('8: an image by tag makes it no', () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName('acme-shop')]: (t) => {
        const [container] = resourceOf(t, 'AWS::ECS::TaskDefinition').resource.Properties
          .ContainerDefinitions as Record<string, unknown>[];
        if (container) container.Image = '111122223333.dkr.ecr.eu-west-1.amazonaws.com/sites/acme-shop:latest';
      },
    });

    // Act
    const q = answerOf(changed, 8);

    // Assess
    expect(q.answer).toBe('no');
    expect(q.evidence[0]).toBe(
      '✗ acme-shop: container site image 111122223333.dkr.ecr.eu-west-1.amazonaws.com/sites/acme-shop:latest is not pinned by digest (@sha256:…)',
    );
  });

  it('9 and 10: without Object Lock on the evidence bucket and without the incident table, they are no', () => {
    // Prepare
    const changed = mutated(assembly, {
      'Bulkhead-example-Response': (t) => {
        const evidence = Object.keys(t.Resources).find(
          (k) => k.startsWith('Evidence') && t.Resources[k]?.Type === 'AWS::S3::Bucket',
        ) as string;
        delete (t.Resources[evidence] as MutableTemplate['Resources'][string]).Properties.ObjectLockEnabled;
        const table = Object.keys(t.Resources).find((k) => t.Resources[k]?.Type === 'AWS::DynamoDB::Table') as string;
        delete t.Resources[table];
      },
    });

    // Act
    const baseline = auditAssembly(assembly);
    const result = auditAssembly(changed);

    // Assess
    expect(result.questions[8]?.answer).toBe('no');
    expect(result.questions[8]?.evidence).toContain('✗ No S3 bucket with Object Lock in Bulkhead-example-Response.');
    expect(result.questions[9]?.answer).toBe('no');
    expect(result.questions[9]?.evidence[0]).toBe(
      '✗ No incident table (DynamoDB, tagged bulkhead:component=incidents).',
    );
    expect(result.score).toBe(baseline.score - 2);
  });
});
