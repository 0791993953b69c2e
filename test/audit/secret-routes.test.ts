import { beforeAll, describe, expect, it } from 'vitest';
import { auditAssembly, type CloudAssembly } from '../../tools/audit';
import { exampleAssembly, logicalIdOf, type MutableTemplate, mutated, siteStackName } from './audit-support';

/**
 * Secrets by other routes (tools/audit/secret-routes.ts): ValueFrom by ARN and through Parameter
 * Store's /aws/reference/secretsmanager/, CloudFormation dynamic references, the platform's
 * database admin secret.
 */
let assembly: CloudAssembly;
beforeAll(() => {
  assembly = exampleAssembly();
});

const A = 'acme-shop';
const B = 'bakery';
const SITES = ['acme-shop', 'bakery', 'clinic', 'dentist'];
/**
 * Retained secrets are named with their stack instance (infra/shared/stack-exports.ts
 * stackInstanceSuffix); the audit reads every stack as one stand-in instance whose id ends in
 * twelve zeros (tools/audit/intrinsics.ts, AWS::StackId).
 */
const INSTANCE = '000000000000';
const bakerySecret = `bulkhead/example/sites/bakery/database-${INSTANCE}`;
const adminSecret = `bulkhead/example/database/admin-${INSTANCE}`;

interface Container {
  Secrets: { Name: string; ValueFrom: unknown }[];
  Environment?: { Name: string; Value: unknown }[];
}

function container(t: MutableTemplate): Container {
  const td = t.Resources[logicalIdOf(t, 'AWS::ECS::TaskDefinition')] as MutableTemplate['Resources'][string];
  return (td.Properties.ContainerDefinitions as Container[])[0] as Container;
}

describe('secret routes', () => {
  it("names a container handed another site's secret through ValueFrom (an imported ARN)", () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName(B)]: (t) => {
        t.Outputs = {
          ...t.Outputs,
          S: { Value: { Ref: logicalIdOf(t, 'AWS::SecretsManager::Secret') }, Export: { Name: 'bakery-secret' } },
        };
      },
      [siteStackName(A)]: (t) => {
        container(t).Secrets.push({
          Name: 'OTHER_DB',
          ValueFrom: { 'Fn::Join': ['', [{ 'Fn::ImportValue': 'bakery-secret' }, ':password::']] },
        });
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
        summary: `acme-shop's container site is handed bakery's secret ${bakerySecret} as OTHER_DB (ValueFrom)`,
      }),
    ]);
  });

  it('names ValueFrom through Parameter Store (/aws/reference/secretsmanager/<name>)', () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName(A)]: (t) => {
        container(t).Secrets.push({
          Name: 'OTHER_DB',
          ValueFrom: `arn:aws:ssm:eu-west-1:111122223333:parameter/aws/reference/secretsmanager/${bakerySecret}`,
        });
      },
    });

    // Act
    const result = auditAssembly(changed);

    // Assess
    expect(result.findings.map((f) => `${f.from}→${f.to}: ${f.summary}`)).toEqual([
      `${A}→${B}: ${A}'s container site is handed ${B}'s secret ${bakerySecret} as OTHER_DB (ValueFrom (Parameter Store reference to Secrets Manager))`,
    ]);
  });

  it('names a dynamic reference to the database admin secret in a container environment: every site', () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName(A)]: (t) => {
        container(t).Environment = [
          {
            Name: 'ADMIN_PASSWORD',
            Value: `{{resolve:secretsmanager:${adminSecret}:SecretString:password}}`,
          },
        ];
      },
    });

    // Act
    const result = auditAssembly(changed);

    // Assess
    expect(result.findings.map((f) => `${f.from}→${f.to}`).sort()).toEqual(
      SITES.filter((s) => s !== A).map((s) => `${A}→${s}`),
    );
    expect(result.findings[0]?.summary).toMatch(
      new RegExp(
        `^acme-shop's AWS::ECS::TaskDefinition CompartmentTaskDefinition\\w+ is given platform secret ${adminSecret}, which holds \\S+'s data by CloudFormation \\(dynamic reference \\{\\{resolve:secretsmanager:${adminSecret}:SecretString:password\\}\\}\\)$`,
      ),
    );
  });

  it('is compliant when a site takes its own secret by ValueFrom and by a dynamic reference', () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName(A)]: (t) => {
        container(t).Environment = [
          {
            Name: 'OWN',
            Value: `{{resolve:secretsmanager:bulkhead/example/sites/acme-shop/database-${INSTANCE}:SecretString:username}}`,
          },
        ];
        container(t).Secrets.push({
          Name: 'OWN_AGAIN',
          ValueFrom: `/aws/reference/secretsmanager/bulkhead/example/sites/acme-shop/database-${INSTANCE}`,
        });
      },
    });

    // Act / Assess
    expect(auditAssembly(changed).findings).toEqual([]);
  });
});
