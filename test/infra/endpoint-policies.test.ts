import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { handleLookup, MANAGED_OWNER, managedListIds, respond } from '../../runtime/dns-lists/index';
import { parseFleet } from '../../infra/config/load-fleet';
import { awsServiceNames, MANAGED_THREAT_LIST } from '../../infra/platform/dns-firewall';
import { StackName } from '../../contracts/names';
import { type CfnResource, type CfnTemplate, synthExample, synthFleet } from '../support/synth-fleet';
import { resourcesOfType } from '../support/template-queries';

/**
 * Issue 15, item 1: the VPC endpoints carry policies that keep data in this account (the ECR layer
 * bucket and GuardDuty's agent repository as AWS documents them), and Route 53 Resolver DNS
 * Firewall filters the VPC's names. What these policies allow is evaluated in
 * test/audit/endpoint-exfiltration.test.ts (question 12); here: what the templates say.
 */

const ACCOUNT = '111122223333';
let network: CfnTemplate;

beforeAll(() => {
  const json = synthExample().json.get(StackName.network('example'));
  if (!json) throw new Error('no network stack');
  network = json;
});

interface Statement {
  Sid?: string;
  Effect: string;
  Principal?: unknown;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

function endpoints(template: CfnTemplate): Map<string, CfnResource> {
  return new Map(
    resourcesOfType(template, 'AWS::EC2::VPCEndpoint').map(([, r]) => {
      // com.amazonaws.<region>.<service>, as a string or as Fn::Join [..., '.s3'].
      const name = r.Properties?.ServiceName;
      const service =
        typeof name === 'string'
          ? name.split('.').slice(3).join('.')
          : String((name as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1].at(-1)).replace(/^\./, '');
      return [service, r];
    }),
  );
}

const statementsOf = (r: CfnResource | undefined) =>
  (r?.Properties?.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? [];

describe('VPC endpoint policies', () => {
  it('every endpoint has a policy; every Allow is held to this account’s principals, but ECR’s layer bucket (signed by ECR)', () => {
    // Act
    const all = endpoints(network);

    // Assess
    expect([...all.keys()].sort()).toEqual(['ecr.api', 'ecr.dkr', 'guardduty-data', 'logs', 's3', 'secretsmanager']);
    for (const [service, r] of all) {
      const statements = statementsOf(r);
      expect(statements.length, service).toBeGreaterThan(0);
      for (const s of statements.filter((x) => x.Effect === 'Allow')) {
        if (s.Sid === 'EcrImageLayers') continue;
        const principalHeld =
          s.Condition?.StringEquals?.['aws:PrincipalAccount'] === ACCOUNT ||
          statements.some(
            (d) => d.Effect === 'Deny' && d.Condition?.StringNotEquals?.['aws:PrincipalAccount'] === ACCOUNT,
          );
        expect(principalHeld, `${service} ${s.Sid ?? ''}`).toBe(true);
      }
    }
  });

  it("S3 and ECR: this account's resources, plus exactly the exceptions AWS documents for image layers and GuardDuty's agent", () => {
    // Prepare
    const all = endpoints(network);
    const bySid = (service: string) => new Map(statementsOf(all.get(service)).map((s) => [s.Sid, s]));

    // Assess: S3
    const s3 = bySid('s3');
    expect(s3.get('ThisAccountsPrincipalsToThisAccountsResources')?.Condition).toEqual({
      StringEquals: { 'aws:PrincipalAccount': ACCOUNT, 'aws:ResourceAccount': ACCOUNT },
    });
    expect(s3.get('EcrImageLayers')).toMatchObject({
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/*',
    });
    expect(s3.size).toBe(2);

    // Assess: ECR api and dkr alike
    for (const service of ['ecr.api', 'ecr.dkr']) {
      const ecr = bySid(service);
      expect([...ecr.keys()].sort()).toEqual([
        'AuthorizationTokens',
        'PullGuardDutyAgent',
        'ThisAccountsPrincipalsToThisAccountsResources',
      ]);
      expect(ecr.get('PullGuardDutyAgent')).toMatchObject({
        Resource: 'arn:aws:ecr:eu-west-1:694911143906:repository/aws-guardduty-agent-fargate',
        Condition: { StringEquals: { 'aws:PrincipalAccount': ACCOUNT } },
      });
      expect(ecr.get('AuthorizationTokens')).toMatchObject({ Action: 'ecr:GetAuthorizationToken', Resource: '*' });
    }
  });
});

describe('Route 53 Resolver DNS Firewall', () => {
  const rulesOf = (group: CfnResource | undefined) =>
    (group?.Properties?.FirewallRules as Record<string, unknown>[] | undefined) ?? [];

  it('blocks the AWS managed threat list, DNS tunnelling and DGA domains for the whole VPC', () => {
    // Prepare
    const groups = resourcesOfType(network, 'AWS::Route53Resolver::FirewallRuleGroup');
    const associations = resourcesOfType(network, 'AWS::Route53Resolver::FirewallRuleGroupAssociation');
    const [lookupId, lookup] = resourcesOfType(network, 'Custom::BulkheadDnsManagedLists')[0] ?? [];

    // Act
    const threats = groups.find(([, g]) => g.Properties?.Name === 'bulkhead-example-dns');

    // Assess
    expect(lookup?.Properties?.Names).toEqual([MANAGED_THREAT_LIST]);
    expect(rulesOf(threats?.[1])).toEqual([
      {
        Priority: 100,
        Action: 'BLOCK',
        BlockResponse: 'NXDOMAIN',
        FirewallDomainListId: { 'Fn::GetAtt': [lookupId, MANAGED_THREAT_LIST] },
      },
      {
        Priority: 200,
        Action: 'BLOCK',
        BlockResponse: 'NXDOMAIN',
        DnsThreatProtection: 'DNS_TUNNELING',
        ConfidenceThreshold: 'MEDIUM',
      },
      {
        Priority: 300,
        Action: 'BLOCK',
        BlockResponse: 'NXDOMAIN',
        DnsThreatProtection: 'DGA',
        ConfidenceThreshold: 'MEDIUM',
      },
    ]);
    // The example fleet has an internet-egress site: only the threats group is on the VPC.
    expect(associations.map(([, a]) => a.Properties?.FirewallRuleGroupId)).toEqual([
      { 'Fn::GetAtt': [threats?.[0], 'Id'] },
    ]);
    expect(associations[0]?.[1].Properties).toMatchObject({
      VpcId: { Ref: expect.stringMatching(/^Vpc/) },
      MutationProtection: 'ENABLED',
    });
  });

  it('answers only AWS names on the VPC when no site of the fleet may reach the internet', () => {
    // Prepare: the example fleet without its internet-egress site
    const text = readFileSync('config/example.yaml', 'utf8').replace(/internetEgress: true/g, 'internetEgress: false');
    const fleet = parseFleet(text, 'config/example.yaml');
    const json = synthFleet(fleet, { fleetText: text }).json.get(StackName.network('example')) as CfnTemplate;

    // Act
    const groups = resourcesOfType(json, 'AWS::Route53Resolver::FirewallRuleGroup');
    const awsOnly = groups.find(([, g]) => g.Properties?.Name === 'bulkhead-example-dns-aws-only');
    const lists = new Map(resourcesOfType(json, 'AWS::Route53Resolver::FirewallDomainList'));
    const associated = resourcesOfType(json, 'AWS::Route53Resolver::FirewallRuleGroupAssociation').map(
      ([, a]) => (a.Properties?.FirewallRuleGroupId as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0],
    );

    // Assess: allow AWS names, then refuse every name; associated after the threats group
    const [allow, block] = rulesOf(awsOnly?.[1]);
    const listOf = (rule: Record<string, unknown> | undefined) =>
      lists.get((rule?.FirewallDomainListId as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0])?.Properties?.Domains;
    expect(allow).toMatchObject({ Priority: 100, Action: 'ALLOW' });
    expect(listOf(allow)).toEqual(awsServiceNames());
    expect(block).toMatchObject({ Priority: 200, Action: 'BLOCK', BlockResponse: 'NXDOMAIN' });
    expect(listOf(block)).toEqual(['*']);
    expect(associated).toHaveLength(2);
    expect(associated).toContain(awsOnly?.[0]);
  });
});

describe('the managed-list lookup (runtime/dns-lists)', () => {
  const page = (lists: { Id: string; Name: string; ManagedOwnerName?: string }[], NextToken?: string) => ({
    FirewallDomainLists: lists,
    ...(NextToken ? { NextToken } : {}),
  });

  it('reads every page and takes only lists AWS manages (a customer list with the same name is not one)', async () => {
    // Prepare
    const pages = [
      page([{ Id: 'rslvr-fdl-mine', Name: MANAGED_THREAT_LIST }], 't1'),
      page([{ Id: 'rslvr-fdl-aws', Name: MANAGED_THREAT_LIST, ManagedOwnerName: MANAGED_OWNER }]),
    ];
    const tokens: (string | undefined)[] = [];

    // Act
    const ids = await managedListIds([MANAGED_THREAT_LIST], async (token) => {
      tokens.push(token);
      return pages[tokens.length - 1] ?? page([]);
    });

    // Assess
    expect(ids).toEqual({ [MANAGED_THREAT_LIST]: 'rslvr-fdl-aws' });
    expect(tokens).toEqual([undefined, 't1']);
  });

  it('fails naming the list when the region has none, and changes nothing on Delete', async () => {
    // Act
    const missing = handleLookup(
      { RequestType: 'Create', ResourceProperties: { Names: [MANAGED_THREAT_LIST] } },
      async () => page([]),
    );
    const deleted = await handleLookup(
      { RequestType: 'Delete', PhysicalResourceId: 'x', ResourceProperties: {} },
      async () => {
        throw new Error('Delete must not call AWS');
      },
    );

    // Assess
    await expect(missing).rejects.toThrow(/no managed domain list AWSManagedDomainsAggregateThreatList in this region/);
    expect(deleted).toEqual({ PhysicalResourceId: 'x' });
  });

  it('answers CloudFormation at its response URL: SUCCESS with the ids, or FAILED with the reason', async () => {
    // Prepare
    const request = {
      RequestType: 'Create' as const,
      ResponseURL: 'https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/x?sig',
      StackId: 'stack',
      RequestId: 'req',
      LogicalResourceId: 'DnsFirewallManagedLists',
      ResourceProperties: { Names: [MANAGED_THREAT_LIST] },
    };
    const sent: { url: string; body: Record<string, unknown> }[] = [];
    const put = async (url: string, body: string) => {
      sent.push({ url, body: JSON.parse(body) as Record<string, unknown> });
    };

    // Act
    await respond(request, { PhysicalResourceId: 'p', Data: { [MANAGED_THREAT_LIST]: 'rslvr-fdl-1' } }, put);
    await respond(request, { error: 'no managed domain list X' }, put);

    // Assess
    expect(sent.map((s) => s.url)).toEqual([request.ResponseURL, request.ResponseURL]);
    expect(sent[0]?.body).toEqual({
      Status: 'SUCCESS',
      Reason: 'ok',
      PhysicalResourceId: 'p',
      StackId: 'stack',
      RequestId: 'req',
      LogicalResourceId: 'DnsFirewallManagedLists',
      Data: { [MANAGED_THREAT_LIST]: 'rslvr-fdl-1' },
    });
    expect(sent[1]?.body).toMatchObject({ Status: 'FAILED', Reason: 'no managed domain list X' });
  });
});
