import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { z } from 'zod';
import { candidateSites, COVERAGE_HEALTHY, COVERAGE_UNHEALTHY } from '../../contracts/guardduty';

export { candidateSites };
import { loadSiteRecord, SiteRecordError } from '../shared/site-records';

/**
 * GuardDuty runtime coverage changes of Bulkhead's clusters, told to the operators with the
 * sites they concern. GuardDuty sends "GuardDuty Runtime Protection Unhealthy" (and
 * "... Healthy") events with `detail.resourceDetails.ecsClusterDetails.clusterName` and the
 * Fargate issues, which name the task definition or the services ("Agent not reporting for
 * tasks in TaskDefinition - '<family:revision>'", "Impacted service name(s): '<name>'"), per
 * "Runtime coverage and troubleshooting for Amazon ECS clusters"
 * (https://docs.aws.amazon.com/guardduty/latest/ug/gdu-assess-coverage-ecs.html). A site's
 * task family is `bulkhead-<env>-<site>` and its service is named after it; each candidate
 * is confirmed against the site record before it is named. Text from the event is never
 * trusted: only ids that match a site record of this environment and cell are named.
 */

const coverageEvent = z
  .object({
    source: z.literal('aws.guardduty'),
    'detail-type': z.enum([COVERAGE_UNHEALTHY, COVERAGE_HEALTHY]),
    time: z.string().optional(),
    detail: z
      .object({
        currentStatus: z.string().nullish(),
        previousStatus: z.string().nullish(),
        issue: z.string().nullish(),
        lastUpdatedAt: z.unknown().optional(),
        resourceDetails: z
          .object({
            resourceType: z.literal('ECS'),
            ecsClusterDetails: z
              .object({
                clusterName: z.string().min(1).max(255),
                fargateDetails: z
                  .object({ issues: z.array(z.string()).nullish(), managementType: z.string().nullish() })
                  .loose()
                  .nullish(),
              })
              .loose(),
          })
          .loose(),
      })
      .loose(),
  })
  .loose();

export type CoverageEvent = z.infer<typeof coverageEvent>;

export interface CoverageDeps {
  readonly sns: SNSClient;
  readonly ssm: SSMClient;
  readonly environment: string;
  readonly opsTopicArn: string;
  /** Bulkhead's cluster names, by cell (`bulkhead-<env>-<cell>`). */
  readonly clusterCells: ReadonlyMap<string, string>;
}

export type CoverageResult =
  | { readonly ignored: string }
  | { readonly notified: string; readonly cell: string; readonly sites: readonly string[]; readonly status: string };

/** Only printable text, bounded: event text goes into an email. */
function clean(text: string, max = 500): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, max);
}

async function confirmedSites(deps: CoverageDeps, cell: string, candidates: readonly string[]): Promise<string[]> {
  const confirmed: string[] = [];
  for (const site of candidates) {
    try {
      const record = await loadSiteRecord(deps.ssm, deps.environment, site);
      if (record.cell === cell) confirmed.push(site);
    } catch (error) {
      if (!(error instanceof SiteRecordError)) throw error;
    }
  }
  return confirmed;
}

export async function handleCoverageChange(deps: CoverageDeps, event: unknown): Promise<CoverageResult> {
  const parsed = coverageEvent.safeParse(event);
  if (!parsed.success) {
    return { ignored: `not a GuardDuty ECS coverage event: ${parsed.error.issues[0]?.message ?? 'malformed'}` };
  }
  const detail = parsed.data.detail;
  const cluster = detail.resourceDetails.ecsClusterDetails.clusterName;
  const cell = deps.clusterCells.get(cluster);
  if (!cell) return { ignored: `cluster ${clean(cluster, 255)} is not one of Bulkhead's ${deps.environment} clusters` };
  const issues = [detail.issue ?? '', ...(detail.resourceDetails.ecsClusterDetails.fargateDetails?.issues ?? [])]
    .filter((i) => i.length > 0)
    .slice(0, 50);
  const sites = await confirmedSites(deps, cell, candidateSites(deps.environment, issues).slice(0, 100));
  const unhealthy = parsed.data['detail-type'] === COVERAGE_UNHEALTHY;
  const status = unhealthy ? 'UNHEALTHY' : 'HEALTHY';
  const who = sites.length > 0 ? sites.join(', ') : `every site of cell ${cell}`;
  const subject = `Bulkhead ${deps.environment}: runtime monitoring ${status.toLowerCase()} for ${who}`.slice(0, 99);
  const message = [
    `Runtime monitoring (GuardDuty) of cell ${cell} (cluster ${cluster}) is ${status}${detail.previousStatus ? ` (was ${clean(detail.previousStatus, 40)})` : ''}.`,
    sites.length > 0
      ? `Sites concerned: ${sites.join(', ')}`
      : 'No site is named by the issue: it concerns the cluster, so every site of the cell.',
    ...(issues.length > 0 ? ['', 'Issues reported by GuardDuty:', ...issues.map((i) => `  - ${clean(i)}`)] : []),
    '',
    unhealthy
      ? 'While coverage is unhealthy GuardDuty receives no runtime events from these tasks: no runtime finding, so no automatic containment. Check with `siteops doctor`; the fixes for each issue are in https://docs.aws.amazon.com/guardduty/latest/ug/gdu-assess-coverage-ecs.html'
      : 'GuardDuty receives runtime events from these tasks again.',
  ].join('\n');
  await deps.sns.send(
    new PublishCommand({
      TopicArn: deps.opsTopicArn,
      Subject: subject,
      Message: message,
      MessageAttributes: {
        kind: { DataType: 'String', StringValue: 'runtime-coverage' },
        cell: { DataType: 'String', StringValue: cell },
        ...(sites.length > 0 ? { site: { DataType: 'String', StringValue: sites.join(',') } } : {}),
      },
    }),
  );
  return { notified: subject, cell, sites, status };
}
