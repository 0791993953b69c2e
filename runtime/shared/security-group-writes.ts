import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  type EC2Client,
  type IpPermission,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
} from '@aws-sdk/client-ec2';
import { atomicPermissions, permissionKey } from '../contain/quarantine-rules';

/**
 * Security-group rule writes that hold under retries. AuthorizeSecurityGroupIngress/Egress
 * and RevokeSecurityGroupIngress/Egress take no client token (the EC2 API reference's
 * "Ensuring idempotency" lists the actions that do; these are not among them), so when a
 * response is lost after EC2 made the change, the retry (the SDK's, or ours) is refused:
 * - authorize: `InvalidPermission.Duplicate` (EC2 API reference, "Error codes": the rule
 *   already exists), and nothing is added, the request being all or nothing;
 * - revoke: "For a non-default VPC, if the values you specify do not match the existing
 *   rule's values, an InvalidPermission.NotFound client error is returned, and no rules are
 *   revoked" (RevokeSecurityGroupIngress), and by rule id `InvalidSecurityGroupRuleId.NotFound`.
 * Such a refusal is not taken on trust: the group is read ("Amazon Web Services recommends
 * that you describe the security group to verify that the rules were removed", ibid.), and
 * what is still missing (or still there) is written again; only then is it done.
 */

export type Direction = 'ingress' | 'egress';

const DUPLICATE = 'InvalidPermission.Duplicate';
const NOT_FOUND = new Set(['InvalidPermission.NotFound', 'InvalidSecurityGroupRuleId.NotFound']);

const errorName = (error: unknown) => (error as { name?: string } | undefined)?.name ?? '';

async function sendAuthorize(ec2: EC2Client, groupId: string, direction: Direction, permissions: IpPermission[]) {
  const input = { GroupId: groupId, IpPermissions: permissions };
  if (direction === 'ingress') await ec2.send(new AuthorizeSecurityGroupIngressCommand(input));
  else await ec2.send(new AuthorizeSecurityGroupEgressCommand(input));
}

async function sendRevoke(
  ec2: EC2Client,
  groupId: string,
  direction: Direction,
  what: { readonly permissions: IpPermission[] } | { readonly ruleIds: string[] },
) {
  const input =
    'ruleIds' in what
      ? { GroupId: groupId, SecurityGroupRuleIds: what.ruleIds }
      : { GroupId: groupId, IpPermissions: what.permissions };
  if (direction === 'ingress') await ec2.send(new RevokeSecurityGroupIngressCommand(input));
  else await ec2.send(new RevokeSecurityGroupEgressCommand(input));
}

/** The group's rules in one direction, as comparable keys (protocol, ports, peer). */
async function presentKeys(ec2: EC2Client, groupId: string, direction: Direction): Promise<Set<string>> {
  const group = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }))).SecurityGroups?.[0];
  const permissions = direction === 'ingress' ? group?.IpPermissions : group?.IpPermissionsEgress;
  return new Set(atomicPermissions(permissions).map(permissionKey));
}

/**
 * Adds rules to a group; done when every one of them is there. A duplicate refusal (a lost
 * response's retry, or a rule someone else added) is checked against the group, and only
 * what is missing is added again.
 */
export async function authorizeRules(
  ec2: EC2Client,
  groupId: string,
  direction: Direction,
  permissions: IpPermission[],
): Promise<'authorized' | 'already-there'> {
  if (permissions.length === 0) return 'already-there';
  try {
    await sendAuthorize(ec2, groupId, direction, permissions);
    return 'authorized';
  } catch (error) {
    if (errorName(error) !== DUPLICATE) throw error;
    const present = await presentKeys(ec2, groupId, direction);
    const missing = atomicPermissions(permissions).filter((p) => !present.has(permissionKey(p)));
    if (missing.length === 0) return 'already-there';
    await sendAuthorize(ec2, groupId, direction, missing);
    return 'authorized';
  }
}

/**
 * Takes rules out of a group (by their properties, or by rule id); done when none of them is
 * there. A not-found refusal (a lost response's retry, or a rule someone else removed) is
 * checked against the group, and what is still there is revoked again, by rule id.
 */
export async function revokeRules(
  ec2: EC2Client,
  groupId: string,
  direction: Direction,
  what: { readonly permissions: IpPermission[] } | { readonly ruleIds: string[] },
): Promise<'revoked' | 'already-gone'> {
  if (('ruleIds' in what ? what.ruleIds : what.permissions).length === 0) return 'already-gone';
  try {
    await sendRevoke(ec2, groupId, direction, what);
    return 'revoked';
  } catch (error) {
    if (!NOT_FOUND.has(errorName(error))) throw error;
    if ('ruleIds' in what) {
      const rules =
        (await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }] })))
          .SecurityGroupRules ?? [];
      const wanted = new Set(what.ruleIds);
      const remaining = rules
        .filter((r) => wanted.has(r.SecurityGroupRuleId ?? ''))
        .map((r) => r.SecurityGroupRuleId as string);
      if (remaining.length === 0) return 'already-gone';
      await sendRevoke(ec2, groupId, direction, { ruleIds: remaining });
      return 'revoked';
    }
    const present = await presentKeys(ec2, groupId, direction);
    const remaining = atomicPermissions(what.permissions).filter((p) => present.has(permissionKey(p)));
    if (remaining.length === 0) return 'already-gone';
    await sendRevoke(ec2, groupId, direction, { permissions: remaining });
    return 'revoked';
  }
}
