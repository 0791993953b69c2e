import { beforeAll, describe, expect, it } from 'vitest';
import { auditAssembly, type CloudAssembly } from '../../tools/audit';
import { exampleAssembly, logicalIdOf, type MutableTemplate, mutated, siteStackName } from './audit-support';

/**
 * The identity a site's tasks really run with (tools/audit/task-identity-paths.ts): another
 * site's task or execution role, another site's task definition, a role shared by sites.
 */
let assembly: CloudAssembly;
beforeAll(() => {
  assembly = exampleAssembly();
});

const A = 'acme-shop';
const B = 'bakery';

function taskDefinition(t: MutableTemplate) {
  return t.Resources[logicalIdOf(t, 'AWS::ECS::TaskDefinition')] as MutableTemplate['Resources'][string];
}

function exportAtt(logicalId: string, attribute: string | undefined, name: string) {
  return (t: MutableTemplate) => {
    t.Outputs = {
      ...t.Outputs,
      [name.replaceAll('-', '')]: {
        Value: attribute ? { 'Fn::GetAtt': [logicalId, attribute] } : { Ref: logicalId },
        Export: { Name: name },
      },
    };
  };
}

describe('task identity paths', () => {
  it("names a task definition that runs with another site's task role", () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName(B)]: (t) => exportAtt(logicalIdOf(t, 'AWS::IAM::Role', 'task-role'), 'Arn', 'bakery-task-role')(t),
      [siteStackName(A)]: (t) => {
        taskDefinition(t).Properties.TaskRoleArn = { 'Fn::ImportValue': 'bakery-task-role' };
      },
    });

    // Act
    const result = auditAssembly(changed);

    // Assess
    const own = result.findings.filter((f) => f.summary.includes('runs with'));
    expect(own).toEqual([
      expect.objectContaining({
        kind: 'iam',
        from: A,
        to: B,
        summary: expect.stringMatching(
          /^acme-shop's task definition CompartmentTaskDefinition\w+ runs with bakery's task role CompartmentTaskRole\w+$/,
        ),
        rules: [expect.objectContaining({ stack: siteStackName(A), rule: expect.stringMatching(/^TaskRoleArn: /) })],
      }),
    ]);
    // It also acts as B's role: B's secret and uploads are A's now.
    expect(result.findings.every((f) => f.from === A && f.to === B)).toBe(true);
  });

  it("names a service that runs another site's task definition", () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName(B)]: (t) =>
        exportAtt(logicalIdOf(t, 'AWS::ECS::TaskDefinition'), undefined, 'bakery-task-definition')(t),
      [siteStackName(A)]: (t) => {
        const service = t.Resources[logicalIdOf(t, 'AWS::ECS::Service')] as MutableTemplate['Resources'][string];
        service.Properties.TaskDefinition = { 'Fn::ImportValue': 'bakery-task-definition' };
      },
    });

    // Act
    const result = auditAssembly(changed);

    // Assess
    expect(result.findings.map((f) => f.summary)).toContain(
      `${A}'s service runs ${B}'s task definition ${logicalIdOf(changed.stacks.find((s) => s.name === siteStackName(B))?.template as unknown as MutableTemplate, 'AWS::ECS::TaskDefinition')}: its tasks run ${B}'s image with ${B}'s role, secrets and uploads`,
    );
    expect(new Set(result.findings.map((f) => `${f.from}→${f.to}`))).toEqual(new Set([`${A}→${B}`]));
  });

  it('names a role defined in a platform stack and shared by two sites, both ways', () => {
    // Prepare
    const changed = mutated(assembly, {
      'Bulkhead-example-Data': (t) => {
        t.Resources.SharedTaskRole = {
          Type: 'AWS::IAM::Role',
          Properties: {
            AssumeRolePolicyDocument: {
              Statement: [
                { Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' },
              ],
            },
          },
        };
        exportAtt('SharedTaskRole', 'Arn', 'shared-task-role')(t);
      },
      [siteStackName(A)]: (t) => {
        taskDefinition(t).Properties.TaskRoleArn = { 'Fn::ImportValue': 'shared-task-role' };
      },
      [siteStackName(B)]: (t) => {
        taskDefinition(t).Properties.TaskRoleArn = { 'Fn::ImportValue': 'shared-task-role' };
      },
    });

    // Act
    const result = auditAssembly(changed);

    // Assess
    expect(result.findings.map((f) => `${f.from}→${f.to}: ${f.summary}`).sort()).toEqual([
      `${A}→${B}: ${A} and ${B} run as the same role SharedTaskRole (Bulkhead-example-Data): what is granted to one is granted to the other`,
      `${B}→${A}: ${B} and ${A} run as the same role SharedTaskRole (Bulkhead-example-Data): what is granted to one is granted to the other`,
    ]);
  });

  it('is compliant with a platform role used by one site only, which grants nothing of other sites', () => {
    // Prepare
    const changed = mutated(assembly, {
      'Bulkhead-example-Data': (t) => {
        t.Resources.OneSiteRole = {
          Type: 'AWS::IAM::Role',
          Properties: {
            AssumeRolePolicyDocument: {
              Statement: [
                { Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' },
              ],
            },
          },
        };
        exportAtt('OneSiteRole', 'Arn', 'one-site-role')(t);
      },
      [siteStackName(A)]: (t) => {
        taskDefinition(t).Properties.TaskRoleArn = { 'Fn::ImportValue': 'one-site-role' };
      },
    });

    // Act / Assess
    expect(auditAssembly(changed).findings).toEqual([]);
  });
});
