import { Construct } from 'constructs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import type { SiteConfig } from '../config/load-fleet';
import { Component, tagComponent } from '../shared/tags';

/**
 * AWS WAF on a cell's load balancer, so that one site's attack traffic is stopped at the edge
 * before it reaches the load balancer every site of the cell shares.
 *
 * Rules, in the order AWS WAF evaluates them ("in order of priority, starting from the lowest"):
 * 1. **Which site** (priority 0..): one rule per site, action Count, that matches the site's host
 *    names (the `host` header, lower-cased; `*.example.com` as a suffix) and adds the label
 *    `bulkhead:site:<id>`. "A label ... remains available on the request until the ... web ACL
 *    evaluation ends. You can access labels in rules that run later ... by using a label match
 *    statement", and "Labels on web requests generate Amazon CloudWatch label metrics" (AWS WAF
 *    Developer Guide, "Web request labeling"): blocked and counted requests per site, whatever rule
 *    ended them, as well as this rule's own count of the site's requests.
 * 2. **The managed rule groups WordPress sites need**: `AWSManagedRulesAmazonIpReputationList`,
 *    `AWSManagedRulesKnownBadInputsRuleSet`, `AWSManagedRulesWordPressRuleSet`,
 *    `AWSManagedRulesPHPRuleSet`. A site in count mode (`firewall.mode: count` in the fleet file)
 *    is scoped out of the blocking copy and into a copy whose rules only count (override action
 *    Count: "AWS WAF overrides the rule group's rule actions ... to Count").
 * 3. **A rate-based rule per site**, scoped down to the site's label: at most
 *    `firewall.requestsPerFiveMinutes` from one IP address to that site in 5 minutes; Block, or
 *    Count in count mode; its own metric `<env>-<site>-rate`. "Maximum number of rate-based rules
 *    per protection pack (web ACL): 10; per rule group: 4" (AWS WAF quotas), so they are packed four
 *    to a rule group that the web ACL references.
 *
 * Everything else is allowed (the sites' own listener rules decide what exists).
 */

export const MANAGED_RULE_GROUPS = [
  'AWSManagedRulesAmazonIpReputationList',
  'AWSManagedRulesKnownBadInputsRuleSet',
  'AWSManagedRulesWordPressRuleSet',
  'AWSManagedRulesPHPRuleSet',
] as const;

/** Rate-based rules per rule group (AWS WAF quota). */
export const RATE_RULES_PER_GROUP = 4;

/**
 * Web ACL capacity units (WCU), as the AWS WAF Developer Guide lists them per statement ("Rule
 * statements"): a rate-based statement 2 plus its scope-down statement, a label match 1, a string
 * match that is an exact, prefix or suffix match 2, each text transformation 10; the managed
 * rule groups as their pages list them (IP reputation 25, known bad inputs 200, WordPress 100, PHP
 * 100). "The maximum capacity for a protection pack (web ACL) is 5,000 WCUs"; past 1,500 AWS
 * charges more (AWS WAF Developer Guide, "Web ACL capacity units").
 */
export const WCU = {
  rateRule: 2 + 1,
  hostName: 2 + 10,
  managed: {
    AWSManagedRulesAmazonIpReputationList: 25,
    AWSManagedRulesKnownBadInputsRuleSet: 200,
    AWSManagedRulesWordPressRuleSet: 100,
    AWSManagedRulesPHPRuleSet: 100,
  } as Record<string, number>,
  webAclMaximum: 5_000,
} as const;

/** The capacity declared for each rate-rule group (it cannot change once created): four rate rules. */
export const RATE_GROUP_CAPACITY = RATE_RULES_PER_GROUP * WCU.rateRule;

/** The WCU a cell's web ACL uses, by the table above. */
export function webAclCapacity(sites: readonly SiteConfig[]): number {
  const managed = MANAGED_RULE_GROUPS.reduce((sum, g) => sum + (WCU.managed[g] ?? 0), 0);
  const counting = sites.some((s) => s.firewall.mode === 'count');
  const labels = sites.reduce((sum, s) => sum + s.domains.length * WCU.hostName, 0);
  const groups = Math.ceil(sites.length / RATE_RULES_PER_GROUP) * RATE_GROUP_CAPACITY;
  // A scope-down label match or its negation: 1 per counting site, on every managed copy.
  const countingSites = sites.filter((s) => s.firewall.mode === 'count').length;
  const scopeDowns = counting ? MANAGED_RULE_GROUPS.length * 2 * countingSites : 0;
  return managed * (counting ? 2 : 1) + labels + groups + scopeDowns;
}

export function siteLabel(siteId: string): string {
  return `bulkhead:site:${siteId}`;
}

function visibility(metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty {
  return { cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName };
}

/** Whether the request's `host` header is one of the site's host names. */
function hostMatch(domains: readonly string[]): wafv2.CfnWebACL.StatementProperty {
  const one = (domain: string): wafv2.CfnWebACL.StatementProperty => ({
    byteMatchStatement: {
      fieldToMatch: { singleHeader: { Name: 'host' } },
      positionalConstraint: domain.startsWith('*.') ? 'ENDS_WITH' : 'EXACTLY',
      searchString: domain.startsWith('*.') ? domain.slice(1) : domain,
      textTransformations: [{ priority: 0, type: 'LOWERCASE' }],
    },
  });
  const statements = domains.map(one);
  return statements.length === 1
    ? (statements[0] as wafv2.CfnWebACL.StatementProperty)
    : { orStatement: { statements } };
}

function labelMatch(siteIds: readonly string[]): wafv2.CfnWebACL.StatementProperty {
  const statements = siteIds.map((id) => ({ labelMatchStatement: { scope: 'LABEL', key: siteLabel(id) } }));
  return statements.length === 1
    ? (statements[0] as wafv2.CfnWebACL.StatementProperty)
    : { orStatement: { statements } };
}

export interface CellFirewallProps {
  /** The fleet's environment name: it prefixes the rule groups' names and the metric names. */
  readonly environment: string;
  /** The cell's id: in the rule groups' and metrics' names. */
  readonly cellId: string;
  /** The cell's sites. */
  readonly sites: readonly SiteConfig[];
  /** The cell's load balancer. */
  readonly loadBalancerArn: string;
}

export class CellFirewall extends Construct {
  readonly webAcl: wafv2.CfnWebACL;
  readonly rateGroups: wafv2.CfnRuleGroup[] = [];

  constructor(scope: Construct, id: string, props: CellFirewallProps) {
    super(scope, id);
    const { environment: env, cellId } = props;
    const sites = [...props.sites].sort((a, b) => a.id.localeCompare(b.id));
    const capacity = webAclCapacity(sites);
    if (capacity > WCU.webAclMaximum) {
      throw new Error(
        `cell ${cellId}: its web ACL would need ${capacity} WCU, more than AWS WAF's ${WCU.webAclMaximum} (each host name costs ${WCU.hostName}): move sites to another cell or give them fewer host names`,
      );
    }
    const counting = sites.filter((s) => s.firewall.mode === 'count').map((s) => s.id);
    const rules: wafv2.CfnWebACL.RuleProperty[] = [];
    let priority = 0;

    // 1. Which site: a label per site (and the site's request count).
    for (const site of sites) {
      rules.push({
        name: `site-${site.id}`,
        priority: priority++,
        action: { count: {} },
        statement: hostMatch(site.domains),
        ruleLabels: [{ name: siteLabel(site.id) }],
        visibilityConfig: visibility(`${env}-${site.id}-requests`),
      });
    }

    // 2. The managed rule groups: block, except for the sites in count mode, which only count.
    for (const group of MANAGED_RULE_GROUPS) {
      const managed = (scopeDownStatement?: wafv2.CfnWebACL.StatementProperty) => ({
        managedRuleGroupStatement: {
          vendorName: 'AWS',
          name: group,
          ...(scopeDownStatement ? { scopeDownStatement } : {}),
        },
      });
      rules.push({
        name: group,
        priority: priority++,
        overrideAction: { none: {} },
        statement: managed(counting.length > 0 ? { notStatement: { statement: labelMatch(counting) } } : undefined),
        visibilityConfig: visibility(`${env}-${cellId}-${group}`),
      });
      if (counting.length > 0) {
        rules.push({
          name: `${group}-count`,
          priority: priority++,
          overrideAction: { count: {} },
          statement: managed(labelMatch(counting)),
          visibilityConfig: visibility(`${env}-${cellId}-${group}-count`),
        });
      }
    }

    // 3. A rate-based rule per site, four to a rule group.
    for (let i = 0; i < sites.length; i += RATE_RULES_PER_GROUP) {
      const chunk = sites.slice(i, i + RATE_RULES_PER_GROUP);
      const index = i / RATE_RULES_PER_GROUP;
      const group = new wafv2.CfnRuleGroup(this, `RateLimits${index}`, {
        name: `bulkhead-${env}-${cellId}-rate-${index}`,
        scope: 'REGIONAL',
        capacity: RATE_GROUP_CAPACITY,
        visibilityConfig: visibility(`${env}-${cellId}-rate-${index}`),
        rules: chunk.map((site, n) => ({
          name: `rate-${site.id}`,
          priority: n,
          action: site.firewall.mode === 'count' ? { count: {} } : { block: {} },
          statement: {
            rateBasedStatement: {
              limit: site.firewall.requestsPerFiveMinutes,
              evaluationWindowSec: 300,
              aggregateKeyType: 'IP',
              scopeDownStatement: labelMatch([site.id]),
            },
          },
          visibilityConfig: visibility(`${env}-${site.id}-rate`),
        })),
      });
      tagComponent(group, Component.webFirewall);
      this.rateGroups.push(group);
      rules.push({
        name: `rate-limits-${index}`,
        priority: priority++,
        overrideAction: { none: {} },
        statement: { ruleGroupReferenceStatement: { arn: group.attrArn } },
        visibilityConfig: visibility(`${env}-${cellId}-rate-limits-${index}`),
      });
    }

    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      name: `bulkhead-${env}-${cellId}`,
      description: `Bulkhead ${env} cell ${cellId}: managed rules for WordPress sites and a rate limit per site`,
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(`${env}-${cellId}`),
      rules,
    });
    tagComponent(this.webAcl, Component.webFirewall);
    const association = new wafv2.CfnWebACLAssociation(this, 'OnLoadBalancer', {
      resourceArn: props.loadBalancerArn,
      webAclArn: this.webAcl.attrArn,
    });
    association.node.addDependency(this.webAcl);
  }
}
