/**
 * Database paths, from the properties of each site's `Custom::BulkheadDatabaseUser` (see
 * runtime/db-user/properties.ts): `SiteId`, `Schema`, `User`, `SecretArn`.
 *
 * - `SiteId` or `User` naming another site's: A's resource manages B's account (and sets
 *   its password from A's secret), so A's code logs in as B.
 * - `Schema`: the provider accepts only the schema derived from `SiteId` and grants on it
 *   with `_` and `%` escaped, so that exact name is compared literally. Any other value is
 *   read as the raw MySQL GRANT pattern it would be, where `_` and `%` are wildcards.
 * - Any other property whose name mentions a schema, grant, database or privilege is read as
 *   a GRANT target (`db.*` or `ON db.*`): a pattern that matches B's schema is a path, and
 *   `*.*` matches every schema.
 * - `SecretArn` naming B's secret: whoever holds B's secret logs in as A's user (B → A).
 */
import { Component } from '../../contracts/tag-names';
import { displayValue } from './intrinsics';
import { type Inventory, type ResourceEntry, type SiteInventory, siteComponent } from './inventory';
import type { Finding } from './types';
import { mysqlPatternMatches, PatternIndex, SEGMENT } from './wildcards';

export const DATABASE_USER_TYPE = 'Custom::BulkheadDatabaseUser';
const KNOWN_PROPERTIES = new Set([
  'ServiceToken',
  'SiteId',
  'Schema',
  'User',
  'SecretArn',
  'MaxConnections',
  'PasswordVersion',
]);

/** The schema and user Bulkhead derives from a site id (`wp_` / `site_` + id, `-` → `_`). */
export function derivedDatabaseNames(siteId: string): { schema: string; user: string } {
  const base = siteId.replaceAll('-', '_');
  return { schema: `wp_${base}`, user: `site_${base}` };
}

export interface DatabaseUser {
  readonly site: string;
  readonly entry: ResourceEntry;
  readonly siteId?: string;
  readonly schema?: string;
  readonly user?: string;
  readonly secretArn?: string;
  readonly others: readonly { key: string; values: string[] }[];
}

export function databaseUsersOf(inventory: Inventory, site: SiteInventory): DatabaseUser[] {
  const { resolver } = inventory;
  const entries = [
    ...site.resources.filter((r) => r.type === DATABASE_USER_TYPE),
    ...siteComponent(site, Component.databaseUser).filter((r) => r.type !== DATABASE_USER_TYPE),
  ];
  return entries.map((entry) => {
    const p = entry.properties;
    const text = (key: string) => resolver.resolveString(entry.stack, p[key]);
    const others = Object.keys(p)
      .filter((key) => !KNOWN_PROPERTIES.has(key) && /schema|grant|database|privilege|\bdb/i.test(key))
      .map((key) => ({ key, values: resolver.resolveStrings(entry.stack, p[key]) }));
    const siteId = text('SiteId');
    const schema = text('Schema');
    const user = text('User');
    const secretArn = text('SecretArn');
    return {
      site: site.id,
      entry,
      ...(siteId !== undefined ? { siteId } : {}),
      ...(schema !== undefined ? { schema } : {}),
      ...(user !== undefined ? { user } : {}),
      ...(secretArn !== undefined ? { secretArn } : {}),
      others,
    };
  });
}

/** `GRANT … ON \`wp\_x\`.* TO …`, `wp_x.*` or `wp_x` → the database pattern `wp_x`. */
function grantDatabase(target: string): string {
  const on = /\bON\s+(\S+)/i.exec(target);
  const object = (on?.[1] ?? target).trim();
  const quoted = /^`((?:[^`]|``)*)`/.exec(object);
  if (quoted) return (quoted[1] as string).replaceAll('``', '`');
  const dot = object.indexOf('.');
  return dot >= 0 ? object.slice(0, dot) : object;
}

export interface DatabaseAnalysis {
  readonly findings: Finding[];
  readonly users: number;
}

export function findDatabasePaths(inventory: Inventory): DatabaseAnalysis {
  const findings: Finding[] = [];
  const usersBySite = new Map(inventory.sites.map((s) => [s.id, databaseUsersOf(inventory, s)]));
  // Another site's names are the ones the contract derives from its id (the provider accepts no other).
  const namesOf = (site: SiteInventory) => {
    const derived = derivedDatabaseNames(site.id);
    return { schemas: [derived.schema], users: [derived.user] };
  };
  // Every site's secrets, to find a database user that takes its password from another site's.
  const secrets = new PatternIndex<string>();
  for (const site of inventory.sites) {
    for (const r of site.resources.filter((x) => x.type === 'AWS::SecretsManager::Secret')) {
      const arn = inventory.resolver.resolveString(r.stack, { Ref: r.logicalId });
      if (arn) secrets.add(arn.replace(/-\?{6}$/, `-${SEGMENT}`), site.id);
    }
  }

  for (const a of inventory.sites) {
    for (const u of usersBySite.get(a.id) ?? []) {
      const ref = (rule: string) => ({ stack: u.entry.stack.name, logicalId: u.entry.logicalId, rule });
      const ownSchema = u.siteId !== undefined ? derivedDatabaseNames(u.siteId).schema : undefined;
      const secretOwners = u.secretArn !== undefined ? secrets.query(u.secretArn) : [];
      for (const b of inventory.sites) {
        if (b.id === a.id) continue;
        const names = namesOf(b);
        const add = (to: string, from: string, summary: string, rule: string) =>
          findings.push({ kind: 'database', from, to, summary, rules: [ref(rule)] });
        if (u.siteId === b.id) {
          add(
            b.id,
            a.id,
            `${a.id}'s database user resource is for site ${b.id} (SiteId)`,
            `SiteId: ${displayValue(u.siteId)}`,
          );
        }
        if (u.user !== undefined && names.users.includes(u.user)) {
          add(
            b.id,
            a.id,
            `${a.id}'s database user resource manages ${b.id}'s account ${u.user}`,
            `User: ${displayValue(u.user)}`,
          );
        }
        if (u.schema !== undefined) {
          const literal = u.schema === ownSchema;
          const hit = literal
            ? names.schemas.includes(u.schema)
            : names.schemas.some((s) => s === u.schema || mysqlPatternMatches(u.schema as string, s));
          if (hit) {
            add(
              b.id,
              a.id,
              literal || names.schemas.includes(u.schema)
                ? `${a.id}'s database user is granted ${b.id}'s schema ${u.schema}`
                : `${a.id}'s database user grant pattern ${u.schema} matches ${b.id}'s schema (MySQL GRANT wildcards _ and %)`,
              `Schema: ${displayValue(u.schema)}`,
            );
          }
        }
        for (const other of u.others) {
          for (const value of other.values) {
            const database = grantDatabase(value);
            if (database === '*' || names.schemas.some((s) => s === database || mysqlPatternMatches(database, s))) {
              add(
                b.id,
                a.id,
                `${a.id}'s database user property ${other.key} grants on ${database === '*' ? 'every schema' : database}, which covers ${b.id}'s schema`,
                `${other.key}: ${displayValue(value)}`,
              );
            }
          }
        }
        if (u.secretArn !== undefined && secretOwners.includes(b.id)) {
          add(
            a.id,
            b.id,
            `${a.id}'s database user takes its password from ${b.id}'s secret, so ${b.id}'s credentials log in as ${a.id}`,
            `SecretArn: ${displayValue(u.secretArn)}`,
          );
        }
      }
    }
  }
  findings.push(...platformUsers(inventory, secrets), ...foreignProviders(inventory, usersBySite));
  return { findings, users: [...usersBySite.values()].reduce((n, list) => n + list.length, 0) };
}

/** What a database user resource is for: the sites whose account or schema it names. */
function sitesNamed(inventory: Inventory, u: DatabaseUser): { site: string; rule: string }[] {
  const out: { site: string; rule: string }[] = [];
  for (const b of inventory.sites) {
    const names = derivedDatabaseNames(b.id);
    if (u.siteId === b.id) out.push({ site: b.id, rule: `SiteId: ${displayValue(u.siteId)}` });
    else if (u.user === names.user) out.push({ site: b.id, rule: `User: ${displayValue(u.user)}` });
    else if (u.schema !== undefined && (u.schema === names.schema || mysqlPatternMatches(u.schema, names.schema))) {
      out.push({ site: b.id, rule: `Schema: ${displayValue(u.schema)}` });
    }
  }
  return out;
}

/**
 * A database user resource outside every site's stack (in a platform stack) whose password is
 * a site's secret: that site logs in as whatever account and schema the resource is for.
 */
function platformUsers(inventory: Inventory, secrets: PatternIndex<string>): Finding[] {
  const findings: Finding[] = [];
  const platform = inventory.ofType(DATABASE_USER_TYPE).filter((e) => inventory.siteOf(e.token) === undefined);
  for (const entry of platform) {
    const [u] = databaseUsersOf(inventory, { id: '', resources: [entry] } as unknown as SiteInventory);
    if (!u || u.secretArn === undefined) continue;
    for (const holder of new Set(secrets.query(u.secretArn))) {
      for (const target of sitesNamed(inventory, u)) {
        if (target.site === holder) continue;
        findings.push({
          kind: 'database',
          from: holder,
          to: target.site,
          summary: `the platform's database user resource ${entry.logicalId} (${entry.stack.name}) takes its password from ${holder}'s secret and is for ${target.site}: ${holder}'s credentials log in to ${target.site}'s database`,
          rules: [
            { stack: entry.stack.name, logicalId: entry.logicalId, rule: `SecretArn: ${displayValue(u.secretArn)}` },
            { stack: entry.stack.name, logicalId: entry.logicalId, rule: target.rule },
          ],
        });
      }
    }
  }
  return findings;
}

/** A site's database user resource served by another site's function: that function receives the site's secret. */
function foreignProviders(inventory: Inventory, usersBySite: Map<string, DatabaseUser[]>): Finding[] {
  const findings: Finding[] = [];
  for (const [site, users] of usersBySite) {
    for (const u of users) {
      const token = inventory.resolver.resolveString(u.entry.stack, u.entry.properties.ServiceToken) ?? '';
      const fn = inventory
        .ofType('AWS::Lambda::Function')
        .find(
          (f) =>
            token.includes(f.token) ||
            token === inventory.resolver.resolveString(f.stack, { 'Fn::GetAtt': [f.logicalId, 'Arn'] }),
        );
      const owner = fn ? inventory.siteOf(fn.token) : undefined;
      if (!fn || owner === undefined || owner === site) continue;
      findings.push({
        kind: 'database',
        from: owner,
        to: site,
        summary: `${site}'s database user is provided by ${owner}'s function ${fn.logicalId}, which receives ${site}'s database secret`,
        rules: [
          { stack: u.entry.stack.name, logicalId: u.entry.logicalId, rule: `ServiceToken: ${displayValue(token)}` },
        ],
      });
    }
  }
  return findings;
}
