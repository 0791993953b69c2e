import type { HealthCheckSettings } from '../elbv2/types';

/** One site in a seeded fleet. */
export interface SeedSite {
  id: string;
  cell: string;
  /** HTTPS (443) egress to 0.0.0.0/0. */
  internetEgress?: boolean;
  /** Every site gets its own subnets and network ACL; a `strict` site's ACL keeps other ports inside the VPC. */
  isolation?: 'standard' | 'strict';
  /**
   * A site deployed before every site had its own subnets: a standard site in the shared
   * subnets, its record without `networkAclId`/`subnetIds` (default false).
   */
  sharedSubnets?: boolean;
  /** RUNNING tasks at seed time (default 1). */
  desiredCount?: number;
  /** Listener rule priority (default: 10, 20, 30... per cell in input order). */
  priority?: number;
  /** Host-header values (default `<id>.example.com`). */
  domains?: string[];
  /** Container image (default an ECR repository pinned by a digest derived from the id). */
  image?: string;
  /** ECS health check grace period (default 60 s). */
  healthCheckGracePeriodSeconds?: number;
  /** The client's contact (default `webmaster@<id>.example.com`). */
  contact?: string;
  /** Response policy (defaults as the fleet file: contain, 7, 30 minutes, no auto-restore). */
  response?: {
    policy?: 'contain' | 'shed' | 'notify';
    severityThreshold?: number;
    forensicHoldMinutes?: number;
    autoRestore?: boolean;
    approvalTimeoutHours?: number;
  };
}

/** Input of {@link seedFleet}. */
export interface SeedFleetInput {
  environment: string;
  sites: SeedSite[];
  /** Default 10.40.0.0/16. */
  vpcCidr?: string;
  /** Availability zones used (2 or 3, default 2). */
  azs?: number;
  /** Default 8080. */
  containerPort?: number;
  /** Target group health check overrides (ALB defaults otherwise: 30 s interval, 5/2 thresholds). */
  healthCheck?: Partial<HealthCheckSettings>;
  /** Target group deregistration delay (default 300 s, the ALB default). */
  deregistrationDelaySeconds?: number;
  /** Seed a few log lines per task into the site's log group (default true). */
  seedLogs?: boolean;
}

export interface CellHandles {
  cellId: string;
  clusterArn: string;
  clusterName: string;
  loadBalancerArn: string;
  loadBalancerName: string;
  listenerArn: string;
  lbSecurityGroupId: string;
}

export interface SiteHandles {
  siteId: string;
  cell: string;
  environment: string;
  isolation: 'standard' | 'strict';
  internetEgress: boolean;
  containerPort: number;
  securityGroupId: string;
  standbySecurityGroupId: string;
  clusterArn: string;
  clusterName: string;
  serviceArn: string;
  serviceName: string;
  taskDefinitionArn: string;
  family: string;
  image: string;
  targetGroupArn: string;
  listenerArn: string;
  listenerRuleArn: string;
  priority: number;
  domains: string[];
  taskRoleName: string;
  taskRoleArn: string;
  secretArn: string;
  secretName: string;
  logGroupName: string;
  contactTopicArn: string;
  accessPointArn: string;
  /** The SSM parameter holding the site record (`/bulkhead/<env>/sites/<id>`). */
  siteRecordParameter: string;
  /** `bulkhead.<env>.<id>.<kind>` alarms, one per SITE_ALARM_KINDS (contracts/names.ts siteAlarmName). */
  alarmArns: string[];
  /** The subnets the site's tasks run in (its own, unless seeded with `sharedSubnets`). */
  subnetIds: string[];
  /** Its own network ACL (absent with `sharedSubnets`), and its subnets' associations. */
  siteAclId?: string;
  aclAssociationIds: string[];
  /** Tasks RUNNING at seed time. */
  taskArns: string[];
}

/** Everything {@link seedFleet} built. */
export interface FleetHandles {
  environment: string;
  vpcId: string;
  vpcCidr: string;
  publicSubnetIds: string[];
  privateSubnetIds: string[];
  dbSecurityGroupId: string;
  endpointsSecurityGroupId: string;
  logsEndpointSecurityGroupId: string;
  efsSecurityGroupId: string;
  s3PrefixListId: string;
  quarantineAclId: string;
  /** The watch subnets: the CloudWatch Logs (and GuardDuty data) endpoint's, the only ones the quarantine ACL admits. */
  watchSubnetIds: string[];
  /** The CloudWatch Logs interface endpoint's interface (in the first watch subnet). */
  logsEndpointIp: string;
  /** The database's interface (in the first private subnet). */
  databaseIp: string;
  evidenceBucket: string;
  opsTopicArn: string;
  stateMachineArn: string;
  backupVaultName: string;
  fileSystemArn: string;
  cells: Record<string, CellHandles>;
  sites: Record<string, SiteHandles>;
}
