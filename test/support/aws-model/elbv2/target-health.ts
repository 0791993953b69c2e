import { indexRules, type RuleIndex, tcpReachable } from '../ec2/reachability';
import type { NetworkInterfaceRecord } from '../ec2/types';
import type { TaskRecord } from '../ecs/types';
import type { AwsModel } from '../model';
import { TARGET_REASON_TEXT } from './elbv2-model';
import type { LoadBalancerRecord, TargetGroupRecord, TargetRecord } from './types';

type ProbeResult = { ok: true } | { ok: false; reason: string };

/** Lookups built once per health-check pass. */
export interface ProbeIndex {
  rules: RuleIndex;
  interfacesByIp: Map<string, NetworkInterfaceRecord>;
  tasksByInterface: Map<string, TaskRecord>;
}

export function buildProbeIndex(model: AwsModel): ProbeIndex {
  const interfacesByIp = new Map<string, NetworkInterfaceRecord>();
  for (const eni of Object.values(model.ec2.state.networkInterfaces)) {
    interfacesByIp.set(`${eni.VpcId}|${eni.PrivateIpAddress}`, eni);
  }
  const tasksByInterface = new Map<string, TaskRecord>();
  for (const task of Object.values(model.ecs.state.tasks)) tasksByInterface.set(task.networkInterfaceId, task);
  return { rules: indexRules(model.ec2), interfacesByIp, tasksByInterface };
}

/**
 * One health check of one target from every node of the load balancers that use its
 * target group. The check is a real evaluation of the network path: the load balancer's
 * security groups must allow egress to the target, the target's security groups must allow
 * ingress from the load balancer on the health-check port, and the network ACLs of both
 * subnets must pass the request and the reply. A dropped packet is a timeout
 * (`Target.Timeout`); a task that is not RUNNING refuses the connection
 * (`Target.FailedHealthChecks`); a test can make a task's application answer 500
 * (`Target.ResponseCodeMismatch`) or hang (`Target.Timeout`).
 */
export function probeTarget(
  model: AwsModel,
  tg: TargetGroupRecord,
  loadBalancers: readonly LoadBalancerRecord[],
  target: TargetRecord,
  index: ProbeIndex = buildProbeIndex(model),
): ProbeResult {
  const eni = index.interfacesByIp.get(`${tg.VpcId}|${target.Id}`);
  if (!eni) return { ok: false, reason: 'Target.Timeout' };
  const hcPort = tg.HealthCheck.HealthCheckPort;
  const port = hcPort === 'traffic-port' ? target.Port : Number(hcPort);
  for (const lb of loadBalancers) {
    for (const node of lb.AvailabilityZones) {
      const lbEni = model.ec2.state.networkInterfaces[node.NetworkInterfaceId];
      if (!lbEni) continue;
      const verdict = tcpReachable(
        model.ec2,
        { ip: lbEni.PrivateIpAddress, subnetId: lbEni.SubnetId, groups: lbEni.Groups },
        { ip: eni.PrivateIpAddress, subnetId: eni.SubnetId, groups: eni.Groups },
        port,
        index.rules,
      );
      if (verdict) return { ok: false, reason: 'Target.Timeout' };
    }
  }
  const task = index.tasksByInterface.get(eni.NetworkInterfaceId);
  if (task) {
    if (task.lastStatus !== 'RUNNING') return { ok: false, reason: 'Target.FailedHealthChecks' };
    const app = model.ecs.appHealth(task.taskArn);
    if (app === 'error') return { ok: false, reason: 'Target.ResponseCodeMismatch' };
    if (app === 'hang') return { ok: false, reason: 'Target.Timeout' };
  }
  return { ok: true };
}

function setState(target: TargetRecord, state: TargetRecord['state'], reason?: string): void {
  target.state = state;
  target.reason = reason;
  target.description = reason ? TARGET_REASON_TEXT[reason] : undefined;
}

/**
 * Advances every target group's health checks to the current virtual time. A target group
 * no listener rule forwards to is not in use: its targets are `unused` (`Target.NotInUse`)
 * and are not checked. Otherwise each target is checked every HealthCheckIntervalSeconds;
 * HealthyThresholdCount consecutive passes make it healthy, UnhealthyThresholdCount
 * consecutive failures make it unhealthy. Draining targets disappear when the
 * deregistration delay ends.
 */
export function runHealthChecks(model: AwsModel): void {
  const now = model.clock.now();
  const attachments = model.elbv2.attachmentIndex();
  let index: ProbeIndex | undefined;
  for (const tg of Object.values(model.elbv2.state.targetGroups)) {
    const loadBalancers = attachments.get(tg.TargetGroupArn) ?? [];
    const interval = tg.HealthCheck.HealthCheckIntervalSeconds * 1000;
    for (const [key, target] of Object.entries(tg.targets)) {
      if (target.state === 'draining') {
        if (now >= (target.drainingUntil ?? now)) delete tg.targets[key];
        continue;
      }
      if (loadBalancers.length === 0) {
        setState(target, 'unused', 'Target.NotInUse');
        target.passed = 0;
        target.failed = 0;
        target.nextCheckAt = undefined;
        continue;
      }
      if (target.state === 'unused') {
        setState(target, 'initial', 'Elb.InitialHealthChecking');
        target.nextCheckAt = now + interval;
      }
      target.nextCheckAt ??= now + interval;
      if (now < target.nextCheckAt) continue;
      target.nextCheckAt = now + interval;
      index ??= buildProbeIndex(model);
      const result = probeTarget(model, tg, loadBalancers, target, index);
      if (result.ok) {
        target.passed++;
        target.failed = 0;
        // "After your target is registered, it must pass one health check to be considered
        // healthy"; an unhealthy target needs HealthyThresholdCount consecutive passes.
        const needed = target.state === 'initial' ? 1 : tg.HealthCheck.HealthyThresholdCount;
        if (target.state !== 'healthy' && target.passed >= needed) setState(target, 'healthy');
      } else {
        target.failed++;
        target.passed = 0;
        if (target.failed >= tg.HealthCheck.UnhealthyThresholdCount) {
          setState(target, 'unhealthy', result.reason);
        } else if (target.state === 'initial') {
          setState(target, 'initial', 'Elb.InitialHealthChecking');
        }
      }
    }
  }
}
