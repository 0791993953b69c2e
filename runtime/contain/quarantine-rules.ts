import type { IpPermission, SecurityGroup } from '@aws-sdk/client-ec2';

/**
 * The quarantine rule set and how to get there from a group's current rules. Pure: no AWS.
 * Quarantine allows nothing in and only HTTPS out to the CloudWatch Logs endpoint's group,
 * so the contained task's logs keep flowing while nothing else does.
 */

export const QUARANTINE_LOGS_DESCRIPTION = 'Bulkhead quarantine: CloudWatch Logs endpoint only';

/**
 * Rules containment rewrote instead of revoking (see quarantine-group.ts): each points at a
 * peer that is nobody, or at the Logs endpoint's group, on an unused port, so they belong to
 * the quarantine, until the tidy-up revokes them.
 */
export const INTERIM_DESCRIPTION = 'Bulkhead quarantine (interim): CloudWatch Logs endpoint group only';

export function isInterimRule(p: IpPermission): boolean {
  const peers = [
    ...(p.UserIdGroupPairs ?? []),
    ...(p.IpRanges ?? []),
    ...(p.Ipv6Ranges ?? []),
    ...(p.PrefixListIds ?? []),
  ];
  return peers.some((peer) => peer.Description === INTERIM_DESCRIPTION);
}

export function quarantineEgress(logsEndpointGroupId: string): IpPermission {
  return {
    IpProtocol: 'tcp',
    FromPort: 443,
    ToPort: 443,
    UserIdGroupPairs: [{ GroupId: logsEndpointGroupId, Description: QUARANTINE_LOGS_DESCRIPTION }],
  };
}

/** Splits permissions so each names exactly one peer (what revoke and compare need). */
export function atomicPermissions(permissions: readonly IpPermission[] | undefined): IpPermission[] {
  const out: IpPermission[] = [];
  for (const p of permissions ?? []) {
    const base = { IpProtocol: p.IpProtocol, FromPort: p.FromPort, ToPort: p.ToPort };
    for (const r of p.IpRanges ?? []) out.push({ ...base, IpRanges: [r] });
    for (const r of p.Ipv6Ranges ?? []) out.push({ ...base, Ipv6Ranges: [r] });
    for (const r of p.PrefixListIds ?? []) out.push({ ...base, PrefixListIds: [r] });
    for (const r of p.UserIdGroupPairs ?? []) out.push({ ...base, UserIdGroupPairs: [r] });
  }
  return out;
}

/** A permission as a comparable key: protocol, ports and peer, without descriptions. */
export function permissionKey(p: IpPermission): string {
  const peer =
    p.IpRanges?.[0]?.CidrIp ??
    p.Ipv6Ranges?.[0]?.CidrIpv6 ??
    p.PrefixListIds?.[0]?.PrefixListId ??
    p.UserIdGroupPairs?.[0]?.GroupId ??
    '?';
  return `${p.IpProtocol}:${p.FromPort ?? ''}-${p.ToPort ?? ''}:${peer}`;
}

/** The same permission without descriptions (revoke matches on protocol, ports and peer). */
function withoutDescriptions(p: IpPermission): IpPermission {
  return {
    IpProtocol: p.IpProtocol,
    FromPort: p.FromPort,
    ToPort: p.ToPort,
    ...(p.IpRanges ? { IpRanges: p.IpRanges.map((r) => ({ CidrIp: r.CidrIp })) } : {}),
    ...(p.Ipv6Ranges ? { Ipv6Ranges: p.Ipv6Ranges.map((r) => ({ CidrIpv6: r.CidrIpv6 })) } : {}),
    ...(p.PrefixListIds ? { PrefixListIds: p.PrefixListIds.map((r) => ({ PrefixListId: r.PrefixListId })) } : {}),
    ...(p.UserIdGroupPairs ? { UserIdGroupPairs: p.UserIdGroupPairs.map((r) => ({ GroupId: r.GroupId })) } : {}),
  };
}

export interface QuarantinePlan {
  readonly revokeIngress: IpPermission[];
  readonly revokeEgress: IpPermission[];
  readonly authorizeEgress: IpPermission[];
}

/** The calls that turn a group's current rules into the quarantine set (none if already there). */
export function planQuarantine(group: SecurityGroup, logsEndpointGroupId: string): QuarantinePlan {
  const logsKey = permissionKey(atomicPermissions([quarantineEgress(logsEndpointGroupId)])[0] as IpPermission);
  const egress = atomicPermissions(group.IpPermissionsEgress);
  const keepsLogs = egress.some((p) => permissionKey(p) === logsKey);
  return {
    revokeIngress: atomicPermissions(group.IpPermissions).map(withoutDescriptions),
    revokeEgress: egress.filter((p) => permissionKey(p) !== logsKey).map(withoutDescriptions),
    authorizeEgress: keepsLogs ? [] : [quarantineEgress(logsEndpointGroupId)],
  };
}
