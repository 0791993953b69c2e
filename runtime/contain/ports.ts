import type { Action } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { GroupQuarantineOutcome, SiteGroupState } from './quarantine-group';

/**
 * What containment does to a site, as small ports (Powertools' style: the logic in
 * runtime/contain/contain.ts is pure orchestration over these; the SDK-backed adapters are in
 * runtime/contain/adapters/). Each method is one AWS call, or one of quarantine-group.ts's
 * sequences of them, exactly as containment made them before the ports.
 */

/** The inline policy that denies a task role's older sessions (release deletes it by this name). */
export const SESSION_REVOCATION_POLICY = 'BulkheadRevokeOlderSessions';

/** One of the site's subnets as associated with the site's own network ACL. */
export interface AclAssociation {
  readonly subnetId: string;
  readonly networkAclId: string;
  readonly associationId: string;
}

/** The site's network: its security groups and the ACL associations of its subnets. */
export interface SiteNetworkPort {
  /** The site's group: by id with rule ids when the task's tags name it, otherwise by its tags. */
  readSiteGroup(site: string, groupIdHint?: string): Promise<SiteGroupState | undefined>;
  /** A group by id (the standby group), without rule ids. */
  readGroup(groupId: string): Promise<SiteGroupState | undefined>;
  /** The associations of the site's own network ACL (found by its tags) with subnets. */
  readSiteAclAssociations(site: string): Promise<readonly AclAssociation[]>;
  /** Which of these subnets are associated with the deny-all (quarantine) ACL `quarantineAclId`. */
  subnetsOnQuarantineAcl(subnetIds: readonly string[], quarantineAclId: string): Promise<ReadonlySet<string>>;
  /** Moves one subnet to the deny-all ACL `quarantineAclId` (of the site's VPC); returns the new association's id. */
  swapToQuarantineAcl(associationId: string, quarantineAclId: string): Promise<string | undefined>;
  /**
   * Puts a group at the quarantine set, ingress held back (quarantine-group.ts
   * `quarantineGroup`). `fastFirst`: first through the client without retries, so a throttled
   * revoke answers at once and the rules are rewritten instead; otherwise the patient client only.
   */
  quarantineGroup(
    group: SiteGroupState,
    options: {
      readonly fastFirst: boolean;
      readonly holdIngress: boolean;
      /** The Logs endpoint's group of the site's VPC: the one peer the quarantined group keeps. */
      readonly logsEndpointGroupId: string;
    },
  ): Promise<GroupQuarantineOutcome>;
  /** Takes the group's ingress rules out (quarantine-group.ts `closeIngress`); how many went. */
  closeIngress(group: SiteGroupState): Promise<number>;
  /** Revokes the interim rules a fast rewrite left (quarantine-group.ts `finishQuarantine`). */
  finishQuarantine(group: SiteGroupState, interimRuleIds: readonly string[]): Promise<void>;
}

/** The site's listener rule on the shared load balancer. */
export interface ListenerRulesPort {
  /** The rule's actions (what release puts back); throws if there is no such rule. */
  readActions(ruleArn: string): Promise<Action[]>;
  /** Replaces the rule's actions (the shed: a fixed response). */
  replaceActions(ruleArn: string, actions: Action[]): Promise<void>;
}

/** The site's task role's sessions. */
export interface TaskRoleSessionsPort {
  /** Denies every session of the role issued before `issuedBefore` (an ISO time). */
  revokeIssuedBefore(roleName: string, issuedBefore: string): Promise<void>;
}

/** Containment's ports, as ContainDeps carries them. */
export interface ContainPorts {
  readonly network: SiteNetworkPort;
  readonly listenerRules: ListenerRulesPort;
  readonly taskRoleSessions: TaskRoleSessionsPort;
}
