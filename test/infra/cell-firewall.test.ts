import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { FleetConfigError, parseFleet } from '../../infra/config/load-fleet';
import { MANAGED_RULE_GROUPS, RATE_RULES_PER_GROUP, siteLabel } from '../../infra/platform/cell-firewall';
import { StackName } from '../../contracts/names';
import { type CfnResource, type CfnTemplate, synthExample, synthFleet } from '../support/synth-fleet';
import { resourcesOfType } from '../support/template-queries';

/**
 * Issue 15, item 4: AWS WAF on each cell's load balancer: the managed rule groups WordPress sites
 * need, a rate-based rule per site scoped by its host names, per-site metrics, and a fleet-file
 * switch per site that puts its rules in count mode.
 */

type Rule = {
  Name: string;
  Priority: number;
  Action?: Record<string, unknown>;
  OverrideAction?: Record<string, unknown>;
  RuleLabels?: { Name: string }[];
  Statement: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  VisibilityConfig: { MetricName: string; CloudWatchMetricsEnabled: boolean };
};

const exampleText = readFileSync('config/example.yaml', 'utf8');
let example: ReadonlyMap<string, CfnTemplate>;

beforeAll(() => {
  example = synthExample().json;
});

function cellTemplate(json: ReadonlyMap<string, CfnTemplate>, cell: string): CfnTemplate {
  const template = json.get(StackName.cell('example', cell));
  if (!template) throw new Error(`no cell ${cell}`);
  return template;
}

function webAclOf(template: CfnTemplate): { id: string; rules: Rule[]; resource: CfnResource } {
  const [entry, ...rest] = resourcesOfType(template, 'AWS::WAFv2::WebACL');
  if (!entry || rest.length > 0) throw new Error('expected one web ACL');
  return { id: entry[0], rules: entry[1].Properties?.Rules as Rule[], resource: entry[1] };
}

function rateRules(template: CfnTemplate): Map<string, Rule> {
  return new Map(
    resourcesOfType(template, 'AWS::WAFv2::RuleGroup').flatMap(([, g]) =>
      (g.Properties?.Rules as Rule[]).map((r) => [r.Name, r] as const),
    ),
  );
}

describe('the web ACL of a cell', () => {
  it('is on the cell’s load balancer, allows by default, and runs the four managed rule groups, blocking', () => {
    for (const cell of ['blue', 'green']) {
      // Prepare
      const template = cellTemplate(example, cell);
      const { id, rules, resource } = webAclOf(template);
      const [, association] = resourcesOfType(template, 'AWS::WAFv2::WebACLAssociation')[0] ?? [];
      const [lb] = resourcesOfType(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer')[0] ?? [];

      // Assess
      expect(association?.Properties).toEqual({ ResourceArn: { Ref: lb }, WebACLArn: { 'Fn::GetAtt': [id, 'Arn'] } });
      expect(resource.Properties).toMatchObject({ Scope: 'REGIONAL', DefaultAction: { Allow: {} } });
      const managed = rules.filter((r) => r.Statement.ManagedRuleGroupStatement);
      expect(managed.map((r) => r.Statement.ManagedRuleGroupStatement)).toEqual(
        MANAGED_RULE_GROUPS.map((name) => ({ VendorName: 'AWS', Name: name })),
      );
      expect(managed.every((r) => JSON.stringify(r.OverrideAction) === '{"None":{}}')).toBe(true);
      // No rate-based rule in the web ACL itself (quota: 10); they are in rule groups.
      expect(rules.filter((r) => r.Statement.RateBasedStatement)).toEqual([]);
    }
  });

  it('labels each site’s requests by its host names, first, counting them under a metric of the site', () => {
    // Prepare
    const { rules } = webAclOf(cellTemplate(example, 'blue'));

    // Act
    const acme = rules.find((r) => r.Name === 'site-acme-shop');

    // Assess
    expect(rules.slice(0, 2).map((r) => r.Name)).toEqual(['site-acme-shop', 'site-bakery']);
    expect(acme).toMatchObject({
      Action: { Count: {} },
      RuleLabels: [{ Name: siteLabel('acme-shop') }],
      VisibilityConfig: { MetricName: 'example-acme-shop-requests', CloudWatchMetricsEnabled: true },
    });
    const hosts = (acme?.Statement.OrStatement.Statements as Rule['Statement'][]).map((s) => s.ByteMatchStatement);
    expect(hosts.map((h) => [h.SearchString, h.PositionalConstraint])).toEqual([
      ['shop.acme.example', 'EXACTLY'],
      ['www.acme.example', 'EXACTLY'],
    ]);
    expect(hosts[0]).toMatchObject({
      FieldToMatch: { SingleHeader: { Name: 'host' } },
      TextTransformations: [{ Priority: 0, Type: 'LOWERCASE' }],
    });
  });

  it('rate-limits each site on its own label, with its own limit and metric, at most four to a rule group', () => {
    // Prepare
    const template = cellTemplate(example, 'blue');
    const groups = resourcesOfType(template, 'AWS::WAFv2::RuleGroup');
    const { rules } = webAclOf(template);

    // Act
    const rates = rateRules(template);

    // Assess
    expect([...rates.keys()].sort()).toEqual(['rate-acme-shop', 'rate-bakery']);
    expect(rates.get('rate-bakery')).toMatchObject({
      Action: { Block: {} },
      Statement: {
        RateBasedStatement: {
          Limit: 2000,
          EvaluationWindowSec: 300,
          AggregateKeyType: 'IP',
          ScopeDownStatement: { LabelMatchStatement: { Scope: 'LABEL', Key: siteLabel('bakery') } },
        },
      },
      VisibilityConfig: { MetricName: 'example-bakery-rate' },
    });
    for (const [, g] of groups)
      expect((g.Properties?.Rules as Rule[]).length).toBeLessThanOrEqual(RATE_RULES_PER_GROUP);
    const references = rules.filter((r) => r.Statement.RuleGroupReferenceStatement);
    expect(references.map((r) => r.Statement.RuleGroupReferenceStatement.Arn)).toEqual(
      groups.map(([id]) => ({ 'Fn::GetAtt': [id, 'Arn'] })),
    );
    // Rate rules run after the labels they scope down on.
    expect(Math.min(...references.map((r) => r.Priority))).toBeGreaterThan(
      Math.max(...rules.filter((r) => r.RuleLabels).map((r) => r.Priority)),
    );
  });
});

describe('count mode, per site, from the fleet file', () => {
  let cells: ReadonlyMap<string, CfnTemplate>;
  beforeAll(() => {
    const fleet = parse(exampleText) as { sites: Record<string, unknown>[] };
    const acme = fleet.sites.find((s) => s.id === 'acme-shop') as Record<string, unknown>;
    acme.firewall = { mode: 'count', requestsPerFiveMinutes: 500 };
    const text = stringify(fleet);
    cells = synthFleet(parseFleet(text, 'config/example.yaml'), { fleetText: text }).json;
  });

  it('scopes the site out of the blocking managed rules and into counting copies; its rate rule counts', () => {
    // Prepare
    const template = cellTemplate(cells, 'blue');
    const { rules } = webAclOf(template);
    const acmeLabel = { LabelMatchStatement: { Scope: 'LABEL', Key: siteLabel('acme-shop') } };

    // Act
    const byName = new Map(rules.map((r) => [r.Name, r]));

    // Assess
    for (const group of MANAGED_RULE_GROUPS) {
      expect(byName.get(group)?.Statement.ManagedRuleGroupStatement.ScopeDownStatement).toEqual({
        NotStatement: { Statement: acmeLabel },
      });
      expect(byName.get(group)?.OverrideAction).toEqual({ None: {} });
      expect(byName.get(`${group}-count`)).toMatchObject({
        OverrideAction: { Count: {} },
        Statement: { ManagedRuleGroupStatement: { Name: group, ScopeDownStatement: acmeLabel } },
      });
    }
    expect(rateRules(template).get('rate-acme-shop')).toMatchObject({
      Action: { Count: {} },
      Statement: { RateBasedStatement: { Limit: 500 } },
    });
    expect(rateRules(template).get('rate-bakery')?.Action).toEqual({ Block: {} });
    // The other cell has no site in count mode: no counting copies there.
    expect(webAclOf(cellTemplate(cells, 'green')).rules.filter((r) => r.Name.endsWith('-count'))).toEqual([]);
  });
});

describe('the fleet file: firewall', () => {
  const refuse = (firewall: unknown) => {
    const fleet = parse(exampleText) as { sites: Record<string, unknown>[] };
    (fleet.sites[0] as Record<string, unknown>).firewall = firewall;
    try {
      parseFleet(stringify(fleet), 'fleet.yaml');
    } catch (error) {
      if (error instanceof FleetConfigError) return error.problems;
      throw error;
    }
    throw new Error('expected the fleet file to be refused');
  };

  it.each([
    [{ mode: 'monitor' }, 'sites[0].firewall.mode', 'must be block or count'],
    [{ requestsPerFiveMinutes: 5 }, 'sites[0].firewall.requestsPerFiveMinutes', ''],
    [{ mode: 'count', block: true }, 'sites[0].firewall.block', 'unknown key'],
  ])('refuses %j, naming the path', (firewall, path, message) => {
    expect(refuse(firewall)).toEqual([expect.objectContaining({ path, message: expect.stringContaining(message) })]);
  });
});

describe('capacity', () => {
  it('counts the web ACL’s WCU, and a cell that would pass AWS WAF’s 5,000 is refused at synthesis, saying why', async () => {
    // Prepare
    const { webAclCapacity, WCU } = await import('../../infra/platform/cell-firewall');
    const fleet = parseFleet(exampleText, 'config/example.yaml');
    const blue = fleet.sites.filter((s) => s.cell === 'blue');
    const many = Array.from({ length: 90 }, (_, i) => ({
      ...(blue[0] as (typeof fleet.sites)[number]),
      id: `site-${i}`,
      domains: Array.from({ length: 5 }, (_, d) => `h${d}.site-${i}.example`),
    }));
    const { CellFirewall } = await import('../../infra/platform/cell-firewall');
    const { App, Stack } = await import('aws-cdk-lib');

    // Act
    const exampleCapacity = webAclCapacity(blue);
    const tooMany = () =>
      new CellFirewall(new Stack(new App(), 'S'), 'F', {
        environment: 'example',
        cellId: 'blue',
        sites: many,
        loadBalancerArn: 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/x/1',
      });

    // Assess: 425 managed + 3 host names x 12 + one rate group of 12
    expect(exampleCapacity).toBe(425 + 3 * WCU.hostName + 12);
    expect(webAclCapacity(many)).toBeGreaterThan(WCU.webAclMaximum);
    expect(tooMany).toThrow(/cell blue: its web ACL would need \d+ WCU, more than AWS WAF's 5000/);
  });
});
