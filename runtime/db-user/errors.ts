/**
 * Typed errors of the database-user provider.
 *
 * None of these messages ever contains a password or a secret value: messages end up in
 * CloudWatch Logs and, through the custom-resource Provider framework, in the CloudFormation
 * event "Reason" that anyone with stack read access can see.
 */

/** Every error the database-user provider raises. Callers and tests can catch the function's errors by this one class. */
export class DatabaseUserProviderError extends Error {
  override readonly name: string = 'DatabaseUserProviderError';
}

/** A site id, schema, user or host that is not exactly what Bulkhead derives. Nothing was run. */
export class InvalidSiteIdentifierError extends DatabaseUserProviderError {
  override readonly name = 'InvalidSiteIdentifierError';
}

/** A resource property other than an identifier (MaxConnections, SecretArn…) is unusable. */
export class InvalidResourcePropertiesError extends DatabaseUserProviderError {
  override readonly name = 'InvalidResourcePropertiesError';
}

/** The Lambda environment is incomplete or names an unknown mode. Raised at cold start. */
export class ConfigurationError extends DatabaseUserProviderError {
  override readonly name = 'ConfigurationError';
}

/** A secret could not be read, or its SecretString is not the JSON shape we need. */
export class SecretFormatError extends DatabaseUserProviderError {
  override readonly name = 'SecretFormatError';
}

/** A statement or connection failed on the database server. `cause` is a {@link MysqlError}. */
export class DatabaseUserError extends DatabaseUserProviderError {
  override readonly name = 'DatabaseUserError';
}

/**
 * A scrubbed copy of a mysql2 error. mysql2 errors carry the full statement text in `sql`
 * (which for CREATE/ALTER USER contains the password) and loggers print every enumerable
 * property, so raw driver errors must never be attached as a `cause`.
 */
export class MysqlError extends DatabaseUserProviderError {
  override readonly name = 'MysqlError';
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly errno: number | undefined,
    readonly sqlState: string | undefined,
  ) {
    super(message);
  }
}

const REDACTED = '[REDACTED]';

/** Removes every occurrence of each secret (raw and SQL-quoted forms) from a text. */
export function redact(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    for (const form of [secret, secret.replaceAll("'", "''"), secret.replaceAll("'", "\\'")]) {
      result = result.split(form).join(REDACTED);
    }
  }
  return result;
}

/** Turns anything thrown by mysql2 into a {@link MysqlError} that is safe to log. */
export function scrubDatabaseError(error: unknown, secrets: readonly string[]): MysqlError {
  if (!(error instanceof Error)) {
    return new MysqlError('non-error value thrown by the database driver', undefined, undefined, undefined);
  }
  const driver = error as Error & {
    code?: unknown;
    errno?: unknown;
    sqlState?: unknown;
    sqlMessage?: unknown;
  };
  const message = typeof driver.sqlMessage === 'string' ? driver.sqlMessage : driver.message;
  return new MysqlError(
    redact(message, secrets),
    typeof driver.code === 'string' ? driver.code : undefined,
    typeof driver.errno === 'number' ? driver.errno : undefined,
    typeof driver.sqlState === 'string' ? driver.sqlState : undefined,
  );
}
