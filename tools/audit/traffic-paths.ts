/**
 * Traffic and logs that reach the wrong site. Question: do another site's visitors or logs
 * end up with a site?
 *
 * - Listener rules: "Each rule consists of a priority, one or more actions, and one or more
 *   conditions … rules are evaluated in priority order, from the lowest value to the highest
 *   value" (Application Load Balancers, "Listener rules"). A rule whose host-header condition
 *   covers another site's hosts and forwards to a target group a site's service registers its
 *   tasks in sends that other site's visitors (their requests and cookies) to this site,
 *   unless the other site's own rule on the same listener comes first and takes every such
 *   request (a rule with only a host-header condition that covers them).
 * - A site's service that registers its tasks in another site's target group
 *   (`LoadBalancers[].TargetGroupArn`) receives that site's traffic.
 * - A container whose `awslogs` log configuration writes into another site's log group
 *   (ECS `LogConfiguration.options`, `awslogs-group`: "Make sure to specify a log group that
 *   the awslogs log driver sends its log streams to").
 */
import { Component, TAG_COMPONENT } from '../../contracts/tag-names';
import { displayValue, type Resolved } from './intrinsics';
import type { Inventory, ResourceEntry, SiteInventory } from './inventory';
import type { Finding, RuleReference } from './types';
import { patternMatchesIgnoringCase, patternsIntersect } from './wildcards';

interface Rule {
  readonly entry: ResourceEntry;
  readonly listener: string;
  readonly priority: number;
  readonly hosts: readonly string[];
  /** Only a host-header condition: it takes every request for its hosts. */
  readonly hostOnly: boolean;
  readonly targetGroups: readonly string[];
  readonly owner?: string;
}

function record(value: Resolved): Record<string, Resolved> {
  return value && typeof value === 'object' && !Array.isArray(value) ? value : {};
}

function list(value: Resolved): Resolved[] {
  return Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
}

function rulesOf(inventory: Inventory): Rule[] {
  const { resolver } = inventory;
  return inventory.ofType('AWS::ElasticLoadBalancingV2::ListenerRule').map((entry) => {
    const p = record(resolver.resolve(entry.stack, entry.properties));
    const conditions = list(p.Conditions).map(record);
    const hosts = conditions
      .filter((c) => c.Field === 'host-header')
      .flatMap((c) => [...list(record(c.HostHeaderConfig).Values), ...list(c.Values)])
      .filter((h): h is string => typeof h === 'string');
    const targetGroups = list(p.Actions)
      .map(record)
      .flatMap((a) => [
        a.TargetGroupArn,
        ...list(record(a.ForwardConfig).TargetGroups).map((t) => record(t).TargetGroupArn),
      ])
      .filter((t): t is string => typeof t === 'string');
    const owner = inventory.siteOf(entry.token);
    return {
      entry,
      listener: typeof p.ListenerArn === 'string' ? p.ListenerArn : '',
      priority: Number(p.Priority),
      hosts: hosts.length > 0 ? hosts : ['*'],
      hostOnly: conditions.length > 0 && conditions.every((c) => c.Field === 'host-header'),
      targetGroups,
      ...(owner ? { owner } : {}),
    };
  });
}

/** Host patterns: `*` and `?` wildcards, case-insensitive ("Host names are not case-sensitive"). */
function hostsOverlap(a: readonly string[], b: readonly string[]): boolean {
  return a.some((x) => b.some((y) => patternsIntersect(x.toLowerCase(), y.toLowerCase())));
}

function covers(outer: readonly string[], inner: readonly string[]): boolean {
  return inner.every((h) => outer.some((o) => patternMatchesIgnoringCase(o, h)));
}

function ruleRef(rule: Rule, what: string): RuleReference {
  return {
    stack: rule.entry.stack.name,
    logicalId: rule.entry.logicalId,
    rule: `listener rule priority ${rule.priority} host ${rule.hosts.join(', ')}: ${what}`,
  };
}

/** Which sites' tasks each target group holds: the services that register in it. */
function receivers(inventory: Inventory): Map<string, { site: string; service: ResourceEntry }[]> {
  const { resolver } = inventory;
  const out = new Map<string, { site: string; service: ResourceEntry }[]>();
  for (const site of inventory.sites) {
    for (const service of site.resources.filter((r) => r.type === 'AWS::ECS::Service')) {
      for (const lb of list(resolver.resolve(service.stack, service.properties.LoadBalancers)).map(record)) {
        if (typeof lb.TargetGroupArn !== 'string') continue;
        out.set(lb.TargetGroupArn, [...(out.get(lb.TargetGroupArn) ?? []), { site: site.id, service }]);
      }
    }
  }
  return out;
}

/**
 * The logical id of the listener rule a site's record names as its own (`listenerRuleArn`, a
 * `Ref` in the record's `Fn::Join`). Listener rules carry no tags in the templates
 * (CloudFormation's schema has none), so the record is where the site says which rule is its own.
 */
function recordedListenerRule(site: SiteInventory): string | undefined {
  const record = site.resources.find(
    (r) => r.type === 'AWS::SSM::Parameter' && r.tags[TAG_COMPONENT] === Component.siteRecord,
  );
  const join = (record?.properties.Value as { 'Fn::Join'?: [unknown, unknown[]] } | undefined)?.['Fn::Join'];
  const parts = Array.isArray(join?.[1]) ? join[1] : [];
  for (let i = 0; i + 1 < parts.length; i += 1) {
    const part = parts[i];
    const next = parts[i + 1] as { Ref?: unknown } | undefined;
    if (typeof part === 'string' && part.endsWith('"listenerRuleArn":"') && typeof next?.Ref === 'string')
      return next.Ref;
  }
  return undefined;
}

function routingPaths(inventory: Inventory): Finding[] {
  const findings: Finding[] = [];
  const rules = rulesOf(inventory);
  const into = receivers(inventory);
  const groupOwner = (tg: string) => {
    const entry = inventory.ofType('AWS::ElasticLoadBalancingV2::TargetGroup').find((t) => t.token === tg);
    return entry ? inventory.siteOf(entry.token) : undefined;
  };
  // A site's service in another site's target group.
  for (const [tg, list] of into) {
    const owner = groupOwner(tg);
    for (const { site, service } of list) {
      if (owner === undefined || owner === site) continue;
      findings.push({
        kind: 'network',
        from: site,
        to: owner,
        summary: `${site}'s service registers its tasks in ${owner}'s target group: ${owner}'s visitors reach ${site}`,
        rules: [
          {
            stack: service.stack.name,
            logicalId: service.logicalId,
            rule: `LoadBalancers TargetGroupArn: ${displayValue(tg)}`,
          },
        ],
      });
    }
  }
  // The hosts each site serves: those of its own listener rule (the rule its site record names
  // as listenerRuleArn, or that its stack tags bulkhead:component=listener-rule), else of every
  // rule of its stack that sends to its own target groups.
  const own = (rule: Rule, site: string) => rule.targetGroups.some((tg) => groupOwner(tg) === site);
  const canonical = new Map<string, Rule[]>();
  for (const site of inventory.sites) {
    const mine = rules.filter((r) => r.owner === site.id && own(r, site.id));
    const recorded = recordedListenerRule(site);
    const named = mine.filter(
      (r) =>
        (r.entry.stack === site.stackEntry && r.entry.logicalId === recorded) ||
        r.entry.tags[TAG_COMPONENT] === Component.listenerRule,
    );
    canonical.set(site.id, named.length > 0 ? named : mine);
  }
  for (const rule of rules) {
    const receiving = new Set(rule.targetGroups.flatMap((tg) => (into.get(tg) ?? []).map((r) => r.site)));
    for (const a of receiving) {
      for (const b of inventory.sites) {
        if (b.id === a) continue;
        const bRules = (canonical.get(b.id) ?? []).filter((r) => r !== rule);
        const overlapping = bRules.filter((r) => hostsOverlap(r.hosts, rule.hosts));
        if (overlapping.length === 0) continue;
        // B's own rule on the same listener that comes first and takes all those requests.
        const shadowed = overlapping.every(
          (r) =>
            r.listener === rule.listener && r.priority < rule.priority && r.hostOnly && covers(r.hosts, rule.hosts),
        );
        if (shadowed && rule.owner !== b.id) continue;
        findings.push({
          kind: 'network',
          from: a,
          to: b.id,
          summary: `${b.id}'s visitors (host ${overlapping[0]?.hosts.join(', ')}) are sent to ${a}'s tasks by ${rule.owner ? `${rule.owner}'s` : 'the platform'} listener rule ${rule.entry.logicalId}`,
          rules: [
            ruleRef(rule, `forward to ${rule.targetGroups.map(displayValue).join(', ')}`),
            ...overlapping.slice(0, 1).map((r) => ruleRef(r, `${b.id}'s own rule`)),
          ],
        });
      }
    }
  }
  return findings;
}

function logPaths(inventory: Inventory): Finding[] {
  const { resolver } = inventory;
  const groups = new Map<string, string>();
  for (const site of inventory.sites) {
    for (const g of site.resources.filter((r) => r.type === 'AWS::Logs::LogGroup')) {
      const name = resolver.resolveString(g.stack, { Ref: g.logicalId });
      if (name) groups.set(name, site.id);
    }
  }
  const findings: Finding[] = [];
  for (const site of inventory.sites) {
    for (const td of site.resources.filter((r) => r.type === 'AWS::ECS::TaskDefinition')) {
      for (const container of list(resolver.resolve(td.stack, td.properties.ContainerDefinitions)).map(record)) {
        const config = record(container.LogConfiguration);
        const group = record(config.Options)['awslogs-group'];
        if (config.LogDriver !== 'awslogs' || typeof group !== 'string') continue;
        const owner = groups.get(group);
        if (owner === undefined || owner === site.id) continue;
        findings.push({
          kind: 'iam',
          from: site.id,
          to: owner,
          summary: `${site.id}'s container ${String(container.Name ?? '?')} writes its logs into ${owner}'s log group ${displayValue(group)}`,
          rules: [
            {
              stack: td.stack.name,
              logicalId: td.logicalId,
              rule: `container ${String(container.Name ?? '?')} LogConfiguration awslogs-group: ${displayValue(group)}`,
            },
          ],
        });
      }
    }
  }
  return findings;
}

export function findTrafficPaths(inventory: Inventory): Finding[] {
  return [...routingPaths(inventory), ...logPaths(inventory)];
}
