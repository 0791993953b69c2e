import { randomUUID } from 'node:crypto';
import {
  GetSecretValueCommand,
  type GetSecretValueCommandInput,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceCreateEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readConfig } from '../../runtime/db-user/config';
import { ConfigurationError, DatabaseUserError } from '../../runtime/db-user/errors';
import { connectionOptions, testSiteLogin } from '../../runtime/db-user/site-user';
import { deriveSiteNames } from '../../runtime/db-user/sql';
import { accountExists, connectRoot, createTestAdmin, MARIADB, randomPassword, uniqueSiteId } from '../support/mariadb';

const ADMIN_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:bulkhead/admin-AbCdEf';
const baseEnv = { DB_HOST: '127.0.0.1', DB_ADMIN_SECRET_ARN: ADMIN_SECRET_ARN };

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

describe('readConfig', () => {
  it('requires TLS, uses port 3306 and host % by default', () => {
    // Act
    const config = readConfig(baseEnv);

    // Assess
    expect(config).toEqual({
      dbHost: '127.0.0.1',
      dbPort: 3306,
      adminSecretArn: ADMIN_SECRET_ARN,
      userHost: '%',
      tls: true,
    });
  });

  it('turns TLS off only for the exact value disabled-for-local-test', () => {
    // Act
    const config = readConfig({ ...baseEnv, DB_TLS: 'disabled-for-local-test' });

    // Assess
    expect(config.tls).toBe(false);
  });

  it.each([
    'optional',
    'disabled',
    'false',
    'off',
    'DISABLED-FOR-LOCAL-TEST',
    ' disabled-for-local-test',
    'disabled-for-local-test ',
    '',
  ])('refuses the unknown DB_TLS value %j', (value) => {
    // Act
    const attempt = () => readConfig({ ...baseEnv, DB_TLS: value });

    // Assess
    expect(attempt).toThrow(ConfigurationError);
    expect(attempt).toThrow(/DB_TLS/);
  });

  it.each([
    ['DB_HOST missing', { DB_ADMIN_SECRET_ARN: ADMIN_SECRET_ARN }, /DB_HOST/],
    ['DB_ADMIN_SECRET_ARN missing', { DB_HOST: 'db.example' }, /DB_ADMIN_SECRET_ARN/],
    ['DB_PORT not a port', { ...baseEnv, DB_PORT: '3306; DROP' }, /DB_PORT/],
    ['DB_PORT out of range', { ...baseEnv, DB_PORT: '70000' }, /DB_PORT/],
    ['DB_USER_HOST with a quote', { ...baseEnv, DB_USER_HOST: "%' OR 1=1 --" }, /DB_USER_HOST/],
  ])('refuses %s', (_label, env, message) => {
    // Act
    const attempt = () => readConfig(env);

    // Assess
    expect(attempt).toThrow(ConfigurationError);
    expect(attempt).toThrow(message);
  });
});

describe('TLS', () => {
  it('uses mysql2’s Amazon RDS CA profile when TLS is on, and no TLS only when off', () => {
    // Act
    const on = connectionOptions({ host: 'db.example', port: 3306 }, 'u', 'p', true);
    const off = connectionOptions({ host: 'db.example', port: 3306 }, 'u', 'p', false);

    // Assess
    expect(on.ssl).toBe('Amazon RDS');
    expect(off.ssl).toBeUndefined();
  });

  it('never falls back to plain text: a TLS login to a server without TLS fails instead of answering', async () => {
    // Act
    const error = await testSiteLogin(MARIADB.host, MARIADB.port, 'root', '', true).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(DatabaseUserError);
    expect(error).toMatchObject({ cause: { code: 'HANDSHAKE_NO_SSL_SUPPORT' } });
  });
});

describe('handler cold start', () => {
  it('refuses to load with an unknown DB_TLS value', async () => {
    // Prepare
    for (const [name, value] of Object.entries(baseEnv)) vi.stubEnv(name, value);
    vi.stubEnv('DB_TLS', 'preferred');

    // Act
    const loading = import('../../runtime/db-user/index');

    // Assess
    await expect(loading).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: expect.stringContaining('DB_TLS'),
    });
  });

  it('with DB_TLS unset, connects to the cluster with TLS only (Create fails against a server without TLS)', async () => {
    // Prepare
    const root = await connectRoot();
    const admin = await createTestAdmin(root);
    const names = deriveSiteNames(uniqueSiteId());
    const siteSecretArn = `arn:aws:secretsmanager:eu-west-1:123456789012:secret:site/${names.siteId}-AbCdEf`;
    const secretStore = new Map([
      [ADMIN_SECRET_ARN, JSON.stringify({ username: admin.user, password: admin.password })],
      [siteSecretArn, JSON.stringify({ username: names.user, password: randomPassword() })],
    ]);
    const secretsManager = mockClient(SecretsManagerClient);
    secretsManager.on(GetSecretValueCommand).callsFake((input: GetSecretValueCommandInput) => ({
      SecretString: secretStore.get(input.SecretId ?? ''),
    }));
    for (const [name, value] of Object.entries(baseEnv)) vi.stubEnv(name, value);
    vi.stubEnv('DB_TLS', undefined);
    const { onEvent } = await import('../../runtime/db-user/index');
    const event: CloudFormationCustomResourceCreateEvent = {
      RequestType: 'Create',
      ServiceToken: 'token',
      ResponseURL: 'https://example.invalid',
      StackId: 'stack',
      RequestId: randomUUID(),
      LogicalResourceId: 'DatabaseUser',
      ResourceType: 'Custom::BulkheadDatabaseUser',
      ResourceProperties: {
        ServiceToken: 'token',
        SiteId: names.siteId,
        Schema: names.schema,
        User: names.user,
        SecretArn: siteSecretArn,
        MaxConnections: '40',
      },
    };
    const silent = (() => true) as typeof process.stdout.write;
    vi.spyOn(process.stdout, 'write').mockImplementation(silent);
    vi.spyOn(process.stderr, 'write').mockImplementation(silent);

    try {
      // Act
      const error = await onEvent(event).catch((e: unknown) => e);

      // Assess
      expect(error).toMatchObject({
        name: 'DatabaseUserError',
        cause: { code: 'HANDSHAKE_NO_SSL_SUPPORT' },
      });
      expect(await accountExists(root, names.user)).toBe(false);
    } finally {
      vi.restoreAllMocks();
      secretsManager.restore();
      await admin.drop();
      await root.end();
    }
  });
});
