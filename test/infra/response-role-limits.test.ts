import { beforeAll, describe, expect, it } from 'vitest';
import { type CloudAssembly, loadCloudAssembly } from '../../tools/audit';
import { PrincipalModel, type RoleInfo } from '../../tools/audit/access/principals';
import { buildInventory } from '../../tools/audit/inventory';
import type { RequestContext } from '../../tools/audit/policy/conditions';
import { type Decision, evaluateRequest, type Statement } from '../../tools/audit/policy/evaluate';
import { siteTaskRoleBoundaryName } from '../../contracts/names';
import { synthExample } from '../support/synth-fleet';

/**
 * Issue 15, item 7: what the response roles could be made to do, evaluated with the audit's IAM
 * evaluator (tools/audit/policy/evaluate.ts) against the synthesized example fleet's own policies:
 * the cross-site and out-of-scope requests the narrowed statements refuse, beside the ones they
 * must still allow (or restore and containment would break). What IAM cannot refuse is in
 * docs/iam.md ("What the response roles could still be made to do").
 */

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const ENV = 'example';

let assembly: CloudAssembly;
let principals: PrincipalModel;
beforeAll(() => {
  assembly = loadCloudAssembly(synthExample().outdir);
  principals = new PrincipalModel(buildInventory(assembly));
});

function contextOf(values: Record<string, string | undefined>): RequestContext {
  const lower = new Map(
    Object.entries(values)
      .filter((e): e is [string, string] => e[1] !== undefined)
      .map(([k, v]) => [k.toLowerCase(), v]),
  );
  return { get: (key) => lower.get(key.toLowerCase()), has: (key) => lower.has(key.toLowerCase()) };
}

/** The role of a function of the assembly, by the start of its logical id. */
function roleOfFunction(logicalIdStart: string, stack: string): RoleInfo {
  const fn = principals.functions.find(
    (f) => f.entry.stack.name === stack && f.entry.logicalId.startsWith(logicalIdStart),
  );
  if (!fn?.role) throw new Error(`no function ${logicalIdStart} in ${stack}`);
  return fn.role;
}

function siteRole(site: string, component: 'task-role' | 'execution-role'): RoleInfo {
  const role = principals.roles.find(
    (r) => r.tags['bulkhead:site'] === site && r.tags['bulkhead:component'] === component,
  );
  if (!role) throw new Error(`no ${component} of ${site}`);
  return role;
}

function decide(
  role: RoleInfo,
  action: string,
  resource: string,
  context: Record<string, string | undefined>,
  extra: readonly Statement[] = [],
): Decision {
  return evaluateRequest(
    {
      principal: { account: ACCOUNT, roleArn: role.arn, sessionArn: role.sessionArn },
      action,
      resource,
      context: contextOf({
        'aws:PrincipalAccount': ACCOUNT,
        'aws:PrincipalArn': role.arn,
        'aws:RequestedRegion': REGION,
        ...Object.fromEntries(Object.entries(role.tags).map(([k, v]) => [`aws:PrincipalTag/${k}`, v])),
        ...context,
      }),
    },
    {
      identity: [...role.identity.map((h) => h.statement), ...extra],
      ...(role.boundary ? { boundary: role.boundary.map((h) => h.statement) } : {}),
    },
  ).decision;
}

const boundaryArn = (site: string) => `arn:aws:iam::${ACCOUNT}:policy/${siteTaskRoleBoundaryName(ENV, REGION, site)}`;
const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const tagsOf = (tags: Record<string, string>) =>
  Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:ResourceTag/${k}`, v]));

describe('task roles: a boundary caps whatever is put on them', () => {
  it('every site task role carries its own site’s boundary', () => {
    for (const site of ['acme-shop', 'bakery', 'clinic', 'dentist']) {
      const role = siteRole(site, 'task-role');
      expect(role.unreadable).toEqual([]);
      expect(role.boundary?.map((h) => h.policyName)).toEqual(
        expect.arrayContaining([siteTaskRoleBoundaryName(ENV, REGION, site)]),
      );
    }
  });

  it("a policy put on acme-shop's task role granting every secret still reads acme-shop's own secret only", () => {
    // Prepare: what containment's iam:PutRolePolicy could be made to put there
    const acme = siteRole('acme-shop', 'task-role');
    const everything: Statement = { Effect: 'Allow', Action: '*', Resource: '*' };
    // A site's secret ARN as the templates resolve it: the resource of its own boundary's statement.
    const secretOf = (site: string) => {
      const own = siteRole(site, 'task-role').boundary?.find((h) => h.statement.Sid === 'OwnSecretOnly');
      const resource = [own?.statement.Resource].flat()[0];
      if (typeof resource !== 'string') throw new Error(`no secret in ${site}'s boundary`);
      return resource;
    };

    // Act / Assess: without the added policy the boundary changes nothing for its own secret
    expect(decide(acme, 'secretsmanager:GetSecretValue', secretOf('acme-shop'), {}, [everything])).toBe('Allowed');
    // Another site's secret, another service: the boundary refuses, whatever was added
    expect(decide(acme, 'secretsmanager:GetSecretValue', secretOf('bakery'), {}, [everything])).toBe(
      'ImplicitlyDenied',
    );
    expect(decide(acme, 's3:GetObject', 'arn:aws:s3:::any-bucket/x', {}, [everything])).toBe('ImplicitlyDenied');
    expect(decide(acme, 'iam:PassRole', roleArn('anything'), {}, [everything])).toBe('ImplicitlyDenied');
  });

  it('containment and the console may put or lift a policy only on a role that carries a task-role boundary', () => {
    // Prepare
    const contain = roleOfFunction('ContainFunction', `Bulkhead-${ENV}-Response`);
    const console = roleOfFunction('ConsoleFunction', `Bulkhead-${ENV}-Ops`);
    const recovery = roleOfFunction('RecoveryFunction', `Bulkhead-${ENV}-Response`);
    const taskRoleTags = tagsOf({ 'bulkhead:env': ENV, 'bulkhead:component': 'task-role', 'bulkhead:site': 'bakery' });

    // Act / Assess
    for (const [role, action] of [
      [contain, 'iam:PutRolePolicy'],
      [console, 'iam:PutRolePolicy'],
      [console, 'iam:DeleteRolePolicy'],
      [recovery, 'iam:DeleteRolePolicy'],
    ] as const) {
      const on = (boundary: string | undefined) =>
        decide(role, action, roleArn('bakery-task'), { ...taskRoleTags, 'iam:PermissionsBoundary': boundary });
      expect(on(boundaryArn('bakery')), `${action} with the boundary`).toBe('Allowed');
      // A role tagged as a task role but without the boundary (retagged, or made by hand): refused.
      expect(on(undefined), `${action} without a boundary`).toBe('ImplicitlyDenied');
      expect(on(`arn:aws:iam::${ACCOUNT}:policy/AdministratorAccess`), `${action} another boundary`).toBe(
        'ImplicitlyDenied',
      );
      // Another environment's task-role boundary (names are account-wide): refused.
      expect(
        on(`arn:aws:iam::${ACCOUNT}:policy/${siteTaskRoleBoundaryName('prod', REGION, 'bakery')}`),
        `${action} another environment's boundary`,
      ).toBe('ImplicitlyDenied');
    }
  });
});

describe('recovery: pass roles and update services of this environment’s sites only', () => {
  const ecsTasks = { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' };

  it("passes a site's task and execution roles to ECS tasks, and no other role of the environment", () => {
    // Prepare
    const recovery = roleOfFunction('RecoveryFunction', `Bulkhead-${ENV}-Response`);
    const pass = (component: string, passedTo = ecsTasks) =>
      decide(recovery, 'iam:PassRole', roleArn('some-role'), {
        ...tagsOf({ 'bulkhead:env': ENV, 'bulkhead:component': component, 'bulkhead:site': 'bakery' }),
        ...passedTo,
      });

    // Act / Assess
    expect(pass('task-role')).toBe('Allowed');
    expect(pass('execution-role')).toBe('Allowed');
    // Roles of the environment that are not a site's: the operators', the response functions'.
    expect(pass('operator-role')).toBe('ImplicitlyDenied');
    expect(pass('response-function')).toBe('ImplicitlyDenied');
    expect(pass('ops-console')).toBe('ImplicitlyDenied');
    // A site's role to another service (a Lambda function that would run as it).
    expect(pass('task-role', { 'iam:PassedToService': 'lambda.amazonaws.com' })).toBe('ImplicitlyDenied');
  });

  it('updates a site service only to a revision of a site family of this environment', () => {
    // Prepare
    const service = `arn:aws:ecs:${REGION}:${ACCOUNT}:service/bulkhead-${ENV}-blue/bakery`;
    const siteService = tagsOf({ 'bulkhead:env': ENV, 'bulkhead:component': 'service', 'bulkhead:site': 'bakery' });
    const callers = [
      roleOfFunction('RecoveryFunction', `Bulkhead-${ENV}-Response`),
      roleOfFunction('IncidentFunction', `Bulkhead-${ENV}-Response`),
      roleOfFunction('ConsoleFunction', `Bulkhead-${ENV}-Ops`),
    ];
    const ecsCluster = { 'ecs:cluster': `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/bulkhead-${ENV}-blue` };

    for (const role of callers) {
      const update = (tags: Record<string, string>, taskDefinition?: string) =>
        decide(role, 'ecs:UpdateService', service, {
          ...tags,
          ...ecsCluster,
          ...(taskDefinition ? { 'ecs:task-definition': taskDefinition } : {}),
        });
      const family = (name: string) => `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${name}:7`;

      // Act / Assess: no task definition named (desired count, a new deployment)
      expect(update(siteService), role.entry.logicalId).toBe('Allowed');
      // A revision of this environment's site family
      expect(update(siteService, family(`bulkhead-${ENV}-bakery`)), role.entry.logicalId).toBe('Allowed');
      // A task definition that is not a Bulkhead site's (one an attacker registered with their own roles)
      expect(update(siteService, family('attacker-admin')), role.entry.logicalId).toBe('ImplicitlyDenied');
      expect(update(siteService, family('bulkhead-prod-bakery')), role.entry.logicalId).toBe('ImplicitlyDenied');
      // A service of the environment that is not a site's
      expect(update(tagsOf({ 'bulkhead:env': ENV, 'bulkhead:component': 'cluster' })), role.entry.logicalId).toBe(
        'ImplicitlyDenied',
      );
    }
  });
});

describe('the isolation audit sees the boundary', () => {
  it("finds no path when a site's task-role policy is widened to every secret: its boundary refuses the rest", async () => {
    // Prepare
    const { auditAssembly } = await import('../../tools/audit');
    const { mutated, taskRolePolicy } = await import('../audit/audit-support');
    const widened = mutated(assembly, {
      [`Bulkhead-${ENV}-Site-acme-shop`]: (t) => {
        taskRolePolicy(t).document.Statement.push({
          Effect: 'Allow',
          Action: 'secretsmanager:GetSecretValue',
          Resource: '*',
        });
      },
    });

    // Act
    const result = auditAssembly(widened);

    // Assess
    expect(result.findings.filter((f) => f.from === 'acme-shop')).toEqual([]);
    expect(result.passed).toBe(true);
  });
});
