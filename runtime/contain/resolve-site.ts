import { DescribeTasksCommand, type ECSClient } from '@aws-sdk/client-ecs';
import { SITE_ID_PATTERN } from '../../contracts/ids';
import { parseSiteAlarmName, siteAlarmName } from '../../contracts/names';
import {
  TAG_ENV,
  TAG_ISOLATION,
  TAG_LISTENER_RULE,
  TAG_RESPONSE_POLICY,
  TAG_SECURITY_GROUP,
  TAG_SEVERITY_THRESHOLD,
  TAG_SITE,
} from '../../contracts/tag-names';
import { type AlarmTrigger, type FindingTrigger, type Ignored, ignored, type Tags, type Trigger } from './events';

export interface ResponseScope {
  readonly environment: string;
  /** The account and region this response plane runs in. */
  readonly account: string;
  readonly region: string;
  /** ARNs of Bulkhead's ECS clusters in this environment (one per cell). */
  readonly clusterArns: ReadonlySet<string>;
}

/** What the task's tags already say about the site, so containment need not wait for its record. */
export interface SiteHints {
  readonly policy?: 'contain' | 'shed' | 'notify';
  readonly severityThreshold?: number;
  readonly isolation?: 'standard' | 'strict';
  /** The site's own security group (lets containment read its rules by id in its first round). */
  readonly securityGroupId?: string;
  /** The site's listener rule (lets containment read it in its first round and shed in its second). */
  readonly listenerRuleArn?: string;
}

export interface ResolvedSite {
  readonly siteId: string;
  readonly hints: SiteHints;
  /** How the site was found: from the finding's own task tags, from ecs:DescribeTasks, or from the alarm. */
  readonly via: 'finding-tags' | 'describe-tasks' | 'alarm-name';
}

function hintsFrom(tags: Tags): SiteHints {
  const policy = tags[TAG_RESPONSE_POLICY];
  const threshold = Number(tags[TAG_SEVERITY_THRESHOLD]);
  const isolation = tags[TAG_ISOLATION];
  const group = tags[TAG_SECURITY_GROUP];
  const rule = tags[TAG_LISTENER_RULE];
  return {
    securityGroupId: group && /^sg-[0-9a-f]{8,17}$/.test(group) ? group : undefined,
    listenerRuleArn:
      rule &&
      /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener-rule\/app\/[A-Za-z0-9-]{1,32}\/[0-9a-f]{16}\/[0-9a-f]{16}\/[0-9a-f]{16}$/.test(
        rule,
      )
        ? rule
        : undefined,
    policy: policy === 'contain' || policy === 'shed' || policy === 'notify' ? policy : undefined,
    severityThreshold: Number.isFinite(threshold) && threshold > 0 ? threshold : undefined,
    isolation: isolation === 'standard' || isolation === 'strict' ? isolation : undefined,
  };
}

function siteFromTaskTags(tags: Tags, scope: ResponseScope, trigger: FindingTrigger): string | Ignored {
  const site = tags[TAG_SITE];
  if (tags[TAG_ENV] !== scope.environment || !site) {
    return ignored(
      'untagged-task',
      `task ${trigger.taskArn} carries no ${TAG_SITE} tag for environment ${scope.environment}`,
    );
  }
  if (!SITE_ID_PATTERN.test(site))
    return ignored('untagged-task', `task ${trigger.taskArn} has a malformed ${TAG_SITE} tag`);
  // The service of a site is named after it; a task whose group says otherwise is not trusted.
  if (trigger.taskGroup?.startsWith('service:') && trigger.taskGroup !== `service:${site}`) {
    return ignored('untagged-task', `task ${trigger.taskArn} is tagged ${site} but belongs to ${trigger.taskGroup}`);
  }
  return site;
}

async function resolveFinding(
  trigger: FindingTrigger,
  scope: ResponseScope,
  ecs: ECSClient,
): Promise<ResolvedSite | Ignored> {
  if (!scope.clusterArns.has(trigger.clusterArn)) {
    return ignored(
      'foreign-cluster',
      `finding ${trigger.findingId} is about cluster ${trigger.clusterArn}, which is not one of Bulkhead's`,
    );
  }
  // A task ARN names its cluster (`task/<cluster>/<id>`, ECS API reference, Task.taskArn); one in
  // another cluster, account or region is not this finding's task, and describing it is not
  // what the function may do (its policy names its own clusters' tasks only): ignore it.
  const [clusterPrefix, clusterName] = trigger.clusterArn.split(':cluster/');
  const taskPrefix = `${clusterPrefix}:task/${clusterName}/`;
  if (!trigger.taskArn.startsWith(taskPrefix)) {
    return ignored('unknown-task', `task ${trigger.taskArn} is not a task of cluster ${trigger.clusterArn}`);
  }
  // The finding's own copy of the task's tags, when it has both of ours (a tag GuardDuty
  // gives without its value is left out by the parser and says nothing: look the task up).
  if (trigger.taskTags?.[TAG_SITE] !== undefined && trigger.taskTags[TAG_ENV] !== undefined) {
    const site = siteFromTaskTags(trigger.taskTags, scope, trigger);
    if (typeof site !== 'string') return site;
    return { siteId: site, hints: hintsFrom(trigger.taskTags), via: 'finding-tags' };
  }
  const described = await ecs.send(
    new DescribeTasksCommand({ cluster: trigger.clusterArn, tasks: [trigger.taskArn], include: ['TAGS'] }),
  );
  const task = described.tasks?.[0];
  if (!task) {
    return ignored(
      'unknown-task',
      `task ${trigger.taskArn} is not in cluster ${trigger.clusterArn} (${described.failures?.[0]?.reason ?? 'no answer'})`,
    );
  }
  const tags: Tags = Object.fromEntries((task.tags ?? []).map((t) => [t.key ?? '', t.value ?? '']));
  const site = siteFromTaskTags(tags, scope, { ...trigger, taskGroup: task.group ?? trigger.taskGroup });
  if (typeof site !== 'string') return site;
  return { siteId: site, hints: hintsFrom(tags), via: 'describe-tasks' };
}

function resolveAlarm(trigger: AlarmTrigger, scope: ResponseScope): ResolvedSite | Ignored {
  const arn = trigger.alarmArn.split(':');
  if (arn[3] !== scope.region || arn[4] !== scope.account) {
    return ignored('foreign-alarm', `alarm ${trigger.alarmName} belongs to ${arn[4]}/${arn[3]}, not this environment`);
  }
  const parsed = parseSiteAlarmName(scope.environment, trigger.alarmName);
  if (!parsed) {
    return ignored(
      'foreign-alarm',
      `alarm ${trigger.alarmName} is not one of Bulkhead's site alarms (${siteAlarmName(scope.environment, '<site>', 'error-rate')} or .egress)`,
    );
  }
  const { site } = parsed;
  if (!SITE_ID_PATTERN.test(site))
    return ignored('foreign-alarm', `alarm ${trigger.alarmName} does not name a valid site`);
  return { siteId: site, hints: {}, via: 'alarm-name' };
}

/** Finds the site a trigger is about, from structured data only (tags, the alarm naming contract). */
export async function resolveSite(
  trigger: Trigger,
  scope: ResponseScope,
  ecs: ECSClient,
): Promise<ResolvedSite | Ignored> {
  if (trigger.account !== scope.account || trigger.region !== scope.region) {
    return ignored(
      'foreign-account',
      `event from ${trigger.account}/${trigger.region}, not ${scope.account}/${scope.region}`,
    );
  }
  return trigger.kind === 'guardduty' ? resolveFinding(trigger, scope, ecs) : resolveAlarm(trigger, scope);
}
