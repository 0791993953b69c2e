/**
 * Helpers for tests that run against the local MariaDB (127.0.0.1:3306, root without password).
 *
 * Every name a test creates carries a random token so parallel test files and repeated runs
 * never collide. Tests connect to the server as an RDS-master-like admin (see
 * {@link createTestAdmin}) rather than as root, so missing privileges show up here first.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { type Connection, createConnection, type RowDataPacket } from 'mysql2/promise';
import { otherAccountOf } from '../../contracts/database-accounts';

export const MARIADB = { host: '127.0.0.1', port: 3306 } as const;

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const ALNUM = `${LOWER}0123456789`;

/** Random lowercase token starting with a letter, usable inside a site id. */
export function randomToken(length = 8): string {
  let token = LOWER[randomInt(LOWER.length)] ?? 'a';
  while (token.length < length) token += ALNUM[randomInt(ALNUM.length)];
  return token;
}

/** A fresh, valid site id such as `t3k9x2ab-shop` (at most 24 characters). */
export function uniqueSiteId(suffix = ''): string {
  return `t${randomToken(9)}${suffix ? `-${suffix}` : ''}`;
}

/**
 * A random password that exercises quoting: it always contains a single and a double quote.
 * It never contains a backslash, which the provider refuses.
 */
export function randomPassword(): string {
  return `${randomBytes(18).toString('base64url')}'"Pw${randomInt(1000, 9999)}`;
}

export async function connectRoot(): Promise<Connection> {
  return createConnection({ ...MARIADB, user: 'root', password: '' });
}

export async function connectAs(user: string, password: string, database?: string): Promise<Connection> {
  return createConnection({ ...MARIADB, user, password, database });
}

/** Connects and returns the server's error code on failure instead of throwing. */
export async function tryLogin(user: string, password: string): Promise<{ ok: true } | { ok: false; code: string }> {
  try {
    const connection = await connectAs(user, password);
    await connection.end();
    return { ok: true };
  } catch (error) {
    return { ok: false, code: String((error as { code?: unknown }).code) };
  }
}

/** Runs a statement and returns the server error code, or 'OK' if it succeeded. */
export async function errorCodeOf(connection: Connection, sql: string): Promise<string> {
  try {
    await connection.query(sql);
    return 'OK';
  } catch (error) {
    return String((error as { code?: unknown }).code);
  }
}

export interface TestAdmin {
  readonly user: string;
  readonly password: string;
  drop(): Promise<void>;
}

/**
 * An admin account with roughly the privileges of the Aurora MySQL 3 master user (no SUPER),
 * including CONNECTION ADMIN so it may kill other users' sessions.
 */
export async function createTestAdmin(root: Connection): Promise<TestAdmin> {
  const user = `bulkhead_admin_${randomToken(8)}`;
  const password = randomBytes(24).toString('base64url');
  await root.query('CREATE USER ?@? IDENTIFIED BY ?', [user, '%', password]);
  await root.query(
    `GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, RELOAD, PROCESS, REFERENCES, INDEX, ALTER,
       SHOW DATABASES, CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, REPLICATION SLAVE,
       REPLICATION CLIENT, CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, CREATE USER,
       EVENT, TRIGGER, CONNECTION ADMIN
     ON *.* TO ?@? WITH GRANT OPTION`,
    [user, '%'],
  );
  return {
    user,
    password,
    drop: async () => {
      await root.query('DROP USER IF EXISTS ?@?', [user, '%']);
    },
  };
}

export async function accountExists(root: Connection, user: string, host = '%'): Promise<boolean> {
  const [rows] = await root.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM mysql.user WHERE User = ? AND Host = ?', [
    user,
    host,
  ]);
  return Number(rows[0]?.n) > 0;
}

export async function schemaExists(root: Connection, schema: string): Promise<boolean> {
  const [rows] = await root.query<RowDataPacket[]>(
    'SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
    [schema],
  );
  return Number(rows[0]?.n) > 0;
}

export async function showGrants(root: Connection, user: string, host = '%'): Promise<string[]> {
  const [rows] = await root.query<RowDataPacket[]>('SHOW GRANTS FOR ?@?', [user, host]);
  return rows.map((row) => String(Object.values(row)[0]));
}

/** Users and schemas whose name contains a token (to prove that nothing was created). */
export async function namesContaining(
  root: Connection,
  token: string,
): Promise<{ users: string[]; schemas: string[] }> {
  const pattern = `%${token}%`;
  const [users] = await root.query<RowDataPacket[]>('SELECT User AS name FROM mysql.user WHERE User LIKE ?', [pattern]);
  const [schemas] = await root.query<RowDataPacket[]>(
    'SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?',
    [pattern],
  );
  return {
    users: users.map((row) => String(row.name)),
    schemas: schemas.map((row) => String(row.name)),
  };
}

/** Test cleanup: drops a site's users (both accounts) and schema. (The code under test never drops a schema.) */
export async function dropSiteArtifacts(
  root: Connection,
  names: { schema: string; user: string },
  host = '%',
): Promise<void> {
  await root.query('DROP USER IF EXISTS ?@?', [names.user, host]);
  await root.query('DROP USER IF EXISTS ?@?', [otherAccountOf(names.user), host]);
  await root.query(`DROP DATABASE IF EXISTS \`${names.schema.replaceAll('`', '``')}\``);
}
