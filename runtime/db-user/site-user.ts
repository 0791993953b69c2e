/**
 * Operations on a site's MySQL account, given an admin connection. Every function validates its
 * inputs before the first statement, and every database error is rethrown as a
 * {@link DatabaseUserError} whose cause has been scrubbed of statement text and passwords.
 */
import { randomBytes } from 'node:crypto';
import { type Connection, type ConnectionOptions, createConnection, type RowDataPacket } from 'mysql2/promise';
import { otherAccountOf } from '../../contracts/database-accounts';
import { DatabaseUserError, InvalidSiteIdentifierError, scrubDatabaseError } from './errors';
import {
  alterUserStatement,
  createSchemaStatement,
  createUserStatement,
  dropUserStatement,
  grantStatement,
  killConnectionStatement,
  lockAccountStatement,
  maxConnectionsStatement,
  type ObservedPrivileges,
  type PrivilegeRow,
  privilegeQueries,
  privilegesMatch,
  revokeAllStatement,
  type SiteAccount,
  type SiteNames,
  type SqlStatement,
  sessionsOfUserStatement,
  setPasswordStatement,
  unlockWithPasswordStatement,
  userExistsStatement,
  validateAccount,
  validatePassword,
  validateSiteNames,
  validateUserHost,
} from './sql';

/** The only part of a mysql2 promise connection these functions use. */
export type AdminConnection = Pick<Connection, 'query'>;

/** mysql2's built-in CA bundle for RDS and Aurora (all regions, all CA generations). */
export const RDS_SSL_PROFILE = 'Amazon RDS';

const CONNECT_TIMEOUT_MS = 10_000;

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface SiteUserSpec {
  readonly names: SiteNames;
  /** Which of the site's two accounts: its user (default) or the alternate (`site_<id>__b`). */
  readonly user?: string;
  /** Host part of the account, usually `%`. */
  readonly userHost: string;
  readonly password: string;
  readonly maxConnections: number;
  /** `REQUIRE SSL` on the account. Off only in local-test mode. */
  readonly requireTls: boolean;
}

export interface EnsureSiteUserResult {
  /** The account did not exist before this call. */
  readonly created: boolean;
  /** Extra privileges were found and removed (REVOKE ALL, then the site grant again). */
  readonly privilegesRepaired: boolean;
}

export interface DropSiteUserResult {
  readonly existed: boolean;
  /** Open sessions of the user that were killed after the account was dropped. */
  readonly sessionsKilled: number;
  /** Sessions that could not be killed (for example missing CONNECTION_ADMIN). */
  readonly sessionsNotKilled: number;
}

/** Connection options for mysql2; TLS uses the RDS CA bundle and verifies the host name. */
export function connectionOptions(endpoint: Endpoint, user: string, password: string, tls: boolean): ConnectionOptions {
  return {
    host: endpoint.host,
    port: endpoint.port,
    user,
    password,
    ssl: tls ? RDS_SSL_PROFILE : undefined,
    connectTimeout: CONNECT_TIMEOUT_MS,
    multipleStatements: false,
    supportBigNumbers: true,
  };
}

export async function openConnection(
  endpoint: Endpoint,
  user: string,
  password: string,
  tls: boolean,
): Promise<Connection> {
  try {
    return await createConnection(connectionOptions(endpoint, user, password, tls));
  } catch (error) {
    const cause = scrubDatabaseError(error, [password]);
    throw new DatabaseUserError(`cannot connect to ${endpoint.host}:${endpoint.port} as ${user}: ${cause.message}`, {
      cause,
    });
  }
}

/** Ends a connection, destroying it if a clean end is not possible. Never throws. */
export async function closeConnection(connection: Connection | undefined): Promise<void> {
  if (!connection) return;
  try {
    await connection.end();
  } catch {
    connection.destroy();
  }
}

async function run(connection: AdminConnection, statement: SqlStatement): Promise<void> {
  try {
    await connection.query(statement.sql);
  } catch (error) {
    const cause = scrubDatabaseError(error, statement.secrets);
    throw new DatabaseUserError(`${statement.label} failed: ${cause.message}`, { cause });
  }
}

async function select(connection: AdminConnection, statement: SqlStatement): Promise<RowDataPacket[]> {
  try {
    const [rows] = await connection.query<RowDataPacket[]>(statement.sql);
    return rows;
  } catch (error) {
    const cause = scrubDatabaseError(error, statement.secrets);
    throw new DatabaseUserError(`${statement.label} failed: ${cause.message}`, { cause });
  }
}

function toNumber(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

export async function siteUserExists(connection: AdminConnection, account: SiteAccount): Promise<boolean> {
  validateAccount(account);
  const [row] = await select(connection, userExistsStatement(account));
  return toNumber(row?.n) > 0;
}

export async function readPrivileges(connection: AdminConnection, account: SiteAccount): Promise<ObservedPrivileges> {
  validateAccount(account);
  const queries = privilegeQueries(account);
  const toRow = (row: RowDataPacket): PrivilegeRow => ({
    target: typeof row.target === 'string' ? row.target : undefined,
    privilege: String(row.privilege),
    grantable: String(row.grantable),
  });
  const global = (await select(connection, queries.global)).map(toRow);
  if (global.length === 0) {
    // Every existing account has at least a USAGE row; none means the admin cannot see it.
    // Stop here rather than "repair" privileges we cannot observe.
    throw new DatabaseUserError(
      `cannot read the privileges of ${account.user} from information_schema; the admin needs SELECT on the mysql schema`,
    );
  }
  const schema = (await select(connection, queries.schema)).map(toRow);
  const [other] = await select(connection, queries.other);
  return { global, schema, other: toNumber(other?.n) };
}

/**
 * Brings a site's schema and account to the desired state; safe to repeat.
 *
 * Creates the schema if absent (never drops or alters it), creates the account or sets its
 * password, TLS requirement and connection cap, and grants the site privileges on its schema.
 * If the account then holds anything else (global privileges, other schemas, GRANT OPTION,
 * table grants…), everything is revoked and the site grant applied again; when nothing is extra
 * no privilege is ever removed, so a live site keeps working during updates. If this call
 * created the account and a later step fails, the account is dropped again.
 */
export async function ensureSiteUser(connection: AdminConnection, spec: SiteUserSpec): Promise<EnsureSiteUserResult> {
  const names = validateSiteNames(spec.names);
  const user = spec.user ?? names.user;
  if (user !== names.user && user !== otherAccountOf(names.user)) {
    throw new InvalidSiteIdentifierError(`${user} is not one of the accounts of site ${names.siteId}`);
  }
  const account: SiteAccount = { user, host: validateUserHost(spec.userHost) };
  const password = validatePassword(spec.password, `password for ${names.user}`);
  const options = { requireTls: spec.requireTls, maxConnections: spec.maxConnections };
  // Build every statement first: any validation error surfaces before the first query.
  const statements = {
    createSchema: createSchemaStatement(names),
    createUser: createUserStatement(account, password, options),
    alterUser: alterUserStatement(account, password, options),
    grant: grantStatement(account, names.schema),
    revokeAll: revokeAllStatement(account),
    dropUser: dropUserStatement(account),
  };

  await run(connection, statements.createSchema);
  const existed = await siteUserExists(connection, account);
  try {
    await run(connection, existed ? statements.alterUser : statements.createUser);
    await run(connection, statements.grant);
    let privilegesRepaired = false;
    if (!privilegesMatch(await readPrivileges(connection, account), names.schema)) {
      await run(connection, statements.revokeAll);
      await run(connection, statements.grant);
      privilegesRepaired = true;
      if (!privilegesMatch(await readPrivileges(connection, account), names.schema)) {
        throw new DatabaseUserError(
          `${names.user} still holds privileges other than the site grant on ${names.schema} after REVOKE ALL`,
        );
      }
    }
    return { created: !existed, privilegesRepaired };
  } catch (error) {
    if (!existed) {
      // Do not leave a half-configured account behind a failed create.
      await run(connection, statements.dropUser).catch(() => undefined);
    }
    throw error;
  }
}

/** Sets only the password of an existing site account (credential rotation). */
export async function setSitePassword(
  connection: AdminConnection,
  account: SiteAccount,
  password: string,
): Promise<void> {
  validateAccount(account);
  const statement = setPasswordStatement(account, validatePassword(password, `password for ${account.user}`));
  await run(connection, statement);
}

/**
 * Revokes everything from a site account and drops it; the schema and its data are never
 * touched. Succeeds if the account does not exist. Sessions the user still has open are killed
 * afterwards (best effort), because MySQL lets existing sessions of a dropped user continue.
 */
export async function dropSiteUser(connection: AdminConnection, account: SiteAccount): Promise<DropSiteUserResult> {
  validateAccount(account);
  const existed = await siteUserExists(connection, account);
  if (existed) {
    await run(connection, revokeAllStatement(account));
  }
  await run(connection, dropUserStatement(account));

  const sessions = await killSessions(connection, account);
  return { existed, sessionsKilled: sessions.killed, sessionsNotKilled: sessions.notKilled };
}

/**
 * Kills the open sessions of an account (other than this connection): a changed password,
 * a lock or a drop does not end them. Best effort: sessions that cannot be killed (for
 * example without CONNECTION_ADMIN) are counted, not thrown.
 */
export async function killSessions(
  connection: AdminConnection,
  account: SiteAccount,
): Promise<{ killed: number; notKilled: number }> {
  validateAccount(account);
  let killed = 0;
  let notKilled = 0;
  for (const row of await select(connection, sessionsOfUserStatement(account.user))) {
    try {
      await run(connection, killConnectionStatement(toNumber(row.id)));
      killed += 1;
    } catch (error) {
      const cause = error instanceof DatabaseUserError ? error.cause : undefined;
      // ER_NO_SUCH_THREAD: the session ended by itself in the meantime.
      if ((cause as { errno?: number } | undefined)?.errno === 1094) continue;
      notKilled += 1;
    }
  }
  return { killed, notKilled };
}

/** Locks an account behind a random password nobody keeps, if it exists. Returns whether it existed. */
export async function lockAccount(connection: AdminConnection, account: SiteAccount): Promise<boolean> {
  validateAccount(account);
  if (!(await siteUserExists(connection, account))) return false;
  await run(connection, lockAccountStatement(account, randomBytes(30).toString('base64url')));
  return true;
}

/** Sets an existing account's password and unlocks it. */
export async function unlockWithPassword(
  connection: AdminConnection,
  account: SiteAccount,
  password: string,
): Promise<void> {
  validateAccount(account);
  await run(
    connection,
    unlockWithPasswordStatement(account, validatePassword(password, `password for ${account.user}`)),
  );
}

/** An account's MAX_USER_CONNECTIONS, or undefined when the account does not exist. */
export async function maxConnectionsOf(connection: AdminConnection, account: SiteAccount): Promise<number | undefined> {
  validateAccount(account);
  const [row] = await select(connection, maxConnectionsStatement(account));
  return row ? toNumber(row.n) : undefined;
}

/** Server error numbers that mean "these credentials are not accepted". */
const CREDENTIAL_REJECTED_ERRNOS = new Set([
  1044, // ER_DBACCESS_DENIED_ERROR
  1045, // ER_ACCESS_DENIED_ERROR (also: REQUIRE SSL without TLS)
  1698, // ER_ACCESS_DENIED_NO_PASSWORD_ERROR
  3118, // ER_ACCOUNT_HAS_BEEN_LOCKED (MySQL)
  4151, // ER_ACCOUNT_HAS_BEEN_LOCKED (MariaDB)
]);

/**
 * Tries to log in and run `SELECT 1`. Returns false when the server rejects the credentials;
 * throws a {@link DatabaseUserError} for anything else (unreachable host, TLS failure…), so an
 * outage is never mistaken for a wrong password.
 */
export async function testSiteLogin(
  host: string,
  port: number,
  user: string,
  password: string,
  tls: boolean,
): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await createConnection(connectionOptions({ host, port }, user, password, tls));
    await connection.query('SELECT 1');
    return true;
  } catch (error) {
    const cause = scrubDatabaseError(error, [password]);
    if (cause.errno !== undefined && CREDENTIAL_REJECTED_ERRNOS.has(cause.errno)) return false;
    throw new DatabaseUserError(`login test for ${user} failed: ${cause.message}`, { cause });
  } finally {
    await closeConnection(connection);
  }
}
