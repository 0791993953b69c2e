/**
 * `onEvent` handler of the `Custom::BulkheadDatabaseUser` provider (CDK custom_resources.Provider).
 *
 * One Lambda serves every site. For a site it manages a MySQL account `site_<id>` with exactly
 * the WordPress privileges on schema `wp_<id>` of the shared Aurora MySQL cluster:
 * - Create / Update: create or converge schema, account, password, TLS, connection cap, grants;
 * - Delete: revoke and drop the account (and kill its sessions); the schema and data stay.
 *
 * The handler returns `{ PhysicalResourceId, Data }` and throws on failure; the Provider
 * framework talks to CloudFormation. Logs carry site id, user and action, never a secret.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import middy from '@middy/core';
import type {
  CloudFormationCustomResourceCreateEvent,
  CloudFormationCustomResourceDeleteEvent,
  CloudFormationCustomResourceEvent,
  CloudFormationCustomResourceUpdateEvent,
} from 'aws-lambda';
import type { Connection } from 'mysql2/promise';
import { readConfig } from './config';
import { DatabaseUserError, InvalidResourcePropertiesError } from './errors';
import { parseSiteUserProperties, physicalIdOf, siteNamesFromPhysicalId } from './properties';
import { parseAdminSecret, parseSiteAccountSecret, readSecretString } from './secrets';
import {
  closeConnection,
  dropSiteUser,
  ensureSiteUser,
  killSessions,
  lockAccount,
  maxConnectionsOf,
  openConnection,
  setSitePassword,
  testSiteLogin,
  unlockWithPassword,
} from './site-user';
import { deriveSiteNames, type SiteNames, siteAccountsOf } from './sql';

// Cold start: an unknown DB_TLS or a missing variable fails here, before any event is handled.
const config = readConfig(process.env);
const logger = new Logger({ serviceName: 'bulkhead-db-user' });
const secretsManager = new SecretsManagerClient({});

export interface ProviderResponse {
  readonly PhysicalResourceId: string;
  readonly Data: { readonly Schema: string; readonly User: string };
}

function response(physicalResourceId: string, names: SiteNames): ProviderResponse {
  return {
    PhysicalResourceId: physicalResourceId,
    Data: { Schema: names.schema, User: names.user },
  };
}

async function readAdminCredentials() {
  return parseAdminSecret(await readSecretString(secretsManager, config.adminSecretArn, 'admin'));
}

async function withAdminConnection<T>(
  adminCredentials: { username: string; password: string },
  work: (connection: Connection) => Promise<T>,
): Promise<T> {
  const connection = await openConnection(
    { host: config.dbHost, port: config.dbPort },
    adminCredentials.username,
    adminCredentials.password,
    config.tls,
  );
  try {
    return await work(connection);
  } finally {
    await closeConnection(connection);
  }
}

async function applySite(
  event: CloudFormationCustomResourceCreateEvent | CloudFormationCustomResourceUpdateEvent,
): Promise<ProviderResponse> {
  const properties = parseSiteUserProperties(event.ResourceProperties);
  const { names } = properties;
  logger.appendKeys({ siteId: names.siteId, user: names.user });
  const physicalId = physicalIdOf(names);
  if (event.RequestType === 'Update' && event.PhysicalResourceId !== physicalId) {
    logger.info('site user changed; the previous one is dropped when CloudFormation deletes it', {
      previousPhysicalResourceId: event.PhysicalResourceId,
    });
  }

  const [siteSecretText, adminCredentials] = await Promise.all([
    readSecretString(secretsManager, properties.secretArn, `site ${names.siteId}`),
    readAdminCredentials(),
  ]);
  // The secret names the site's user, or the alternate account after a serving rotation.
  const siteCredentials = parseSiteAccountSecret(siteSecretText, names.user);

  const result = await withAdminConnection(adminCredentials, (connection) =>
    ensureSiteUser(connection, {
      names,
      user: siteCredentials.username,
      userHost: config.userHost,
      password: siteCredentials.password,
      maxConnections: properties.maxConnections,
      requireTls: config.tls,
    }),
  );
  logger.info('site database user is in the desired state', {
    userCreated: result.created,
    privilegesRepaired: result.privilegesRepaired,
  });
  return response(physicalId, names);
}

async function deleteSite(event: CloudFormationCustomResourceDeleteEvent): Promise<ProviderResponse> {
  const names = siteNamesFromPhysicalId(event.PhysicalResourceId);
  if (!names) {
    // Not an id this provider returns (e.g. a Create that failed): there is nothing of ours to drop.
    logger.warn('physical resource id was not issued by this provider; nothing to delete', {
      physicalResourceId: event.PhysicalResourceId,
    });
    return {
      PhysicalResourceId: event.PhysicalResourceId,
      Data: { Schema: '', User: '' },
    };
  }
  logger.appendKeys({ siteId: names.siteId, user: names.user });
  if (event.ResourceProperties.User !== undefined && event.ResourceProperties.User !== names.user) {
    logger.warn('User property differs from the physical resource id; dropping the latter');
  }

  // Both accounts of the site (its user and the alternate of serving rotations).
  const dropped = await withAdminConnection(await readAdminCredentials(), async (connection) => {
    const results = [];
    for (const account of siteAccountsOf(names, config.userHost)) results.push(await dropSiteUser(connection, account));
    return results;
  });
  const result = {
    existed: dropped.some((r) => r.existed),
    sessionsKilled: dropped.reduce((n, r) => n + r.sessionsKilled, 0),
    sessionsNotKilled: dropped.reduce((n, r) => n + r.sessionsNotKilled, 0),
  };
  const outcome = { userExisted: result.existed, sessionsKilled: result.sessionsKilled };
  if (result.sessionsNotKilled > 0) {
    logger.warn('site user dropped but some of its sessions could not be killed', {
      ...outcome,
      sessionsNotKilled: result.sessionsNotKilled,
    });
  } else {
    logger.info('site database user dropped; schema and data kept', outcome);
  }
  return response(event.PhysicalResourceId, names);
}

export async function onEvent(event: CloudFormationCustomResourceEvent): Promise<ProviderResponse> {
  logger.appendKeys({ action: event.RequestType });
  try {
    switch (event.RequestType) {
      case 'Create':
      case 'Update':
        return await applySite(event);
      case 'Delete':
        return await deleteSite(event);
      default:
        throw new InvalidResourcePropertiesError(
          `unknown RequestType ${JSON.stringify((event as { RequestType: unknown }).RequestType)}`,
        );
    }
  } catch (error) {
    logger.error('database user request failed', error as Error);
    throw error;
  }
}

/**
 * Direct invocations by the response plane's credential rotation (not CloudFormation). The
 * secret's versions say which kind of rotation it is (runtime/recovery/rotate.ts):
 * - `apply-pending-password`, AWSPENDING names the *other* account than AWSCURRENT (a
 *   serving site, Secrets Manager's alternating users): that account gets the pending
 *   password (created with the same grants and cap if it does not exist yet) and is
 *   unlocked; the current account is not touched, so running tasks keep connecting.
 * - `apply-pending-password`, AWSPENDING names the *same* account (an incident): its
 *   password changes in place, the other account is locked behind a password nobody keeps,
 *   and the open sessions of both are killed: every earlier password stops at once.
 *   Either way the new login is proven; if it fails, the change is undone and the call fails.
 * - `revert-password` (promotion failed): the database goes back to what AWSCURRENT says:
 *   its account gets the AWSCURRENT password; a pending *other* account is locked again.
 * Secrets Manager keeps the versions; this function only ever sets the database side.
 */
export interface PasswordRequest {
  readonly action: 'apply-pending-password' | 'revert-password';
  readonly siteId: string;
  readonly secretArn: string;
}

export interface PasswordResponse {
  readonly action: PasswordRequest['action'];
  readonly siteId: string;
  readonly user: string;
  readonly loginVerified: boolean;
  /** `serving`: the previous account still works; `incident`: every earlier password stopped. */
  readonly mode: 'serving' | 'incident';
  /** Open sessions of the site's accounts that were killed (incident only). */
  readonly sessionsKilled: number;
  readonly sessionsNotKilled: number;
}

export function isPasswordRequest(event: unknown): event is PasswordRequest {
  const action = (event as { action?: unknown })?.action;
  return action === 'apply-pending-password' || action === 'revert-password';
}

type Account = { readonly user: string; readonly host: string };

async function proveLogin(user: string, password: string, stage: string): Promise<void> {
  if (!(await testSiteLogin(config.dbHost, config.dbPort, user, password, config.tls))) {
    throw new DatabaseUserError(`the ${stage} password of ${user} does not log in`);
  }
}

/** Serving: the other account gets the pending password; the current one is left as it is. */
async function applyToOtherAccount(
  connection: Connection,
  names: SiteNames,
  pending: Account,
  current: Account,
  password: string,
) {
  const maxConnections = await maxConnectionsOf(connection, current);
  if (maxConnections === undefined) throw new DatabaseUserError(`the current account ${current.user} does not exist`);
  await ensureSiteUser(connection, {
    names,
    user: pending.user,
    userHost: pending.host,
    password,
    maxConnections: Math.max(1, maxConnections),
    requireTls: config.tls,
  });
  await unlockWithPassword(connection, pending, password);
  try {
    await proveLogin(pending.user, password, 'AWSPENDING');
  } catch (error) {
    await lockAccount(connection, pending);
    throw new DatabaseUserError(
      `${(error as Error).message}; ${pending.user} was locked again, ${current.user} is unchanged`,
    );
  }
}

/** Incident: the current account's password in place, the other account locked, every session of both killed. */
async function replaceEverywhere(
  connection: Connection,
  accounts: readonly Account[],
  current: Account,
  password: string,
  fallback: string,
) {
  await setSitePassword(connection, current, password);
  try {
    await proveLogin(current.user, password, 'AWSPENDING');
  } catch (error) {
    await setSitePassword(connection, current, fallback);
    throw new DatabaseUserError(`${(error as Error).message}; the previous password was put back`);
  }
  const other = accounts.find((a) => a.user !== current.user) as Account;
  await lockAccount(connection, other);
  let killed = 0;
  let notKilled = 0;
  for (const account of accounts) {
    const sessions = await killSessions(connection, account);
    killed += sessions.killed;
    notKilled += sessions.notKilled;
  }
  return { killed, notKilled };
}

export async function onPasswordRequest(request: PasswordRequest): Promise<PasswordResponse> {
  const names = deriveSiteNames(request.siteId);
  if (typeof request.secretArn !== 'string' || !/^arn:aws[a-z-]*:secretsmanager:/.test(request.secretArn)) {
    throw new InvalidResourcePropertiesError('secretArn must be a Secrets Manager secret ARN');
  }
  logger.appendKeys({ siteId: names.siteId, user: names.user, action: request.action });
  const accounts = siteAccountsOf(names, config.userHost);
  const [pendingText, currentText, adminCredentials] = await Promise.all([
    readSecretString(secretsManager, request.secretArn, `site ${names.siteId} (AWSPENDING)`, 'AWSPENDING'),
    readSecretString(secretsManager, request.secretArn, `site ${names.siteId} (AWSCURRENT)`, 'AWSCURRENT'),
    readAdminCredentials(),
  ]);
  const pending = parseSiteAccountSecret(pendingText, names.user);
  const current = parseSiteAccountSecret(currentText, names.user);
  const accountOf = (user: string) => accounts.find((a) => a.user === user) as Account;
  const mode = pending.username === current.username ? 'incident' : 'serving';
  const sessions = await withAdminConnection(adminCredentials, async (connection) => {
    if (request.action === 'revert-password') {
      if (mode === 'serving') await lockAccount(connection, accountOf(pending.username));
      else await setSitePassword(connection, accountOf(current.username), current.password);
      await proveLogin(current.username, current.password, 'AWSCURRENT');
      return { killed: 0, notKilled: 0 };
    }
    if (mode === 'serving') {
      await applyToOtherAccount(
        connection,
        names,
        accountOf(pending.username),
        accountOf(current.username),
        pending.password,
      );
      return { killed: 0, notKilled: 0 };
    }
    return replaceEverywhere(connection, accounts, accountOf(current.username), pending.password, current.password);
  });
  const user = request.action === 'revert-password' ? current.username : pending.username;
  logger.info('site database password set and login verified', {
    mode,
    account: user,
    sessionsKilled: sessions.killed,
  });
  return {
    action: request.action,
    siteId: names.siteId,
    user,
    loginVerified: true,
    mode,
    sessionsKilled: sessions.killed,
    sessionsNotKilled: sessions.notKilled,
  };
}

async function dispatch(
  event: CloudFormationCustomResourceEvent | PasswordRequest,
): Promise<ProviderResponse | PasswordResponse> {
  if (isPasswordRequest(event)) {
    try {
      return await onPasswordRequest(event);
    } catch (error) {
      logger.error('password request failed', error as Error);
      throw error;
    }
  }
  return onEvent(event as CloudFormationCustomResourceEvent);
}

export const handler = middy(dispatch).use(injectLambdaContext(logger, { resetKeys: true }));
