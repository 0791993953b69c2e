import fc from 'fast-check';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deriveSiteNames, type SiteNames } from '../../runtime/db-user/sql';
import { connectAs, dropSiteArtifacts, tryLogin } from '../support/mariadb';
import { hostileString } from '../fuzz/support/hostile';
import {
  createEvent,
  type DbUserRig,
  deleteEvent,
  errorOf,
  qToken,
  serverSnapshot,
  setUpDbUserRig,
  snapshotDiff,
} from './support/db-user';

/**
 * Sink: SQL. Every string that reaches a statement of the database-user provider
 * (runtime/db-user) comes from a CloudFormation property (SiteId, Schema, User,
 * MaxConnections, SecretArn), a physical resource id, a password request (siteId), or the
 * site secret (username, password). Each hostile value goes through the real handler against
 * the real MariaDB; it must be refused with a typed error before any statement runs, or be
 * quoted so that it means exactly itself. Either way nothing else in the server changes:
 * every account and its password hash, every schema, every grant, and a victim site's data
 * are compared before and after.
 */

let rig: DbUserRig;
let victim: SiteNames;
let victimPassword: string;
const created: SiteNames[] = [];
const VICTIM_TABLE = () => `\`${victim.schema}\`.\`wp_posts\``;

beforeAll(async () => {
  rig = await setUpDbUserRig({ logLevel: 'ERROR' });
  // A victim site with data: the target of every injection below.
  victim = deriveSiteNames(`${qToken()}-victim`);
  victimPassword = `Victim-${qToken()}-pw`;
  created.push(victim);
  await rig.invoke(
    createEvent({
      SiteId: victim.siteId,
      Schema: victim.schema,
      User: victim.user,
      SecretArn: rig.siteSecret({ username: victim.user, password: victimPassword }),
      MaxConnections: '5',
    }),
  );
  const asVictim = await connectAs(victim.user, victimPassword, victim.schema);
  await asVictim.query('CREATE TABLE wp_posts (id INT PRIMARY KEY, title TEXT)');
  await asVictim.query("INSERT INTO wp_posts VALUES (1, 'Hello world'), (2, 'Second post')");
  await asVictim.end();
});

afterAll(async () => {
  for (const names of created) await dropSiteArtifacts(rig.root, names);
  await rig.close();
});

beforeEach(() => rig.clearLogs());

const snapshot = () => serverSnapshot(rig.root, rig.admin.user, [VICTIM_TABLE()]);

function validProperties(names: SiteNames, secret: unknown): Record<string, unknown> {
  return {
    SiteId: names.siteId,
    Schema: names.schema,
    User: names.user,
    SecretArn: rig.siteSecret(secret),
    MaxConnections: '10',
  };
}

/** Sends one event; it must be refused with `expected` and leave the server exactly as it was. */
async function expectRefusedUnchanged(event: unknown, expected: string | RegExp): Promise<Error> {
  const before = await snapshot();
  const error = await errorOf(() => rig.invoke(event));
  const after = await snapshot();
  expect(error, 'the hostile request was accepted').toBeDefined();
  expect(error?.name).toMatch(expected);
  expect(snapshotDiff(before, after)).toEqual({ added: [], removed: [] });
  return error as Error;
}

describe('SQL: hostile identifiers are refused before any statement', () => {
  const hostileSiteIds: unknown[] = [
    "'; DROP DATABASE wp_x; --",
    'q`; DROP DATABASE wp_x; --',
    "q'; DROP USER root@localhost; --",
    'qsite\\',
    "qsite\\'",
    'qsite\u0000',
    "qsite\u0000'; DROP DATABASE mysql; --",
    'аcme', // Cyrillic а
    'qsіte', // Ukrainian і
    'ｑsite', // fullwidth q
    'qsite%',
    'q%',
    'q_site',
    '%',
    '_',
    '*',
    'q-site ',
    ' q-site',
    'Q-SITE',
    'q--site',
    'qsite-',
    'q'.repeat(25),
    '',
    'q/../x',
    'q.site',
    'q\nsite',
    42,
    null,
    ['qsite'],
    { value: 'qsite' },
  ];

  it.each(hostileSiteIds.map((v) => [JSON.stringify(v), v]))(
    'SiteId %s: InvalidSiteIdentifierError, server unchanged',
    async (_, siteId) => {
      // Prepare: Schema and User derived the way a template would, so only the id is wrong.
      const text = JSON.stringify(siteId) ?? '';
      const event = createEvent({
        SiteId: siteId,
        Schema: `wp_${text}`,
        User: `site_${text}`,
        SecretArn: rig.siteSecret({}),
        MaxConnections: '10',
      });

      // Act / Assess
      await expectRefusedUnchanged(event, 'InvalidSiteIdentifierError');
    },
  );

  it('Schema or User that is not exactly the derived name (another site, a system schema, wildcards, quotes, NUL): refused, server unchanged', async () => {
    const names = deriveSiteNames(qToken());
    const secret = { username: names.user, password: 'Str0ng-password' };
    for (const schema of [
      victim.schema,
      'mysql',
      'information_schema',
      `${names.schema}%`,
      names.schema.replace('wp_', 'wp%'),
      `${names.schema}\`.* TO 'x'@'%'; --`,
      `${names.schema}\u0000`,
      names.schema.toUpperCase(),
      '*',
    ]) {
      await expectRefusedUnchanged(
        createEvent({ ...validProperties(names, secret), Schema: schema }),
        'InvalidSiteIdentifierError',
      );
    }
    for (const user of [
      victim.user,
      'root',
      `${names.user}'@'%`,
      `${names.user}%`,
      `${names.user}\u0000`,
      `${names.user} `,
      names.user.replace('site_', 'site%'),
    ]) {
      await expectRefusedUnchanged(
        createEvent({ ...validProperties(names, secret), User: user }),
        'InvalidSiteIdentifierError',
      );
    }
  });

  it('MaxConnections and SecretArn with SQL or ARN tricks: InvalidResourcePropertiesError, server unchanged', async () => {
    const names = deriveSiteNames(qToken());
    const secret = { username: names.user, password: 'Str0ng-password' };
    for (const max of [
      '40; DROP DATABASE wp_x',
      '40 OR 1=1',
      '0x10',
      '1e3',
      ' 40',
      '40 ',
      '-1',
      '0',
      '10001',
      '4\u00000',
      40.5,
      '',
    ]) {
      await expectRefusedUnchanged(
        createEvent({ ...validProperties(names, secret), MaxConnections: max }),
        'InvalidResourcePropertiesError',
      );
    }
    for (const arn of [
      "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x'; DROP DATABASE wp_x; --",
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:../../admin',
      'arn:aws:secretsmanager:*:*:secret:*',
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:',
    ]) {
      await expectRefusedUnchanged(
        createEvent({ ...validProperties(names, secret), SecretArn: arn }),
        /InvalidResourcePropertiesError|SecretFormatError/,
      );
    }
  });

  it('Delete with a hostile physical resource id: refused or ignored, nothing dropped', async () => {
    for (const id of [
      "bulkhead-db-user:site_x'@'%'; DROP USER root; --",
      'bulkhead-db-user:site_%',
      'bulkhead-db-user:site_',
      'bulkhead-db-user:root',
      `bulkhead-db-user:${victim.user}\u0000`,
      `bulkhead-db-user:${victim.user.toUpperCase()}`,
    ]) {
      await expectRefusedUnchanged(deleteEvent(id), 'InvalidSiteIdentifierError');
    }
    // Not an id this provider issued: nothing of ours to drop, and nothing is.
    const before = await snapshot();
    await rig.invoke(deleteEvent(`'; DROP DATABASE ${victim.schema}; --`));
    expect(snapshotDiff(before, await snapshot())).toEqual({ added: [], removed: [] });
  });

  it('password requests (rotation) with a hostile siteId: InvalidSiteIdentifierError, server unchanged', async () => {
    for (const siteId of [`${victim.siteId}'; DROP USER root; --`, `${victim.siteId}%`, 'q_site', '%', victim.user]) {
      await expectRefusedUnchanged(
        { action: 'apply-pending-password', siteId, secretArn: rig.siteSecret({}) },
        'InvalidSiteIdentifierError',
      );
    }
  });

  it('SiteId: 300 generated hostile strings (unicode, binary, huge, SQL fragments): refused unless a valid site id, server unchanged', async () => {
    const before = await snapshot();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          hostileString({ maxHuge: 20_000 }),
          fc
            .tuple(fc.stringMatching(/^q[a-z0-9]{2,8}$/), hostileString(), fc.boolean())
            .map(([v, h, front]) => (front ? `${h}${v}` : `${v}${h}`)),
        ),
        async (siteId) => {
          fc.pre(!/^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){1,23}$/.test(siteId));
          const error = await errorOf(() =>
            rig.invoke(
              createEvent({
                SiteId: siteId,
                Schema: `wp_${siteId}`,
                User: `site_${siteId}`,
                SecretArn: 'x',
                MaxConnections: '1',
              }),
            ),
          );
          expect(error?.name).toBe('InvalidSiteIdentifierError');
        },
      ),
      { numRuns: 300 },
    );
    expect(snapshotDiff(before, await snapshot())).toEqual({ added: [], removed: [] });
  });
});

describe('SQL: hostile secret values are refused, or quoted so they mean exactly themselves', () => {
  it.each([
    ['a backslash before a quote', "abc\\'; DROP DATABASE wp_x; --"],
    ['a trailing backslash', 'password-ends-with\\'],
    ['NUL', 'pass\u0000word-longer'],
    ['a newline', 'pass\nword-longer'],
    ['unicode look-alikes', 'pаsswоrd-cyrillic'],
    ['an emoji', 'password-🙂-x'],
    ['too short', 'x'],
    ['too long', 'x'.repeat(129)],
    ['not a string', 12345678],
    ['null', null],
  ])('password with %s: SecretFormatError, server unchanged, never logged', async (_, password) => {
    // Prepare
    const names = deriveSiteNames(qToken());

    // Act
    const error = await expectRefusedUnchanged(
      createEvent(validProperties(names, { username: names.user, password })),
      'SecretFormatError',
    );

    // Assess: the message never repeats the password.
    if (typeof password === 'string' && password.length > 3) {
      expect(error.message).not.toContain(password);
      expect(rig.logs()).not.toContain(password);
    }
  });

  it.each([
    ['a quote and DROP', "'); DROP DATABASE wp_x; --"],
    ['OR 1=1', "' OR '1'='1' -- "],
    ['backticks', '`; DROP TABLE wp_posts; -- `'],
    ['LIKE wildcards', '%_%_wild%_%'],
    ['both quotes', `"double" and 'single' quotes`],
    ['comment markers', '/* c */ -- # ; x'],
    ['an IDENTIFIED BY fragment', "x' IDENTIFIED BY 'known"],
    ['leading and trailing spaces', '  spaced password  '],
    ['dollar braces', ['$1', '$', '{x}', '$$ $(id)'].join('')],
  ])('password with %s: the account logs in with exactly it, and nothing else changed', async (_, password) => {
    // Prepare
    const names = deriveSiteNames(qToken());
    created.push(names);
    const before = await snapshot();

    // Act
    await rig.invoke(createEvent(validProperties(names, { username: names.user, password })));

    // Assess: only the site's own account, schema and grants were added.
    const diff = snapshotDiff(before, await snapshot());
    expect(diff.removed).toEqual([]);
    for (const line of diff.added) expect(line).toMatch(new RegExp(`${names.user}|${names.schema}`));
    expect(await tryLogin(names.user, password)).toEqual({ ok: true });
    // Quoted, not interpreted: the injected alternative, a LIKE match and a trimmed form do not log in.
    for (const other of [
      'known',
      password.replaceAll('%', 'a').replaceAll('_', 'b'),
      password.trim(),
      `${password}x`,
    ]) {
      if (other !== password) expect(await tryLogin(names.user, other)).toMatchObject({ ok: false });
    }
    expect(rig.logs()).not.toContain(password);
  });

  it('a secret whose username is another account (the victim, root, a quoted account): SecretFormatError, server unchanged', async () => {
    const names = deriveSiteNames(qToken());
    for (const username of [victim.user, 'root', `${names.user}'@'%`, `${names.user}%`, '']) {
      await expectRefusedUnchanged(
        createEvent(validProperties(names, { username, password: 'Str0ng-password' })),
        'SecretFormatError',
      );
    }
  });
});

describe('SQL: LIKE wildcards in the GRANT database pattern', () => {
  it('a site whose schema contains _ cannot reach the schema that _ would match as a wildcard', async () => {
    // Prepare: site `qxxx-b` has schema wp_qxxx_b; wp_qxxxzb would match it if `_` were a wildcard.
    const token = qToken();
    const names = deriveSiteNames(`${token}-b`);
    const lookalike = `wp_${token}zb`;
    const password = 'Str0ng-password-1';
    created.push(names, { siteId: `${token}zb`, schema: lookalike, user: `site_${token}zb` });
    await rig.root.query(`CREATE DATABASE \`${lookalike}\``);
    await rig.root.query(`CREATE TABLE \`${lookalike}\`.secrets (v TEXT)`);
    await rig.root.query(`INSERT INTO \`${lookalike}\`.secrets VALUES ('not yours')`);

    // Act
    await rig.invoke(createEvent(validProperties(names, { username: names.user, password })));

    // Assess
    const session = await connectAs(names.user, password);
    try {
      const [databases] = await session.query<RowDataPacket[]>('SHOW DATABASES');
      const visible = databases.map((r) => String(Object.values(r)[0]));
      expect(visible).toContain(names.schema);
      expect(visible).not.toContain(lookalike);
      expect(visible).not.toContain(victim.schema);
      await expect(session.query(`SELECT v FROM \`${lookalike}\`.secrets`)).rejects.toMatchObject({
        code: expect.stringMatching(/ER_(DBACCESS|TABLEACCESS)_DENIED_ERROR/),
      });
      await expect(session.query(`SELECT * FROM ${VICTIM_TABLE()}`)).rejects.toMatchObject({
        code: expect.stringMatching(/ER_(DBACCESS|TABLEACCESS)_DENIED_ERROR/),
      });
    } finally {
      await session.end();
    }
  });
});
