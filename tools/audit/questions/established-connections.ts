/**
 * Self-assessment question 14: "Are established connections cut on quarantine?", answered per
 * site from the templates (issue 14; docs/network.md). Changing a security group's rules does
 * not interrupt connections it tracks, and every connection through a NAT gateway or an
 * interface endpoint is tracked; a network ACL change does cut them ("Adding a network ACL that
 * blocks traffic in either direction breaks existing connections": EC2 User Guide, "Security
 * group connection tracking"). So quarantine cuts a site's established connections only when:
 * - the site's tasks run only in subnets of its own (a subnet cannot be moved for one site), each
 *   associated with an ACL of its own (the association containment replaces and release restores);
 * - there is a quarantine ACL, and it admits no more than the quarantine set: out, TCP 443 to
 *   subnets holding only the CloudWatch Logs and GuardDuty data endpoints, in, their answers
 *   (1024-65535); and the load balancer's health checks (in, one port from a subnet holding no
 *   interface endpoint; out, its answers), which the contained group refuses once the shed is done.
 */
import { Component, TAG_COMPONENT } from '../../../contracts/tag-names';
import { displayValue, parseToken, type Resolved } from '../intrinsics';
import type { Inventory, ResourceEntry, SiteInventory } from '../inventory';
import type { SelfAssessmentAnswer } from '../types';
import type { AuditQuestion } from './question';

export const ESTABLISHED_CONNECTIONS_QUESTION = 'Are established connections cut on quarantine?';
export const ESTABLISHED_CONNECTIONS_NUMBER = 14;

const WATCH_SERVICES = ['.logs', '.guardduty-data'];

function list(value: Resolved): Resolved[] {
  return Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
}

function record(value: Resolved): Record<string, Resolved> {
  return value && typeof value === 'object' && !Array.isArray(value) ? value : {};
}

/** `⟦stack#id.Attr⟧` and `⟦stack#id⟧` name the same resource. */
function baseToken(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const address = parseToken(text);
  return address ? `⟦${address.stack}#${address.logicalId}⟧` : text;
}

function name(entry: ResourceEntry): string {
  return `${entry.stack.name}/${entry.logicalId}`;
}

interface AclEntry {
  readonly egress: boolean;
  readonly allow: boolean;
  readonly protocol: string;
  readonly cidr: string;
  readonly from?: number;
  readonly to?: number;
  readonly entry: ResourceEntry;
}

function entriesOf(inventory: Inventory, acl: ResourceEntry): AclEntry[] {
  return inventory
    .ofType('AWS::EC2::NetworkAclEntry')
    .filter((e) => baseToken(inventory.resolver.resolve(e.stack, e.properties.NetworkAclId)) === baseToken(acl.token))
    .map((e) => {
      const p = record(inventory.resolver.resolve(e.stack, e.properties));
      const range = record(p.PortRange as Resolved);
      return {
        egress: p.Egress === true || p.Egress === 'true',
        allow: String(p.RuleAction).toLowerCase() === 'allow',
        protocol: String(p.Protocol),
        cidr: displayValue(p.CidrBlock ?? p.Ipv6CidrBlock ?? ''),
        from: range.From === undefined ? undefined : Number(range.From),
        to: range.To === undefined ? undefined : Number(range.To),
        entry: e,
      };
    });
}

/** Subnets by CIDR, and what interface endpoints each one holds. */
function subnetsByCidr(inventory: Inventory) {
  const byCidr = new Map<string, { subnet: ResourceEntry; services: string[] }>();
  for (const subnet of inventory.ofType('AWS::EC2::Subnet')) {
    const cidr = inventory.resolver.resolveString(subnet.stack, subnet.properties.CidrBlock);
    if (cidr) byCidr.set(cidr, { subnet, services: [] });
  }
  const byToken = new Map([...byCidr.values()].map((s) => [baseToken(s.subnet.token), s]));
  for (const endpoint of inventory.ofType('AWS::EC2::VPCEndpoint')) {
    const service = String(inventory.resolver.resolveString(endpoint.stack, endpoint.properties.ServiceName) ?? '?');
    for (const id of list(inventory.resolver.resolve(endpoint.stack, endpoint.properties.SubnetIds))) {
      byToken.get(baseToken(id))?.services.push(service);
    }
  }
  return byCidr;
}

/** What is wrong with the quarantine ACL's entries (empty: it admits only what the quarantine set does). */
function quarantineAclProblems(
  inventory: Inventory,
  entries: readonly AclEntry[],
): { problems: string[]; lines: string[] } {
  const subnets = subnetsByCidr(inventory);
  const problems: string[] = [];
  const lines: string[] = [];
  for (const e of entries.filter((x) => x.allow)) {
    const where = subnets.get(e.cidr);
    const ports = e.from === undefined ? 'all ports' : `${e.from}-${e.to}`;
    const text = `${e.egress ? 'out to' : 'in from'} ${e.cidr} ${e.protocol === '6' ? 'TCP' : `protocol ${e.protocol}`} ${ports}`;
    const watch =
      where && where.services.length > 0 && where.services.every((s) => WATCH_SERVICES.some((w) => s.endsWith(w)));
    const endpointsOnly = watch && e.protocol === '6';
    const httpsOut = endpointsOnly && e.egress && e.from === 443 && e.to === 443;
    const answersIn = endpointsOnly && !e.egress && e.from === 1024 && e.to === 65535;
    const noEndpoints = where !== undefined && where.services.length === 0 && e.protocol === '6';
    const healthChecksIn = noEndpoints && !e.egress && e.from !== undefined && e.from === e.to;
    const answersOut = noEndpoints && e.egress && e.from === 1024 && e.to === 65535;
    if (httpsOut || answersIn) lines.push(`${text} (${name(where.subnet)}: ${where.services.join(', ')} only)`);
    else if (healthChecksIn || answersOut)
      lines.push(`${text} (${name(where.subnet)}: the load balancer's health checks)`);
    else problems.push(`the quarantine ACL allows ${text} (${name(e.entry)}), more than the quarantine set`);
  }
  if (!entries.some((e) => e.allow && e.egress && e.from === 443))
    problems.push('the quarantine ACL keeps no HTTPS to the Logs endpoint: a contained task would lose its logs');
  return { problems, lines };
}

function ofSite(site: SiteInventory, type: string): ResourceEntry[] {
  return site.resources.filter((r) => r.type === type && r.stack.name === site.stack);
}

function siteProblems(inventory: Inventory, site: SiteInventory): { problems: string[]; line: string } {
  const own = ofSite(site, 'AWS::EC2::Subnet').filter((s) => s.tags[TAG_COMPONENT] === Component.subnet);
  const acls = ofSite(site, 'AWS::EC2::NetworkAcl').filter((a) => a.tags[TAG_COMPONENT] === Component.networkAcl);
  const ownTokens = new Set(own.map((s) => baseToken(s.token)));
  const aclTokens = new Set(acls.map((a) => baseToken(a.token)));
  const problems: string[] = [];
  for (const service of ofSite(site, 'AWS::ECS::Service')) {
    const network = record(
      record(inventory.resolver.resolve(service.stack, service.properties.NetworkConfiguration)).AwsvpcConfiguration,
    );
    const subnets = list(network.Subnets);
    const shared = subnets.filter((s) => !ownTokens.has(baseToken(s)));
    if (subnets.length === 0 || shared.length > 0)
      problems.push(
        `its service ${service.logicalId} runs in ${shared.length ? `subnets not its own (${shared.map(displayValue).join(', ')})` : 'no subnet it names'}: a quarantine ACL there would cut its neighbours too, so containment cannot cut its established connections`,
      );
  }
  const associated = new Set(
    inventory
      .ofType('AWS::EC2::SubnetNetworkAclAssociation')
      .filter((a) => aclTokens.has(baseToken(inventory.resolver.resolve(a.stack, a.properties.NetworkAclId))))
      .map((a) => baseToken(inventory.resolver.resolve(a.stack, a.properties.SubnetId))),
  );
  const unassociated = own.filter((s) => !associated.has(baseToken(s.token)));
  if (own.length === 0) problems.push('it has no subnets of its own');
  if (acls.length === 0) problems.push('it has no network ACL of its own to swap');
  else if (unassociated.length > 0)
    problems.push(`its subnets ${unassociated.map((s) => s.logicalId).join(', ')} are not on its own ACL`);
  const cidrs = own.map((s) => displayValue(inventory.resolver.resolve(s.stack, s.properties.CidrBlock) ?? '?'));
  return {
    problems,
    line: `${site.id}: runs only in its own subnets ${cidrs.join(', ')}, each on its own ACL ${acls.map((a) => a.logicalId).join(', ')}; quarantine moves them to the quarantine ACL`,
  };
}

/** The VPC a resource names (`VpcId`), as a token that is the same from every stack. */
function vpcOf(inventory: Inventory, entry: ResourceEntry): string {
  return baseToken(inventory.resolver.resolve(entry.stack, entry.properties.VpcId));
}

/**
 * The quarantine ACLs by VPC, each checked: an ACL belongs to one VPC, so every VPC holding
 * sites (the platform's, and each cell's own: docs/network.md, "A VPC per cell") has one.
 */
function quarantineAclsByVpc(inventory: Inventory, evidence: string[]): Map<string, { ok: boolean }> {
  const byVpc = new Map<string, ResourceEntry[]>();
  for (const acl of inventory.ofType('AWS::EC2::NetworkAcl')) {
    if (acl.tags[TAG_COMPONENT] !== Component.quarantineAcl) continue;
    const vpc = vpcOf(inventory, acl);
    byVpc.set(vpc, [...(byVpc.get(vpc) ?? []), acl]);
  }
  const verdicts = new Map<string, { ok: boolean }>();
  for (const [vpc, acls] of byVpc) {
    if (acls.length > 1) {
      evidence.push(
        `✗ ${acls.length} ACLs tagged quarantine-acl in one VPC (${acls.map(name).join(', ')}): containment names one.`,
      );
      verdicts.set(vpc, { ok: false });
      continue;
    }
    const acl = acls[0] as ResourceEntry;
    const { problems, lines } = quarantineAclProblems(inventory, entriesOf(inventory, acl));
    evidence.push(
      `Quarantine ACL ${name(acl)}: allows ${lines.length ? lines.join('; ') : 'nothing'}; everything else denied.`,
    );
    evidence.push(...problems.map((p) => `✗ ${p}`));
    verdicts.set(vpc, { ok: problems.length === 0 });
  }
  if (byVpc.size === 0) evidence.push('✗ No network ACL tagged quarantine-acl: nothing to move a contained site onto.');
  return verdicts;
}

export function answerEstablishedConnections(inventory: Inventory): SelfAssessmentAnswer {
  const evidence: string[] = [];
  const quarantineByVpc = quarantineAclsByVpc(inventory, evidence);
  const failing: string[] = [];
  const passing: string[] = [];
  for (const site of inventory.sites) {
    const { problems, line } = siteProblems(inventory, site);
    const own = ofSite(site, 'AWS::EC2::Subnet').filter((s) => s.tags[TAG_COMPONENT] === Component.subnet);
    const vpcs = new Set(own.map((s) => vpcOf(inventory, s)));
    for (const vpc of vpcs) {
      const verdict = quarantineByVpc.get(vpc);
      if (!verdict) problems.push(`its VPC (${displayValue(vpc)}) has no quarantine ACL to move its subnets onto`);
      else if (!verdict.ok) problems.push(`its VPC's quarantine ACL admits more than the quarantine set`);
    }
    if (problems.length) failing.push(`✗ ${site.id}: ${problems.join('; ')}`);
    else passing.push(line);
  }
  const room = Math.max(0, 6 - failing.length);
  evidence.push(...failing, ...passing.slice(0, room));
  if (passing.length > room) evidence.push(`… and ${passing.length - room} more sites like these`);
  const yes =
    inventory.sites.length > 0 &&
    quarantineByVpc.size > 0 &&
    [...quarantineByVpc.values()].every((v) => v.ok) &&
    failing.length === 0;
  return {
    number: ESTABLISHED_CONNECTIONS_NUMBER,
    question: ESTABLISHED_CONNECTIONS_QUESTION,
    answer: yes ? 'yes' : 'no',
    evidence,
  };
}

export const establishedConnectionsQuestion: AuditQuestion = {
  number: ESTABLISHED_CONNECTIONS_NUMBER,
  text: ESTABLISHED_CONNECTIONS_QUESTION,
  answer: ({ inventory }) => answerEstablishedConnections(inventory),
};
