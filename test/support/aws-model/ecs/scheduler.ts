import { runHealthChecks } from '../elbv2/target-health';
import type { AwsModel } from '../model';
import type { DeploymentRecord, ServiceRecord, TaskRecord } from './types';

/**
 * One step of the ECS service scheduler at the current virtual time:
 * 1. load balancer health checks run (elbv2/target-health.ts);
 * 2. tasks move through PROVISIONING → PENDING → RUNNING (registered in the service's
 *    target groups) and DEACTIVATING (draining) → STOPPING → DEPROVISIONING → STOPPED;
 * 3. as ECS documents for services behind a load balancer, a RUNNING task whose target is
 *    `unhealthy` after the health check grace period is stopped ("Task failed ELB health
 *    checks in (target-group ...)") and replaced; a target that is `unused` because its
 *    target group is not attached to a listener is not unhealthy, so the task is kept;
 * 4. each service is kept at its desired count within the deployment's
 *    maximumPercent/minimumHealthyPercent, old deployments' tasks are stopped once enough
 *    new ones are healthy, and finished deployments are removed;
 * 5. STOPPED tasks older than the retention are forgotten (DescribeTasks then reports
 *    them MISSING).
 */
export function schedule(model: AwsModel): void {
  const ecs = model.ecs;
  runHealthChecks(model);
  // One pass over the tasks per step: lifecycle, and an index by service for the rest.
  const byService = new Map<string, TaskRecord[]>();
  for (const task of Object.values(ecs.state.tasks)) {
    advanceTask(model, task);
    if (!task.serviceArn) continue;
    const list = byService.get(task.serviceArn);
    if (list) list.push(task);
    else byService.set(task.serviceArn, [task]);
  }
  for (const service of Object.values(ecs.state.services)) {
    if (service.status !== 'ACTIVE') continue;
    const tasks = byService.get(service.serviceArn) ?? [];
    enforceLoadBalancerHealth(model, service, tasks);
    tripCircuitBreaker(model, service);
    reconcile(model, service, tasks);
  }
  ecs.flushEvents();
  const now = model.clock.now();
  for (const [arn, task] of Object.entries(ecs.state.tasks)) {
    if (task.lastStatus === 'STOPPED' && now - (task.stoppedAt ?? now) > ecs.timings.stoppedRetentionMs) {
      delete ecs.state.tasks[arn];
      delete ecs.state.appHealth[arn];
    }
  }
}

function advanceTask(model: AwsModel, task: TaskRecord): void {
  const ecs = model.ecs;
  const now = model.clock.now();
  const t = ecs.timings;
  if (task.desiredStatus === 'RUNNING') {
    if (task.lastStatus === 'PROVISIONING' && now >= task.nextStepAt) {
      task.lastStatus = 'PENDING';
      task.connectivityAt = now;
      task.pullStartedAt = now;
      task.nextStepAt = now + t.pendingMs;
      task.version++;
    } else if (task.lastStatus === 'PENDING' && now >= task.nextStepAt) {
      task.lastStatus = 'RUNNING';
      task.pullStoppedAt = now;
      task.startedAt = now;
      task.version++;
      ecs.registerTargets(task);
    }
    return;
  }
  switch (task.lastStatus) {
    case 'DEACTIVATING': {
      const draining = task.registrations.some((r) => model.elbv2.target(r.targetGroupArn, task.privateIp, r.port));
      if (!draining) {
        task.lastStatus = 'STOPPING';
        task.nextStepAt = now + t.stoppingMs;
        task.version++;
      }
      break;
    }
    case 'STOPPING':
      if (now >= task.nextStepAt) {
        task.lastStatus = 'DEPROVISIONING';
        task.executionStoppedAt = now;
        task.nextStepAt = now + t.deprovisioningMs;
        task.version++;
      }
      break;
    case 'DEPROVISIONING':
      if (now >= task.nextStepAt) {
        task.lastStatus = 'STOPPED';
        task.stoppedAt = now;
        task.executionStoppedAt ??= now;
        task.version++;
        model.ec2.deleteNetworkInterface(task.networkInterfaceId);
      }
      break;
    default:
      break;
  }
}

/** Healthy enough for a deployment: RUNNING and no registered target `unhealthy` or still `initial`. */
export function isHealthy(model: AwsModel, task: TaskRecord): boolean {
  if (task.lastStatus !== 'RUNNING' || task.desiredStatus !== 'RUNNING') return false;
  return task.registrations.every((r) => {
    const target = model.elbv2.target(r.targetGroupArn, task.privateIp, r.port);
    return target !== undefined && (target.state === 'healthy' || target.state === 'unused');
  });
}

function enforceLoadBalancerHealth(model: AwsModel, service: ServiceRecord, tasks: readonly TaskRecord[]): void {
  const ecs = model.ecs;
  const now = model.clock.now();
  for (const task of tasks) {
    if (task.lastStatus !== 'RUNNING' || task.desiredStatus !== 'RUNNING') continue;
    if (now - (task.startedAt ?? now) < service.healthCheckGracePeriodSeconds * 1000) continue;
    for (const r of task.registrations) {
      const target = model.elbv2.target(r.targetGroupArn, task.privateIp, r.port);
      if (target?.state !== 'unhealthy') continue;
      const taskId = task.taskArn.split('/').pop();
      const reason = (target.description ?? target.reason ?? 'Health checks failed').replace(/\.$/, '');
      ecs.addEvent(
        service,
        `(service ${service.serviceName}) (task ${taskId}) (port ${r.port}) is unhealthy in (target-group ${r.targetGroupArn}) due to (reason ${reason}).`,
      );
      ecs.stopTask(
        task,
        `Task failed ELB health checks in (target-group ${r.targetGroupArn})`,
        'ServiceSchedulerInitiated',
      );
      const deployment = service.deployments.find((d) => d.id === task.deploymentId);
      if (deployment) deployment.failedTasks++;
      service.steady = false;
      break;
    }
  }
}

/**
 * The deployment circuit breaker (ECS Developer Guide, "How the Amazon ECS deployment circuit
 * breaker detects failures"; API DeploymentCircuitBreaker, ServiceDeploymentCircuitBreaker):
 * - "If it is turned on, a service deployment will transition to a failed state and stop
 *   launching new tasks."
 * - threshold: "a minimum threshold of 3 and a maximum threshold of 200 ... 0.5 * desired
 *   task count"; the model counts the deployment's tasks stopped for failed health checks.
 * - "When the deployment circuit breaker determines that a deployment failed, it looks for
 *   the most recent deployment that is in a COMPLETED state. This is the deployment that it
 *   uses as the roll-back deployment ... When the deployment circuit breaker does not find a
 *   deployment that is in a COMPLETED state, the circuit breaker does not launch new tasks
 *   and the deployment is stalled." (rollback: "If rollback is on, when a service deployment
 *   fails, the service is rolled back to the last deployment that completed successfully.")
 */
function tripCircuitBreaker(model: AwsModel, service: ServiceRecord): void {
  const breaker = service.deploymentConfiguration.deploymentCircuitBreaker;
  const primary = service.deployments.find((d) => d.status === 'PRIMARY');
  if (!breaker?.enable || !primary || primary.rolloutState !== 'IN_PROGRESS') return;
  const threshold = Math.min(200, Math.max(3, Math.ceil(0.5 * primary.desiredCount)));
  if (primary.failedTasks < threshold) return;
  const ecs = model.ecs;
  primary.rolloutState = 'FAILED';
  primary.rolloutStateReason = 'ECS deployment circuit breaker: tasks failed to start.';
  primary.updatedAt = model.clock.now();
  ecs.addEvent(
    service,
    `(service ${service.serviceName}) (deployment ${primary.id}) deployment failed: tasks failed to start.`,
  );
  const target = service.lastCompleted;
  if (!breaker.rollback || !target || target.id === primary.id) return;
  ecs.addEvent(service, `(service ${service.serviceName}) rolling back to deployment ${target.id}.`);
  service.taskDefinition = target.taskDefinition;
  service.networkConfiguration = structuredClone(target.networkConfiguration);
  ecs.newDeployment(service);
}

function reconcile(model: AwsModel, service: ServiceRecord, tasks: TaskRecord[]): void {
  const ecs = model.ecs;
  const now = model.clock.now();
  const primary = service.deployments.find((d) => d.status === 'PRIMARY');
  if (!primary) return;
  // A failed deployment (circuit breaker, no rollback) launches nothing and stops nothing.
  if (primary.rolloutState === 'FAILED') return;
  const desired = primary.desiredCount;
  const maxPercent = service.deploymentConfiguration.maximumPercent ?? 200;
  const minPercent = service.deploymentConfiguration.minimumHealthyPercent ?? 100;
  const maxTotal = Math.max(desired, Math.floor((desired * maxPercent) / 100));
  const minHealthy = Math.ceil((desired * minPercent) / 100);

  const live = tasks.filter((t) => t.desiredStatus === 'RUNNING');
  const primaryTasks = live.filter((t) => t.deploymentId === primary.id);
  // Scale-in protection: deployments and scale-in leave protected tasks running.
  const oldTasks = live.filter((t) => t.deploymentId !== primary.id && !ecs.isProtected(t));

  // Scale in: too many primary tasks (desired count lowered).
  if (primaryTasks.length > desired) {
    const excess = primaryTasks
      .filter((t) => !ecs.isProtected(t))
      .sort((a, b) => b.createdAt - a.createdAt)
      .slice(0, primaryTasks.length - desired);
    for (const task of excess) {
      ecs.stopTask(task, `Scaling activity initiated by (deployment ${primary.id})`, 'ServiceSchedulerInitiated');
    }
  }

  // Stop old deployments' tasks as far as minimumHealthyPercent allows.
  const healthyPrimary = primaryTasks.filter((t) => isHealthy(model, t)).length;
  const healthyOld = oldTasks.filter((t) => isHealthy(model, t));
  const unhealthyOld = oldTasks.filter((t) => !isHealthy(model, t));
  let stoppable = Math.max(0, healthyPrimary + healthyOld.length - minHealthy);
  for (const task of [...unhealthyOld, ...healthyOld.sort((a, b) => a.createdAt - b.createdAt)]) {
    const isHealthyTask = !unhealthyOld.includes(task);
    if (isHealthyTask) {
      if (stoppable <= 0) break;
      stoppable--;
    }
    const deployment = service.deployments.find((d) => d.id === task.deploymentId);
    ecs.stopTask(
      task,
      `Scaling activity initiated by (deployment ${deployment?.id ?? primary.id})`,
      'ServiceSchedulerInitiated',
    );
  }

  // Scale out the primary deployment within maximumPercent.
  const stillLive = tasks.filter((t) => t.desiredStatus === 'RUNNING');
  const primaryLive = stillLive.filter((t) => t.deploymentId === primary.id).length;
  const toStart = Math.min(desired - primaryLive, maxTotal - stillLive.length);
  for (let i = 0; i < toStart; i++) tasks.push(ecs.launchTask(service, primary));
  if (toStart > 0) primary.updatedAt = now;

  // Drop deployments with no tasks left; complete the primary when it is at strength.
  service.deployments = service.deployments.filter(
    (d: DeploymentRecord) =>
      d.status === 'PRIMARY' || tasks.some((t) => t.deploymentId === d.id && t.lastStatus !== 'STOPPED'),
  );
  const primaryHealthy = tasks.filter((t) => t.deploymentId === primary.id && isHealthy(model, t)).length;
  if (service.deployments.length === 1 && primaryHealthy === desired) {
    if (primary.rolloutState !== 'COMPLETED') {
      primary.rolloutState = 'COMPLETED';
      primary.rolloutStateReason = `ECS deployment ${primary.id} completed.`;
      primary.updatedAt = now;
      service.lastCompleted = {
        id: primary.id,
        taskDefinition: primary.taskDefinition,
        networkConfiguration: structuredClone(primary.networkConfiguration),
      };
      ecs.addEvent(service, `(service ${service.serviceName}) (deployment ${primary.id}) deployment completed.`);
    }
    if (!service.steady) {
      service.steady = true;
      ecs.addEvent(service, `(service ${service.serviceName}) has reached a steady state.`);
    }
  } else {
    service.steady = false;
  }
}
