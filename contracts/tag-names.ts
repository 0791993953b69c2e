/**
 * Bulkhead's public tag keys (the contract; see README "The tag contract"). Dependency-free
 * so Lambda code can import it; infra/shared/tags.ts re-exports these with the CDK helpers.
 */
/** The environment a resource belongs to: on every Bulkhead resource; IAM conditions scope by it. */
export const TAG_ENV = 'bulkhead:env';
/** The site a resource belongs to: on each site's resources; containment reads it from a finding's task tags. */
export const TAG_SITE = 'bulkhead:site';
/** What a resource is (a Component value): IAM conditions and containment scope by it. */
export const TAG_COMPONENT = 'bulkhead:component';
/** The cell a resource belongs to: on each cell's and site's resources. */
export const TAG_CELL = 'bulkhead:cell';
/** On a site's service and tasks: `standard` or `strict`. */
export const TAG_ISOLATION = 'bulkhead:isolation';
/** On a site's service and tasks: `contain`, `shed` or `notify`. */
export const TAG_RESPONSE_POLICY = 'bulkhead:response-policy';
/** On a site's service and tasks: the GuardDuty severity that triggers the policy. */
export const TAG_SEVERITY_THRESHOLD = 'bulkhead:severity-threshold';
/** On a site's service and tasks: the id of the site's own security group. */
export const TAG_SECURITY_GROUP = 'bulkhead:security-group';
/**
 * On a site's service and tasks: the ARN of the site's listener rule, so containment reads it
 * in its first round and sheds traffic in its second, with the isolation.
 */
export const TAG_LISTENER_RULE = 'bulkhead:listener-rule';

/** Values of `bulkhead:component`. */
export const Component = {
  // Per site
  siteSecurityGroup: 'site-sg',
  /** A site's standby group: same rules; holds restored tasks while contained ones are kept. */
  siteStandbySecurityGroup: 'site-sg-standby',
  service: 'service',
  taskDefinition: 'task-definition',
  taskRole: 'task-role',
  executionRole: 'execution-role',
  secret: 'secret',
  databaseUser: 'db-user',
  uploads: 'uploads',
  logGroup: 'log-group',
  targetGroup: 'target-group',
  listenerRule: 'listener-rule',
  alarm: 'alarm',
  subnet: 'subnet',
  routeTable: 'route-table',
  networkAcl: 'network-acl',
  siteRecord: 'site-record',
  /** A site's ACM certificate (its domains), attached to its cell's HTTPS listener. */
  certificate: 'certificate',
  // Platform
  network: 'network',
  vpcEndpoint: 'vpc-endpoint',
  endpointSecurityGroup: 'endpoint-sg',
  logsEndpointSecurityGroup: 'logs-endpoint-sg',
  quarantineAcl: 'quarantine-acl',
  database: 'database',
  databaseSecurityGroup: 'db-sg',
  databaseUserProvider: 'db-user-provider',
  cluster: 'cluster',
  loadBalancer: 'load-balancer',
  loadBalancerSecurityGroup: 'lb-sg',
  listener: 'listener',
  uploadsFileSystem: 'uploads-fs',
  uploadsSecurityGroup: 'uploads-sg',
  accessLogs: 'access-logs',
  flowLogs: 'flow-logs',
  /** AWS WAF on a cell's load balancer: its web ACL and rate-rule groups (infra/platform/cell-firewall.ts). */
  webFirewall: 'web-firewall',
  /** Route 53 Resolver DNS Firewall on the fleet's VPC (infra/platform/dns-firewall.ts). */
  dnsFirewall: 'dns-firewall',
  // Response plane
  incidents: 'incidents',
  evidence: 'evidence',
  notifications: 'notifications',
  responseFunction: 'response-function',
  responseTriggers: 'response-triggers',
  workflow: 'incident-workflow',
  /** A temporary listener rule that health-checks restored tasks before the site reopens. */
  restoreProbeRule: 'restore-probe',
  // Ops console
  operatorRole: 'operator-role',
  opsConsole: 'ops-console',
} as const;

/** A value of the `bulkhead:component` tag (infra/shared/tags.ts tagComponent takes it). */
export type ComponentName = (typeof Component)[keyof typeof Component];
