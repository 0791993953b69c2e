import { inspect } from 'node:util';
import type { Connection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseUserError, InvalidSiteIdentifierError } from '../../runtime/db-user/errors';
import {
  type AdminConnection,
  dropSiteUser,
  ensureSiteUser,
  setSitePassword,
  testSiteLogin,
} from '../../runtime/db-user/site-user';
import { deriveSiteNames, type SiteNames } from '../../runtime/db-user/sql';
import {
  accountExists,
  connectAs,
  connectRoot,
  createTestAdmin,
  dropSiteArtifacts,
  errorCodeOf,
  MARIADB,
  namesContaining,
  randomPassword,
  randomToken,
  schemaExists,
  showGrants,
  type TestAdmin,
  tryLogin,
  uniqueSiteId,
} from '../support/mariadb';

let root: Connection;
let testAdmin: TestAdmin;
let admin: Connection;
const created: SiteNames[] = [];
const openConnections: Connection[] = [];

interface ProvisionedSite {
  readonly names: SiteNames;
  readonly password: string;
}

async function provisionSite(
  siteId = uniqueSiteId(),
  options: { maxConnections?: number; requireTls?: boolean } = {},
): Promise<ProvisionedSite> {
  const names = deriveSiteNames(siteId);
  created.push(names);
  const password = randomPassword();
  await ensureSiteUser(admin, {
    names,
    userHost: '%',
    password,
    maxConnections: options.maxConnections ?? 10,
    requireTls: options.requireTls ?? false,
  });
  return { names, password };
}

async function loginAs(site: ProvisionedSite, database?: string): Promise<Connection> {
  const connection = await connectAs(site.names.user, site.password, database);
  // A killed session reports its loss as an 'error' event; that is expected in some tests.
  connection.on('error', () => undefined);
  openConnections.push(connection);
  return connection;
}

/** An admin connection stand-in that records statements instead of running them. */
function recordingConnection(): { connection: AdminConnection; statements: string[] } {
  const statements: string[] = [];
  const connection = {
    query: async (sql: string) => {
      statements.push(sql);
      return [[], []];
    },
  } as unknown as AdminConnection;
  return { connection, statements };
}

beforeAll(async () => {
  root = await connectRoot();
  testAdmin = await createTestAdmin(root);
  admin = await connectAs(testAdmin.user, testAdmin.password);
});

afterAll(async () => {
  for (const connection of openConnections) connection.destroy();
  for (const names of created) await dropSiteArtifacts(root, names);
  await admin?.end();
  await testAdmin?.drop();
  await root?.end();
});

describe('ensureSiteUser', () => {
  it('lets the site user create a table, insert, select and update in its own schema', async () => {
    // Prepare
    const site = await provisionSite();
    const connection = await loginAs(site, site.names.schema);

    // Act
    await connection.query('CREATE TABLE posts (id INT PRIMARY KEY, title VARCHAR(50))');
    await connection.query("INSERT INTO posts VALUES (1, 'hello')");
    await connection.query("UPDATE posts SET title = 'hello world' WHERE id = 1");
    const [rows] = await connection.query('SELECT id, title FROM posts');

    // Assess
    expect(rows).toEqual([{ id: 1, title: 'hello world' }]);
  });

  it('creates the schema with utf8mb4 and utf8mb4_unicode_ci', async () => {
    // Prepare
    const site = await provisionSite();

    // Act
    const [rows] = await root.query(
      'SELECT DEFAULT_CHARACTER_SET_NAME AS charset, DEFAULT_COLLATION_NAME AS collation FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
      [site.names.schema],
    );

    // Assess
    expect(rows).toEqual([{ charset: 'utf8mb4', collation: 'utf8mb4_unicode_ci' }]);
  });

  it('applies MAX_USER_CONNECTIONS: the account records the cap and connection n+1 is refused', async () => {
    // Prepare
    const site = await provisionSite(uniqueSiteId(), { maxConnections: 2 });
    await loginAs(site);
    await loginAs(site);

    // Act
    const third = await tryLogin(site.names.user, site.password);
    const [rows] = await root.query('SELECT max_user_connections AS cap FROM mysql.user WHERE User = ? AND Host = ?', [
      site.names.user,
      '%',
    ]);

    // Assess
    expect(third).toEqual({ ok: false, code: 'ER_USER_LIMIT_REACHED' });
    expect(rows).toEqual([{ cap: 2 }]);
    expect((await showGrants(root, site.names.user))[0]).toContain('WITH MAX_USER_CONNECTIONS 2');
  });

  it('applies REQUIRE SSL when TLS is required, so a plain-text login is refused', async () => {
    // Prepare
    const site = await provisionSite(uniqueSiteId(), { requireTls: true });

    // Act
    const [rows] = await root.query('SELECT ssl_type AS sslType FROM mysql.user WHERE User = ?', [site.names.user]);
    const plainLogin = await testSiteLogin(MARIADB.host, MARIADB.port, site.names.user, site.password, false);

    // Assess
    expect(rows).toEqual([{ sslType: 'ANY' }]);
    expect(plainLogin).toBe(false);
  });

  it('repairs drift: extra global, schema and grantable privileges are removed on the next run', async () => {
    // Prepare
    const site = await provisionSite();
    const expected = await showGrants(root, site.names.user);
    await root.query('GRANT PROCESS ON *.* TO ?@?', [site.names.user, '%']);
    await root.query('GRANT SELECT ON mysql.* TO ?@?', [site.names.user, '%']);
    await root.query(`GRANT SELECT ON \`${site.names.schema}\`.* TO ?@? WITH GRANT OPTION`, [site.names.user, '%']);

    // Act
    const result = await ensureSiteUser(admin, {
      names: site.names,
      userHost: '%',
      password: site.password,
      maxConnections: 10,
      requireTls: false,
    });

    // Assess
    expect(result).toEqual({ created: false, privilegesRepaired: true });
    expect(await showGrants(root, site.names.user)).toEqual(expected);
  });

  it('does not touch privileges of an account that is already in the desired state', async () => {
    // Prepare
    const site = await provisionSite();

    // Act
    const result = await ensureSiteUser(admin, {
      names: site.names,
      userHost: '%',
      password: site.password,
      maxConnections: 10,
      requireTls: false,
    });

    // Assess
    expect(result).toEqual({ created: false, privilegesRepaired: false });
  });

  it('refuses names that do not match the site id before running any statement', async () => {
    // Prepare
    const { connection, statements } = recordingConnection();
    const token = randomToken();
    const names = { siteId: `a${token}`, schema: `wp_a${token}`, user: `site_a${token}'@'%` };

    // Act
    const attempt = ensureSiteUser(connection, {
      names,
      userHost: '%',
      password: randomPassword(),
      maxConnections: 10,
      requireTls: true,
    });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(InvalidSiteIdentifierError);
    expect(statements).toEqual([]);
  });

  it('refuses a host pattern containing a quote before running any statement', async () => {
    // Prepare
    const { connection, statements } = recordingConnection();

    // Act
    const attempt = ensureSiteUser(connection, {
      names: deriveSiteNames(uniqueSiteId()),
      userHost: "%' OR '1'='1",
      password: randomPassword(),
      maxConnections: 10,
      requireTls: true,
    });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(InvalidSiteIdentifierError);
    expect(statements).toEqual([]);
  });
});

describe('isolation between sites', () => {
  let siteA: ProvisionedSite;
  let siteB: ProvisionedSite;
  let asA: Connection;

  beforeAll(async () => {
    siteA = await provisionSite();
    siteB = await provisionSite();
    const asB = await loginAs(siteB, siteB.names.schema);
    await asB.query('CREATE TABLE secrets (id INT PRIMARY KEY, value VARCHAR(50))');
    await asB.query("INSERT INTO secrets VALUES (1, 'b-only')");
    asA = await loginAs(siteA, siteA.names.schema);
  });

  it('A cannot read B’s schema', async () => {
    // Act
    const code = await errorCodeOf(asA, `SELECT * FROM \`${siteB.names.schema}\`.secrets`);

    // Assess
    expect(code).toMatch(/^ER_(TABLEACCESS|DBACCESS)_DENIED_ERROR$/);
  });

  it('A cannot see B’s schema in SHOW DATABASES', async () => {
    // Act
    const [rows] = await asA.query('SHOW DATABASES');
    const visible = (rows as Record<string, unknown>[]).map((row) => String(Object.values(row)[0]));

    // Assess
    expect(visible).toContain(siteA.names.schema);
    expect(visible).not.toContain(siteB.names.schema);
  });

  it('A cannot write to B’s schema', async () => {
    // Act
    const insert = await errorCodeOf(asA, `INSERT INTO \`${siteB.names.schema}\`.secrets VALUES (2, 'from-a')`);
    const create = await errorCodeOf(asA, `CREATE TABLE \`${siteB.names.schema}\`.planted (id INT)`);
    const drop = await errorCodeOf(asA, `DROP TABLE \`${siteB.names.schema}\`.secrets`);

    // Assess
    expect([insert, create, drop]).toEqual([
      expect.stringMatching(/DENIED_ERROR$/),
      expect.stringMatching(/DENIED_ERROR$/),
      expect.stringMatching(/DENIED_ERROR$/),
    ]);
    const [rows] = await root.query(`SELECT * FROM \`${siteB.names.schema}\`.secrets`);
    expect(rows).toEqual([{ id: 1, value: 'b-only' }]);
  });

  it('A cannot create users', async () => {
    // Prepare
    const intruder = `intruder_${randomToken()}`;

    // Act
    const code = await errorCodeOf(asA, `CREATE USER '${intruder}'@'%' IDENTIFIED BY 'x1234567'`);

    // Assess
    expect(code).toBe('ER_SPECIFIC_ACCESS_DENIED_ERROR');
    expect(await accountExists(root, intruder)).toBe(false);
  });

  it('A cannot grant, not even on its own schema', async () => {
    // Act
    const onOwn = await errorCodeOf(asA, `GRANT SELECT ON \`${siteA.names.schema}\`.* TO '${siteB.names.user}'@'%'`);
    const onOther = await errorCodeOf(asA, `GRANT SELECT ON \`${siteB.names.schema}\`.* TO '${siteA.names.user}'@'%'`);

    // Assess
    expect(onOwn).toMatch(/DENIED_ERROR$/);
    expect(onOther).toMatch(/DENIED_ERROR$/);
    expect((await showGrants(root, siteB.names.user)).join('\n')).not.toContain(siteA.names.schema);
  });

  it('A has no global privilege and nothing grantable', async () => {
    // Act
    const [globalRows] = await asA.query('SELECT PRIVILEGE_TYPE AS privilege FROM information_schema.USER_PRIVILEGES');
    const [grantable] = await asA.query(
      "SELECT PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES WHERE IS_GRANTABLE = 'YES'",
    );
    const grants = await showGrants(root, siteA.names.user);

    // Assess
    expect(globalRows).toEqual([{ privilege: 'USAGE' }]);
    expect(grantable).toEqual([]);
    expect(grants).toHaveLength(2);
    expect(grants[0]).toMatch(/^GRANT USAGE ON \*\.\* TO /);
    expect(grants[1]).toBe(
      `GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, INDEX, ALTER, CREATE TEMPORARY TABLES, LOCK TABLES ON \`${siteA.names.schema.replaceAll('_', '\\_')}\`.* TO \`${siteA.names.user}\`@\`%\``,
    );
    expect(grants.join('\n')).not.toContain('GRANT OPTION');
  });

  it('the grant is not a wildcard: A cannot reach a schema whose name matches A’s with _ as any character', async () => {
    // Prepare: A = wp_<t>_x; the look-alike site's schema wp_<t>ax matches the pattern `wp_<t>_x`
    const token = randomToken(9);
    const a = await provisionSite(`t${token}-x`);
    const lookAlike = await provisionSite(`t${token}ax`);
    const asLookAlike = await loginAs(lookAlike, lookAlike.names.schema);
    await asLookAlike.query('CREATE TABLE t (id INT)');
    const asSiteA = await loginAs(a);

    // Act
    const code = await errorCodeOf(asSiteA, `SELECT * FROM \`${lookAlike.names.schema}\`.t`);

    // Assess
    expect(code).toMatch(/^ER_(TABLEACCESS|DBACCESS)_DENIED_ERROR$/);
  });
});

describe('setSitePassword and testSiteLogin', () => {
  it('sets a new password: the old one is refused and the new one accepted', async () => {
    // Prepare
    const site = await provisionSite();
    const newPassword = randomPassword();

    // Act
    await setSitePassword(admin, { user: site.names.user, host: '%' }, newPassword);

    // Assess
    const login = (password: string) => testSiteLogin(MARIADB.host, MARIADB.port, site.names.user, password, false);
    expect(await login(site.password)).toBe(false);
    expect(await login(newPassword)).toBe(true);
  });

  it('refuses to change the password of an account that is not a site user', async () => {
    // Prepare
    const { connection, statements } = recordingConnection();

    // Act
    const attempt = setSitePassword(connection, { user: testAdmin.user, host: '%' }, randomPassword());

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(InvalidSiteIdentifierError);
    expect(statements).toEqual([]);
  });

  it('keeps the password out of errors even though the failed statement contained it', async () => {
    // Prepare: the account does not exist, so ALTER USER fails on the server
    const names = deriveSiteNames(uniqueSiteId());
    const password = randomPassword();

    // Act
    const error = await setSitePassword(admin, { user: names.user, host: '%' }, password).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(DatabaseUserError);
    const everything = `${inspect(error, { depth: 10, showHidden: true })}\n${JSON.stringify(error)}`;
    expect(everything).toContain(names.user);
    expect(everything).not.toContain(password);
    expect(everything).not.toContain(password.replaceAll("'", "''"));
  });

  it('testSiteLogin throws instead of answering false when the server is unreachable', async () => {
    // Act
    const attempt = testSiteLogin('127.0.0.1', 1, 'site_nobody', randomPassword(), false);

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(DatabaseUserError);
  });
});

describe('dropSiteUser', () => {
  it('drops the account, kills its open sessions and keeps the schema and its data', async () => {
    // Prepare
    const site = await provisionSite();
    const session = await loginAs(site, site.names.schema);
    await session.query('CREATE TABLE kept (id INT)');
    await session.query('INSERT INTO kept VALUES (7)');

    // Act
    const result = await dropSiteUser(admin, { user: site.names.user, host: '%' });

    // Assess
    expect(result).toEqual({ existed: true, sessionsKilled: 1, sessionsNotKilled: 0 });
    expect(await accountExists(root, site.names.user)).toBe(false);
    expect(await errorCodeOf(session, 'SELECT 1')).not.toBe('OK');
    expect(await schemaExists(root, site.names.schema)).toBe(true);
    const [rows] = await root.query(`SELECT id FROM \`${site.names.schema}\`.kept`);
    expect(rows).toEqual([{ id: 7 }]);
  });

  it('succeeds for an account that never existed, and creates nothing', async () => {
    // Prepare
    const token = randomToken();
    const names = deriveSiteNames(`t${token}`);

    // Act
    const result = await dropSiteUser(admin, { user: names.user, host: '%' });

    // Assess
    expect(result).toEqual({ existed: false, sessionsKilled: 0, sessionsNotKilled: 0 });
    expect(await namesContaining(root, token)).toEqual({ users: [], schemas: [] });
  });
});
