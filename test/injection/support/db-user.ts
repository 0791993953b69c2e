/**
 * The database-user provider wired for injection tests: its real handler (cold start with
 * the test environment), Secrets Manager as the AWS model, the local MariaDB, an RDS-like
 * admin, log capture, and a snapshot of everything in the server that a hostile value could
 * change.
 */
import { randomUUID } from 'node:crypto';
import { format } from 'node:util';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { vi } from 'vitest';
import { type AwsModel, installAwsModel } from '../../support/aws-model';
import { connectRoot, createTestAdmin, randomToken, type TestAdmin } from '../../support/mariadb';

export type DbUserHandler = (typeof import('../../../runtime/db-user/index'))['handler'];

export interface DbUserRig {
  readonly root: Connection;
  readonly admin: TestAdmin;
  readonly aws: AwsModel;
  readonly handler: DbUserHandler;
  readonly adminSecretArn: string;
  /** Everything written to stdout, stderr or the console since the last {@link DbUserRig.clearLogs}. */
  logs(): string;
  clearLogs(): void;
  /** A site secret (a new secret each call) and its ARN. */
  siteSecret(value: unknown): string;
  invoke(event: unknown): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * A token for the names these tests create. Other test files (test/db-user, test/response)
 * run against the same server at the same time with names `site_t…`, `wp_t…` and
 * `bulkhead_admin_…`; ours start with `q`, so {@link serverSnapshot} can leave theirs out.
 */
export function qToken(): string {
  return `q${randomToken(7)}`;
}

export function lambdaContext(): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'bulkhead-db-user',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:bulkhead-db-user',
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

export function createEvent(properties: Record<string, unknown>): CloudFormationCustomResourceEvent {
  return {
    RequestType: 'Create',
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:provider',
    ResponseURL: 'https://cloudformation-custom-resource-response.example/unused',
    StackId: `arn:aws:cloudformation:eu-west-1:123456789012:stack/bulkhead-site/${randomUUID()}`,
    RequestId: randomUUID(),
    LogicalResourceId: 'DatabaseUser',
    ResourceType: 'Custom::BulkheadDatabaseUser',
    ResourceProperties: { ServiceToken: 'x', ...properties },
  } as CloudFormationCustomResourceEvent;
}

export function deleteEvent(physicalResourceId: string, properties: Record<string, unknown> = {}) {
  return {
    ...createEvent(properties),
    RequestType: 'Delete',
    PhysicalResourceId: physicalResourceId,
  } as CloudFormationCustomResourceEvent;
}

/** Captures stdout, stderr and console output (Powertools writes JSON lines to stdout). */
function captureLogs(into: string[]): void {
  const toText = (chunk: unknown) =>
    typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
  const write = ((chunk: unknown) => {
    into.push(toText(chunk));
    return true;
  }) as typeof process.stdout.write;
  vi.spyOn(process.stdout, 'write').mockImplementation(write);
  vi.spyOn(process.stderr, 'write').mockImplementation(write);
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      into.push(format(...args));
    });
  }
}

export async function setUpDbUserRig(
  options: { logLevel?: string; logEvent?: boolean; services?: ('SecretsManager' | 'Lambda')[] } = {},
): Promise<DbUserRig> {
  const root = await connectRoot();
  const admin = await createTestAdmin(root);
  const aws = installAwsModel({ retries: 'sdk-no-delay', services: options.services ?? ['SecretsManager'] });
  const adminSecret = aws.secretsManager.seedSecret({
    name: `bulkhead/test/database/admin-${randomToken(6)}`,
    value: JSON.stringify({ username: admin.user, password: admin.password, host: '127.0.0.1', port: 3306 }),
  });
  vi.stubEnv('DB_HOST', '127.0.0.1');
  vi.stubEnv('DB_PORT', '3306');
  vi.stubEnv('DB_ADMIN_SECRET_ARN', adminSecret.ARN);
  vi.stubEnv('DB_USER_HOST', '%');
  vi.stubEnv('DB_TLS', 'disabled-for-local-test');
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', options.logLevel ?? 'DEBUG');
  if (options.logEvent) vi.stubEnv('POWERTOOLS_LOGGER_LOG_EVENT', 'true');
  vi.resetModules();
  const { handler } = await import('../../../runtime/db-user/index');
  const output: string[] = [];
  captureLogs(output);
  let secrets = 0;
  return {
    root,
    admin,
    aws,
    handler,
    adminSecretArn: adminSecret.ARN,
    logs: () => output.join(''),
    clearLogs: () => {
      output.length = 0;
    },
    siteSecret(value) {
      secrets += 1;
      return aws.secretsManager.seedSecret({
        name: `bulkhead/test/sites/injection-${randomToken(6)}-${secrets}/database`,
        value: typeof value === 'string' ? value : JSON.stringify(value),
      }).ARN;
    },
    invoke: (event) => handler(event as never, lambdaContext()),
    async close() {
      vi.restoreAllMocks();
      vi.unstubAllEnvs();
      aws.restore();
      await admin.drop();
      await root.end();
    },
  };
}

/** Runs `work` and returns what it threw (or undefined), without failing the test. */
export async function errorOf(work: () => Promise<unknown>): Promise<Error | undefined> {
  try {
    await work();
    return undefined;
  } catch (error) {
    return error as Error;
  }
}

const OTHER_TESTS = /site_t|wp_t|bulkhead_admin_/;

/**
 * Every account (with its password hash and connection cap), schema, schema and global
 * privilege, and the victim data, as sorted lines. Objects of other test files are left out;
 * `keep` names our own admin, which is kept in.
 */
export async function serverSnapshot(
  root: Connection,
  keep: string,
  checksums: readonly string[] = [],
): Promise<string[]> {
  const lines: string[] = [];
  const rows = async (sql: string) => (await root.query<RowDataPacket[]>(sql))[0];
  for (const r of await rows('SELECT User, Host, authentication_string, max_user_connections FROM mysql.user')) {
    lines.push(
      `user ${String(r.User)}@${String(r.Host)} ${String(r.authentication_string)} ${String(r.max_user_connections)}`,
    );
  }
  for (const r of await rows('SELECT SCHEMA_NAME FROM information_schema.SCHEMATA'))
    lines.push(`schema ${String(r.SCHEMA_NAME)}`);
  for (const r of await rows(
    'SELECT GRANTEE, TABLE_SCHEMA, PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.SCHEMA_PRIVILEGES',
  )) {
    lines.push(
      `schema-grant ${String(r.GRANTEE)} ${String(r.TABLE_SCHEMA)} ${String(r.PRIVILEGE_TYPE)} ${String(r.IS_GRANTABLE)}`,
    );
  }
  for (const r of await rows('SELECT GRANTEE, PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.USER_PRIVILEGES')) {
    lines.push(`global-grant ${String(r.GRANTEE)} ${String(r.PRIVILEGE_TYPE)} ${String(r.IS_GRANTABLE)}`);
  }
  for (const table of checksums) {
    const [row] = await rows(`CHECKSUM TABLE ${table}`);
    lines.push(`checksum ${table} ${String(row?.Checksum)}`);
  }
  return lines.filter((l) => l.includes(keep) || !OTHER_TESTS.test(l)).sort();
}

/** Lines in `after` but not in `before`, and lines gone. */
export function snapshotDiff(before: readonly string[], after: readonly string[]) {
  const b = new Set(before);
  const a = new Set(after);
  return { added: after.filter((l) => !b.has(l)), removed: before.filter((l) => !a.has(l)) };
}
