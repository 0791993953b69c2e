import type { Task } from '@aws-sdk/client-ecs';
import { siteAlarmName } from '../../../contracts/names';
import { camelCaseKeys, sampleEvent } from '../../support/response-world';
import type { EmulatorWorld } from './world';

/**
 * The events EventBridge delivers to containment, built from the public samples in
 * test/fixtures/events (SOURCES.md) and pointed at resources of an emulator world.
 */

/** The tasks the world's ECS started for a site's service. */
export async function siteTasks(world: EmulatorWorld, site: string): Promise<readonly Task[]> {
  const record = await world.record(site);
  const service = [...world.deployed.serviceTasks.entries()].find(([arn]) => arn.endsWith(`/${record.serviceName}`));
  if (!service || service[1].length === 0) throw new Error(`no task runs for ${site} in the emulator world`);
  return service[1];
}

/**
 * A GuardDuty ECS Runtime Monitoring finding (the public ECSCluster sample, PascalCase SDK
 * output, as the camelCase `detail` of a `GuardDuty Finding` event) about a site's task.
 */
export async function guardDutyFinding(
  world: EmulatorWorld,
  site: string,
  options: { severity?: number } = {},
): Promise<Record<string, unknown>> {
  const sample = camelCaseKeys(
    sampleEvent('guardduty/ecscluster-defenseevasion-runtime-ptraceantidebugging-sample_csa.json'),
  ) as Record<string, unknown> & {
    resource: { ecsClusterDetails: Record<string, unknown> & { taskDetails: Record<string, unknown> } };
    service: Record<string, unknown>;
  };
  const record = await world.record(site);
  const [task] = await siteTasks(world, site);
  const now = Date.now();
  return {
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': 'GuardDuty Finding',
    source: 'aws.guardduty',
    account: world.aws.account,
    time: new Date(now).toISOString(),
    region: world.aws.region,
    resources: [],
    detail: {
      ...sample,
      id: `finding-${site}-${now}`,
      accountId: world.aws.account,
      region: world.aws.region,
      severity: options.severity ?? 8,
      resource: {
        ...sample.resource,
        ecsClusterDetails: {
          ...sample.resource.ecsClusterDetails,
          arn: record.clusterArn,
          name: record.clusterArn.split('/').pop(),
          taskDetails: {
            ...sample.resource.ecsClusterDetails.taskDetails,
            arn: task?.taskArn,
            group: `service:${record.serviceName}`,
          },
        },
      },
      createdAt: new Date(now - 30_000).toISOString(),
      updatedAt: new Date(now).toISOString(),
      service: {
        ...sample.service,
        count: 1,
        eventFirstSeen: new Date(now - 60_000).toISOString(),
        eventLastSeen: new Date(now - 10_000).toISOString(),
      },
    },
  };
}

/** A site alarm entering ALARM (the CloudWatch User Guide's sample state-change event). */
export function siteAlarm(world: EmulatorWorld, site: string, kind: 'error-rate' | 'egress'): Record<string, unknown> {
  const sample = sampleEvent('cloudwatch/single-metric-cpu-ok-to-alarm_cw-docs.json') as Record<string, unknown> & {
    detail: Record<string, unknown> & { state: Record<string, unknown> };
  };
  const alarmName = siteAlarmName(world.environment, site, kind);
  return {
    ...sample,
    id: crypto.randomUUID(),
    account: world.aws.account,
    region: world.aws.region,
    time: new Date().toISOString(),
    resources: [`arn:aws:cloudwatch:${world.aws.region}:${world.aws.account}:alarm:${alarmName}`],
    detail: {
      ...sample.detail,
      alarmName,
      state: { ...sample.detail.state, value: 'ALARM', timestamp: new Date().toISOString() },
    },
  };
}
