import { randomUUID } from 'node:crypto';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Connection } from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type RotationDeps, RotationError, rotateSiteCredentials } from '../../lambdas/recovery/rotate';
import { deriveSiteNames } from '../../lambdas/db-user/sql';
import { type AwsModel, installAwsModel } from '../support/aws-model';
import {
  connectAs,
  connectRoot,
  createTestAdmin,
  dropSiteArtifacts,
  randomPassword,
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
  const { handler } = await import('../../lambdas/db-user/index');
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

async function rows(password: string): Promise<unknown[]> {
  const connection = await connectAs(site.user, password, site.schema);
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
    const { handler } = await import('../../lambdas/db-user/index');
    await expect(
      handler(
        { action: 'apply-pending-password', siteId: "x'; DROP USER root; --", secretArn: site.secretArn } as never,
        { awsRequestId: 'r' } as never,
      ),
    ).rejects.toThrow();
    expect(await tryLogin(site.user, site.password)).toEqual({ ok: true });
  });
});
