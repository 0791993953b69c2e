/**
 * Pure part of the database-user provider: identifier validation and SQL statement builders.
 *
 * Every statement must run unchanged on Aurora MySQL 3 (MySQL 8.0) and MariaDB 10.11.
 * Identifiers are validated against the exact names Bulkhead derives from a site id and are
 * quoted anyway. String literals are built so that they mean the same thing whether or not the
 * server runs with NO_BACKSLASH_ESCAPES: backslashes and control characters are refused and
 * single quotes are doubled.
 */
import { escapeId } from 'mysql2/promise';
import { SITE_ID_PATTERN } from '../../contracts/ids';
import { ALTERNATE_ACCOUNT_SUFFIX, otherAccountOf } from '../../contracts/database-accounts';
import { InvalidResourcePropertiesError, InvalidSiteIdentifierError, SecretFormatError } from './errors';

export { SITE_ID_PATTERN };
/** A user name as derived by {@link deriveSiteNames}; `_` is the image of `-`. */
export const SITE_USER_PATTERN = /^site_[a-z](?:[a-z0-9]|_(?=[a-z0-9])){1,23}$/;
/** MySQL host part of an account: `%`, a name, an address or a netmask; never a quote. */
export const USER_HOST_PATTERN = /^[A-Za-z0-9.%_:/-]{1,255}$/;

export const MAX_CONNECTIONS_LIMIT = 10_000;
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;

/** Exactly what WordPress needs on its own schema; nothing global, no GRANT OPTION. */
export const SITE_PRIVILEGES = [
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'CREATE',
  'DROP',
  'ALTER',
  'INDEX',
  'CREATE TEMPORARY TABLES',
  'LOCK TABLES',
] as const;

export interface SiteNames {
  readonly siteId: string;
  /** `wp_` + site id with `-` → `_`. */
  readonly schema: string;
  /** `site_` + site id with `-` → `_`. */
  readonly user: string;
}

/** A MySQL account: `'user'@'host'`. */
export interface SiteAccount {
  readonly user: string;
  readonly host: string;
}

/** One statement plus what is needed to report its failure without leaking anything. */
export interface SqlStatement {
  /** Short description without secrets, used in error messages. */
  readonly label: string;
  readonly sql: string;
  /** Values that appear in `sql` and must be redacted from any error. */
  readonly secrets: readonly string[];
}

function describe(value: unknown): string {
  const text = typeof value === 'string' ? value : String(value);
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}

export function isValidSiteId(value: unknown): value is string {
  return typeof value === 'string' && SITE_ID_PATTERN.test(value);
}

/** The schema and user names Bulkhead derives from a site id. */
export function deriveSiteNames(siteId: unknown): SiteNames {
  if (!isValidSiteId(siteId)) {
    throw new InvalidSiteIdentifierError(
      `SiteId ${describe(siteId)} is not a valid site id (2-24 characters: lowercase letters, digits and single inner hyphens, starting with a letter)`,
    );
  }
  const base = siteId.replaceAll('-', '_');
  return { siteId, schema: `wp_${base}`, user: `site_${base}` };
}

/**
 * Checks that schema and user are exactly the names derived from the site id. Anything else is
 * refused, so a template cannot point a site at another site's schema or at a system account.
 */
export function validateSiteNames(input: { siteId: unknown; schema: unknown; user: unknown }): SiteNames {
  const names = deriveSiteNames(input.siteId);
  if (input.schema !== names.schema) {
    throw new InvalidSiteIdentifierError(
      `Schema ${describe(input.schema)} does not match site ${names.siteId}; it must be ${names.schema}`,
    );
  }
  if (input.user !== names.user) {
    throw new InvalidSiteIdentifierError(
      `User ${describe(input.user)} does not match site ${names.siteId}; it must be ${names.user}`,
    );
  }
  return names;
}

/** Reverse of {@link deriveSiteNames} for a user name, e.g. taken from a physical resource id. */
export function siteNamesFromUser(user: unknown): SiteNames {
  if (typeof user !== 'string' || !SITE_USER_PATTERN.test(user)) {
    throw new InvalidSiteIdentifierError(`${describe(user)} is not a Bulkhead site user name`);
  }
  return deriveSiteNames(user.slice('site_'.length).replaceAll('_', '-'));
}

export function validateUserHost(host: unknown): string {
  if (typeof host !== 'string' || !USER_HOST_PATTERN.test(host)) {
    throw new InvalidSiteIdentifierError(
      `user host ${describe(host)} is not a valid MySQL host pattern (letters, digits and . % _ : / - only)`,
    );
  }
  return host;
}

/**
 * The site of one of its two accounts: its user `site_<id>` or the alternate `site_<id>__b`
 * (contracts/database-accounts.ts). Anything else is refused.
 */
export function siteNamesFromAccount(user: unknown): SiteNames {
  if (typeof user === 'string' && user.endsWith(ALTERNATE_ACCOUNT_SUFFIX)) {
    return siteNamesFromUser(otherAccountOf(user));
  }
  return siteNamesFromUser(user);
}

/** The site's two accounts: its user first, then the alternate. */
export function siteAccountsOf(names: SiteNames, host: string): readonly [SiteAccount, SiteAccount] {
  return [
    { user: names.user, host },
    { user: otherAccountOf(names.user), host },
  ];
}

export function validateAccount(account: SiteAccount): SiteAccount {
  siteNamesFromAccount(account.user);
  validateUserHost(account.host);
  return account;
}

/** MaxConnections arrives as a string from CloudFormation. */
export function parseMaxConnections(value: unknown): number {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !/^[1-9][0-9]{0,5}$/.test(text)) {
    throw new InvalidResourcePropertiesError(
      `MaxConnections ${describe(value)} must be a whole number between 1 and ${MAX_CONNECTIONS_LIMIT}`,
    );
  }
  const n = Number(text);
  if (n > MAX_CONNECTIONS_LIMIT) {
    throw new InvalidResourcePropertiesError(
      `MaxConnections ${n} must be a whole number between 1 and ${MAX_CONNECTIONS_LIMIT}`,
    );
  }
  return n;
}

const SAFE_LITERAL = /^[\x20-\x5b\x5d-\x7e]*$/; // printable ASCII except backslash

/**
 * Checks a site password before it is put in a statement. The message never contains the
 * password itself.
 */
export function validatePassword(password: unknown, where: string): string {
  if (typeof password !== 'string') {
    throw new SecretFormatError(`${where}: password is missing or not a string`);
  }
  if (password.length < PASSWORD_MIN_LENGTH || password.length > PASSWORD_MAX_LENGTH) {
    throw new SecretFormatError(
      `${where}: password must be ${PASSWORD_MIN_LENGTH}-${PASSWORD_MAX_LENGTH} characters long`,
    );
  }
  if (!SAFE_LITERAL.test(password)) {
    throw new SecretFormatError(`${where}: password may only contain printable ASCII characters other than backslash`);
  }
  return password;
}

/**
 * A single-quoted SQL string literal that has the same meaning with and without
 * NO_BACKSLASH_ESCAPES. Values that cannot be written that way are refused (the message does
 * not repeat the value, which may be a password).
 */
export function sqlString(value: string): string {
  if (!SAFE_LITERAL.test(value)) {
    throw new InvalidSiteIdentifierError(
      'value cannot be used as an SQL string literal (only printable ASCII without backslash)',
    );
  }
  return `'${value.replaceAll("'", "''")}'`;
}

/** `'user'@'host'` for account-management statements. */
export function accountSql(account: SiteAccount): string {
  return `${sqlString(account.user)}@${sqlString(account.host)}`;
}

/** The GRANTEE value information_schema uses for an account: `'user'@'host'`. */
export function granteeOf(account: SiteAccount): string {
  return `'${account.user}'@'${account.host}'`;
}

/** Backtick-quoted schema name, for CREATE DATABASE and USE. */
export function schemaIdentifier(schema: string): string {
  return escapeId(schema);
}

/**
 * The schema as a GRANT database pattern. In GRANT … ON `db`.*, `_` and `%` are wildcards, so
 * `wp_acme_shop` would also match `wp_acmeXshop` (another site's schema). Escaping them makes
 * the grant name exactly one schema; this is also how SHOW GRANTS and information_schema report
 * it.
 */
export function schemaGrantPattern(schema: string): string {
  return schema.replace(/[_%]/g, '\\$&');
}

function schemaGrantTarget(schema: string): string {
  return `${escapeId(schemaGrantPattern(schema))}.*`;
}

export interface UserOptions {
  readonly requireTls: boolean;
  readonly maxConnections: number;
}

function userOptionsSql(options: UserOptions): string {
  if (!Number.isSafeInteger(options.maxConnections) || options.maxConnections < 1) {
    throw new InvalidResourcePropertiesError('maxConnections must be a positive integer');
  }
  return `REQUIRE ${options.requireTls ? 'SSL' : 'NONE'} WITH MAX_USER_CONNECTIONS ${options.maxConnections}`;
}

export function createSchemaStatement(names: SiteNames): SqlStatement {
  return {
    label: `CREATE DATABASE ${names.schema}`,
    sql: `CREATE DATABASE IF NOT EXISTS ${schemaIdentifier(names.schema)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    secrets: [],
  };
}

export function userExistsStatement(account: SiteAccount): SqlStatement {
  return {
    label: `look up ${account.user}`,
    sql: `SELECT COUNT(*) AS n FROM mysql.user WHERE User = ${sqlString(account.user)} AND Host = ${sqlString(account.host)}`,
    secrets: [],
  };
}

export function createUserStatement(account: SiteAccount, password: string, options: UserOptions): SqlStatement {
  return {
    label: `CREATE USER ${account.user}`,
    sql: `CREATE USER ${accountSql(account)} IDENTIFIED BY ${sqlString(password)} ${userOptionsSql(options)}`,
    secrets: [password],
  };
}

/** Brings an existing account to the desired password, TLS requirement and connection cap. */
export function alterUserStatement(account: SiteAccount, password: string, options: UserOptions): SqlStatement {
  return {
    label: `ALTER USER ${account.user}`,
    sql: `ALTER USER ${accountSql(account)} IDENTIFIED BY ${sqlString(password)} ${userOptionsSql(options)}`,
    secrets: [password],
  };
}

/** Changes only the password (used by credential rotation). */
export function setPasswordStatement(account: SiteAccount, password: string): SqlStatement {
  return {
    label: `ALTER USER ${account.user} (password)`,
    sql: `ALTER USER ${accountSql(account)} IDENTIFIED BY ${sqlString(password)}`,
    secrets: [password],
  };
}

/**
 * Sets a password nobody knows and locks the account: no login with any earlier password,
 * on Aurora MySQL 3 (MySQL 8.0) and MariaDB 10.11 alike. Open sessions are killed separately.
 */
export function lockAccountStatement(account: SiteAccount, scramble: string): SqlStatement {
  return {
    label: `lock ${account.user}`,
    sql: `ALTER USER ${accountSql(account)} IDENTIFIED BY ${sqlString(scramble)} ACCOUNT LOCK`,
    secrets: [scramble],
  };
}

/** Sets the password of an account and lets it log in again (the alternate, on a serving rotation). */
export function unlockWithPasswordStatement(account: SiteAccount, password: string): SqlStatement {
  return {
    label: `ALTER USER ${account.user} (password, unlock)`,
    sql: `ALTER USER ${accountSql(account)} IDENTIFIED BY ${sqlString(password)} ACCOUNT UNLOCK`,
    secrets: [password],
  };
}

/** An account's MAX_USER_CONNECTIONS (the alternate gets the same cap). */
export function maxConnectionsStatement(account: SiteAccount): SqlStatement {
  return {
    label: `read MAX_USER_CONNECTIONS of ${account.user}`,
    sql: `SELECT max_user_connections AS n FROM mysql.user WHERE User = ${sqlString(account.user)} AND Host = ${sqlString(account.host)}`,
    secrets: [],
  };
}

export function grantStatement(account: SiteAccount, schema: string): SqlStatement {
  return {
    label: `GRANT on ${schema} to ${account.user}`,
    sql: `GRANT ${SITE_PRIVILEGES.join(', ')} ON ${schemaGrantTarget(schema)} TO ${accountSql(account)}`,
    secrets: [],
  };
}

export function revokeAllStatement(account: SiteAccount): SqlStatement {
  return {
    label: `REVOKE ALL from ${account.user}`,
    sql: `REVOKE ALL PRIVILEGES, GRANT OPTION FROM ${accountSql(account)}`,
    secrets: [],
  };
}

export function dropUserStatement(account: SiteAccount): SqlStatement {
  return {
    label: `DROP USER ${account.user}`,
    sql: `DROP USER IF EXISTS ${accountSql(account)}`,
    secrets: [],
  };
}

/** Statements that read an account's privileges, as both MySQL 8 and MariaDB expose them. */
export function privilegeQueries(account: SiteAccount) {
  const grantee = sqlString(granteeOf(account));
  return {
    global: {
      label: `read global privileges of ${account.user}`,
      sql: `SELECT PRIVILEGE_TYPE AS privilege, IS_GRANTABLE AS grantable FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ${grantee}`,
      secrets: [],
    },
    schema: {
      label: `read schema privileges of ${account.user}`,
      sql: `SELECT TABLE_SCHEMA AS target, PRIVILEGE_TYPE AS privilege, IS_GRANTABLE AS grantable FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ${grantee}`,
      secrets: [],
    },
    other: {
      label: `read table, column and routine privileges of ${account.user}`,
      sql: `SELECT (SELECT COUNT(*) FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = ${grantee}) + (SELECT COUNT(*) FROM information_schema.COLUMN_PRIVILEGES WHERE GRANTEE = ${grantee}) + (SELECT COUNT(*) FROM mysql.procs_priv WHERE User = ${sqlString(account.user)} AND Host = ${sqlString(account.host)}) AS n`,
      secrets: [],
    },
  } satisfies Record<string, SqlStatement>;
}

export interface PrivilegeRow {
  /** Schema pattern as stored (only for schema privileges). */
  readonly target?: string;
  readonly privilege: string;
  readonly grantable: string;
}

export interface ObservedPrivileges {
  readonly global: readonly PrivilegeRow[];
  readonly schema: readonly PrivilegeRow[];
  /** Count of table, column and routine level grants. */
  readonly other: number;
}

/**
 * True when the account holds exactly the site privileges on its own schema: no global
 * privilege other than USAGE, nothing grantable, no other schema, no table/column/routine grant.
 */
export function privilegesMatch(observed: ObservedPrivileges, schema: string): boolean {
  if (observed.other !== 0) return false;
  if (observed.global.some((row) => row.privilege.toUpperCase() !== 'USAGE' || row.grantable !== 'NO')) {
    return false;
  }
  const pattern = schemaGrantPattern(schema);
  if (observed.schema.some((row) => row.target !== pattern || row.grantable !== 'NO')) return false;
  const held = new Set(observed.schema.map((row) => row.privilege.toUpperCase()));
  return held.size === SITE_PRIVILEGES.length && SITE_PRIVILEGES.every((p) => held.has(p));
}

/** `KILL CONNECTION n` for a process id read from information_schema.PROCESSLIST. */
export function killConnectionStatement(id: number): SqlStatement {
  if (!Number.isSafeInteger(id) || id < 0) {
    throw new InvalidResourcePropertiesError('connection id must be a non-negative integer');
  }
  return { label: `KILL CONNECTION ${id}`, sql: `KILL CONNECTION ${id}`, secrets: [] };
}

export function sessionsOfUserStatement(user: string): SqlStatement {
  return {
    label: `list sessions of ${user}`,
    sql: `SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = ${sqlString(user)} AND ID <> CONNECTION_ID()`,
    secrets: [],
  };
}
