/**
 * The site record: what the response plane needs to know about one site, written by the
 * site's own stack as an SSM parameter (`/bulkhead/<env>/sites/<id>`) on every deploy and
 * read by containment in one call. Dependency-free: Lambda code imports it too.
 */
export interface SiteRecord {
  readonly version: 1;
  readonly environment: string;
  readonly site: string;
  readonly cell: string;
  readonly securityGroupId: string;
  /** Same rules as `securityGroupId`; a restore starts the known-good tasks in it (absent in records written before standby groups). */
  readonly standbySecurityGroupId?: string;
  readonly listenerArn: string;
  readonly listenerRuleArn: string;
  readonly targetGroupArn: string;
  readonly taskRoleArn: string;
  readonly taskRoleName: string;
  readonly clusterArn: string;
  readonly serviceName: string;
  readonly taskDefinitionFamily: string;
  readonly logGroupName: string;
  readonly secretArn: string;
  readonly accessPointArn: string;
  readonly fileSystemArn: string;
  readonly containerPort: number;
  readonly isolation: 'standard' | 'strict';
  /** Its own network ACL and subnets (every site since issue 14; quarantine replaces the associations). */
  readonly networkAclId?: string;
  readonly subnetIds?: readonly string[];
  /**
   * The quarantine ACL and the Logs/GuardDuty endpoint group of the VPC the site runs in, when
   * its cell has a VPC of its own (docs/network.md, "A VPC per cell"); absent: the platform
   * VPC's, which the response plane's environment names.
   */
  readonly quarantineAclId?: string;
  readonly logsEndpointSecurityGroupId?: string;
  readonly image: { readonly repository: string; readonly digest: string };
  readonly contact: string;
  /** The site's own notice topic, its contact subscribed (absent in records written before per-site topics). */
  readonly noticeTopicArn?: string;
  readonly response: {
    readonly policy: 'contain' | 'shed' | 'notify';
    readonly severityThreshold: number;
    readonly forensicHoldMinutes: number;
    readonly autoRestore: boolean;
    /** Absent in records written before approvals: 24. */
    readonly approvalTimeoutHours?: number;
  };
}

export function siteRecordParameterPrefix(environment: string): string {
  return `/bulkhead/${environment}/sites/`;
}

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
