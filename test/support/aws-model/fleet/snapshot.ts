import type { Action, RuleCondition } from '@aws-sdk/client-elastic-load-balancing-v2';
import { rulesOf } from '../ec2/security-groups';
import type { SgRuleRecord } from '../ec2/types';
import type { AwsModel } from '../model';

/** A security group rule without its id: what "the same rule" means when comparing. */
export interface RuleShape {
  protocol: string;
  fromPort: number;
  toPort: number;
  /** CIDR, IPv6 CIDR, prefix list id or security group id. */
  peer: string;
  description?: string;
}

/** Everything that belongs to one site, as plain data that compares with toEqual. */
export interface SiteSnapshot {
  securityGroup: {
    groupId: string;
    tags: Record<string, string>;
    ingress: RuleShape[];
    egress: RuleShape[];
    ruleIds: { ingress: string[]; egress: string[] };
  };
  aclAssociations: Array<{ subnetId: string; networkAclId: string; associationId: string }>;
  listenerRule: { ruleArn: string; priority: string; conditions: RuleCondition[]; actions: Action[] };
  targetGroup: {
    arn: string;
    attached: boolean;
    targets: Array<{ id: string; port: number; state: string; reason?: string }>;
  };
  role: { roleName: string; tags: Record<string, string>; inlinePolicies: Record<string, unknown> };
  secret: { arn: string; versions: Record<string, string[]> };
  service: {
    serviceArn: string;
    desiredCount: number;
    taskDefinition: string;
    deployments: number;
    runningCount: number;
  };
  tasks: Array<{
    taskArn: string;
    lastStatus: string;
    desiredStatus: string;
    stoppedReason?: string;
    networkInterfaceId: string;
    privateIp: string;
    securityGroups: string[];
  }>;
}

function shape(rule: SgRuleRecord): RuleShape {
  return {
    protocol: rule.IpProtocol,
    fromPort: rule.FromPort,
    toPort: rule.ToPort,
    peer: rule.CidrIpv4 ?? rule.CidrIpv6 ?? rule.PrefixListId ?? rule.ReferencedGroupId ?? '',
    ...(rule.Description !== undefined ? { description: rule.Description } : {}),
  };
}

const byJson = <T>(a: T, b: T) =>
  JSON.stringify(a) < JSON.stringify(b) ? -1 : JSON.stringify(a) > JSON.stringify(b) ? 1 : 0;

const record = (tags: Array<{ Key: string; Value: string }>) => Object.fromEntries(tags.map((t) => [t.Key, t.Value]));

/**
 * A deep, comparable copy of everything belonging to a seeded site: its security group
 * rules (as shapes, sorted, plus the current rule ids), its subnets' ACL associations,
 * its listener rule, target group and target health, task role tags and inline
 * policies (parsed), secret version labels (never values), service and tasks. Take one
 * before and one after an action and compare field by field.
 */
export function snapshotSite(model: AwsModel, siteId: string): SiteSnapshot {
  const site = model.fleet?.sites[siteId];
  if (!site) throw new Error(`aws-model: site ${siteId} was not seeded (seedFleet)`);
  const group = model.ec2.state.securityGroups[site.securityGroupId];
  const ingress = rulesOf(model.ec2, site.securityGroupId, false);
  const egress = rulesOf(model.ec2, site.securityGroupId, true);
  const rule = model.elbv2.state.rules[site.listenerRuleArn];
  const tg = model.elbv2.state.targetGroups[site.targetGroupArn];
  const role = model.iam.state.roles[site.taskRoleName.toLowerCase()];
  const service = model.ecs.state.services[site.serviceArn];
  const tasks = model.ecs.tasksOf(site.serviceArn);
  const snapshot: SiteSnapshot = {
    securityGroup: {
      groupId: site.securityGroupId,
      tags: record(group?.Tags ?? []),
      ingress: ingress.map(shape).sort(byJson),
      egress: egress.map(shape).sort(byJson),
      ruleIds: {
        ingress: ingress.map((r) => r.SecurityGroupRuleId).sort(),
        egress: egress.map((r) => r.SecurityGroupRuleId).sort(),
      },
    },
    aclAssociations: Object.values(model.ec2.state.aclAssociations)
      .filter((a) => site.subnetIds.includes(a.SubnetId))
      .map((a) => ({ subnetId: a.SubnetId, networkAclId: a.NetworkAclId, associationId: a.NetworkAclAssociationId }))
      .sort((a, b) => (a.subnetId < b.subnetId ? -1 : 1)),
    listenerRule: {
      ruleArn: site.listenerRuleArn,
      priority: rule?.Priority ?? '',
      conditions: rule?.Conditions ?? [],
      actions: rule?.Actions ?? [],
    },
    targetGroup: {
      arn: site.targetGroupArn,
      attached: model.elbv2.loadBalancersUsing(site.targetGroupArn).length > 0,
      targets: Object.values(tg?.targets ?? {})
        .map((t) => ({ id: t.Id, port: t.Port, state: t.state, ...(t.reason ? { reason: t.reason } : {}) }))
        .sort(byJson),
    },
    role: {
      roleName: site.taskRoleName,
      tags: record(role?.Tags ?? []),
      inlinePolicies: model.iam.inlinePolicies(site.taskRoleName),
    },
    secret: { arn: site.secretArn, versions: model.secretsManager.versionStages(site.secretArn) },
    service: {
      serviceArn: site.serviceArn,
      desiredCount: service?.desiredCount ?? 0,
      taskDefinition: service?.taskDefinition ?? '',
      deployments: service?.deployments.length ?? 0,
      runningCount: tasks.filter((t) => t.lastStatus === 'RUNNING').length,
    },
    tasks: tasks
      .map((t) => ({
        taskArn: t.taskArn,
        lastStatus: t.lastStatus,
        desiredStatus: t.desiredStatus,
        ...(t.stoppedReason ? { stoppedReason: t.stoppedReason } : {}),
        networkInterfaceId: t.networkInterfaceId,
        privateIp: t.privateIp,
        securityGroups: [...(model.ec2.state.networkInterfaces[t.networkInterfaceId]?.Groups ?? [])],
      }))
      .sort((a, b) => (a.taskArn < b.taskArn ? -1 : 1)),
  };
  return structuredClone(snapshot);
}
