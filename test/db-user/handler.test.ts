import { randomUUID } from 'node:crypto';
import { format } from 'node:util';
import {
  GetSecretValueCommand,
  type GetSecretValueCommandInput,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type {
  CloudFormationCustomResourceCreateEvent,
  CloudFormationCustomResourceDeleteEvent,
  CloudFormationCustomResourceEvent,
  CloudFormationCustomResourceUpdateEvent,
  Context,
} from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import type { Connection } from 'mysql2/promise';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { deriveSiteNames, type SiteNames } from '../../runtime/db-user/sql';
import {
  accountExists,
  connectAs,
  connectRoot,
  createTestAdmin,
  dropSiteArtifacts,
  namesContaining,
  randomPassword,
  randomToken,
  schemaExists,
  showGrants,
  type TestAdmin,
  tryLogin,
  uniqueSiteId,
} from '../support/mariadb';

const ACCOUNT = '123456789012';
const ADMIN_SECRET_ARN = `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:bulkhead/db-admin-AbCdEf`;
const SERVICE_TOKEN = `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:bulkhead-db-user-provider`;

/**
 * The secrets the mocked Secrets Manager serves: secret id → current SecretString. Tests change
 * a password by changing this map, exactly as a rotation or a stack would change the secret.
 */
const secretStore = new Map<string, string>();
const secretsManager = mockClient(SecretsManagerClient);

let handler: (typeof import('../../runtime/db-user/index'))['handler'];
type ProviderResponse = import('../../runtime/db-user/index').ProviderResponse;
let root: Connection;
let testAdmin: TestAdmin;
const created: SiteNames[] = [];

interface TestSite {
  readonly names: SiteNames;
  readonly secretArn: string;
  password: string;
}

function secretArnOf(siteId: string): string {
  return `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:bulkhead/site/${siteId}-Xy12Zw`;
}

function writeSiteSecret(site: TestSite, password: string): void {
  site.password = password;
  secretStore.set(
    site.secretArn,
    JSON.stringify({
      username: site.names.user,
      password,
      host: '127.0.0.1',
      port: 3306,
      dbname: site.names.schema,
    }),
  );
}

function newSite(siteId = uniqueSiteId()): TestSite {
  const names = deriveSiteNames(siteId);
  created.push(names);
  const site: TestSite = { names, secretArn: secretArnOf(siteId), password: '' };
  writeSiteSecret(site, randomPassword());
  return site;
}

function propertiesOf(site: TestSite, extra: Record<string, string> = {}) {
  return {
    ServiceToken: SERVICE_TOKEN,
    SiteId: site.names.siteId,
    Schema: site.names.schema,
    User: site.names.user,
    SecretArn: site.secretArn,
    MaxConnections: '40',
    PasswordVersion: '1',
    ...extra,
  };
}

const common = {
  ServiceToken: SERVICE_TOKEN,
  ResponseURL: 'https://cloudformation-custom-resource-response.example/unused',
  StackId: `arn:aws:cloudformation:eu-west-1:${ACCOUNT}:stack/bulkhead-site/${randomUUID()}`,
  LogicalResourceId: 'DatabaseUser',
  ResourceType: 'Custom::BulkheadDatabaseUser',
};

function createEvent(properties: Record<string, string>): CloudFormationCustomResourceCreateEvent {
  return {
    ...common,
    RequestType: 'Create',
    RequestId: randomUUID(),
    ResourceProperties: { ...properties, ServiceToken: SERVICE_TOKEN },
  };
}

function updateEvent(
  physicalResourceId: string,
  properties: Record<string, string>,
  oldProperties: Record<string, string>,
): CloudFormationCustomResourceUpdateEvent {
  return {
    ...common,
    RequestType: 'Update',
    RequestId: randomUUID(),
    PhysicalResourceId: physicalResourceId,
    ResourceProperties: { ...properties, ServiceToken: SERVICE_TOKEN },
    OldResourceProperties: { ...oldProperties, ServiceToken: SERVICE_TOKEN },
  };
}

function deleteEvent(
  physicalResourceId: string,
  properties: Record<string, string>,
): CloudFormationCustomResourceDeleteEvent {
  return {
    ...common,
    RequestType: 'Delete',
    RequestId: randomUUID(),
    PhysicalResourceId: physicalResourceId,
    ResourceProperties: { ...properties, ServiceToken: SERVICE_TOKEN },
  };
}

function lambdaContext(): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'bulkhead-db-user',
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:bulkhead-db-user`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/bulkhead-db-user',
    logStreamName: '2026/01/01/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

async function invoke(event: CloudFormationCustomResourceEvent) {
  return (await handler(event, lambdaContext())) as ProviderResponse;
}

/** Everything written to stdout, stderr or the console while capturing. */
const logOutput: string[] = [];

function captureLogs(): void {
  const toText = (chunk: unknown) =>
    typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
  const write = ((chunk: unknown) => {
    logOutput.push(toText(chunk));
    return true;
  }) as typeof process.stdout.write;
  vi.spyOn(process.stdout, 'write').mockImplementation(write);
  vi.spyOn(process.stderr, 'write').mockImplementation(write);
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      logOutput.push(format(...args));
    });
  }
}

beforeAll(async () => {
  root = await connectRoot();
  testAdmin = await createTestAdmin(root);
  secretStore.set(
    ADMIN_SECRET_ARN,
    JSON.stringify({
      username: testAdmin.user,
      password: testAdmin.password,
      engine: 'mysql',
      host: '127.0.0.1',
      port: 3306,
    }),
  );

  vi.stubEnv('DB_HOST', '127.0.0.1');
  vi.stubEnv('DB_PORT', '3306');
  vi.stubEnv('DB_ADMIN_SECRET_ARN', ADMIN_SECRET_ARN);
  vi.stubEnv('DB_USER_HOST', '%');
  // The local server has no TLS, so REQUIRE SSL could never be satisfied here.
  vi.stubEnv('DB_TLS', 'disabled-for-local-test');
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'DEBUG');
  ({ handler } = await import('../../runtime/db-user/index'));
});

beforeEach(() => {
  secretsManager.reset();
  secretsManager.on(GetSecretValueCommand).callsFake((input: GetSecretValueCommandInput) => {
    const secretString = secretStore.get(input.SecretId ?? '');
    if (secretString === undefined) {
      throw new ResourceNotFoundException({
        message: "Secrets Manager can't find the specified secret.",
        $metadata: {},
      });
    }
    return { ARN: input.SecretId, Name: input.SecretId, SecretString: secretString };
  });
  logOutput.length = 0;
  captureLogs();
});

afterAll(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  for (const names of created) await dropSiteArtifacts(root, names);
  await testAdmin?.drop();
  await root?.end();
});

describe('Create', () => {
  it('creates the user from the secret and returns the physical id and Data without a password', async () => {
    // Prepare
    const site = newSite();

    // Act
    const response = await invoke(createEvent(propertiesOf(site)));

    // Assess
    expect(response).toEqual({
      PhysicalResourceId: `bulkhead-db-user:${site.names.user}`,
      Data: { Schema: site.names.schema, User: site.names.user },
    });
    expect(await tryLogin(site.names.user, site.password)).toEqual({ ok: true });
    expect(await schemaExists(root, site.names.schema)).toBe(true);
    expect((await showGrants(root, site.names.user))[0]).toContain('WITH MAX_USER_CONNECTIONS 40');
  });

  it('a second Create with the same properties changes nothing: same grants, data intact, no error', async () => {
    // Prepare
    const site = newSite();
    const first = await invoke(createEvent(propertiesOf(site)));
    const session = await connectAs(site.names.user, site.password, site.names.schema);
    await session.query('CREATE TABLE wp_options (id INT PRIMARY KEY, v VARCHAR(20))');
    await session.query("INSERT INTO wp_options VALUES (1, 'siteurl')");
    await session.end();
    const grantsBefore = await showGrants(root, site.names.user);

    // Act
    const second = await invoke(createEvent(propertiesOf(site)));

    // Assess
    expect(second).toEqual(first);
    expect(await showGrants(root, site.names.user)).toEqual(grantsBefore);
    const [rows] = await root.query(`SELECT id, v FROM \`${site.names.schema}\`.wp_options`);
    expect(rows).toEqual([{ id: 1, v: 'siteurl' }]);
    expect(await tryLogin(site.names.user, site.password)).toEqual({ ok: true });
  });

  it('refuses a site secret whose username is not the site user', async () => {
    // Prepare
    const site = newSite();
    secretStore.set(site.secretArn, JSON.stringify({ username: testAdmin.user, password: randomPassword() }));

    // Act
    const attempt = invoke(createEvent(propertiesOf(site)));

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'SecretFormatError' });
    expect(await accountExists(root, site.names.user)).toBe(false);
  });

  it('refuses a MaxConnections that is not a plain number before reading any secret', async () => {
    // Prepare
    const site = newSite();

    // Act
    const attempt = invoke(createEvent(propertiesOf(site, { MaxConnections: '40 WITH GRANT OPTION' })));

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'InvalidResourcePropertiesError' });
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    expect(await accountExists(root, site.names.user)).toBe(false);
  });
});

describe('hostile identifiers', () => {
  const cases: ReadonlyArray<{
    label: string;
    properties: (token: string) => { SiteId: string; Schema?: string; User?: string };
  }> = [
    {
      label: 'quote and stacked statement',
      properties: (t) => ({ SiteId: `${t}'; DROP DATABASE mysql; --` }),
    },
    { label: 'backtick', properties: (t) => ({ SiteId: `${t}\`; DROP DATABASE mysql; --` }) },
    { label: 'semicolon', properties: (t) => ({ SiteId: `${t};x` }) },
    { label: 'percent wildcard', properties: (t) => ({ SiteId: `${t}%` }) },
    { label: 'underscore wildcard', properties: (t) => ({ SiteId: `${t}_x` }) },
    { label: 'Cyrillic look-alike letter', properties: (t) => ({ SiteId: `${t}\u0430cme` }) },
    { label: 'fullwidth letter', properties: (t) => ({ SiteId: `${t}\uff41` }) },
    { label: 'zero-width space', properties: (t) => ({ SiteId: `${t}\u200b` }) },
    { label: 'trailing newline', properties: (t) => ({ SiteId: `${t}\n` }) },
    { label: 'uppercase', properties: (t) => ({ SiteId: t.toUpperCase() }) },
    {
      label: 'too long (25 characters)',
      properties: (t) => ({ SiteId: `${t}${'a'.repeat(25 - t.length)}` }),
    },
    { label: 'double hyphen', properties: (t) => ({ SiteId: `${t}--x` }) },
    {
      label: 'schema of another site',
      properties: (t) => ({ SiteId: t, Schema: 'wp_other_site' }),
    },
    { label: 'system schema', properties: (t) => ({ SiteId: t, Schema: 'mysql' }) },
    { label: 'schema with wildcard', properties: (t) => ({ SiteId: t, Schema: `wp_${t}%` }) },
    { label: 'user root', properties: (t) => ({ SiteId: t, User: 'root' }) },
    { label: 'user with a host part', properties: (t) => ({ SiteId: t, User: `site_${t}'@'%` }) },
    { label: 'user with backtick', properties: (t) => ({ SiteId: t, User: `site_${t}\`` }) },
  ];

  it.each(cases)('refuses $label before reading a secret or running SQL', async ({ properties }) => {
    // Prepare
    const token = `h${randomToken(7)}`;
    const given = properties(token);
    const naive = given.SiteId.replaceAll('-', '_');
    const event = createEvent({
      ServiceToken: SERVICE_TOKEN,
      SiteId: given.SiteId,
      Schema: given.Schema ?? `wp_${naive}`,
      User: given.User ?? `site_${naive}`,
      SecretArn: secretArnOf(token),
      MaxConnections: '40',
    });

    // Act
    const error = await invoke(event).catch((e: unknown) => e);

    // Assess
    expect(error).toMatchObject({
      name: 'InvalidSiteIdentifierError',
      message: expect.stringMatching(/SiteId|Schema|User/),
    });
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    expect(await namesContaining(root, token)).toEqual({ users: [], schemas: [] });
    expect(await schemaExists(root, 'mysql')).toBe(true);
  });
});

describe('Update', () => {
  it('after the secret changes and PasswordVersion moves, the old password fails and the new one works', async () => {
    // Prepare
    const site = newSite();
    const { PhysicalResourceId } = await invoke(createEvent(propertiesOf(site)));
    const oldPassword = site.password;
    writeSiteSecret(site, randomPassword());

    // Act
    const response = await invoke(
      updateEvent(
        PhysicalResourceId,
        propertiesOf(site, { PasswordVersion: '2' }),
        propertiesOf(site, { PasswordVersion: '1' }),
      ),
    );

    // Assess
    expect(response.PhysicalResourceId).toBe(PhysicalResourceId);
    expect(await tryLogin(site.names.user, oldPassword)).toEqual({
      ok: false,
      // MariaDB answers a refused login with either code, depending on its account cache.
      code: expect.stringMatching(/^ER_ACCESS_DENIED(_NO_PASSWORD)?_ERROR$/),
    });
    expect(await tryLogin(site.names.user, site.password)).toEqual({ ok: true });
  });

  it('applies a new MaxConnections', async () => {
    // Prepare
    const site = newSite();
    const { PhysicalResourceId } = await invoke(createEvent(propertiesOf(site)));

    // Act
    await invoke(updateEvent(PhysicalResourceId, propertiesOf(site, { MaxConnections: '7' }), propertiesOf(site)));

    // Assess
    expect((await showGrants(root, site.names.user))[0]).toContain('WITH MAX_USER_CONNECTIONS 7');
  });

  it('a changed SiteId creates the new user and returns its id; the later Delete of the old id drops only the old user', async () => {
    // Prepare
    const oldSite = newSite();
    const newSiteId = newSite();
    const { PhysicalResourceId: oldId } = await invoke(createEvent(propertiesOf(oldSite)));

    // Act
    const response = await invoke(updateEvent(oldId, propertiesOf(newSiteId), propertiesOf(oldSite)));
    const bothAfterUpdate = [
      await accountExists(root, oldSite.names.user),
      await accountExists(root, newSiteId.names.user),
    ];
    await invoke(deleteEvent(oldId, propertiesOf(oldSite)));

    // Assess
    expect(response).toEqual({
      PhysicalResourceId: `bulkhead-db-user:${newSiteId.names.user}`,
      Data: { Schema: newSiteId.names.schema, User: newSiteId.names.user },
    });
    expect(bothAfterUpdate).toEqual([true, true]);
    expect(await accountExists(root, oldSite.names.user)).toBe(false);
    expect(await tryLogin(newSiteId.names.user, newSiteId.password)).toEqual({ ok: true });
    expect(await schemaExists(root, oldSite.names.schema)).toBe(true);
  });
});

describe('Delete', () => {
  it('drops the login but keeps the schema, its table and rows; a second Delete succeeds', async () => {
    // Prepare
    const site = newSite();
    const { PhysicalResourceId } = await invoke(createEvent(propertiesOf(site)));
    const session = await connectAs(site.names.user, site.password, site.names.schema);
    await session.query('CREATE TABLE wp_posts (id INT PRIMARY KEY, title VARCHAR(20))');
    await session.query("INSERT INTO wp_posts VALUES (1, 'first'), (2, 'second')");
    await session.end();

    // Act
    const first = await invoke(deleteEvent(PhysicalResourceId, propertiesOf(site)));
    const second = await invoke(deleteEvent(PhysicalResourceId, propertiesOf(site)));

    // Assess
    expect(first.PhysicalResourceId).toBe(PhysicalResourceId);
    expect(second.PhysicalResourceId).toBe(PhysicalResourceId);
    expect(await tryLogin(site.names.user, site.password)).toEqual({
      ok: false,
      // MariaDB answers a refused login with either code, depending on its account cache.
      code: expect.stringMatching(/^ER_ACCESS_DENIED(_NO_PASSWORD)?_ERROR$/),
    });
    expect(await accountExists(root, site.names.user)).toBe(false);
    const [rows] = await root.query(`SELECT id, title FROM \`${site.names.schema}\`.wp_posts ORDER BY id`);
    expect(rows).toEqual([
      { id: 1, title: 'first' },
      { id: 2, title: 'second' },
    ]);
  });

  it('succeeds for a user that never existed', async () => {
    // Prepare
    const site = newSite();

    // Act
    const response = await invoke(deleteEvent(`bulkhead-db-user:${site.names.user}`, propertiesOf(site)));

    // Assess
    expect(response.PhysicalResourceId).toBe(`bulkhead-db-user:${site.names.user}`);
    expect(await accountExists(root, site.names.user)).toBe(false);
    expect(await schemaExists(root, site.names.schema)).toBe(false);
  });

  it('does nothing for a physical id this provider never issued (a failed Create)', async () => {
    // Prepare
    const site = newSite();
    await invoke(createEvent(propertiesOf(site)));
    secretsManager.resetHistory();
    const foreignId = 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED';

    // Act
    const response = await invoke(deleteEvent(foreignId, propertiesOf(site)));

    // Assess
    expect(response.PhysicalResourceId).toBe(foreignId);
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    expect(await accountExists(root, site.names.user)).toBe(true);
  });

  it('refuses a physical id that names something other than a site user', async () => {
    // Act
    const attempt = invoke(deleteEvent(`bulkhead-db-user:${testAdmin.user}`, { SiteId: 'x', Schema: 'x', User: 'x' }));

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'InvalidSiteIdentifierError' });
    expect(await accountExists(root, testAdmin.user)).toBe(true);
  });
});

describe('logging', () => {
  it('never logs a password, on success or on failure', async () => {
    // Prepare
    const site = newSite();
    const firstPassword = site.password;
    const properties = propertiesOf(site);
    const physicalId = `bulkhead-db-user:${site.names.user}`;
    const wrongAdminPassword = randomPassword();
    const unsafePassword = `${randomPassword()}\\x`;

    // Act
    await invoke(createEvent(properties));
    const secondPassword = randomPassword();
    writeSiteSecret(site, secondPassword);
    await invoke(updateEvent(physicalId, propertiesOf(site, { PasswordVersion: '2' }), properties));
    // Failure: the secret holds a password the provider refuses to put in SQL.
    writeSiteSecret(site, unsafePassword);
    const refused = await invoke(
      updateEvent(physicalId, propertiesOf(site, { PasswordVersion: '3' }), properties),
    ).catch((e: unknown) => e);
    // Failure: the admin secret holds a wrong password, so the admin login is denied.
    const goodAdminSecret = secretStore.get(ADMIN_SECRET_ARN) ?? '';
    secretStore.set(ADMIN_SECRET_ARN, JSON.stringify({ username: testAdmin.user, password: wrongAdminPassword }));
    const denied = await invoke(deleteEvent(physicalId, properties)).catch((e: unknown) => e);
    secretStore.set(ADMIN_SECRET_ARN, goodAdminSecret);
    await invoke(deleteEvent(physicalId, properties));

    // Assess
    const logged = logOutput.join('\n');
    const errors = `${format(refused)}\n${format(denied)}\n${JSON.stringify([refused, denied])}`;
    expect(refused).toMatchObject({ name: 'SecretFormatError' });
    expect(denied).toMatchObject({ name: 'DatabaseUserError' });
    expect(logged).toContain(site.names.siteId);
    expect(logged).toContain('database user request failed');
    for (const secret of [firstPassword, unsafePassword, wrongAdminPassword, testAdmin.password, secondPassword]) {
      expect(logged).not.toContain(secret);
      expect(errors).not.toContain(secret);
    }
  });
});
