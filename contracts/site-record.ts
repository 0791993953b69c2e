/**
 * The site record: what the response plane needs to know about one site, written by the
 * site's own stack as an SSM parameter (`/bulkhead/<env>/sites/<id>`) on every deploy and
 * read by containment in one call. Dependency-free: Lambda code imports it too.
 */
export interface SiteRecord {
  /** The record's format version (readers refuse others). */
  readonly version: 1;
  /** The fleet's environment name. */
  readonly environment: string;
  /** The site's id. */
  readonly site: string;
  /** The cell the site runs in. */
  readonly cell: string;
  /** The site's tasks' security group: quarantine replaces its rules. */
  readonly securityGroupId: string;
  /** Same rules as `securityGroupId`; a restore starts the known-good tasks in it (absent in records written before standby groups). */
  readonly standbySecurityGroupId?: string;
  /** The cell's HTTPS listener. */
  readonly listenerArn: string;
  /** The site's rule on the cell's listener: containment answers it with the maintenance response, release puts the saved actions back. */
  readonly listenerRuleArn: string;
  /** The site's target group (the rule's forward action; a restore checks its health). */
  readonly targetGroupArn: string;
  /** The site's task role. */
  readonly taskRoleArn: string;
  /** The site's task role's name: containment puts the session deny on it. */
  readonly taskRoleName: string;
  /** The cell's ECS cluster. */
  readonly clusterArn: string;
  /** The site's ECS service. */
  readonly serviceName: string;
  /** The site's task definition family (`bulkhead-<env>-<site>`). */
  readonly taskDefinitionFamily: string;
  /** The site's log group (kept as evidence). */
  readonly logGroupName: string;
  /** The site's database secret (a rotation changes it). */
  readonly secretArn: string;
  /** The site's access point on the uploads file system. */
  readonly accessPointArn: string;
  /** The uploads file system (the evidence step backs it up). */
  readonly fileSystemArn: string;
  /** The port the site's container listens on. */
  readonly containerPort: number;
  /** `standard`, or `strict` (no internet at all). */
  readonly isolation: 'standard' | 'strict';
  /** Its own network ACL and subnets (every site since issue 14; quarantine replaces the associations). */
  readonly networkAclId?: string;
  /** The site's own subnets (quarantine moves each to the quarantine ACL). */
  readonly subnetIds?: readonly string[];
  /**
   * The quarantine ACL and the Logs/GuardDuty endpoint group of the VPC the site runs in, when
   * its cell has a VPC of its own (docs/network.md, "A VPC per cell"); absent: the platform
   * VPC's, which the response plane's environment names.
   */
  readonly quarantineAclId?: string;
  /** The Logs/GuardDuty endpoint group of the VPC the site runs in, when its cell has a VPC of its own; absent: the platform VPC's. */
  readonly logsEndpointSecurityGroupId?: string;
  /** The image the site's stack deployed: its repository and digest. */
  readonly image: { readonly repository: string; readonly digest: string };
  /** Who is told about the site's incidents (subscribed to its notice topic). */
  readonly contact: string;
  /** The site's own notice topic, its contact subscribed (absent in records written before per-site topics). */
  readonly noticeTopicArn?: string;
  /** What a trigger does to the site: the fleet file's response settings for it. */
  readonly response: {
    readonly policy: 'contain' | 'shed' | 'notify';
    readonly severityThreshold: number;
    readonly forensicHoldMinutes: number;
    readonly autoRestore: boolean;
    /** Absent in records written before approvals: 24. */
    readonly approvalTimeoutHours?: number;
  };
}

/** The path of every site record of an environment, `/bulkhead/<env>/sites/` (IAM policies and the readers of all records use it). */
export function siteRecordParameterPrefix(environment: string): string {
  return `/bulkhead/${environment}/sites/`;
}

/** A site record's SSM parameter name, `/bulkhead/<env>/sites/<id>` (the site stack writes it, containment and the console read it). */
export function siteRecordParameterName(environment: string, siteId: string): string {
  return `${siteRecordParameterPrefix(environment)}${siteId}`;
}

/**
 * Whether the site runs in subnets of its own with an ACL of its own, which quarantine swaps
 * for the quarantine ACL (every site deployed since issue 14; before it only strict sites: a
 * record written by an older site stack has neither, and containment then changes only the
 * security group).
 */
export function hasOwnSubnets(record: Pick<SiteRecord, 'networkAclId' | 'subnetIds'>): boolean {
  return Boolean(record.networkAclId && record.subnetIds && record.subnetIds.length > 0);
}

/** The quarantine ACL and the Logs/GuardDuty endpoint group containment moves a site onto. */
export interface QuarantineTargets {
  /** The deny-all ACL of the site's VPC. */
  readonly quarantineAclId: string;
  /** The Logs/GuardDuty endpoint group of the site's VPC: the one peer a quarantined group keeps. */
  readonly logsEndpointGroupId: string;
}

/**
 * The quarantine targets of the VPC the site runs in: its record's, when its cell has a VPC
 * of its own (docs/network.md, "A VPC per cell"); otherwise the platform VPC's, which the
 * function's environment names. An ACL and a group belong to one VPC, so a site can only be
 * moved onto those of its own VPC.
 */
export function quarantineTargetsOf(
  record: Pick<SiteRecord, 'quarantineAclId' | 'logsEndpointSecurityGroupId'>,
  platform: QuarantineTargets,
): QuarantineTargets {
  return {
    quarantineAclId: record.quarantineAclId ?? platform.quarantineAclId,
    logsEndpointGroupId: record.logsEndpointSecurityGroupId ?? platform.logsEndpointGroupId,
  };
}
