/**
 * Names Bulkhead builds and reads: stack names, platform and cell export names, and the names
 * of per-site resources (alarms, log groups, secrets, task families, topics, roles) that IAM
 * policies scope by and the response plane reads back. Built and parsed here only.
 */

/**
 * The platform contract: values the platform stacks export under fixed names and site
 * stacks import. Site stacks hold no CDK reference to platform constructs, so one site
 * synthesizes (and deploys) on its own, in time that does not grow with the fleet, and
 * CloudFormation refuses to remove an export while a site still uses it.
 */
export const PlatformExport = {
  vpcId: 'vpc-id',
  vpcCidr: 'vpc-cidr',
  isolatedSubnetIds: 'isolated-subnet-ids',
  isolatedRouteTableIds: 'isolated-route-table-ids',
  egressSubnetIds: 'egress-subnet-ids',
  egressRouteTableIds: 'egress-route-table-ids',
  appSubnetsPrefixListId: 'app-subnets-prefix-list-id',
  endpointSecurityGroupId: 'endpoint-sg-id',
  logsEndpointSecurityGroupId: 'logs-endpoint-sg-id',
  s3PrefixListId: 's3-prefix-list-id',
  quarantineAclId: 'quarantine-acl-id',
  siteFlowLogsRoleArn: 'site-flow-logs-role-arn',
  databaseSecurityGroupId: 'db-sg-id',
  databaseEndpoint: 'db-endpoint',
  databasePort: 'db-port',
  databaseUserServiceToken: 'db-user-service-token',
  uploadsFileSystemId: 'uploads-fs-id',
  uploadsFileSystemArn: 'uploads-fs-arn',
  uploadsSecurityGroupId: 'uploads-sg-id',
  responseKeyArn: 'response-key-arn',
} as const;

/** The cell contract: values each cell stack exports under fixed names (cellExportName) and site stacks import. */
export const CellExport = {
  clusterName: 'cluster-name',
  clusterArn: 'cluster-arn',
  listenerArn: 'listener-arn',
  loadBalancerSecurityGroupId: 'lb-sg-id',
  loadBalancerFullName: 'lb-full-name',
} as const;

/** A platform export's key (the platform stacks export it, site stacks import it). */
export type PlatformExportKey = keyof typeof PlatformExport;
/** A cell export's key (the cell stack exports it, site stacks import it). */
export type CellExportKey = keyof typeof CellExport;

/**
 * The values every VPC that holds site compartments exports: the platform VPC under
 * `bulkhead-<env>-<name>`, a cell's own VPC (docs/network.md, "A VPC per cell") under
 * `bulkhead-<env>-cell-<cell>-<name>`, with the same names as the platform's.
 */
export const SITE_VPC_EXPORT_KEYS = [
  'vpcId',
  'vpcCidr',
  'isolatedSubnetIds',
  'isolatedRouteTableIds',
  'egressSubnetIds',
  'egressRouteTableIds',
  'appSubnetsPrefixListId',
  'endpointSecurityGroupId',
  'logsEndpointSecurityGroupId',
  's3PrefixListId',
  'quarantineAclId',
] as const satisfies readonly PlatformExportKey[];

/** A value a VPC of site compartments exports (platform or cell). */
export type SiteVpcExportKey = (typeof SITE_VPC_EXPORT_KEYS)[number];

/** The export name of a value of a cell's own VPC. */
export function cellVpcExportName(environment: string, cell: string, key: SiteVpcExportKey): string {
  return `bulkhead-${environment}-cell-${cell}-${PlatformExport[key]}`;
}

/** The CloudFormation export name of a platform value, `bulkhead-<env>-<name>` (infra/shared/stack-exports.ts). */
export function platformExportName(environment: string, key: PlatformExportKey): string {
  return `bulkhead-${environment}-${PlatformExport[key]}`;
}

/** The CloudFormation export name of a cell value, `bulkhead-<env>-cell-<cell>-<name>` (infra/shared/stack-exports.ts). */
export function cellExportName(environment: string, cell: string, key: CellExportKey): string {
  return `bulkhead-${environment}-cell-${cell}-${CellExport[key]}`;
}

/** Stack names, so operators and the response plane can find them. */
export const StackName = {
  network: (env: string) => `Bulkhead-${env}-Network`,
  data: (env: string) => `Bulkhead-${env}-Data`,
  cell: (env: string, cell: string) => `Bulkhead-${env}-Cell-${cell}`,
  /** A cell's own VPC, when the fleet file gives it one (`cells[].network.cidr`). */
  cellNetwork: (env: string, cell: string) => `Bulkhead-${env}-Cell-${cell}-Network`,
  site: (env: string, site: string) => `Bulkhead-${env}-Site-${site}`,
  response: (env: string) => `Bulkhead-${env}-Response`,
  ops: (env: string) => `Bulkhead-${env}-Ops`,
};

/**
 * The kinds of alarm every site has. `rejected-connections`: connections the site's own
 * tasks tried and were refused (VPC flow logs of its subnets, REJECT, egress; docs/network.md).
 */
export const SITE_ALARM_KINDS = ['error-rate', 'egress', 'rejected-connections'] as const;
/** A kind of per-site alarm (the last part of its name). */
export type SiteAlarmKind = (typeof SITE_ALARM_KINDS)[number];

/**
 * Naming contract for per-site alarms, `bulkhead.<env>.<site>.<kind>`; the response plane
 * reads the site from it. Environment and site ids are lowercase letters, digits and single
 * hyphens, never a dot (infra/config/fleet-schema.ts), so a name reads one way only: with
 * environments `prod` and `prod-eu` in one account, prod's prefix `bulkhead.prod.` is not a
 * prefix of prod-eu's `bulkhead.prod-eu.shop.error-rate` (with hyphens, `bulkhead-prod-`
 * was, and read it as prod's site `eu-shop`).
 */
export function siteAlarmPrefix(environment: string): string {
  return `bulkhead.${environment}.`;
}

/** A site alarm's name, `bulkhead.<env>.<site>.<kind>` (the site stack names its alarms so; containment parses them). */
export function siteAlarmName(environment: string, siteId: string, kind: SiteAlarmKind): string {
  return `${siteAlarmPrefix(environment)}${siteId}.${kind}`;
}

/**
 * The site and kind a name of this environment's site alarms names, or nothing. The caller
 * still checks the site id's form (SITE_ID_PATTERN).
 */
export function parseSiteAlarmName(
  environment: string,
  alarmName: string,
): { readonly site: string; readonly kind: SiteAlarmKind } | undefined {
  const prefix = siteAlarmPrefix(environment);
  if (!alarmName.startsWith(prefix)) return undefined;
  const rest = alarmName.slice(prefix.length).split('.');
  if (rest.length !== 2) return undefined;
  const [site, kind] = rest as [string, string];
  const known = SITE_ALARM_KINDS.find((k) => k === kind);
  return known ? { site, kind: known } : undefined;
}

/** Log group naming contract for site containers. */
export function siteLogGroupName(environment: string, siteId: string): string {
  return `/bulkhead/${environment}/sites/${siteId}`;
}

/** Site secrets are named `bulkhead/<env>/sites/<id>/database`, so IAM can scope by name. */
export function siteSecretNamePrefix(environment: string): string {
  return `bulkhead/${environment}/sites/`;
}

/** A site's database secret's name, `bulkhead/<env>/sites/<id>/database` (the site stack creates it). */
export function siteSecretName(environment: string, siteId: string): string {
  return `${siteSecretNamePrefix(environment)}${siteId}/database`;
}

/** Task definition families are `bulkhead-<env>-<site>`, so IAM can name a site's revisions. */
export function siteTaskFamilyPrefix(environment: string): string {
  return `bulkhead-${environment}-`;
}

/** A site's task definition family, `bulkhead-<env>-<site>` (the site stack's task definition). */
export function siteTaskFamily(environment: string, siteId: string): string {
  return `${siteTaskFamilyPrefix(environment)}${siteId}`;
}

/** Each site's notice topic (its contact subscribes): `bulkhead-<env>-notices-<site>`, so IAM can name them all. */
export function siteNoticeTopicPrefix(environment: string): string {
  return `bulkhead-${environment}-notices-`;
}

/** A site's notice topic's name, `bulkhead-<env>-notices-<site>` (the site stack creates it). */
export function siteNoticeTopicName(environment: string, siteId: string): string {
  return `${siteNoticeTopicPrefix(environment)}${siteId}`;
}

/** ECS cluster names are fixed (`bulkhead-<env>-<cell>`), so IAM can name their tasks. */
export function cellClusterName(environment: string, cell: string): string {
  return `bulkhead-${environment}-${cell}`;
}

/** The operator role (IAM names are account-wide, so it names its region). */
export function operatorRoleName(environment: string, region: string): string {
  return `bulkhead-${environment}-operator-${region}`;
}

/** The database-user provider's function (the one function that reaches the database). */
export function databaseUserFunctionName(environment: string): string {
  return `bulkhead-${environment}-db-user`;
}

/**
 * The permissions boundary of a site's task role (a customer managed policy in the site's stack):
 * everything any policy on that role can grant. IAM names are account-wide: the region keeps two
 * regions of one environment apart.
 */
export function siteTaskRoleBoundaryName(environment: string, region: string, siteId: string): string {
  return `${siteTaskRoleBoundaryPrefix(environment, region)}${siteId}`;
}

/** What every site task-role boundary's name of this environment and region starts with. */
export function siteTaskRoleBoundaryPrefix(environment: string, region: string): string {
  return `bulkhead-${environment}-task-boundary-${region}-`;
}

/**
 * The metric a site's REJECT flow records are counted into (a metric filter on its flow-log
 * group): one metric per site, `Bulkhead/<env>` namespace, `RejectedConnections-<site>`.
 */
export function siteRejectMetric(environment: string, siteId: string): { namespace: string; metricName: string } {
  return { namespace: `Bulkhead/${environment}`, metricName: `RejectedConnections-${siteId}` };
}

/** The log group of a site's REJECT flow records (`<instance>` as for its container logs). */
export function siteFlowLogGroupName(environment: string, siteId: string, instance: string): string {
  return `/bulkhead/${environment}/flow-rejects/${siteId}/${instance}`;
}
