import {
  DescribeNetworkAclsCommand,
  DescribeSecurityGroupsCommand,
  type EC2Client,
  type IpPermission,
  ReplaceNetworkAclAssociationCommand,
} from '@aws-sdk/client-ec2';
import {
  type Action,
  DescribeRulesCommand,
  type ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { type ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { DeleteRolePolicyCommand, type IAMClient } from '@aws-sdk/client-iam';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { SESSION_REVOCATION_POLICY, type SavedState } from '../contain/contain';
import { atomicPermissions, isInterimRule, permissionKey, quarantineEgress } from '../contain/quarantine-rules';
import { authorizeRules, revokeRules } from '../shared/security-group-writes';
import { type QuarantineTargets, quarantineTargetsOf, type SiteRecord } from '../../contracts/site-record';
import type { IncidentStore, StepRecord } from '../shared/incident-store';
import { actionsToPutBack, loadSiteRecord } from '../shared/site-records';
import { ReleaseError } from './errors';

export { ReleaseError };

export interface ReleaseDeps {
  readonly ec2: EC2Client;
  readonly ecs: ECSClient;
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly iam: IAMClient;
  readonly ssm: SSMClient;
  readonly store: IncidentStore;
  readonly environment: string;
  readonly logsEndpointGroupId: string;
  readonly quarantineAclId: string;
  readonly now: () => Date;
}

export interface ReleaseRequest {
  readonly incidentId: string;
  /** Who releases (the invoking principal, or `workflow` for an approved false positive). */
  readonly releasedBy: string;
  readonly reason?: string;
  /** Put the saved state back even though the site changed after containment. */
  readonly force?: boolean;
}

export type ReleaseResult =
  | {
      readonly outcome: 'released';
      readonly incidentId: string;
      readonly site: string;
      readonly steps: readonly StepRecord[];
    }
  | {
      readonly outcome: 'already-released';
      readonly incidentId: string;
      readonly site: string;
      readonly releasedAt?: string;
      readonly releasedBy?: string;
    }
  | {
      readonly outcome: 'refused';
      readonly incidentId: string;
      readonly site: string;
      readonly drift: readonly string[];
    };

const RELEASABLE = new Set(['CONTAINED', 'SHED', 'FAILED', 'NOTIFIED']);

function isMaintenanceResponse(actions: readonly Action[] | undefined): boolean {
  return (
    actions?.length === 1 &&
    actions[0]?.Type === 'fixed-response' &&
    actions[0].FixedResponseConfig?.StatusCode === '503'
  );
}

/**
 * Release (a false positive): puts back exactly what containment saved (security-group
 * rules, network ACL associations, listener rule actions) and removes the session deny.
 * Refuses, naming what differs, when the site was changed after containment, unless forced.
 * A second release changes nothing and says so.
 */
export async function releaseIncident(deps: ReleaseDeps, request: ReleaseRequest): Promise<ReleaseResult> {
  const incident = await deps.store.getIncident(request.incidentId);
  if (!incident) throw new ReleaseError(`no incident ${request.incidentId}`);
  if (incident.status === 'RELEASED') {
    return {
      outcome: 'already-released',
      incidentId: incident.incidentId,
      site: incident.site,
      releasedAt: incident.releasedAt,
      releasedBy: incident.releasedBy,
    };
  }
  if (!RELEASABLE.has(incident.status)) {
    throw new ReleaseError(
      `incident ${incident.incidentId} is ${incident.status}; only a contained, shed, notified or failed incident can be released`,
    );
  }
  // The site must still be a deployed Bulkhead site of this environment.
  const site = await loadSiteRecord(deps.ssm, deps.environment, incident.site);
  const saved = (incident.saved ?? {}) as SavedState;
  const now = () => deps.now().toISOString();

  const current = await readCurrent(deps, saved);
  const putBack = actionsToPutBack(saved.listenerRule, site);
  // The quarantine ACL and Logs group of the site's own VPC (a cell's, or the platform's).
  const drift = findDrift(quarantineTargetsOf(site, deps), saved, current, putBack);
  if (drift.length > 0 && !request.force) {
    return { outcome: 'refused', incidentId: incident.incidentId, site: incident.site, drift };
  }

  const steps = await putBackSaved(deps, saved, current, putBack, now);
  // After the rules: the tasks ECS starts again come up in the open group.
  if (incident.scaledDown && !steps.some((s) => s.outcome === 'failed')) {
    steps.push(await restoreDesiredCount(deps, site, incident.scaledDown.desiredCount, now));
  }
  const failed = steps.filter((s) => s.outcome === 'failed');
  if (failed.length > 0) {
    await deps.store.updateIncident(incident.incidentId, {}, [
      ...steps,
      {
        step: 'release',
        outcome: 'failed',
        at: now(),
        detail: `by ${request.releasedBy}: ${failed.map((s) => s.detail).join('; ')}`,
      },
    ]);
    throw new ReleaseError(
      `release of ${incident.incidentId} did not complete: ${failed.map((s) => `${s.step}: ${s.detail}`).join('; ')}; run it again`,
    );
  }
  await deps.store.updateIncident(
    incident.incidentId,
    {
      status: 'RELEASED',
      releasedAt: now(),
      releasedBy: request.releasedBy,
      releaseReason: request.reason,
      releaseForced: drift.length > 0,
    },
    [
      ...steps,
      {
        step: 'release',
        outcome: 'done',
        at: now(),
        detail: `by ${request.releasedBy}${drift.length ? ` (forced over: ${drift.join('; ')})` : ''}`,
      },
    ],
  );
  await deps.store.releaseLock(incident.site, incident.incidentId);
  return { outcome: 'released', incidentId: incident.incidentId, site: incident.site, steps };
}

/** What the site has now of what containment saved: its group, subnet associations, listener rule actions. */
interface CurrentState {
  readonly group: Awaited<ReturnType<typeof describeGroup>>;
  readonly associations: readonly {
    readonly subnetId?: string;
    readonly associationId?: string;
    readonly networkAclId?: string;
  }[];
  readonly actions: Action[] | undefined;
}

async function describeGroup(deps: Pick<ReleaseDeps, 'ec2'>, groupId: string) {
  const found = await deps.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
  return found.SecurityGroups?.[0];
}

/** Reads what is there now, all at once. */
async function readCurrent(deps: ReleaseDeps, saved: SavedState): Promise<CurrentState> {
  const [group, acls, rules] = await Promise.all([
    saved.securityGroup ? describeGroup(deps, saved.securityGroup.groupId) : undefined,
    saved.networkAcl
      ? deps.ec2.send(
          new DescribeNetworkAclsCommand({
            Filters: [{ Name: 'association.subnet-id', Values: saved.networkAcl.associations.map((a) => a.subnetId) }],
          }),
        )
      : undefined,
    saved.listenerRule
      ? deps.elbv2.send(new DescribeRulesCommand({ RuleArns: [saved.listenerRule.ruleArn] }))
      : undefined,
  ]);
  const associations = (acls?.NetworkAcls ?? []).flatMap((acl) =>
    (acl.Associations ?? []).map((a) => ({
      subnetId: a.SubnetId,
      associationId: a.NetworkAclAssociationId,
      networkAclId: acl.NetworkAclId,
    })),
  );
  return { group, associations, actions: rules?.Rules?.[0]?.Actions };
}

/** What changed on the site after containment, one sentence each (empty: nothing). */
function findDrift(
  targets: QuarantineTargets,
  saved: SavedState,
  current: CurrentState,
  putBack: ReturnType<typeof actionsToPutBack>,
): string[] {
  const drift: string[] = [];
  const { group } = current;
  if (saved.securityGroup) {
    // Drift is a rule that is neither one of the saved rules nor quarantine's (the Logs
    // endpoint rule, interim rules): a group part-way back (a release that stopped half-way)
    // or still quarantined is not drift.
    const savedKeys = new Set([
      ...atomicPermissions(saved.securityGroup.ingress as IpPermission[]).map((p) => `in ${permissionKey(p)}`),
      ...atomicPermissions(saved.securityGroup.egress as IpPermission[]).map((p) => `out ${permissionKey(p)}`),
    ]);
    const quarantineKeys = new Set(
      atomicPermissions([quarantineEgress(targets.logsEndpointGroupId)]).map((p) => `out ${permissionKey(p)}`),
    );
    if (!group) drift.push(`security group ${saved.securityGroup.groupId} no longer exists`);
    else {
      const extra = [
        ...withoutInterim(group.IpPermissions ?? []).map((p) => `in ${permissionKey(p)}`),
        ...withoutInterim(group.IpPermissionsEgress ?? []).map((p) => `out ${permissionKey(p)}`),
      ].filter((key) => !savedKeys.has(key) && !quarantineKeys.has(key));
      if (extra.length > 0) {
        drift.push(
          `security group ${saved.securityGroup.groupId} has rules that are neither the saved ones nor quarantine's (${extra.join(', ')})`,
        );
      }
    }
  }
  for (const a of saved.networkAcl?.associations ?? []) {
    const now = current.associations.find((c) => c.subnetId === a.subnetId);
    if (now?.networkAclId !== targets.quarantineAclId && now?.networkAclId !== a.networkAclId) {
      drift.push(`subnet ${a.subnetId} is on ${now?.networkAclId ?? 'no ACL'}, not the quarantine ACL`);
    }
  }
  if (
    saved.listenerRule &&
    !isMaintenanceResponse(current.actions) &&
    JSON.stringify(current.actions) !== JSON.stringify(putBack)
  ) {
    drift.push(`listener rule ${saved.listenerRule.ruleArn} no longer answers with the maintenance response`);
  }
  return drift;
}

/**
 * Puts back everything containment saved, all at once: security-group rules (and the standby
 * group's), subnet associations, listener rule actions, and lifts the session deny.
 */
async function putBackSaved(
  deps: ReleaseDeps,
  saved: SavedState,
  current: CurrentState,
  putBack: ReturnType<typeof actionsToPutBack>,
  now: () => string,
): Promise<StepRecord[]> {
  const { group } = current;
  const standby = saved.standbySecurityGroup;
  return Promise.all<StepRecord>([
    ...(saved.securityGroup && group
      ? [restoreGroup(deps, saved.securityGroup, group.IpPermissions ?? [], group.IpPermissionsEgress ?? [], now)]
      : []),
    // The standby group, when a new trigger during a restore contained it too.
    ...(standby
      ? [
          describeGroup(deps, standby.groupId)
            .then((found) =>
              restoreGroup(deps, standby, found?.IpPermissions ?? [], found?.IpPermissionsEgress ?? [], now),
            )
            .then((r) => ({ ...r, step: 'restore-standby-group' })),
        ]
      : []),
    ...(saved.networkAcl?.associations ?? []).map((a) => restoreAssociation(deps, a, current, now)),
    ...(saved.listenerRule
      ? [
          attempt(
            'restore-listener-rule',
            now,
            () => deps.elbv2.send(new ModifyRuleCommand({ RuleArn: saved.listenerRule?.ruleArn, Actions: putBack })),
            saved.listenerRule.actions.length
              ? 'saved actions put back'
              : "the site's forward action put back (none saved)",
          ),
        ]
      : []),
    ...(saved.rolePolicy ? [liftSessionDeny(deps, saved.rolePolicy.roleName, now)] : []),
  ]);
}

/** One subnet back on the ACL it had before containment. */
async function restoreAssociation(
  deps: Pick<ReleaseDeps, 'ec2'>,
  a: NonNullable<SavedState['networkAcl']>['associations'][number],
  state: CurrentState,
  now: () => string,
): Promise<StepRecord> {
  const current = state.associations.find((c) => c.subnetId === a.subnetId);
  if (!current?.associationId)
    return {
      step: 'restore-network-acl',
      outcome: 'failed',
      at: now(),
      detail: `no association for ${a.subnetId}`,
    };
  if (current.networkAclId === a.networkAclId)
    return {
      step: 'restore-network-acl',
      outcome: 'skipped',
      at: now(),
      detail: `${a.subnetId} already on ${a.networkAclId}`,
    };
  return attempt(
    'restore-network-acl',
    now,
    () =>
      deps.ec2.send(
        new ReplaceNetworkAclAssociationCommand({
          AssociationId: current.associationId,
          NetworkAclId: a.networkAclId,
        }),
      ),
    `${a.subnetId} back on ${a.networkAclId}`,
  );
}

/** The service's desired count back to what it was before the hold ended with no restore. */
async function restoreDesiredCount(
  deps: Pick<ReleaseDeps, 'ecs'>,
  site: SiteRecord,
  desiredCount: number,
  now: () => string,
): Promise<StepRecord> {
  return attempt(
    'restore-desired-count',
    now,
    () =>
      deps.ecs.send(new UpdateServiceCommand({ cluster: site.clusterArn, service: site.serviceName, desiredCount })),
    `desired count back to ${desiredCount}`,
  );
}

/** Drops the interim quarantine rules (they are quarantine too) from a rule list. */
function withoutInterim(permissions: IpPermission[]): IpPermission[] {
  return atomicPermissions(permissions).filter((p) => !isInterimRule(p));
}

export async function attempt(
  step: string,
  now: () => string,
  run: () => Promise<unknown>,
  detail: string,
): Promise<StepRecord> {
  try {
    await run();
    return { step, outcome: 'done', at: now(), detail };
  } catch (error) {
    return { step, outcome: 'failed', at: now(), detail: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

/** Authorizes every saved rule that is not there now, then removes what quarantine added. */
export async function restoreGroup(
  deps: Pick<ReleaseDeps, 'ec2'>,
  saved: NonNullable<SavedState['securityGroup']>,
  currentIngress: IpPermission[],
  currentEgress: IpPermission[],
  now: () => string,
): Promise<StepRecord> {
  const present = (list: IpPermission[]) => new Set(atomicPermissions(list).map(permissionKey));
  const inNow = present(currentIngress);
  const outNow = present(currentEgress);
  const savedIngress = atomicPermissions(saved.ingress as IpPermission[]);
  const savedEgress = atomicPermissions(saved.egress as IpPermission[]);
  const addIngress = savedIngress.filter((p) => !inNow.has(permissionKey(p)));
  const addEgress = savedEgress.filter((p) => !outNow.has(permissionKey(p)));
  const savedOut = new Set(savedEgress.map(permissionKey));
  const removeEgress = atomicPermissions(currentEgress).filter((p) => !savedOut.has(permissionKey(p)));
  // Interim quarantine rules still there (release came before the tidy-up): take them out.
  const savedIn = new Set(savedIngress.map(permissionKey));
  const removeIngress = atomicPermissions(currentIngress).filter((p) => !savedIn.has(permissionKey(p)));
  try {
    // Neither call takes a client token: a retry after a lost response is refused as a
    // duplicate (or not found), which the helpers check against the group (security-group-writes.ts).
    await Promise.all([
      authorizeRules(deps.ec2, saved.groupId, 'ingress', addIngress),
      authorizeRules(deps.ec2, saved.groupId, 'egress', addEgress),
    ]);
    await revokeRules(deps.ec2, saved.groupId, 'ingress', { permissions: removeIngress });
    await revokeRules(deps.ec2, saved.groupId, 'egress', { permissions: removeEgress });
    return {
      step: 'restore-security-group',
      outcome: 'done',
      at: now(),
      detail: `${addIngress.length} in and ${addEgress.length} out put back, ${removeEgress.length} removed`,
    };
  } catch (error) {
    return {
      step: 'restore-security-group',
      outcome: 'failed',
      at: now(),
      detail: `${(error as Error).name}: ${(error as Error).message}`,
    };
  }
}

async function liftSessionDeny(deps: ReleaseDeps, roleName: string, now: () => string): Promise<StepRecord> {
  // Delete without reading first: containment saved that it put the policy, and a read just
  // after that write may not see it yet (IAM is eventually consistent).
  try {
    await deps.iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: SESSION_REVOCATION_POLICY }));
    return {
      step: 'lift-session-deny',
      outcome: 'done',
      at: now(),
      detail: `removed ${SESSION_REVOCATION_POLICY} from ${roleName}`,
    };
  } catch (error) {
    if ((error as Error).name === 'NoSuchEntityException' || (error as Error).name === 'NoSuchEntity') {
      return { step: 'lift-session-deny', outcome: 'skipped', at: now(), detail: 'no session deny on the role' };
    }
    return {
      step: 'lift-session-deny',
      outcome: 'failed',
      at: now(),
      detail: `${(error as Error).name}: ${(error as Error).message}`,
    };
  }
}
