import { cidrContains } from '../util/cidr';
import type { Ec2Model } from './ec2-model';
import {
  type Endpoint,
  EPHEMERAL_PORT,
  indexRules,
  networkAclAllows,
  type RuleIndex,
  securityGroupsAllow,
} from './reachability';
import type { FlowRecord, SgRuleRecord } from './types';

/*
 * Connection tracking, as the EC2 User Guide documents it ("Security group connection tracking",
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/security-group-connection-tracking.html):
 *
 *   "When you change a security group rule, its tracked connections are not immediately
 *   interrupted. The security group continues to allow packets until existing connections time
 *   out. To ensure that traffic is immediately interrupted, or that all traffic is subject to
 *   firewall rules regardless of the tracking state, you can use a network ACL for your subnet.
 *   Network ACLs are stateless and therefore do not automatically allow response traffic. Adding
 *   a network ACL that blocks traffic in either direction breaks existing connections."
 *
 * Untracked flows (same page, "Untracked connections"): a flow is not tracked when the rule
 * allowing it admits all traffic (0.0.0.0/0) and a rule in the other direction admits all
 * response traffic (0.0.0.0/0, all ports); "Untracked traffic flows are immediately interrupted
 * if the rule that enables the flow is removed or modified."
 *
 * Always tracked (same page, "Automatically tracked connections"): connections through a NAT
 * gateway and through AWS PrivateLink (interface VPC endpoints), among others, are tracked even
 * when the groups' rules would leave them untracked.
 *
 * The model rule that follows:
 * - A flow is opened (by a test) only if, at that moment, the source's egress rules, the
 *   destination's ingress rules (when it is in the VPC) and the network ACLs of both subnets in
 *   both directions (the answers to an ephemeral port) admit it; otherwise it is recorded as
 *   refused (what a flow log records as REJECT).
 * - After every change of security group rules or of an interface's groups, established flows
 *   that are tracked stay established; untracked ones are checked against the groups again and
 *   end if no longer allowed.
 * - After every change of a subnet's ACL association, every established flow with an end in
 *   that subnet is checked against the ACLs again and ends if any packet of it, either way, is
 *   denied.
 * - A flow ends when either end's interface goes away (the task stopped).
 * Connection timeouts (idle tracked flows expiring) are not modelled: a flow lives until cut.
 */

export interface OpenFlowInput {
  /** The interface opening the connection (a task's). */
  sourceEniId: string;
  destinationIp: string;
  port: number;
  /** Default: an interface VPC endpoint's interface when the address is one, a NAT gateway for
   *  an address outside the VPC, else direct. */
  via?: FlowRecord['via'];
  label?: string;
}

/** Where a destination address is: an interface of the VPC (with its groups) or outside it. */
function destinationOf(ec2: Ec2Model, vpcId: string, ip: string) {
  const eni = ec2.interfaceByIp(ip, vpcId);
  const vpc = ec2.state.vpcs[vpcId];
  const inVpc = vpc ? cidrContains(vpc.CidrBlock, ip) : false;
  return { eni, inVpc };
}

function isAllTraffic(rule: SgRuleRecord): boolean {
  return (
    rule.CidrIpv4 === '0.0.0.0/0' &&
    (rule.IpProtocol === '-1' || (rule.IpProtocol === 'tcp' && rule.FromPort <= 0 && rule.ToPort >= 65535))
  );
}

/**
 * Whether an interface's groups leave a flow untracked: a rule admitting all traffic from
 * anywhere in one direction and one admitting all responses (all ports) in the other.
 */
function groupsLeaveUntracked(groups: readonly string[], index: RuleIndex): boolean {
  const rules = groups.flatMap((g) => index.get(g) ?? []);
  return rules.some((r) => r.IsEgress && isAllTraffic(r)) && rules.some((r) => !r.IsEgress && isAllTraffic(r));
}

/** Why the security groups refuse the flow now, or undefined. */
function securityGroupVerdict(ec2: Ec2Model, flow: FlowRecord, index: RuleIndex): string | undefined {
  const source = ec2.state.networkInterfaces[flow.sourceEniId];
  if (!source) return `interface ${flow.sourceEniId} is gone`;
  const destinationEni = ec2.interfaceByIp(flow.destinationIp, source.VpcId);
  const to: Endpoint = {
    ip: flow.destinationIp,
    subnetId: destinationEni?.SubnetId ?? '',
    groups: destinationEni?.Groups ?? [],
  };
  const from: Endpoint = { ip: flow.sourceIp, subnetId: flow.sourceSubnetId, groups: source.Groups };
  if (!securityGroupsAllow(ec2, source.Groups, true, to, flow.port, index)) {
    return `security group: egress from ${flow.sourceIp} to ${flow.destinationIp}:${flow.port} not allowed`;
  }
  if (destinationEni && !securityGroupsAllow(ec2, destinationEni.Groups, false, from, flow.port, index)) {
    return `security group: ingress to ${flow.destinationIp}:${flow.port} from ${flow.sourceIp} not allowed`;
  }
  return undefined;
}

/** Why the network ACLs drop a packet of the flow (either way) now, or undefined. */
function networkAclVerdict(ec2: Ec2Model, flow: FlowRecord): string | undefined {
  const checks: Array<[string, boolean, string, number]> = [
    [flow.sourceSubnetId, true, flow.destinationIp, flow.port],
    [flow.sourceSubnetId, false, flow.destinationIp, EPHEMERAL_PORT],
  ];
  if (flow.destinationSubnetId && flow.destinationSubnetId !== flow.sourceSubnetId) {
    checks.push(
      [flow.destinationSubnetId, false, flow.sourceIp, flow.port],
      [flow.destinationSubnetId, true, flow.sourceIp, EPHEMERAL_PORT],
    );
  }
  for (const [subnet, egress, peer, port] of checks) {
    if (!networkAclAllows(ec2, subnet, egress, peer, port)) {
      const acl = ec2.aclOf(subnet)?.NetworkAclId ?? 'no ACL';
      return `network ACL ${acl} of ${subnet} denies ${egress ? 'outbound' : 'inbound'} ${peer}:${port}`;
    }
  }
  return undefined;
}

/**
 * Opens a TCP connection from a task's interface. Answers the flow record: `established`, or
 * `ended` at once with `endedBy` saying what refused it (a REJECT in flow-log terms).
 */
export function openFlow(ec2: Ec2Model, input: OpenFlowInput): FlowRecord {
  const source = ec2.state.networkInterfaces[input.sourceEniId];
  if (!source) throw new Error(`aws-model: no network interface ${input.sourceEniId}`);
  const { eni: destinationEni, inVpc } = destinationOf(ec2, source.VpcId, input.destinationIp);
  const via: FlowRecord['via'] =
    input.via ??
    (destinationEni?.InterfaceType === 'vpc_endpoint' ? 'interface-endpoint' : inVpc ? 'direct' : 'nat-gateway');
  const index = indexRules(ec2);
  const alwaysTracked = via === 'nat-gateway' || via === 'interface-endpoint';
  const untracked =
    !alwaysTracked &&
    (groupsLeaveUntracked(source.Groups, index) ||
      (destinationEni !== undefined && groupsLeaveUntracked(destinationEni.Groups, index)));
  const flow: FlowRecord = {
    FlowId: ec2.model.ids.ec2('flow'),
    sourceEniId: source.NetworkInterfaceId,
    sourceIp: source.PrivateIpAddress,
    sourceSubnetId: source.SubnetId,
    destinationIp: input.destinationIp,
    destinationSubnetId: destinationEni?.SubnetId,
    port: input.port,
    via,
    tracked: !untracked,
    state: 'established',
    label: input.label,
  };
  const refused = securityGroupVerdict(ec2, flow, index) ?? networkAclVerdict(ec2, flow);
  if (refused) {
    flow.state = 'refused';
    flow.endedBy = refused;
  }
  ec2.state.flows[flow.FlowId] = flow;
  return flow;
}

/** After security group rules or an interface's groups changed: untracked flows are checked again. */
export function afterSecurityGroupChange(ec2: Ec2Model): void {
  const index = indexRules(ec2);
  for (const flow of Object.values(ec2.state.flows)) {
    if (flow.state !== 'established' || flow.tracked) continue;
    const why = securityGroupVerdict(ec2, flow, index);
    if (why) end(ec2, flow, why);
  }
}

/** After a subnet's ACL association changed: every established flow with an end there is checked again. */
export function afterAclChange(ec2: Ec2Model, subnetIds: readonly string[]): void {
  for (const flow of Object.values(ec2.state.flows)) {
    if (flow.state !== 'established') continue;
    if (!subnetIds.includes(flow.sourceSubnetId) && !subnetIds.includes(flow.destinationSubnetId ?? '')) continue;
    const why = networkAclVerdict(ec2, flow);
    if (why) end(ec2, flow, why);
  }
}

/** An interface went away (its task stopped): its flows end. */
export function afterInterfaceDeleted(ec2: Ec2Model, eniId: string, ip: string): void {
  for (const flow of Object.values(ec2.state.flows)) {
    if (flow.state !== 'established') continue;
    if (flow.sourceEniId === eniId || flow.destinationIp === ip) end(ec2, flow, `interface ${eniId} deleted`);
  }
}

function end(ec2: Ec2Model, flow: FlowRecord, why: string): void {
  flow.state = 'ended';
  flow.endedBy = why;
  ec2.onFlowEnded?.(flow);
}
