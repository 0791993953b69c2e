import { randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import { LambdaClient } from '@aws-sdk/client-lambda';
import {
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deriveSiteNames, type SiteNames } from '../../runtime/db-user/sql';
import { rotateSiteCredentials } from '../../runtime/recovery/rotate';
import { dropSiteArtifacts, randomToken } from '../support/mariadb';
import { createEvent, type DbUserRig, errorOf, lambdaContext, qToken, setUpDbUserRig } from './support/db-user';

/**
 * Sink: log lines (and the error messages that end up in CloudWatch Logs, the Lambda error
 * payload and the CloudFormation event reason). A seeded password must never appear in any
 * of them, in any form the provider writes it (raw, SQL-quoted `''`, backslash-escaped), on
 * the happy path at DEBUG with event logging on, or when the database refuses a statement
 * that carries it, or when a rotation fails half-way.
 *
 * Everything written to stdout, stderr and the console is captured (Powertools writes JSON
 * lines to stdout); thrown errors are inspected with their causes and hidden properties.
 */

let rig: DbUserRig;
const created: SiteNames[] = [];

/** A password that exercises every quoting path: single and double quotes, %, _ and a marker. */
function canary(): string {
  return `Canary-${randomToken(10)}'"%_pw`;
}

function forms(secret: string): string[] {
  return [secret, secret.replaceAll("'", "''"), secret.replaceAll("'", "\\'"), JSON.stringify(secret).slice(1, -1)];
}

function expectNowhere(secrets: readonly string[], ...places: unknown[]): void {
  const text = [
    rig.logs(),
    ...places.map((p) => (typeof p === 'string' ? p : inspect(p, { depth: 20, showHidden: true }))),
  ].join('\n');
  for (const secret of secrets) {
    for (const form of forms(secret)) expect(text.includes(form), `found ${JSON.stringify(form)}`).toBe(false);
    // Not even a long piece of it.
    expect(text.includes(secret.slice(0, 17)), `found the start of ${JSON.stringify(secret)}`).toBe(false);
  }
}

async function setAdminSecret(value: unknown): Promise<void> {
  await new SecretsManagerClient({}).send(
    new PutSecretValueCommand({ SecretId: rig.adminSecretArn, SecretString: JSON.stringify(value) }),
  );
}

beforeAll(async () => {
  rig = await setUpDbUserRig({ logLevel: 'DEBUG', logEvent: true, services: ['SecretsManager', 'Lambda'] });
  rig.aws.lambda.register('bulkhead-db-user', (event: unknown) => rig.handler(event as never, lambdaContext()));
});

afterAll(async () => {
  for (const names of created) await dropSiteArtifacts(rig.root, names);
  await rig.root.query('DROP USER IF EXISTS ?@?', [`qlimited_${'admin'}`, '%']);
  await rig.close();
});

beforeEach(async () => {
  rig.clearLogs();
  await setAdminSecret({ username: rig.admin.user, password: rig.admin.password, host: '127.0.0.1', port: 3306 });
});

function newSite(password: string): { names: SiteNames; secretArn: string; event: unknown } {
  const names = deriveSiteNames(qToken());
  created.push(names);
  const secretArn = rig.siteSecret({ username: names.user, password, dbname: names.schema });
  const event = createEvent({
    SiteId: names.siteId,
    Schema: names.schema,
    User: names.user,
    SecretArn: secretArn,
    MaxConnections: '5',
  });
  return { names, secretArn, event };
}

describe('log lines of the database-user provider', () => {
  it('Create at DEBUG with event logging: logs site and action, never the site or admin password', async () => {
    // Prepare
    const password = canary();
    const { names, event } = newSite(password);

    // Act
    const response = await rig.invoke(event);

    // Assess
    expect(rig.logs()).toContain(names.user);
    expectNowhere([password, rig.admin.password], response);
  });

  it('Create that the database refuses (the admin may not CREATE USER): the error and its log carry no password', async () => {
    // Prepare: an admin that may create schemas and read mysql.user, but not create users.
    const limited = { user: 'qlimited_admin', password: `Admin-${canary()}` };
    await rig.root.query('DROP USER IF EXISTS ?@?', [limited.user, '%']);
    await rig.root.query('CREATE USER ?@? IDENTIFIED BY ?', [limited.user, '%', limited.password]);
    await rig.root.query('GRANT CREATE, SELECT ON *.* TO ?@?', [limited.user, '%']);
    await setAdminSecret({ username: limited.user, password: limited.password });
    const password = canary();
    const { event } = newSite(password);

    // Act
    const error = await errorOf(() => rig.invoke(event));

    // Assess
    expect(error?.name).toBe('DatabaseUserError');
    expect(error?.message).toMatch(/CREATE USER .* failed/);
    expect(rig.logs()).toContain('database user request failed');
    expectNowhere([password, limited.password], error, error?.message);
  });

  it('a wrong admin password: the connection error and its log carry neither password', async () => {
    const wrong = `Wrong-${canary()}`;
    await setAdminSecret({ username: rig.admin.user, password: wrong });
    const password = canary();
    const { event } = newSite(password);

    const error = await errorOf(() => rig.invoke(event));

    expect(error?.name).toBe('DatabaseUserError');
    expectNowhere([password, wrong, rig.admin.password], error);
  });

  it.each([
    ['not JSON', (pw: string) => `password=${pw}`],
    ['a JSON array', (pw: string) => JSON.stringify([pw])],
    ['a password with a backslash', (pw: string) => JSON.stringify({ username: 'x', password: `${pw}\\` })],
  ])('a site secret that is %s: SecretFormatError without the secret', async (_, secretOf) => {
    const password = canary();
    const names = deriveSiteNames(qToken());
    const event = createEvent({
      SiteId: names.siteId,
      Schema: names.schema,
      User: names.user,
      SecretArn: rig.siteSecret(secretOf(password)),
      MaxConnections: '5',
    });

    const error = await errorOf(() => rig.invoke(event));

    expect(error?.name).toBe('SecretFormatError');
    expectNowhere([password], error);
  });
});

describe('log lines of credential rotation', () => {
  /** The password of every version of the secret, labelled or not. */
  async function secretPasswords(secretArn: string): Promise<string[]> {
    const client = new SecretsManagerClient({});
    const versions =
      (await client.send(new ListSecretVersionIdsCommand({ SecretId: secretArn, IncludeDeprecated: true }))).Versions ??
      [];
    const out: string[] = [];
    for (const v of versions) {
      const value = await client.send(new GetSecretValueCommand({ SecretId: secretArn, VersionId: v.VersionId }));
      const pw = value.SecretString ? (JSON.parse(value.SecretString) as { password?: string }).password : undefined;
      if (pw) out.push(pw);
    }
    return out;
  }

  const deps = () => ({
    secrets: new SecretsManagerClient({}),
    lambda: new LambdaClient({}),
    databaseUserFunction: 'bulkhead-db-user',
    newToken: () => randomUUID(),
  });

  it('a rotation that succeeds: neither the old nor the new password is logged', async () => {
    // Prepare
    const password = canary();
    const site = newSite(password);
    await rig.invoke(site.event);
    rig.clearLogs();

    // Act
    const result = await rotateSiteCredentials(deps(), site.names.siteId, site.secretArn);

    // Assess
    const passwords = await secretPasswords(site.secretArn);
    expect(passwords).toContain(password);
    expect(passwords.length).toBeGreaterThanOrEqual(2);
    expectNowhere(passwords, result);
  });

  it('a rotation whose database change fails (the account is gone): the RotationError and the logs carry no password', async () => {
    // Prepare
    const password = canary();
    const site = newSite(password);
    await rig.invoke(site.event);
    await rig.root.query('DROP USER ?@?', [site.names.user, '%']);
    rig.clearLogs();

    // Act
    const error = await errorOf(() => rotateSiteCredentials(deps(), site.names.siteId, site.secretArn));

    // Assess
    expect(error?.name).toBe('RotationError');
    expect(error?.message).toMatch(/apply-pending-password failed/);
    const passwords = await secretPasswords(site.secretArn);
    expect(passwords.length).toBeGreaterThanOrEqual(2);
    expectNowhere([password, ...passwords], error);
  });
});
