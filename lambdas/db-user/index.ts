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
import { parseAdminSecret, parseSiteSecret, readSecretString } from './secrets';
import {
  closeConnection,
  dropSiteUser,
  ensureSiteUser,
  openConnection,
  setSitePassword,
  testSiteLogin,
} from './site-user';
import { deriveSiteNames, type SiteNames } from './sql';

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
  const siteCredentials = parseSiteSecret(siteSecretText, names.user);

  const result = await withAdminConnection(adminCredentials, (connection) =>
    ensureSiteUser(connection, {
      names,
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

  const result = await withAdminConnection(await readAdminCredentials(), (connection) =>
    dropSiteUser(connection, { user: names.user, host: config.userHost }),
  );
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
 * Direct invocations by the response plane's credential rotation (not CloudFormation):
 * - `apply-pending-password`: ALTER USER to the secret's AWSPENDING password, then prove the
 *   new login works; if it does not, put the AWSCURRENT password back and fail.
 * - `revert-password`: ALTER USER back to the AWSCURRENT password (when promotion failed).
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
}

export function isPasswordRequest(event: unknown): event is PasswordRequest {
  const action = (event as { action?: unknown })?.action;
  return action === 'apply-pending-password' || action === 'revert-password';
}

export async function onPasswordRequest(request: PasswordRequest): Promise<PasswordResponse> {
  const names = deriveSiteNames(request.siteId);
  if (typeof request.secretArn !== 'string' || !/^arn:aws[a-z-]*:secretsmanager:/.test(request.secretArn)) {
    throw new InvalidResourcePropertiesError('secretArn must be a Secrets Manager secret ARN');
  }
  logger.appendKeys({ siteId: names.siteId, user: names.user, action: request.action });
  const account = { user: names.user, host: config.userHost };
  const stage = request.action === 'apply-pending-password' ? 'AWSPENDING' : 'AWSCURRENT';
  const [target, current, adminCredentials] = await Promise.all([
    readSecretString(secretsManager, request.secretArn, `site ${names.siteId} (${stage})`, stage),
    request.action === 'apply-pending-password'
      ? readSecretString(secretsManager, request.secretArn, `site ${names.siteId} (AWSCURRENT)`, 'AWSCURRENT')
      : Promise.resolve(undefined),
    readAdminCredentials(),
  ]);
  const password = parseSiteSecret(target, names.user).password;
  const fallback = current ? parseSiteSecret(current, names.user).password : undefined;
  await withAdminConnection(adminCredentials, async (connection) => {
    await setSitePassword(connection, account, password);
    const works = await testSiteLogin(config.dbHost, config.dbPort, names.user, password, config.tls);
    if (!works) {
      if (fallback) await setSitePassword(connection, account, fallback);
      throw new DatabaseUserError(
        `the ${stage} password of ${names.user} does not log in; the previous password was put back`,
      );
    }
  });
  logger.info('site database password set and login verified', { stage });
  return { action: request.action, siteId: names.siteId, user: names.user, loginVerified: true };
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
