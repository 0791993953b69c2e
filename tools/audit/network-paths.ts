/**
 * Network paths between sites, from security-group rules (inline, standalone, across stacks)
 * and, where a site's subnets have their own network ACL, that ACL.
 *
 * A site's tasks run in the groups of its ECS service, or in another group the site owns (its
 * stack's, or tagged with it: the restore standby group); its addresses are its services'
 * subnets. A packet from site A reaches site B when one of the groups A's task is in has an
 * egress rule whose peer covers B (names a group B's task is in, or a CIDR / prefix list
 * overlapping B's subnets) and one of B's groups has an ingress rule whose peer covers A, on
 * overlapping traffic, and neither side's subnet ACL stops it. A path may also go through a shared (non-site) group G: A may
 * send to G, G may send on (to further shared groups), and the last one may send to B; the
 * audit assumes anything in G (a load balancer, a proxy) can forward. Reaching a shared group
 * through an egress rule to 0.0.0.0/0 does not count: that is the internet, and what sits
 * behind a shared internet-facing load balancer is each site's public front door.
 */
import { Component, TAG_COMPONENT } from '../../contracts/tag-names';
import {
  type AddressRange,
  type AnyRange,
  anyRangeContains,
  anyRangesOverlap,
  isDefaultRoute,
  parseCidr,
  parseIpv4Cidr,
  rangeContains,
  rangesOverlap,
} from './cidr';
import type { AssemblyStack } from './cloud-assembly';
import { displayValue, parseToken, UNRESOLVED } from './intrinsics';
import type { Inventory, ResourceEntry, SiteInventory } from './inventory';
import type { Finding, RuleReference } from './types';

interface Traffic {
  readonly protocol: string;
  readonly from: number;
  readonly to: number;
}

type Peer =
  | { readonly kind: 'group'; readonly key: string }
  | { readonly kind: 'cidr'; readonly text: string; readonly range?: AddressRange }
  | { readonly kind: 'cidr6'; readonly text: string; readonly range?: AnyRange }
  | { readonly kind: 'prefix-list'; readonly key: string; readonly ranges?: readonly AddressRange[] }
  | { readonly kind: 'none' };

interface SecurityGroupRule {
  readonly direction: 'ingress' | 'egress';
  readonly group: string;
  readonly traffic: Traffic;
  readonly peer: Peer;
  readonly ref: RuleReference;
}

interface AclEntry {
  readonly egress: boolean;
  readonly number: number;
  readonly allow: boolean;
  readonly traffic: Traffic;
  /** Undefined: an IPv6 entry or a CIDR that does not resolve. */
  readonly range?: AddressRange;
  readonly ipv6: boolean;
  readonly ref: RuleReference;
}

/** Who sends or receives: a site's tasks, or a shared group's members. */
interface Endpoint {
  readonly label: string;
  /**
   * The sets of groups a task may be in at once: each service's groups, and each other group
   * the site owns on its own (the restore standby group). A path needs both rules in one set.
   */
  readonly configurations: readonly ReadonlySet<string>[];
  /** Subnet ranges; undefined when unknown (any address). */
  readonly ranges?: readonly AddressRange[];
  /** Per subnet: its ACL entries, or undefined for a subnet on the VPC's default ACL. */
  readonly acls: readonly (readonly AclEntry[] | undefined)[];
  readonly relay: boolean;
  /**
   * Whether its tasks have IPv6 addresses (a subnet with an IPv6 CIDR block), and the ranges
   * when the template tells them (an Amazon-provided block is only known at deploy time).
   */
  readonly ipv6?: { readonly ranges?: readonly AnyRange[] };
}

interface Leg {
  readonly traffic: Traffic;
  readonly rules: readonly RuleReference[];
}

const ALL: Traffic = { protocol: 'all', from: 0, to: 65535 };
const PRIVATE_RANGES: readonly AnyRange[] = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  'fc00::/7',
].map((c) => parseCidr(c) as AnyRange);
const PROTOCOL_NAMES: Record<string, string> = {
  '-1': 'all',
  all: 'all',
  '6': 'tcp',
  '17': 'udp',
  '1': 'icmp',
  '58': 'icmpv6',
};

function trafficOf(protocol: unknown, fromPort: unknown, toPort: unknown): Traffic {
  const name = String(protocol ?? '-1').toLowerCase();
  const normalized = PROTOCOL_NAMES[name] ?? name;
  if (normalized === 'all') return ALL;
  if (normalized !== 'tcp' && normalized !== 'udp') return { protocol: normalized, from: 0, to: 65535 };
  const from = Number(fromPort);
  const to = Number(toPort);
  if (!Number.isFinite(from) || !Number.isFinite(to) || from < 0 || to < 0)
    return { protocol: normalized, from: 0, to: 65535 };
  return { protocol: normalized, from, to };
}

function overlap(a: Traffic, b: Traffic): Traffic | undefined {
  const protocol = a.protocol === 'all' ? b.protocol : b.protocol === 'all' ? a.protocol : a.protocol;
  if (a.protocol !== 'all' && b.protocol !== 'all' && a.protocol !== b.protocol) return undefined;
  const from = Math.max(a.from, b.from);
  const to = Math.min(a.to, b.to);
  return from <= to ? { protocol, from, to } : undefined;
}

function covers(outer: Traffic, inner: Traffic): boolean {
  return (
    (outer.protocol === 'all' || outer.protocol === inner.protocol) && outer.from <= inner.from && inner.to <= outer.to
  );
}

export function describeTraffic(t: Traffic): string {
  if (t.protocol === 'all') return t.from === 0 && t.to === 65535 ? 'all traffic' : `all protocols ${t.from}-${t.to}`;
  if (t.protocol !== 'tcp' && t.protocol !== 'udp') return t.protocol;
  if (t.from === 0 && t.to === 65535) return `${t.protocol} all ports`;
  return t.from === t.to ? `${t.protocol} ${t.from}` : `${t.protocol} ${t.from}-${t.to}`;
}

function describePeer(peer: Peer): string {
  switch (peer.kind) {
    case 'group':
      return `group ${displayValue(peer.key)}`;
    case 'cidr':
    case 'cidr6':
      return displayValue(peer.text);
    case 'prefix-list':
      return `prefix list ${displayValue(peer.key)}`;
    default:
      return '(no peer)';
  }
}

/** Builds the rules, groups and site endpoints of the whole assembly once. */
class NetworkModel {
  readonly egress = new Map<string, SecurityGroupRule[]>();
  readonly ingress = new Map<string, SecurityGroupRule[]>();
  readonly groupNames = new Map<string, string>();
  readonly siteEndpoints = new Map<string, Endpoint>();
  readonly relays: Endpoint[] = [];
  ruleCount = 0;

  constructor(private readonly inventory: Inventory) {
    const { resolver } = inventory;
    const groups = inventory.ofType('AWS::EC2::SecurityGroup');
    for (const g of groups) {
      this.groupNames.set(g.token, `${g.stack.name}/${g.logicalId}`);
      for (const rule of arrayOf(g.properties.SecurityGroupIngress)) this.addRule('ingress', g, g.token, rule);
      for (const rule of arrayOf(g.properties.SecurityGroupEgress)) this.addRule('egress', g, g.token, rule);
    }
    for (const [type, direction] of [
      ['AWS::EC2::SecurityGroupIngress', 'ingress'],
      ['AWS::EC2::SecurityGroupEgress', 'egress'],
    ] as const) {
      for (const r of inventory.ofType(type)) {
        const group = resolver.resolveString(r.stack, r.properties.GroupId) ?? UNRESOLVED;
        this.addRule(direction, r, group, r.properties);
      }
    }
    // A VPC security group that declares no egress rule anywhere keeps EC2's default rule:
    // all traffic to 0.0.0.0/0 (CloudFormation removes it once any egress rule is added).
    for (const g of groups) {
      if ((this.egress.get(g.token) ?? []).length > 0) continue;
      this.push(this.egress, g.token, {
        direction: 'egress',
        group: g.token,
        traffic: ALL,
        peer: { kind: 'cidr', text: '0.0.0.0/0', range: parseIpv4Cidr('0.0.0.0/0') as AddressRange },
        ref: {
          stack: g.stack.name,
          logicalId: g.logicalId,
          rule: 'egress all traffic to 0.0.0.0/0 (EC2 default: the group declares no egress rule)',
        },
      });
    }

    const siteGroups = new Set<string>();
    for (const site of inventory.sites) {
      const endpoint = this.siteEndpoint(site);
      this.siteEndpoints.set(site.id, endpoint);
      for (const configuration of endpoint.configurations) for (const g of configuration) siteGroups.add(g);
    }
    for (const g of groups) {
      if (siteGroups.has(g.token) || g.tags[TAG_COMPONENT] === Component.siteSecurityGroup) continue;
      this.relays.push({
        label: `${g.stack.name}/${g.logicalId}`,
        configurations: [new Set([g.token])],
        acls: [],
        relay: true,
      });
    }
  }

  private vpcRanges: AnyRange[] | undefined;

  /**
   * Whether a range lies in private address space (RFC 1918, 100.64.0.0/10, IPv6 unique-local
   * fc00::/7, or a VPC's own CIDR blocks) and overlaps a VPC of the assembly (when it has one).
   */
  private internal(range: AddressRange | AnyRange | undefined): boolean {
    if (!range) return true;
    const r: AnyRange =
      'family' in range ? range : { family: 4, start: BigInt(range.start), end: BigInt(range.end), cidr: range.cidr };
    this.vpcRanges ??= [...this.inventory.ofType('AWS::EC2::VPC'), ...this.inventory.ofType('AWS::EC2::VPCCidrBlock')]
      .map((v) => parseCidr(this.inventory.resolver.resolveString(v.stack, v.properties.CidrBlock)))
      .filter((x): x is AnyRange => x !== undefined);
    const privateSpace = [...PRIVATE_RANGES, ...this.vpcRanges];
    if (!privateSpace.some((p) => anyRangeContains(p, r))) return false;
    const vpcs = this.vpcRanges.filter((v) => v.family === r.family);
    return vpcs.length === 0 || vpcs.some((v) => anyRangesOverlap(v, r));
  }

  private push(map: Map<string, SecurityGroupRule[]>, key: string, rule: SecurityGroupRule) {
    const list = map.get(key);
    if (list) list.push(rule);
    else map.set(key, [rule]);
  }

  private addRule(direction: 'ingress' | 'egress', holder: ResourceEntry, group: string, raw: unknown) {
    if (!raw || typeof raw !== 'object') return;
    const { resolver } = this.inventory;
    const stack = holder.stack;
    const props = raw as Record<string, unknown>;
    const peer = this.peerOf(stack, props, direction);
    const traffic = trafficOf(
      resolver.resolve(stack, props.IpProtocol),
      resolver.resolve(stack, props.FromPort),
      resolver.resolve(stack, props.ToPort),
    );
    const description = resolver.resolveString(stack, props.Description);
    const onGroup = holder.type === 'AWS::EC2::SecurityGroup' ? '' : ` on group ${displayValue(group)}`;
    const rule: SecurityGroupRule = {
      direction,
      group,
      traffic,
      peer,
      ref: {
        stack: stack.name,
        logicalId: holder.logicalId,
        rule: `${direction} ${describeTraffic(traffic)} ${direction === 'ingress' ? 'from' : 'to'} ${describePeer(peer)}${onGroup}${description ? ` "${description}"` : ''}`,
      },
    };
    this.ruleCount++;
    this.push(direction === 'ingress' ? this.ingress : this.egress, group, rule);
  }

  private peerOf(stack: AssemblyStack, props: Record<string, unknown>, direction: 'ingress' | 'egress'): Peer {
    const { resolver } = this.inventory;
    const groupKey = direction === 'ingress' ? props.SourceSecurityGroupId : props.DestinationSecurityGroupId;
    if (groupKey !== undefined) return { kind: 'group', key: resolver.resolveString(stack, groupKey) ?? UNRESOLVED };
    if (direction === 'ingress' && props.SourceSecurityGroupName !== undefined) {
      return { kind: 'group', key: resolver.resolveString(stack, props.SourceSecurityGroupName) ?? UNRESOLVED };
    }
    if (props.CidrIp !== undefined) {
      const text = resolver.resolveString(stack, props.CidrIp) ?? UNRESOLVED;
      const range = parseIpv4Cidr(text);
      return range ? { kind: 'cidr', text, range } : { kind: 'cidr', text };
    }
    if (props.CidrIpv6 !== undefined) {
      const text = resolver.resolveString(stack, props.CidrIpv6) ?? UNRESOLVED;
      const range = parseCidr(text);
      return range?.family === 6 ? { kind: 'cidr6', text, range } : { kind: 'cidr6', text };
    }
    const list = direction === 'ingress' ? props.SourcePrefixListId : props.DestinationPrefixListId;
    if (list !== undefined) {
      const key = resolver.resolveString(stack, list) ?? UNRESOLVED;
      const ranges = this.prefixListRanges(key);
      return ranges ? { kind: 'prefix-list', key, ranges } : { kind: 'prefix-list', key };
    }
    return { kind: 'none' };
  }

  private prefixListRanges(key: string): AddressRange[] | undefined {
    const address = parseToken(key);
    if (!address) return undefined;
    const entry = this.inventory.entry(address.stack, address.logicalId);
    if (!entry || entry.type !== 'AWS::EC2::PrefixList') return undefined;
    return arrayOf(entry.properties.Entries).flatMap((e) => {
      const range = parseIpv4Cidr(this.inventory.resolver.resolveString(entry.stack, (e as { Cidr?: unknown }).Cidr));
      return range ? [range] : [];
    });
  }

  private siteEndpoint(site: SiteInventory): Endpoint {
    const { resolver } = this.inventory;
    const configurations: Set<string>[] = [];
    const subnets: string[] = [];
    for (const service of site.resources.filter((r) => r.type === 'AWS::ECS::Service')) {
      const config = resolver.resolve(service.stack, service.properties.NetworkConfiguration);
      const awsvpc = (config as { AwsvpcConfiguration?: { SecurityGroups?: unknown; Subnets?: unknown } } | undefined)
        ?.AwsvpcConfiguration;
      configurations.push(new Set(stringsOf(awsvpc?.SecurityGroups)));
      subnets.push(...stringsOf(awsvpc?.Subnets));
    }
    // Every other group the site owns is one its tasks may run in on its own (a restore moves
    // them to the standby group, for instance).
    const used = new Set(configurations.flatMap((c) => [...c]));
    for (const group of site.resources.filter((r) => r.type === 'AWS::EC2::SecurityGroup')) {
      if (!used.has(group.token)) configurations.push(new Set([group.token]));
    }
    const ranges: AddressRange[] = [];
    let unknown = subnets.length === 0;
    const acls: (AclEntry[] | undefined)[] = [];
    const v6: AnyRange[] = [];
    let v6Capable = false;
    let v6Unknown = false;
    for (const subnet of subnets) {
      const address = parseToken(subnet);
      const entry = address && this.inventory.entry(address.stack, address.logicalId);
      const isSubnet = entry && entry.type === 'AWS::EC2::Subnet';
      const range = isSubnet
        ? parseIpv4Cidr(resolver.resolveString(entry.stack, entry.properties.CidrBlock))
        : undefined;
      if (range) ranges.push(range);
      else unknown = true;
      if (isSubnet) {
        // "Ipv6CidrBlock: The IPv6 CIDR block"; a task in awsvpc mode gets an IPv6 address in a dual-stack subnet.
        const p = entry.properties;
        if (
          p.Ipv6CidrBlock !== undefined ||
          p.Ipv6Native !== undefined ||
          p.AssignIpv6AddressOnCreation !== undefined
        ) {
          const flag = (v: unknown) =>
            resolver.resolve(entry.stack, v) === true || resolver.resolve(entry.stack, v) === 'true';
          if (p.Ipv6CidrBlock !== undefined || flag(p.Ipv6Native) || flag(p.AssignIpv6AddressOnCreation)) {
            v6Capable = true;
            const block = parseCidr(resolver.resolveString(entry.stack, p.Ipv6CidrBlock));
            if (block?.family === 6) v6.push(block);
            else v6Unknown = true;
          }
        }
      }
      acls.push(this.aclOfSubnet(subnet));
    }
    return {
      label: site.id,
      configurations,
      ...(unknown ? {} : { ranges }),
      ...(v6Capable ? { ipv6: v6Unknown ? {} : { ranges: v6 } } : {}),
      acls,
      relay: false,
    };
  }

  private aclOfSubnet(subnet: string): AclEntry[] | undefined {
    const { resolver } = this.inventory;
    const association = this.inventory
      .ofType('AWS::EC2::SubnetNetworkAclAssociation')
      .find((a) => resolver.resolveString(a.stack, a.properties.SubnetId) === subnet);
    if (!association) return undefined;
    const acl = resolver.resolveString(association.stack, association.properties.NetworkAclId);
    return this.inventory
      .ofType('AWS::EC2::NetworkAclEntry')
      .filter((e) => resolver.resolveString(e.stack, e.properties.NetworkAclId) === acl)
      .map((e) => {
        const p = e.properties;
        const egress = resolver.resolve(e.stack, p.Egress) === true || resolver.resolve(e.stack, p.Egress) === 'true';
        const portRange = resolver.resolve(e.stack, p.PortRange) as { From?: unknown; To?: unknown } | undefined;
        const traffic = trafficOf(resolver.resolve(e.stack, p.Protocol), portRange?.From ?? -1, portRange?.To ?? -1);
        const cidr = resolver.resolveString(e.stack, p.CidrBlock);
        const range = parseIpv4Cidr(cidr);
        const allow = String(resolver.resolve(e.stack, p.RuleAction)).toLowerCase() === 'allow';
        const number = Number(resolver.resolve(e.stack, p.RuleNumber));
        const ipv6 = p.Ipv6CidrBlock !== undefined;
        return {
          egress,
          number,
          allow,
          traffic,
          ...(range ? { range } : {}),
          ipv6,
          ref: {
            stack: e.stack.name,
            logicalId: e.logicalId,
            rule: `network ACL ${egress ? 'egress' : 'ingress'} #${number} ${allow ? 'allow' : 'deny'} ${describeTraffic(traffic)} ${egress ? 'to' : 'from'} ${displayValue(cidr ?? resolver.resolveString(e.stack, p.Ipv6CidrBlock) ?? UNRESOLVED)}`,
          },
        };
      })
      .sort((a, b) => a.number - b.number);
  }

  /** Whether a rule's peer takes in tasks of `endpoint` in `groups` (conservatively when unknown). */
  private peerCovers(rule: SecurityGroupRule, endpoint: Endpoint, groups: ReadonlySet<string>): boolean {
    const peer = rule.peer;
    switch (peer.kind) {
      case 'group':
        // A peer that cannot be evaluated offline might be any group: assume the worst.
        return groups.has(peer.key) || peer.key.includes(UNRESOLVED);
      case 'cidr':
        if (!peer.range) return true;
        // Into a shared group, a range counts only when it is aimed inside the VPC: 0.0.0.0/0 or
        // any range with public addresses reaches a shared load balancer's public front door,
        // as any visitor does (docs/audit.md).
        if (endpoint.relay) return rule.direction === 'egress' ? this.internal(peer.range) : true;
        return !endpoint.ranges || endpoint.ranges.some((r) => rangesOverlap(r, peer.range as AddressRange));
      case 'cidr6':
        // IPv6 reaches only tasks that have IPv6 addresses; into a shared group, only a
        // unique-local range (fc00::/7) is aimed inside the VPC.
        if (endpoint.relay) return rule.direction === 'egress' ? this.internal(peer.range) : true;
        if (!endpoint.ipv6) return false;
        if (!peer.range || !endpoint.ipv6.ranges) return true;
        return endpoint.ipv6.ranges.some((r) => anyRangesOverlap(r, peer.range as AnyRange));
      case 'prefix-list':
        // A prefix list that names no AWS::EC2::PrefixList of the assembly (a lookup of the
        // region's S3 list, a literal pl- id) is taken for an AWS-managed one: public service
        // ranges. One that cannot be evaluated at all might be anything.
        if (!peer.ranges) return peer.key.includes(UNRESOLVED);
        if (endpoint.relay || !endpoint.ranges) return peer.ranges.length > 0;
        return endpoint.ranges.some((r) => (peer.ranges ?? []).some((p) => rangesOverlap(r, p)));
      default:
        return false;
    }
  }

  /** The ACL entry that lets the traffic through, `null` when no ACL applies, or false. */
  private aclVerdict(
    acls: readonly (readonly AclEntry[] | undefined)[],
    egress: boolean,
    peer: readonly AddressRange[] | undefined,
    traffic: Traffic,
    family: 4 | 6 = 4,
  ): RuleReference | null | false {
    if (acls.length === 0 || acls.some((a) => a === undefined)) return null;
    for (const entries of acls) {
      for (const entry of entries ?? []) {
        // An IPv6 packet is matched by the IPv6 entries only, an IPv4 one by the IPv4 entries.
        if (entry.egress !== egress || entry.ipv6 !== (family === 6)) continue;
        if (!overlap(entry.traffic, traffic)) continue;
        const range = entry.range;
        if (range && peer && !peer.some((p) => rangesOverlap(p, range))) continue;
        if (entry.allow) return entry.ref;
        const decisive =
          covers(entry.traffic, traffic) &&
          range !== undefined &&
          (isDefaultRoute(range) || (peer !== undefined && peer.every((p) => rangeContains(range, p))));
        if (decisive) break;
      }
    }
    return false;
  }

  /** Every way `src` may open a connection to `dst` in one hop. */
  legs(src: Endpoint, dst: Endpoint): Leg[] {
    const found: Leg[] = [];
    const seen = new Set<string>();
    for (const from of src.configurations) {
      for (const to of dst.configurations) {
        for (const group of from) {
          for (const out of this.egress.get(group) ?? []) {
            if (!this.peerCovers(out, dst, to)) continue;
            for (const dstGroup of to) {
              for (const inbound of this.ingress.get(dstGroup) ?? []) {
                const traffic = overlap(out.traffic, inbound.traffic);
                if (!traffic || !this.peerCovers(inbound, src, from)) continue;
                const kinds = [out.peer.kind, inbound.peer.kind];
                // One packet is of one family: an IPv6 rule and an IPv4 range never pass the same one.
                if (kinds.includes('cidr6') && (kinds.includes('cidr') || kinds.includes('prefix-list'))) continue;
                const family = kinds.includes('cidr6') ? 6 : 4;
                const leaving = this.aclVerdict(src.acls, true, family === 4 ? dst.ranges : undefined, traffic, family);
                if (leaving === false) continue;
                const arriving = this.aclVerdict(
                  dst.acls,
                  false,
                  family === 4 ? src.ranges : undefined,
                  traffic,
                  family,
                );
                if (arriving === false) continue;
                const rules = [out.ref, inbound.ref];
                if (leaving) rules.push(leaving);
                if (arriving) rules.push(arriving);
                const key = rules.map((r) => `${r.stack}/${r.logicalId}/${r.rule}`).join('|');
                if (seen.has(key)) continue;
                seen.add(key);
                found.push({ traffic, rules });
              }
            }
          }
        }
      }
    }
    return found;
  }
}

function arrayOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

function stringsOf(value: unknown): string[] {
  return arrayOf(value).filter((v): v is string => typeof v === 'string');
}

export interface NetworkAnalysis {
  readonly findings: Finding[];
  readonly securityGroups: number;
  readonly rules: number;
}

/** Network paths between every ordered pair of sites. */
export function findNetworkPaths(inventory: Inventory): NetworkAnalysis {
  const model = new NetworkModel(inventory);
  const findings: Finding[] = [];
  const sites = inventory.sites;

  // Shared groups reachable from each shared group (breadth first, with the legs taken).
  const relayLegs = new Map<Endpoint, { to: Endpoint; leg: Leg }[]>();
  for (const relay of model.relays) {
    relayLegs.set(
      relay,
      model.relays
        .filter((r) => r !== relay)
        .flatMap((to) =>
          model
            .legs(relay, to)
            .slice(0, 1)
            .map((leg) => ({ to, leg })),
        ),
    );
  }
  const relayToSite = new Map<Endpoint, Map<string, Leg>>();
  for (const relay of model.relays) {
    const reach = new Map<string, Leg>();
    for (const site of sites) {
      const endpoint = model.siteEndpoints.get(site.id) as Endpoint;
      const [leg] = model.legs(relay, endpoint);
      if (leg) reach.set(site.id, leg);
    }
    if (reach.size > 0) relayToSite.set(relay, reach);
  }

  for (const a of sites) {
    const from = model.siteEndpoints.get(a.id) as Endpoint;
    if (from.configurations.every((c) => c.size === 0)) continue;
    for (const b of sites) {
      if (b.id === a.id) continue;
      const to = model.siteEndpoints.get(b.id) as Endpoint;
      for (const leg of model.legs(from, to)) {
        findings.push({
          kind: 'network',
          from: a.id,
          to: b.id,
          summary: `${a.id} may connect to ${b.id} on ${describeTraffic(leg.traffic)} (${leg.rules.length > 2 ? 'security groups and network ACLs' : 'security groups'} allow it)`,
          rules: leg.rules,
        });
      }
    }
    if (relayToSite.size === 0) continue;
    // Paths through shared groups: breadth first from the groups A may send to.
    const chains = new Map<Endpoint, { legs: Leg[]; via: string[] }>();
    const queue: Endpoint[] = [];
    for (const relay of model.relays) {
      const [leg] = model.legs(from, relay);
      if (leg) {
        chains.set(relay, { legs: [leg], via: [relay.label] });
        queue.push(relay);
      }
    }
    while (queue.length > 0) {
      const relay = queue.shift() as Endpoint;
      const chain = chains.get(relay) as { legs: Leg[]; via: string[] };
      for (const { to, leg } of relayLegs.get(relay) ?? []) {
        if (chains.has(to)) continue;
        chains.set(to, { legs: [...chain.legs, leg], via: [...chain.via, to.label] });
        queue.push(to);
      }
    }
    for (const [relay, chain] of chains) {
      for (const [siteId, last] of relayToSite.get(relay) ?? []) {
        if (siteId === a.id) continue;
        const hops = [...chain.legs, last];
        findings.push({
          kind: 'network',
          from: a.id,
          to: siteId,
          summary: `${a.id} may reach ${siteId} through shared group${chain.via.length > 1 ? 's' : ''} ${chain.via.join(' → ')} (${hops.map((h) => describeTraffic(h.traffic)).join(', then ')})`,
          rules: hops.flatMap((h) => h.rules),
        });
      }
    }
  }
  return { findings, securityGroups: inventory.ofType('AWS::EC2::SecurityGroup').length, rules: model.ruleCount };
}
