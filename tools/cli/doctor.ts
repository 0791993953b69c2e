import {
  GetDetectorCommand,
  GuardDutyClient,
  ListCoverageCommand,
  ListDetectorsCommand,
} from '@aws-sdk/client-guardduty';
import { GetAccountSummaryCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetAccountSettingsCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { ListServiceQuotasCommand, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { candidateSites } from '../../contracts/guardduty';
import { connectionBudget, connectionBudgetProblem } from '../../infra/config/database-budget';
import type { FleetConfig } from '../../infra/config/load-fleet';
import { fleetQuotaNeeds } from '../../infra/config/quotas';
import { cellClusterName } from '../../contracts/names';

/**
 * `siteops doctor`: reads the account and says, per item, OK or what to fix before (or after)
 * a deploy. Reading is separate from judging: `readAccount` makes the AWS calls (all
 * read-only), `judge` decides, so the rules are tested without an account.
 *
 * - GuardDuty Runtime Monitoring with ECS Fargate agent management (GetDetector `Features`:
 *   `RUNTIME_MONITORING` ENABLED with `ECS_FARGATE_AGENT_MANAGEMENT` ENABLED; GuardDuty API
 *   Reference, DetectorFeatureConfigurationResult), a checked precondition (docs/design.md).
 * - Coverage of each cluster and site (ListCoverage filtered by ECS_CLUSTER_NAME;
 *   CoverageResource `coverageStatus` HEALTHY | UNHEALTHY and `issue`).
 * - Quotas against the fleet's needs (infra/config/quotas.ts): IAM roles from GetAccountSummary
 *   (`Roles`, `RolesQuota`), Lambda concurrency from GetAccountSettings
 *   (`AccountLimit.ConcurrentExecutions`), the others from Service Quotas by name.
 * - Aurora connections: the deployed writer's instance class against the fleet's budget.
 */

export type Verdict = 'ok' | 'warn' | 'block';

export interface DoctorItem {
  readonly item: string;
  readonly verdict: Verdict;
  readonly detail: string;
}

export interface AccountFacts {
  readonly guardDuty?: { readonly runtimeMonitoring?: string; readonly fargateAgentManagement?: string };
  readonly coverage: readonly {
    readonly cluster: string;
    readonly status?: string;
    readonly issues: readonly string[];
  }[];
  readonly iamRoles?: { readonly used: number; readonly quota: number };
  readonly lambdaConcurrency?: number;
  /** Service Quotas by `<serviceCode>/<quotaName>`. */
  readonly serviceQuotas: ReadonlyMap<string, number>;
  /** Instance classes of the environment's database instances. */
  readonly databaseClasses: readonly string[];
}

function guardDutyItems(facts: AccountFacts): DoctorItem[] {
  const g = facts.guardDuty;
  if (!g) {
    return [
      {
        item: 'GuardDuty',
        verdict: 'block',
        detail:
          'no GuardDuty detector in this region: enable GuardDuty, then Runtime Monitoring with automated agent configuration for AWS Fargate (ECS) (https://docs.aws.amazon.com/guardduty/latest/ug/managing-gdu-agent-ecs-automated.html)',
      },
    ];
  }
  const runtime = g.runtimeMonitoring === 'ENABLED';
  const agent = g.fargateAgentManagement === 'ENABLED';
  return [
    {
      item: 'GuardDuty Runtime Monitoring',
      verdict: runtime ? 'ok' : 'block',
      detail: runtime ? 'enabled' : `is ${g.runtimeMonitoring ?? 'not configured'}: enable Runtime Monitoring`,
    },
    {
      item: 'GuardDuty agent management for Fargate (ECS)',
      verdict: agent ? 'ok' : 'block',
      detail: agent
        ? 'enabled: GuardDuty adds its agent to new tasks'
        : `is ${g.fargateAgentManagement ?? 'not configured'}: enable automated agent configuration for AWS Fargate (ECS only); in an organization the delegated GuardDuty administrator does`,
    },
  ];
}

function coverageItems(fleet: FleetConfig, facts: AccountFacts): DoctorItem[] {
  return fleet.cells.flatMap((cell): DoctorItem[] => {
    const cluster = cellClusterName(fleet.environment, cell.id);
    const found = facts.coverage.find((c) => c.cluster === cluster);
    if (!found) {
      return [
        {
          item: `coverage of cell ${cell.id}`,
          verdict: 'warn' as const,
          detail: `GuardDuty reports no coverage for ${cluster} yet (not deployed, or no task started since Runtime Monitoring was enabled)`,
        },
      ];
    }
    const named = new Set(candidateSites(fleet.environment, found.issues));
    return cell.siteIds.map((site) => {
      const unhealthy = found.status === 'UNHEALTHY' && (named.size === 0 || named.has(site));
      return {
        item: `coverage of ${site}`,
        verdict: unhealthy ? ('block' as const) : ('ok' as const),
        detail: unhealthy
          ? `UNHEALTHY: ${found.issues.join('; ') || 'no issue given'} (fixes: https://docs.aws.amazon.com/guardduty/latest/ug/gdu-assess-coverage-ecs.html)`
          : `watched (cluster ${cluster} ${found.status ?? 'unknown'})`,
      };
    });
  });
}

function quotaItems(fleet: FleetConfig, facts: AccountFacts): DoctorItem[] {
  return fleetQuotaNeeds(fleet).flatMap((q): DoctorItem[] => {
    let limit: number | undefined;
    if (q.key === 'iam-roles') limit = facts.iamRoles?.quota;
    else if (q.key === 'lambda-concurrency') limit = facts.lambdaConcurrency;
    else if (q.serviceQuota)
      limit = facts.serviceQuotas.get(`${q.serviceQuota.serviceCode}/${q.serviceQuota.quotaName}`);
    else return [];
    if (limit === undefined) {
      return [
        {
          item: q.name,
          verdict: 'warn',
          detail: `could not read it: check it in the Service Quotas console (the fleet needs ${q.need})`,
        },
      ];
    }
    const used = q.key === 'iam-roles' && facts.iamRoles ? ` (${facts.iamRoles.used} in use)` : '';
    return [
      q.need > limit
        ? {
            item: q.name,
            verdict: 'block',
            detail: `the fleet needs ${q.need}, the account allows ${limit}${used}: ${q.advice}`,
          }
        : { item: q.name, verdict: 'ok', detail: `the fleet needs ${q.need} of ${limit}${used}` },
    ];
  });
}

function databaseItems(fleet: FleetConfig, facts: AccountFacts): DoctorItem[] {
  const classes = facts.databaseClasses.length > 0 ? facts.databaseClasses : [fleet.database.instanceClass];
  const source = facts.databaseClasses.length > 0 ? 'deployed' : 'from the fleet file (not deployed yet)';
  return [...new Set(classes)].map((instanceClass) => {
    const problem = connectionBudgetProblem(
      connectionBudget(instanceClass, fleet.sites.length, fleet.database.maxConnectionsPerSite),
    );
    return {
      item: `Aurora connections (${instanceClass}, ${source})`,
      verdict: problem ? 'block' : 'ok',
      detail: problem ?? `${fleet.sites.length} sites × ${fleet.database.maxConnectionsPerSite} fit`,
    };
  });
}

/** Every item, OK or what to fix. */
export function judge(fleet: FleetConfig, facts: AccountFacts): DoctorItem[] {
  return [
    ...guardDutyItems(facts),
    ...coverageItems(fleet, facts),
    ...quotaItems(fleet, facts),
    ...databaseItems(fleet, facts),
  ];
}

export interface AccountClients {
  readonly guardDuty: GuardDutyClient;
  readonly iam: IAMClient;
  readonly lambda: LambdaClient;
  readonly quotas: ServiceQuotasClient;
  readonly rds: RDSClient;
}

export function accountClients(config: { region?: string; profile?: string }): AccountClients {
  const c = {
    ...(config.region ? { region: config.region } : {}),
    ...(config.profile ? { profile: config.profile } : {}),
  };
  return {
    guardDuty: new GuardDutyClient(c),
    iam: new IAMClient(c),
    lambda: new LambdaClient(c),
    quotas: new ServiceQuotasClient(c),
    rds: new RDSClient(c),
  };
}

async function readGuardDuty(clients: AccountClients, clusters: readonly string[]) {
  const [detectorId] = (await clients.guardDuty.send(new ListDetectorsCommand({}))).DetectorIds ?? [];
  if (!detectorId) return { coverage: [] };
  const detector = await clients.guardDuty.send(new GetDetectorCommand({ DetectorId: detectorId }));
  const runtime = detector.Features?.find((f) => f.Name === 'RUNTIME_MONITORING');
  const agent = runtime?.AdditionalConfiguration?.find((a) => a.Name === 'ECS_FARGATE_AGENT_MANAGEMENT');
  const coverage = await clients.guardDuty.send(
    new ListCoverageCommand({
      DetectorId: detectorId,
      FilterCriteria: {
        FilterCriterion: [{ CriterionKey: 'ECS_CLUSTER_NAME', FilterCondition: { Equals: [...clusters] } }],
      },
    }),
  );
  return {
    guardDuty: { runtimeMonitoring: runtime?.Status, fargateAgentManagement: agent?.Status },
    coverage: (coverage.Resources ?? []).map((r) => ({
      cluster: r.ResourceDetails?.EcsClusterDetails?.ClusterName ?? '',
      status: r.CoverageStatus,
      issues: [r.Issue ?? '', ...(r.ResourceDetails?.EcsClusterDetails?.FargateDetails?.Issues ?? [])].filter(Boolean),
    })),
  };
}

async function readServiceQuotas(clients: AccountClients, codes: readonly string[]): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for (const code of codes) {
    let token: string | undefined;
    do {
      const page = await clients.quotas.send(new ListServiceQuotasCommand({ ServiceCode: code, NextToken: token }));
      for (const q of page.Quotas ?? [])
        if (q.QuotaName && q.Value !== undefined) found.set(`${code}/${q.QuotaName}`, q.Value);
      token = page.NextToken;
    } while (token);
  }
  return found;
}

/** Reads what `judge` needs (read-only calls). */
export async function readAccount(fleet: FleetConfig, clients: AccountClients): Promise<AccountFacts> {
  const clusters = fleet.cells.map((c) => cellClusterName(fleet.environment, c.id));
  const codes = [
    ...new Set(fleetQuotaNeeds(fleet).flatMap((q) => (q.serviceQuota ? [q.serviceQuota.serviceCode] : []))),
  ];
  const [guardDuty, summary, settings, quotas, instances] = await Promise.all([
    readGuardDuty(clients, clusters),
    clients.iam.send(new GetAccountSummaryCommand({})),
    clients.lambda.send(new GetAccountSettingsCommand({})),
    readServiceQuotas(clients, codes),
    clients.rds.send(new DescribeDBInstancesCommand({})),
  ]);
  const roles = summary.SummaryMap?.Roles;
  const rolesQuota = summary.SummaryMap?.RolesQuota;
  return {
    ...guardDuty,
    ...(roles !== undefined && rolesQuota !== undefined ? { iamRoles: { used: roles, quota: rolesQuota } } : {}),
    lambdaConcurrency: settings.AccountLimit?.ConcurrentExecutions,
    serviceQuotas: quotas,
    databaseClasses: (instances.DBInstances ?? [])
      .filter((i) => i.DBClusterIdentifier?.startsWith(`bulkhead-${fleet.environment}-`))
      .flatMap((i) => (i.DBInstanceClass ? [i.DBInstanceClass] : [])),
  };
}

/** The report, one line per item; `blocked` when any item blocks (exit 1). */
export function formatDoctor(items: readonly DoctorItem[]): { text: string; blocked: boolean } {
  const mark: Record<Verdict, string> = { ok: 'OK   ', warn: 'WARN ', block: 'FIX  ' };
  const lines = items.map((i) => `${mark[i.verdict]} ${i.item}: ${i.detail}`);
  const blocked = items.some((i) => i.verdict === 'block');
  lines.push(blocked ? 'Something blocks: fix the FIX items, then run siteops doctor again.' : 'Nothing blocks.');
  return { text: lines.join('\n'), blocked };
}
