import type { Action, RuleCondition } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Tag } from '../util/tags';

export interface LoadBalancerRecord {
  LoadBalancerArn: string;
  LoadBalancerName: string;
  DNSName: string;
  CanonicalHostedZoneId: string;
  CreatedTime: number;
  Scheme: 'internet-facing' | 'internal';
  VpcId: string;
  SecurityGroups: string[];
  /** One node (and network interface) per subnet. */
  AvailabilityZones: Array<{ ZoneName: string; SubnetId: string; NetworkInterfaceId: string }>;
}

export interface ListenerRecord {
  ListenerArn: string;
  LoadBalancerArn: string;
  Port: number;
  Protocol: 'HTTP' | 'HTTPS';
  /** The listener's default actions live on its default rule. */
  DefaultRuleArn: string;
  CertificateArn?: string;
}

export interface RuleRecord {
  RuleArn: string;
  ListenerArn: string;
  /** `'1'`..`'50000'` or `'default'`, as the API spells it. */
  Priority: string;
  Conditions: RuleCondition[];
  Actions: Action[];
  IsDefault: boolean;
}

export type TargetState = 'initial' | 'healthy' | 'unhealthy' | 'unused' | 'draining' | 'unavailable';

export interface TargetRecord {
  Id: string;
  Port: number;
  AvailabilityZone?: string;
  state: TargetState;
  reason?: string;
  description?: string;
  /** Consecutive passed / failed health checks. */
  passed: number;
  failed: number;
  nextCheckAt?: number;
  registeredAt: number;
  drainingUntil?: number;
}

export interface HealthCheckSettings {
  HealthCheckProtocol: 'HTTP' | 'HTTPS';
  HealthCheckPort: string;
  HealthCheckPath: string;
  HealthCheckIntervalSeconds: number;
  HealthCheckTimeoutSeconds: number;
  HealthyThresholdCount: number;
  UnhealthyThresholdCount: number;
  Matcher: { HttpCode: string };
}

export interface TargetGroupRecord {
  TargetGroupArn: string;
  TargetGroupName: string;
  Protocol: 'HTTP' | 'HTTPS';
  Port: number;
  VpcId: string;
  TargetType: 'ip' | 'instance';
  HealthCheck: HealthCheckSettings;
  deregistrationDelaySeconds: number;
  targets: Record<string, TargetRecord>;
}

export interface Elbv2State {
  loadBalancers: Record<string, LoadBalancerRecord>;
  listeners: Record<string, ListenerRecord>;
  rules: Record<string, RuleRecord>;
  targetGroups: Record<string, TargetGroupRecord>;
  tags: Record<string, Tag[]>;
}
