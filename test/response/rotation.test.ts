import { randomUUID } from 'node:crypto';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type RotationDeps, RotationError, rotateSiteCredentials } from '../../runtime/recovery/rotate';
import { deriveSiteNames } from '../../runtime/db-user/sql';
import { type AwsModel, installAwsModel } from '../support/aws-model';
import {
  accountExists,
  connectAs,
  connectRoot,
  createTestAdmin,
  dropSiteArtifacts,
  randomPassword,
  schemaExists,
  showGrants,
  type TestAdmin,
  tryLogin,
  uniqueSiteId,
} from '../support/mariadb';

/**
 * Credential rotation against the real MariaDB: Secrets Manager and Lambda are the AWS
 * model; the database-user provider's real handler runs inside the Lambda model and
 * changes the real database.
 */
let root: Connection;
let admin: TestAdmin;
let aws: AwsModel;
const created: string[] = [];

beforeAll(async () => {
  root = await connectRoot();
  admin = await createTestAdmin(root);
});

afterAll(async () => {
  for (const id of created) await dropSiteArtifacts(root, deriveSiteNames(id));
  await admin.drop();
  await root.end();
});

let site: { id: string; user: string; schema: string; secretArn: string; password: string };

beforeEach(async () => {
  aws = installAwsModel({ retries: 'sdk-no-delay', services: ['SecretsManager', 'Lambda'] });
  const adminSecret = aws.secretsManager.seedSecret({
    name: 'bulkhead/test/database/admin',
    value: JSON.stringify({ username: admin.user, password: admin.password, host: '127.0.0.1', port: 3306 }),
  });
  vi.stubEnv('DB_HOST', '127.0.0.1');
  vi.stubEnv('DB_PORT', '3306');
  vi.stubEnv('DB_ADMIN_SECRET_ARN', adminSecret.ARN);
  vi.stubEnv('DB_USER_HOST', '%');
  vi.stubEnv('DB_TLS', 'disabled-for-local-test');
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'ERROR');
  vi.resetModules();
  const { handler } = await import('../../runtime/db-user/index');
  aws.lambda.register('bulkhead-db-user', (event: unknown) =>
    handler(event as never, { awsRequestId: randomUUID() } as never),
  );

  const id = uniqueSiteId('rot');
  created.push(id);
  const names = deriveSiteNames(id);
  const password = randomPassword();
  const secret = aws.secretsManager.seedSecret({
    name: `bulkhead/test/sites/${id}/database`,
    value: JSON.stringify({ username: names.user, password, dbname: names.schema, host: '127.0.0.1', port: 3306 }),
  });
  site = { id, user: names.user, schema: names.schema, secretArn: secret.ARN, password };
  // The site's user and schema, as its stack's custom resource creates them, with some data.
  await handler(
    {
      RequestType: 'Create',
      ResourceType: 'Custom::BulkheadDatabaseUser',
      ResourceProperties: {
        ServiceToken: 'x',
        SiteId: id,
        Schema: names.schema,
        User: names.user,
        SecretArn: secret.ARN,
        MaxConnections: '5',
      },
      StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/test/1',
      RequestId: randomUUID(),
      LogicalResourceId: 'DatabaseUser',
      ResponseURL: 'https://example.invalid',
      ServiceToken: 'x',
    } as never,
    { awsRequestId: randomUUID() } as never,
  );
  const asSite = await connectAs(names.user, password, names.schema);
  await asSite.query('CREATE TABLE wp_posts (id INT PRIMARY KEY, title TEXT)');
  await asSite.query("INSERT INTO wp_posts VALUES (1, 'Hello world')");
  await asSite.end();
});

afterEach(() => {
  aws.restore();
  vi.unstubAllEnvs();
});

function deps(): RotationDeps {
  return {
    secrets: new SecretsManagerClient({}),
    lambda: new LambdaClient({}),
    databaseUserFunction: 'bulkhead-db-user',
    newToken: () => randomUUID(),
  };
}

async function currentPassword(): Promise<string> {
  const value = await new SecretsManagerClient({}).send(
    new GetSecretValueCommand({ SecretId: site.secretArn, VersionStage: 'AWSCURRENT' }),
  );
  return (JSON.parse(value.SecretString ?? '{}') as { password: string }).password;
}

async function current(): Promise<{ username: string; password: string }> {
  const value = await new SecretsManagerClient({}).send(
    new GetSecretValueCommand({ SecretId: site.secretArn, VersionStage: 'AWSCURRENT' }),
  );
  return JSON.parse(value.SecretString ?? '{}') as { username: string; password: string };
}

/** Runs a query on an open session; 'killed' when the server closed it. */
async function stillOpen(connection: Connection): Promise<'open' | 'killed'> {
  try {
    await connection.query('SELECT 1');
    return 'open';
  } catch {
    return 'killed';
  }
}

async function rows(password: string, user = site.user): Promise<unknown[]> {
  const connection = await connectAs(user, password, site.schema);
  try {
    const [result] = await connection.query('SELECT id, title FROM wp_posts');
    return result as unknown[];
  } finally {
    await connection.end();
  }
}

describe('rotating a site’s database password', () => {
  it('the new password works, the old one fails, the data is still there, and the old version is kept', async () => {
    // Act
    const result = await rotateSiteCredentials(deps(), site.id, site.secretArn);

    // Assess
    const next = await currentPassword();
    expect(next).not.toBe(site.password);
    expect(await tryLogin(site.user, site.password)).toMatchObject({ ok: false });
    expect(await tryLogin(site.user, next)).toEqual({ ok: true });
    expect(await rows(next)).toEqual([{ id: 1, title: 'Hello world' }]);
    const stages = (await new SecretsManagerClient({}).send(new DescribeSecretCommand({ SecretId: site.secretArn })))
      .VersionIdsToStages;
    expect(stages?.[result.currentVersionId]).toEqual(['AWSCURRENT']);
    expect(stages?.[result.previousVersionId]).toEqual(['AWSPREVIOUS']);
  });

  it('when the database side fails, the old password still works and the secret still holds it', async () => {
    // Prepare: the provider cannot be reached.
    aws.faults.add({ service: 'Lambda', command: 'Invoke', kind: 'server', times: 10 });

    // Act + Assess
    await expect(rotateSiteCredentials(deps(), site.id, site.secretArn)).rejects.toThrow(RotationError);
    expect(await currentPassword()).toBe(site.password);
    expect(await tryLogin(site.user, site.password)).toEqual({ ok: true });
    const described = await new SecretsManagerClient({}).send(new DescribeSecretCommand({ SecretId: site.secretArn }));
    const labels = Object.values(described.VersionIdsToStages ?? {}).flat();
    expect(labels).not.toContain('AWSPENDING');
  });

  it('when promoting the new version fails, the database is set back: secret and database agree', async () => {
    // Prepare
    aws.faults.add({ service: 'SecretsManager', command: 'UpdateSecretVersionStage', kind: 'denied', times: 1 });

    // Act
    await expect(rotateSiteCredentials(deps(), site.id, site.secretArn)).rejects.toThrow(
      /set back to the current password/,
    );

    // Assess
    expect(await currentPassword()).toBe(site.password);
    expect(await tryLogin(site.user, site.password)).toEqual({ ok: true });
    expect(await rows(site.password)).toEqual([{ id: 1, title: 'Hello world' }]);
  });

  it('the provider refuses a hostile site id before touching the database', async () => {
    const { handler } = await import('../../runtime/db-user/index');
    await expect(
      handler(
        { action: 'apply-pending-password', siteId: "x'; DROP USER root; --", secretArn: site.secretArn } as never,
        { awsRequestId: 'r' } as never,
      ),
    ).rejects.toThrow();
    expect(await tryLogin(site.user, site.password)).toEqual({ ok: true });
  });

  it('of a serving site: its running tasks keep connecting with what they started with; the secret moves to the other account', async () => {
    // Prepare: a running task holds the secret's credentials and an open session
    const before = await current();
    const running = await connectAs(before.username, before.password, site.schema);
    const otherUser = `${site.user}__b`;

    // Act
    await rotateSiteCredentials(deps(), site.id, site.secretArn, 'serving');

    // Assess: nothing changed for the running task: new connections and its open session work
    expect(await tryLogin(before.username, before.password)).toEqual({ ok: true });
    expect(await stillOpen(running)).toBe('open');
    await running.end();
    // New tasks get the other account, with the same data and only the site's privileges
    const next = await current();
    expect(next.username).toBe(otherUser);
    expect(next.password).not.toBe(before.password);
    expect(await rows(next.password, next.username)).toEqual([{ id: 1, title: 'Hello world' }]);
    const grants = async (user: string) =>
      (await showGrants(root, user)).map((g) => g.replace(user, 'USER').replace(/ IDENTIFIED BY PASSWORD '[^']*'/, ''));
    expect(await grants(otherUser)).toEqual(await grants(site.user));
  });

  it('of a serving site, twice: each rotation changes the account the running tasks do not use', async () => {
    // Prepare
    await rotateSiteCredentials(deps(), site.id, site.secretArn, 'serving');
    const second = await current(); // what tasks deployed after the first rotation hold

    // Act
    await rotateSiteCredentials(deps(), site.id, site.secretArn, 'serving');

    // Assess
    const third = await current();
    expect(third.username).toBe(site.user);
    expect(await tryLogin(second.username, second.password)).toEqual({ ok: true });
    expect(await tryLogin(site.user, site.password)).toMatchObject({ ok: false });
    expect(await tryLogin(third.username, third.password)).toEqual({ ok: true });
  });

  it('during an incident: every earlier password dies at once (the one a serving rotation left valid too) and their open sessions are killed', async () => {
    // Prepare: a serving rotation left the first password valid; sessions on both accounts
    await rotateSiteCredentials(deps(), site.id, site.secretArn, 'serving');
    const serving = await current();
    const onPrevious = await connectAs(site.user, site.password, site.schema);
    const onCurrent = await connectAs(serving.username, serving.password, site.schema);

    // Act
    const result = await rotateSiteCredentials(deps(), site.id, site.secretArn, 'incident');

    // Assess
    const next = await current();
    expect(next.username).toBe(serving.username); // in place: the account the contained tasks used
    expect(await tryLogin(site.user, site.password)).toMatchObject({ ok: false });
    expect(await tryLogin(serving.username, serving.password)).toMatchObject({ ok: false });
    expect(await tryLogin(next.username, next.password)).toEqual({ ok: true });
    expect(await stillOpen(onPrevious)).toBe('killed');
    expect(await stillOpen(onCurrent)).toBe('killed');
    await Promise.allSettled([onPrevious.end(), onCurrent.end()]);
    expect(await rows(next.password, next.username)).toEqual([{ id: 1, title: 'Hello world' }]);
    expect(result).toMatchObject({ mode: 'incident', sessionsKilled: 2 });
  });

  it('of a serving site whose promotion fails: the running tasks’ account still works and the other one is locked again', async () => {
    // Prepare
    aws.faults.add({ service: 'SecretsManager', command: 'UpdateSecretVersionStage', kind: 'denied', times: 1 });

    // Act
    await expect(rotateSiteCredentials(deps(), site.id, site.secretArn, 'serving')).rejects.toThrow(RotationError);

    // Assess
    expect(await current()).toMatchObject({ username: site.user, password: site.password });
    expect(await tryLogin(site.user, site.password)).toEqual({ ok: true });
    const pending = aws.secretsManager.versionStages(site.secretArn);
    expect(Object.values(pending).flat()).not.toContain('AWSPENDING');
    expect(await accountLocked(`${site.user}__b`)).toBe(true);
  });

  it('the provider drops both accounts of a site when its stack deletes it (the schema stays)', async () => {
    // Prepare
    await rotateSiteCredentials(deps(), site.id, site.secretArn, 'serving');
    expect(await accountExists(root, `${site.user}__b`)).toBe(true);
    const { handler } = await import('../../runtime/db-user/index');

    // Act
    await handler(
      {
        RequestType: 'Delete',
        ResourceType: 'Custom::BulkheadDatabaseUser',
        PhysicalResourceId: `bulkhead-db-user:${site.user}`,
        ResourceProperties: { ServiceToken: 'x', SiteId: site.id, Schema: site.schema, User: site.user },
        StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/test/1',
        RequestId: randomUUID(),
        LogicalResourceId: 'DatabaseUser',
        ResponseURL: 'https://example.invalid',
        ServiceToken: 'x',
      } as never,
      { awsRequestId: randomUUID() } as never,
    );

    // Assess
    expect(await accountExists(root, site.user)).toBe(false);
    expect(await accountExists(root, `${site.user}__b`)).toBe(false);
    expect(await schemaExists(root, site.schema)).toBe(true);
  });
});

/** Whether an account refuses logins because it is locked (MariaDB 4151, MySQL 3118). */
async function accountLocked(user: string): Promise<boolean> {
  const [rows] = await root.query<RowDataPacket[]>('SHOW CREATE USER ?@?', [user, '%']);
  return /ACCOUNT LOCK/.test(String(Object.values(rows[0] ?? {})[0]));
}
