import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { GetParametersByPathCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { ECSClient } from '@aws-sdk/client-ecs';
import { printable } from '../../contracts/display';
import { SITE_ID_PATTERN } from '../../contracts/ids';
import { cellClusterName } from '../../contracts/names';
import { siteRecordParameterPrefix } from '../../contracts/site-record';
import { TAG_ENV } from '../../contracts/tag-names';
import {
  type ClusterFindingTrigger,
  type FindingTrigger,
  type Ignored,
  ignored,
  isIgnored,
  type SequenceTrigger,
  type WideTrigger,
} from './events';
import { type ResponseScope, resolveSite, type SiteHints } from './resolve-site';

/**
 * Findings about more than one task (issue 11 item 4): GuardDuty Extended Threat Detection's
 * `AttackSequence:ECS/CompromisedCluster`, and ECS findings about a whole cluster.
 *
 * An attack sequence names its resources in `service.detection.sequence.resources`
 * (`ResourceV2`, GuardDuty API reference: `Uid` and `ResourceType` required; types include
 * `ECS_CLUSTER`, `ECS_TASK` and `CONTAINER`; `Data.EcsTask.ContainerUids` lists a task's
 * containers). Each ECS task it names in one of Bulkhead's clusters is resolved to its site as
 * a task finding's task is (the task's tags, or ecs:DescribeTasks); each site is contained once
 * (one incident per site, the sequence's finding id as its trigger). Whatever it names that
 * is not resolved to a site (a task not found or not a site's, a cluster of Bulkhead's with no
 * task named, a container of no named task, any other resource) is told to the operators. A
 * sequence that names nothing of Bulkhead's (no task or cluster of its clusters, no resource
 * with this environment's tag) is someone else's and changes nothing.
 *
 * An ECS finding about a Bulkhead cluster with no task reaches the operators, naming the
 * cluster, its cell and the sites in it (from the site records, which name each site's cell;
 * clusters are named `cellClusterName`).
 */

export interface WideDeps {
  readonly ecs: ECSClient;
  readonly ssm: SSMClient;
  readonly sns: SNSClient;
  readonly scope: ResponseScope;
  readonly opsTopicArn: string;
}

export interface SiteResult {
  readonly site: string;
  readonly outcome: string;
  readonly incidentId?: string;
  /** Why nothing was done, when the site's response ignored the trigger. */
  readonly reason?: string;
}

export interface WideResult {
  readonly findingId: string;
  readonly kind: WideTrigger['kind'];
  readonly sites: readonly SiteResult[];
  /** What the operators were told could not be resolved (empty: nothing was sent for it). */
  readonly unresolved: readonly string[];
  /** Whether a message went to the operators' topic. */
  readonly notified: boolean;
}

/** Contains one site for the finding; the caller's respondForSite with the site's own trigger. */
export type RespondToSite = (site: string, trigger: FindingTrigger, hints: SiteHints) => Promise<SiteResult>;

const clusterName = (clusterArn: string): string => clusterArn.split(':cluster/')[1] ?? clusterArn;
const show = (text: string, max = 300): string => printable(text, max);

/** Bulkhead's sites in a cell, from the site records (each names its cell). */
async function sitesInCell(deps: WideDeps, cell: string): Promise<string[]> {
  // GetParametersByPath is authorized against the path in the request (Systems Manager User
  // Guide, "How Parameter Store authorizes parameter retrieval"); at most 10 a page.
  const path = siteRecordParameterPrefix(deps.scope.environment).replace(/\/$/, '');
  const sites: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await deps.ssm.send(new GetParametersByPathCommand({ Path: path, NextToken: token, MaxResults: 10 }));
    for (const parameter of page.Parameters ?? []) {
      try {
        const record = JSON.parse(parameter.Value ?? '') as { site?: unknown; cell?: unknown; environment?: unknown };
        if (
          record.environment === deps.scope.environment &&
          record.cell === cell &&
          typeof record.site === 'string' &&
          SITE_ID_PATTERN.test(record.site) &&
          parameter.Name === `${path}/${record.site}`
        ) {
          sites.push(record.site);
        }
      } catch {
        // A record that is not JSON names no site here (containment of that site reports it).
      }
    }
    token = page.NextToken;
    pages++;
  } while (token && pages < 100);
  return sites.sort();
}

/** The cell of one of Bulkhead's clusters, by its name (`cellClusterName`). */
function cellOf(deps: WideDeps, clusterArn: string): string | undefined {
  if (!deps.scope.clusterArns.has(clusterArn)) return undefined;
  const name = clusterName(clusterArn);
  const prefix = cellClusterName(deps.scope.environment, '');
  return name.startsWith(prefix) ? name.slice(prefix.length) : undefined;
}

async function describeCluster(deps: WideDeps, clusterArn: string): Promise<string> {
  const cell = cellOf(deps, clusterArn);
  const sites = cell === undefined ? [] : await sitesInCell(deps, cell);
  return `cluster ${clusterName(clusterArn)} (cell ${cell ?? '?'}): sites ${sites.length > 0 ? sites.join(', ') : '(none deployed)'}`;
}

async function tell(deps: WideDeps, subject: string, lines: readonly string[], attributes: Record<string, string>) {
  await deps.sns.send(
    new PublishCommand({
      TopicArn: deps.opsTopicArn,
      Subject: show(`Bulkhead ${deps.scope.environment}: ${subject}`, 99),
      Message: lines.join('\n'),
      MessageAttributes: Object.fromEntries(
        Object.entries(attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]),
      ),
    }),
  );
}

/** An ECS finding about a whole cluster of Bulkhead's: the operators hear the cluster and its sites. */
async function clusterFinding(trigger: ClusterFindingTrigger, deps: WideDeps): Promise<WideResult | Ignored> {
  if (!deps.scope.clusterArns.has(trigger.clusterArn)) {
    return ignored(
      'foreign-cluster',
      `finding ${trigger.findingId} is about cluster ${trigger.clusterArn}, which is not one of Bulkhead's`,
    );
  }
  const cluster = await describeCluster(deps, trigger.clusterArn);
  await tell(
    deps,
    `GuardDuty finding about a whole cluster (${show(trigger.findingType, 60)})`,
    [
      `GuardDuty finding ${show(trigger.findingId)} (${show(trigger.findingType)}, severity ${trigger.severity}) is about a cluster, not one task: containment cannot tell which site it concerns and contained none.`,
      `It concerns ${cluster}.`,
      'Look at the finding in GuardDuty; `siteops quarantine <site>` contains a site by hand.',
    ],
    { kind: 'cluster-finding', cluster: clusterName(trigger.clusterArn) },
  );
  return { findingId: trigger.findingId, kind: trigger.kind, sites: [], unresolved: [cluster], notified: true };
}

/** An ECS attack sequence: each named site contained once; the rest told to the operators. */
async function attackSequence(
  trigger: SequenceTrigger,
  deps: WideDeps,
  respond: RespondToSite,
): Promise<WideResult | Ignored> {
  const { scope } = deps;
  const ourClusterNames = new Map([...scope.clusterArns].map((arn) => [clusterName(arn), arn]));
  const clusters = new Set([
    ...trigger.clusterArns.filter((arn) => scope.clusterArns.has(arn)),
    ...trigger.clusterNames.flatMap((name) => (ourClusterNames.has(name) ? [ourClusterNames.get(name) as string] : [])),
  ]);
  const ourTasks = trigger.tasks.filter((t) => scope.clusterArns.has(t.clusterArn));
  const tagged = [...trigger.tasks, ...trigger.others].some((r) => r.tags?.[TAG_ENV] === scope.environment);
  if (ourTasks.length === 0 && clusters.size === 0 && !tagged) {
    return ignored(
      'foreign-cluster',
      `attack sequence ${trigger.findingId} names no task, cluster or tagged resource of Bulkhead's ${scope.environment}`,
    );
  }
  const unresolved: string[] = [];
  // Each task to its site, as a task finding's task is found (same checks, same calls).
  const bySite = new Map<string, { trigger: FindingTrigger; hints: SiteHints }>();
  const coveredClusters = new Set<string>();
  const coveredContainers = new Set<string>();
  for (const task of trigger.tasks.slice(0, 100)) {
    const taskTrigger: FindingTrigger = {
      kind: 'guardduty',
      eventId: trigger.eventId,
      findingId: trigger.findingId,
      findingType: trigger.findingType,
      severity: trigger.severity,
      count: trigger.count,
      detectedAt: trigger.detectedAt,
      clusterArn: task.clusterArn,
      taskArn: task.taskArn,
      taskTags: task.tags,
      account: trigger.account,
      region: trigger.region,
      drill: trigger.drill,
      observed: [],
    };
    const resolved = await resolveSite(taskTrigger, scope, deps.ecs);
    if (isIgnored(resolved)) {
      unresolved.push(`ECS task ${show(task.taskArn)}: ${show(resolved.message)}`);
      continue;
    }
    coveredClusters.add(task.clusterArn);
    for (const uid of task.containerUids) coveredContainers.add(uid);
    if (!bySite.has(resolved.siteId)) bySite.set(resolved.siteId, { trigger: taskTrigger, hints: resolved.hints });
  }
  for (const task of trigger.tasks.slice(100))
    unresolved.push(`ECS task ${show(task.taskArn)}: beyond the first 100 tasks`);
  // One incident per site, all at once; a site that could not be contained makes the event run again.
  const settled = await Promise.allSettled([...bySite].map(([site, t]) => respond(site, t.trigger, t.hints)));
  const sites: SiteResult[] = [];
  const failures: unknown[] = [];
  settled.forEach((s, i) => {
    const site = [...bySite.keys()][i] as string;
    if (s.status === 'fulfilled') {
      sites.push(s.value);
      if (s.value.outcome === 'ignored')
        unresolved.push(`site ${site}: not contained (${show(s.value.reason ?? s.value.outcome)})`);
    } else {
      failures.push(s.reason);
      unresolved.push(
        `site ${site}: containment failed, will be tried again (${show(String((s.reason as Error)?.name ?? s.reason), 80)})`,
      );
    }
  });
  for (const arn of clusters) {
    if (!coveredClusters.has(arn)) unresolved.push(`no task named in ${await describeCluster(deps, arn)}`);
  }
  for (const other of trigger.others) {
    if (other.type === 'CONTAINER' && coveredContainers.has(other.uid)) continue;
    unresolved.push(
      `${other.type} ${show(other.uid)}${other.name ? ` (${show(other.name)})` : ''}: not resolved to a site`,
    );
  }
  if (unresolved.length > 0) {
    await tell(
      deps,
      `attack sequence ${show(trigger.findingType, 60)}: ${unresolved.length} not resolved`,
      [
        `GuardDuty attack sequence ${show(trigger.findingId)} (${show(trigger.findingType)}, severity ${trigger.severity}).`,
        sites.length > 0
          ? `Contained: ${sites.map((s) => `${s.site} (${s.outcome}${s.incidentId ? `, incident ${s.incidentId}` : ''})`).join(', ')}`
          : 'No site was contained.',
        '',
        'Not resolved to a site (look at the finding in GuardDuty; `siteops quarantine <site>` contains a site by hand):',
        ...unresolved.slice(0, 100).map((line) => `  - ${line}`),
      ],
      { kind: 'attack-sequence', ...(sites.length > 0 ? { site: sites.map((s) => s.site).join(',') } : {}) },
    );
  }
  if (failures.length > 0) throw failures[0];
  return { findingId: trigger.findingId, kind: trigger.kind, sites, unresolved, notified: unresolved.length > 0 };
}

/** Responds to a finding about more than one task; see the module comment. */
export async function respondToWideFinding(
  trigger: WideTrigger,
  deps: WideDeps,
  respond: RespondToSite,
): Promise<WideResult | Ignored> {
  if (trigger.account !== deps.scope.account || trigger.region !== deps.scope.region) {
    return ignored(
      'foreign-account',
      `event from ${trigger.account}/${trigger.region}, not ${deps.scope.account}/${deps.scope.region}`,
    );
  }
  return trigger.kind === 'cluster-finding' ? clusterFinding(trigger, deps) : attackSequence(trigger, deps, respond);
}
