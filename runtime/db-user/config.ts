/**
 * Environment of the database-user Lambda, read once at cold start.
 */
import { ConfigurationError, InvalidSiteIdentifierError } from './errors';
import { validateUserHost } from './sql';

/** The only value that turns TLS off. Anything else unknown is a configuration error. */
export const TLS_DISABLED_FOR_LOCAL_TEST = 'disabled-for-local-test';
export const TLS_REQUIRED = 'required';

export interface DbUserConfig {
  readonly dbHost: string;
  readonly dbPort: number;
  readonly adminSecretArn: string;
  /** Host part of every site account, `%` by default. */
  readonly userHost: string;
  /** TLS for the admin connection and `REQUIRE SSL` for site users. */
  readonly tls: boolean;
}

function required(env: Readonly<Record<string, string | undefined>>, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new ConfigurationError(`${name} must be set`);
  }
  return value.trim();
}

export function readConfig(env: Readonly<Record<string, string | undefined>>): DbUserConfig {
  const dbHost = required(env, 'DB_HOST');
  if (!/^[A-Za-z0-9.:-]{1,253}$/.test(dbHost)) {
    throw new ConfigurationError('DB_HOST must be a host name or IP address');
  }

  const portText = env.DB_PORT?.trim() || '3306';
  const dbPort = Number(portText);
  if (!/^[0-9]{1,5}$/.test(portText) || dbPort < 1 || dbPort > 65_535) {
    throw new ConfigurationError(`DB_PORT ${JSON.stringify(portText)} is not a TCP port`);
  }

  const adminSecretArn = required(env, 'DB_ADMIN_SECRET_ARN');

  let userHost: string;
  try {
    userHost = validateUserHost(env.DB_USER_HOST?.trim() || '%');
  } catch (error) {
    if (error instanceof InvalidSiteIdentifierError) {
      throw new ConfigurationError(`DB_USER_HOST: ${error.message}`, { cause: error });
    }
    throw error;
  }

  // Exact match on purpose: a typo or stray space must not silently weaken TLS.
  const tlsText = env.DB_TLS ?? TLS_REQUIRED;
  if (tlsText !== TLS_REQUIRED && tlsText !== TLS_DISABLED_FOR_LOCAL_TEST) {
    throw new ConfigurationError(
      `DB_TLS ${JSON.stringify(tlsText)} is not supported; use "${TLS_REQUIRED}" (default) or "${TLS_DISABLED_FOR_LOCAL_TEST}"`,
    );
  }

  return { dbHost, dbPort, adminSecretArn, userHost, tls: tlsText === TLS_REQUIRED };
}
