import type { FleetConfig } from './load-fleet';

/**
 * The AWS quotas a fleet uses, what it needs of each with today's templates, and the
 * default. docs/scaling.md gives each quota's source page, maximum and what Bulkhead does
 * about it. `fleetQuotaWarnings` is the fleet check's warning (the deploy would hit a default
 * quota); `siteops doctor` compares the same needs with the account's actual values.
 */
export interface QuotaNeed {
  /** Stable key (docs/scaling.md, siteops doctor). */
  readonly key: string;
  readonly name: string;
  readonly need: number;
  readonly defaultValue: number;
  readonly adjustable: boolean;
  /** Where it is read in the account: Service Quotas (service code, quota name) or an API. */
  readonly serviceQuota?: { readonly serviceCode: string; readonly quotaName: string };
  readonly advice: string;
}

/** Roles of the platform stacks (functions, custom resources, flow logs, backup, operator, state machine). */
const PLATFORM_ROLES = 16;
/** Groups of the platform: endpoints (2), database, uploads, db-user provider, one per cell's load balancer. */
const PLATFORM_GROUPS = 5;

/**
 * Concurrency reserved for the containment function: every site of the fleet contained at
 * once, each by a finding and an alarm arriving together, plus headroom for repeats and
 * operators. Reserved, so that no other function in the account can take it (Lambda
 * Developer Guide, "Configuring reserved concurrency": reserved concurrency "is the maximum
 * number of concurrent instances that you want to allocate to your function", and "no
 * other function can use that concurrency").
 */
export function containmentReservedConcurrency(fleet: Pick<FleetConfig, 'sites'>): number {
  return 2 * fleet.sites.length + 10;
}

/** Lambda keeps this much of the account's concurrency unreserved ("Configuring reserved concurrency"). */
export const LAMBDA_UNRESERVED_MINIMUM = 100;

/**
 * What the busiest VPC of the fleet holds (docs/network.md, "Quotas"): every site's own subnets
 * (one per AZ) and ACL, plus per VPC the shared tiers (public, isolated, egress when a site
 * there reaches the internet), the watch subnets, the quarantine ACL and the default ACL.
 */
export function busiestVpc(fleet: FleetConfig): { readonly subnets: number; readonly acls: number } {
  const azs = fleet.network.maxAzs;
  const vpcs = [
    fleet.sites.filter((s) => !fleet.cells.find((c) => c.id === s.cell)?.network),
    ...fleet.cells.filter((c) => c.network).map((c) => fleet.sites.filter((s) => s.cell === c.id)),
  ];
  const needs = vpcs.map((sites) => ({
    subnets: (sites.length + (sites.some((s) => s.internetEgress) ? 4 : 3)) * azs,
    acls: sites.length + 2,
  }));
  return {
    subnets: Math.max(0, ...needs.map((n) => n.subnets)),
    acls: Math.max(0, ...needs.map((n) => n.acls)),
  };
}

export function fleetQuotaNeeds(fleet: FleetConfig): QuotaNeed[] {
  const sites = fleet.sites.length;
  const busiest = busiestVpc(fleet);
  const cellVpcs = fleet.cells.filter((c) => c.network).length;
  const largestCell = Math.max(0, ...fleet.cells.map((c) => c.siteIds.length));
  const tasks = fleet.sites.reduce((n, s) => n + s.desiredCount, 0);
  return [
    {
      key: 'iam-roles',
      name: 'IAM roles per account',
      need: 2 * sites + PLATFORM_ROLES,
      defaultValue: 1000,
      adjustable: true,
      advice: 'request an increase (at most 5,000), or split the fleet into accounts (docs/scaling.md)',
    },
    {
      key: 'security-groups',
      name: 'VPC security groups per Region',
      need: 2 * sites + PLATFORM_GROUPS + fleet.cells.length,
      defaultValue: 2500,
      adjustable: true,
      serviceQuota: { serviceCode: 'vpc', quotaName: 'VPC security groups per Region' },
      advice: 'request an increase, or split the fleet into regions or accounts',
    },
    {
      key: 'subnets',
      name: 'Subnets per VPC',
      need: busiest.subnets,
      defaultValue: 200,
      adjustable: true,
      serviceQuota: { serviceCode: 'vpc', quotaName: 'Subnets per VPC' },
      advice: 'request an increase, or give cells VPCs of their own (cells[].network.cidr, docs/network.md)',
    },
    {
      key: 'network-acls',
      name: 'Network ACLs per VPC',
      need: busiest.acls,
      defaultValue: 200,
      adjustable: true,
      serviceQuota: { serviceCode: 'vpc', quotaName: 'Network ACLs per VPC' },
      advice: 'request an increase, or give cells VPCs of their own (cells[].network.cidr, docs/network.md)',
    },
    {
      key: 'vpcs',
      name: 'VPCs per Region',
      // The platform VPC and one per cell with a VPC of its own.
      need: 1 + cellVpcs,
      defaultValue: 5,
      adjustable: true,
      serviceQuota: { serviceCode: 'vpc', quotaName: 'VPCs per Region' },
      advice: 'request an increase ("you can have hundreds of VPCs per Region", VPC quotas)',
    },
    {
      key: 'vpc-peering',
      name: 'Active VPC peering connections per VPC',
      // The platform VPC is peered with every cell VPC.
      need: cellVpcs,
      defaultValue: 50,
      adjustable: true,
      serviceQuota: { serviceCode: 'vpc', quotaName: 'Active VPC peering connections per VPC' },
      advice: 'request an increase (at most 125), or use fewer, larger cell VPCs',
    },
    {
      key: 'alb-certificates',
      name: 'Certificates per Application Load Balancer',
      need: largestCell,
      defaultValue: 25,
      adjustable: true,
      serviceQuota: { serviceCode: 'elasticloadbalancing', quotaName: 'Certificates per Application Load Balancer' },
      advice: 'request an increase, or lower cellSize so no cell holds more sites than certificates',
    },
    {
      key: 'sns-topics',
      name: 'SNS standard topics per account',
      need: sites + 1,
      defaultValue: 100000,
      adjustable: true,
      serviceQuota: { serviceCode: 'sns', quotaName: 'Topics per Account' },
      advice: 'request an increase',
    },
    {
      key: 'lambda-concurrency',
      name: 'Lambda concurrent executions',
      // Containment's reserved concurrency, the unreserved minimum Lambda keeps, and the
      // plane's other functions.
      need: containmentReservedConcurrency(fleet) + LAMBDA_UNRESERVED_MINIMUM + 10,
      defaultValue: 1000,
      adjustable: true,
      advice: 'request an increase (new accounts may start far below the default)',
    },
    {
      key: 'fargate-tasks',
      name: 'Fargate tasks at once (two per site task during a deployment)',
      need: 2 * tasks,
      defaultValue: Number.POSITIVE_INFINITY,
      adjustable: true,
      advice: 'check the Fargate On-Demand vCPU quota of the account (siteops doctor)',
    },
  ];
}

/** The fleet check's warnings: each need above its default quota, with what to do. */
export function fleetQuotaWarnings(fleet: FleetConfig): string[] {
  return fleetQuotaNeeds(fleet)
    .filter((q) => q.need > q.defaultValue)
    .map(
      (q) =>
        `${fleet.source}: the fleet needs ${q.need} ${q.name} but the default quota is ${q.defaultValue}; ${q.advice}. Check the account with \`siteops doctor\` before deploying.`,
    );
}
