/**
 * The database's connection budget. Every site's user may hold `maxConnectionsPerSite`
 * connections (`MAX_USER_CONNECTIONS`); together they must fit in the writer's
 * `max_connections`, or one busy site leaves the others with "Too many connections".
 *
 * Aurora MySQL's default `max_connections` by instance class, from "Maximum connections to an
 * Aurora MySQL DB instance" (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraMySQL.Managing.Performance.html#AuroraMySQL.Managing.MaxConnections):
 * "The following table lists the resulting default value of max_connections for each DB
 * instance class available to Aurora MySQL." The r6g, r6i and r7g classes have the memory of
 * the r5 class of the same size; the guide lists db.r6g.large 1000 and db.r6g.xlarge 2000, the
 * r5 values, and the others here are taken from the r5 class of the same size.
 */
const BY_SIZE: Record<string, number> = {
  large: 1000,
  xlarge: 2000,
  '2xlarge': 3000,
  '4xlarge': 4000,
  '8xlarge': 5000,
  '12xlarge': 6000,
  '16xlarge': 6000,
  '24xlarge': 7000,
};

export const AURORA_MYSQL_MAX_CONNECTIONS: Readonly<Record<string, number>> = {
  'db.t3.small': 45,
  'db.t3.medium': 90,
  'db.t3.large': 135,
  'db.t4g.medium': 90,
  'db.t4g.large': 135,
  'db.r4.large': 1000,
  'db.r4.xlarge': 2000,
  'db.r4.2xlarge': 3000,
  'db.r4.4xlarge': 4000,
  'db.r4.8xlarge': 5000,
  'db.r4.16xlarge': 6000,
  ...Object.fromEntries(
    ['r5', 'r6g', 'r6i', 'r7g'].flatMap((family) =>
      Object.entries(BY_SIZE).map(([size, connections]) => [`db.${family}.${size}`, connections]),
    ),
  ),
};

/** Connections Bulkhead's own functions keep for themselves (database-user provider, rotation). */
export const RESERVED_CONNECTIONS = 10;

export interface ConnectionBudget {
  readonly instanceClass: string;
  /** The writer's max_connections, or undefined for a class not in the table. */
  readonly limit?: number;
  readonly sites: number;
  readonly perSite: number;
  readonly needed: number;
  /** The most each site may have so the fleet fits (0 when even 1 does not). */
  readonly maxPerSite?: number;
}

export function connectionBudget(instanceClass: string, sites: number, perSite: number): ConnectionBudget {
  const limit = AURORA_MYSQL_MAX_CONNECTIONS[instanceClass];
  const needed = sites * perSite + RESERVED_CONNECTIONS;
  const maxPerSite =
    limit === undefined ? undefined : Math.max(0, Math.floor((limit - RESERVED_CONNECTIONS) / Math.max(sites, 1)));
  return { instanceClass, limit, sites, perSite, needed, maxPerSite };
}

/** The smallest class of the same family that fits, for the message. */
function largerClass(budget: ConnectionBudget): string | undefined {
  const family = budget.instanceClass.split('.').slice(0, 2).join('.');
  return Object.entries(AURORA_MYSQL_MAX_CONNECTIONS)
    .filter(([name, limit]) => name.startsWith(`${family}.`) && limit >= budget.needed)
    .sort(([, a], [, b]) => a - b)[0]?.[0];
}

/** What is wrong with the budget, in words that say what to change; undefined when it fits. */
export function connectionBudgetProblem(budget: ConnectionBudget): string | undefined {
  if (budget.limit === undefined) {
    return `"${budget.instanceClass}" is not an Aurora MySQL instance class Bulkhead knows the max_connections of; use one of ${Object.keys(AURORA_MYSQL_MAX_CONNECTIONS).join(', ')}`;
  }
  if (budget.needed <= budget.limit) return undefined;
  const larger = largerClass(budget);
  return [
    `${budget.sites} sites × ${budget.perSite} connections each + ${RESERVED_CONNECTIONS} for Bulkhead's own functions = ${budget.needed}, but ${budget.instanceClass} allows ${budget.limit} (Aurora MySQL max_connections default); the sites would take each other's connections.`,
    budget.maxPerSite && budget.maxPerSite > 0
      ? `Set database.maxConnectionsPerSite to at most ${budget.maxPerSite}`
      : 'Even one connection per site does not fit',
    larger ? `, or choose database.instanceClass ${larger} (${AURORA_MYSQL_MAX_CONNECTIONS[larger]})` : '',
    ', or split the fleet into environments with a database each (docs/scaling.md).',
  ].join('');
}
