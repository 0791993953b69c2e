/**
 * Reading and parsing the admin and site secrets. Error messages name the secret and the
 * missing field, never a value.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretFormatError } from './errors';
import { otherAccountOf } from '../../contracts/database-accounts';
import { validatePassword } from './sql';

export interface DatabaseCredentials {
  readonly username: string;
  readonly password: string;
}

export async function readSecretString(
  client: SecretsManagerClient,
  secretId: string,
  what: string,
  versionStage?: string,
): Promise<string> {
  let secretString: string | undefined;
  try {
    const output = await client.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: versionStage }));
    secretString = output.SecretString;
  } catch (error) {
    // AWS SDK errors carry no secret value; keep them for diagnosis.
    throw new SecretFormatError(`cannot read the ${what} secret ${secretId}`, { cause: error });
  }
  if (typeof secretString !== 'string') {
    throw new SecretFormatError(`the ${what} secret ${secretId} has no SecretString`);
  }
  return secretString;
}

function parseJsonObject(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Deliberately no `cause`: JSON.parse messages quote part of the input.
    throw new SecretFormatError(`the ${what} secret is not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SecretFormatError(`the ${what} secret is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** The cluster admin secret, as RDS writes it (`username`, `password`, …). */
export function parseAdminSecret(text: string): DatabaseCredentials {
  const json = parseJsonObject(text, 'admin');
  if (typeof json.username !== 'string' || json.username === '') {
    throw new SecretFormatError('the admin secret has no username');
  }
  if (typeof json.password !== 'string' || json.password === '') {
    throw new SecretFormatError('the admin secret has no password');
  }
  return { username: json.username, password: json.password };
}

/**
 * A site secret. Its `username` must be the site's user: a secret that names another account
 * would hand the site a login it cannot use, or worse, someone else's.
 */
export function parseSiteSecret(text: string, expectedUser: string): DatabaseCredentials {
  const json = parseJsonObject(text, `site ${expectedUser}`);
  if (json.username !== expectedUser) {
    throw new SecretFormatError(
      `the site secret for ${expectedUser} has username ${typeof json.username === 'string' ? JSON.stringify(json.username) : 'missing'}; it must be ${expectedUser}`,
    );
  }
  const password = validatePassword(json.password, `site secret for ${expectedUser}`);
  return { username: expectedUser, password };
}

/**
 * A site secret that may name either of the site's two accounts (its user, or the alternate
 * a serving rotation moved it to). Any other username is refused, as by {@link parseSiteSecret}.
 */
export function parseSiteAccountSecret(text: string, siteUser: string): DatabaseCredentials {
  const alternate = otherAccountOf(siteUser);
  const json = parseJsonObject(text, `site ${siteUser}`);
  const username = json.username === alternate ? alternate : siteUser;
  return parseSiteSecret(text, username);
}
