import { beforeAll, describe, expect, it } from 'vitest';
import { consoleFunctionName, DRILL_EVENT_BUS_ENV, drillEventBusName } from '../../contracts/console-api';
import { TAKEOVER_AFTER_MS } from '../../runtime/contain/contain';
import { DRILL_DETAIL_TYPE, DRILL_SOURCE } from '../../runtime/contain/events';
import { loadFleetFile } from '../../infra/config/load-fleet';
import { CONSOLE_TIMEOUT } from '../../infra/ops/ops-stack';
import { StackName } from '../../contracts/names';
import type { CfnResource, CfnTemplate } from '../support/synth-fleet';
import { type SynthesizedFleet, synthExample } from '../support/synth-fleet';
import { onlyResource, type PolicyStatementJson, resourcesOfType, tagsOf } from '../support/template-queries';

let synth: SynthesizedFleet;
let ops: CfnTemplate;
let roleId: string;
let functionId: string;

beforeAll(() => {
  synth = synthExample();
  const json = synth.json.get(StackName.ops('example'));
  if (!json) throw new Error('no ops stack');
  ops = json;
  const roles = resourcesOfType(ops, 'AWS::IAM::Role').filter(
    ([, r]) => tagsOf(r)['bulkhead:component'] === 'operator-role',
  );
  if (roles.length !== 1) throw new Error(`expected one operator role, found ${roles.length}`);
  roleId = (roles[0] as [string, CfnResource])[0];
  const functions = resourcesOfType(ops, 'AWS::Lambda::Function').filter(
    ([, f]) => f.Properties?.FunctionName === consoleFunctionName('example'),
  );
  functionId = (functions[0] as [string, CfnResource])[0];
});

interface TrustStatement {
  Effect: string;
  Action: string | string[];
  Principal: { AWS?: string | string[] };
  Condition?: Record<string, Record<string, string>>;
}

const list = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : ([value].flat() as T[]));
const getAtt = (id: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [id, attribute] });

describe('the ops stack', () => {
  it('is Bulkhead-<env>-Ops, deployed after the response plane, with the console under its fixed name', () => {
    expect(synth.stacks.ops?.stackName).toBe('Bulkhead-example-Ops');
    const dependencies = synth.stacks.ops?.dependencies.map((s) => s.stackName) ?? [];
    expect(dependencies).toEqual(expect.arrayContaining(['Bulkhead-example-Response', 'Bulkhead-example-Network']));
    expect(ops.Resources[functionId]?.Properties).toMatchObject({
      FunctionName: 'bulkhead-example-ops-console',
      Runtime: 'nodejs22.x',
    });
    expect(tagsOf(ops.Resources[functionId] as CfnResource)['bulkhead:component']).toBe('ops-console');
  });

  it("gives the console the settings its code reads, and a timeout under containment's lock takeover", () => {
    const variables = (ops.Resources[functionId]?.Properties?.Environment as { Variables: Record<string, unknown> })
      .Variables;
    expect(variables[DRILL_EVENT_BUS_ENV]).toEqual({ Ref: onlyResource(ops, 'AWS::Events::EventBus')[0] });
    expect(Object.keys(variables)).toEqual(
      expect.arrayContaining([
        'BULKHEAD_ENV',
        'BULKHEAD_ACCOUNT',
        'INCIDENT_TABLE',
        'STATE_MACHINE_ARN',
        'LOGS_ENDPOINT_SG_ID',
        'QUARANTINE_ACL_ID',
        'CLUSTER_ARNS',
        'DB_USER_FUNCTION',
      ]),
    );
    expect(variables.DB_USER_FUNCTION).toBe('bulkhead-example-db-user');
    expect(ops.Resources[functionId]?.Properties?.Timeout).toBe(CONSOLE_TIMEOUT.toSeconds());
    expect(CONSOLE_TIMEOUT.toMilliseconds()).toBeLessThan(TAKEOVER_AFTER_MS);
  });
});

describe('the operator role', () => {
  it("is assumable only by the fleet file's operators, and every Allow of its trust policy requires MFA", () => {
    // Prepare
    const principals = loadFleetFile('config/example.yaml').operators.principals;
    const role = ops.Resources[roleId] as CfnResource;
    const trust = (role.Properties?.AssumeRolePolicyDocument as { Statement: TrustStatement[] }).Statement;

    // Act
    const allows = trust.filter((s) => s.Effect === 'Allow');
    const trusted = allows.flatMap((s) => list(s.Principal.AWS));

    // Assess
    expect(allows.length).toBeGreaterThan(0);
    expect([...new Set(trusted)].sort()).toEqual([...principals].sort());
    expect(allows.flatMap((s) => Object.keys(s.Principal))).toEqual(allows.map(() => 'AWS'));
    for (const statement of allows) {
      expect(statement.Condition?.Bool).toEqual({ 'aws:MultiFactorAuthPresent': 'true' });
      expect(Number(statement.Condition?.NumericLessThan?.['aws:MultiFactorAuthAge'])).toBeLessThanOrEqual(3600);
      expect(list(statement.Action).sort()).toEqual(['sts:AssumeRole', 'sts:SetSourceIdentity']);
    }
    expect(role.Properties?.MaxSessionDuration).toBe(3600);
    // IAM names are account-wide: the region keeps two regions of one environment apart.
    expect(role.Properties?.RoleName).toBe('bulkhead-example-operator-eu-west-1');
  });

  it("may do one thing only: call the console's API (and read where its URL is)", () => {
    // Prepare: every policy that attaches to the role, however it is written
    const role = ops.Resources[roleId] as CfnResource;
    const attached = [...synth.json.values()].flatMap((template) =>
      resourcesOfType(template, 'AWS::IAM::Policy')
        .concat(resourcesOfType(template, 'AWS::IAM::ManagedPolicy'))
        .filter(([, p]) => JSON.stringify(p.Properties?.Roles ?? []).includes(`"${roleId}"`)),
    );

    // Act
    const statements = attached.flatMap(
      ([, p]) => (p.Properties?.PolicyDocument as { Statement: PolicyStatementJson[] }).Statement,
    );

    // Assess
    expect(role.Properties?.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties?.Policies).toBeUndefined();
    expect(statements.map((s) => [s.Sid ?? '', s.Effect, s.Action])).toEqual([
      ['CallOpsConsoleOnly', 'Allow', 'execute-api:Invoke'],
      ['ReadConsoleApiUrl', 'Allow', 'ssm:GetParameter'],
    ]);
    // No direct invoke of the function: the API is the door (test/infra/console-api.test.ts).
    expect(JSON.stringify(statements)).not.toContain('lambda:');
  });
});

describe('the drill rule', () => {
  it('matches exactly the drill findings siteops sends, and delivers them to the containment function', () => {
    // Prepare
    const [ruleId, rule] = onlyResource<{
      EventBusName: unknown;
      EventPattern: unknown;
      Targets: { Arn: unknown; RetryPolicy?: unknown }[];
    }>(ops, 'AWS::Events::Rule');
    const [busId, bus] = onlyResource<{ Name: string }>(ops, 'AWS::Events::EventBus');

    // Assess: the pattern, on the drill bus (never the default bus: test/infra/drill-bus.test.ts)
    expect(bus.Properties.Name).toBe(drillEventBusName('example'));
    expect(rule.Properties.EventBusName).toEqual({ Ref: busId });
    expect(rule.Properties.EventPattern).toEqual({ source: [DRILL_SOURCE], 'detail-type': [DRILL_DETAIL_TYPE] });
    expect(DRILL_SOURCE).toBe('bulkhead.drill');
    expect(DRILL_DETAIL_TYPE).toBe('Bulkhead Drill Finding');

    // Assess: its one target is the response stack's containment function, allowed for this rule only
    const [target] = rule.Properties.Targets;
    expect(rule.Properties.Targets).toHaveLength(1);
    expect(JSON.stringify(target?.Arn)).toMatch(/Bulkhead-example-Response.*ContainFunction/);
    const permission = resourcesOfType(ops, 'AWS::Lambda::Permission').find(
      ([, p]) => p.Properties?.Principal === 'events.amazonaws.com',
    );
    expect(permission?.[1].Properties).toMatchObject({
      Action: 'lambda:InvokeFunction',
      FunctionName: target?.Arn,
      SourceArn: getAtt(ruleId),
    });
  });
});

describe("least privilege of the console's own role", () => {
  const consoleStatements = () =>
    resourcesOfType(ops, 'AWS::IAM::Policy')
      .filter(([, p]) => !JSON.stringify(p.Properties?.Roles ?? []).includes(`"${roleId}"`))
      .flatMap(([, p]) => (p.Properties?.PolicyDocument as { Statement: PolicyStatementJson[] }).Statement);
  const actions = (s: PolicyStatementJson) => list(s.Action);

  it('changes only what containment and recovery change, and deletes nothing but the session deny it added', () => {
    const allowed = new Set([
      'ec2:AuthorizeSecurityGroupIngress',
      'ec2:AuthorizeSecurityGroupEgress',
      'ec2:RevokeSecurityGroupIngress',
      'ec2:RevokeSecurityGroupEgress',
      'ec2:ModifySecurityGroupRules',
      'ec2:ReplaceNetworkAclAssociation',
      'elasticloadbalancing:ModifyRule',
      'iam:PutRolePolicy',
      'iam:DeleteRolePolicy',
      'ecs:UpdateService',
      'secretsmanager:PutSecretValue',
      'secretsmanager:UpdateSecretVersionStage',
      'lambda:InvokeFunction',
      'states:StartExecution',
      'states:SendTaskSuccess',
      'events:PutEvents',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
    const mutating = consoleStatements()
      .flatMap(actions)
      .filter(
        (a) =>
          !/^(ec2:Describe|elasticloadbalancing:Describe|ecs:(Describe|List)|ssm:Get|iam:GetRolePolicy|secretsmanager:(Describe|Get)|dynamodb:(Get|BatchGet|Query|ConditionCheck)|xray:)/.test(
            a,
          ),
      );
    expect(mutating.filter((a) => !allowed.has(a))).toEqual([]);
    expect(
      consoleStatements()
        .flatMap(actions)
        .filter((a) => /Delete/.test(a)),
    ).toEqual(['iam:DeleteRolePolicy']);
  });

  it('every write to a site resource is limited to this environment by tag (or by ARN where there are no tags)', () => {
    for (const statement of consoleStatements()) {
      const writes = actions(statement).filter((a) =>
        /^(ec2:(Authorize|Revoke|Modify|Replace)|iam:(Put|Delete)|ecs:UpdateService|secretsmanager:(Put|Update))/.test(
          a,
        ),
      );
      if (writes.length === 0) continue;
      if (statement.Resource === 'arn:aws:ec2:eu-west-1:111122223333:security-group-rule/*') {
        // Rules carry no tags; ModifySecurityGroupRules also names the rule's group, which
        // another statement of the same action holds by tag (test/infra/service-authorization.test.ts).
        expect(actions(statement), statement.Sid).toEqual(['ec2:ModifySecurityGroupRules']);
        const group = consoleStatements().find(
          (s) =>
            s.Resource === 'arn:aws:ec2:eu-west-1:111122223333:security-group/*' &&
            actions(s).includes('ec2:ModifySecurityGroupRules'),
        );
        // The site's own group or its standby group (issue 11: a restore runs in the standby group).
        expect(JSON.stringify(group?.Condition)).toMatch(/"aws:ResourceTag\/bulkhead:component":\[?"site-sg"/);
        continue;
      }
      expect(JSON.stringify(statement.Condition), statement.Sid).toContain('"aws:ResourceTag/bulkhead:env":"example"');
    }
    const modifyRule = consoleStatements().find((s) => actions(s).includes('elasticloadbalancing:ModifyRule'));
    expect(JSON.stringify(modifyRule?.Resource)).toContain('bulkhead-example-cell-blue-listener-arn');
    expect(JSON.stringify(modifyRule?.Resource)).not.toContain('"*"');
  });

  it('may put drill events only, on the drill bus, and invoke only the database-user function', () => {
    const put = consoleStatements().find((s) => actions(s).includes('events:PutEvents'));
    expect(put).toMatchObject({
      Resource: 'arn:aws:events:eu-west-1:111122223333:event-bus/bulkhead-example-drills',
      Condition: { StringEquals: { 'events:source': DRILL_SOURCE, 'events:detail-type': DRILL_DETAIL_TYPE } },
    });
    const invoke = consoleStatements().find((s) => actions(s).includes('lambda:InvokeFunction'));
    expect(invoke?.Resource).toBe('arn:aws:lambda:eu-west-1:111122223333:function:bulkhead-example-db-user');
  });
});
