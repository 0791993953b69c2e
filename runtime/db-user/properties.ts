/**
 * Resource properties of `Custom::BulkheadDatabaseUser` and its physical id. Pure.
 */
import { InvalidResourcePropertiesError } from './errors';
import { parseMaxConnections, type SiteNames, siteNamesFromUser, validateSiteNames } from './sql';

export const RESOURCE_TYPE = 'Custom::BulkheadDatabaseUser';
export const PHYSICAL_ID_PREFIX = 'bulkhead-db-user:';

export interface SiteUserProperties {
  readonly names: SiteNames;
  readonly secretArn: string;
  readonly maxConnections: number;
  /** Opaque; a change only makes CloudFormation send an Update that re-reads the password. */
  readonly passwordVersion: string | undefined;
}

const SECRET_ARN_PATTERN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}$/;

/** Validates every property; throws before anything touches the database. */
export function parseSiteUserProperties(properties: Readonly<Record<string, unknown>>): SiteUserProperties {
  const names = validateSiteNames({
    siteId: properties.SiteId,
    schema: properties.Schema,
    user: properties.User,
  });
  const secretArn = properties.SecretArn;
  if (typeof secretArn !== 'string' || !SECRET_ARN_PATTERN.test(secretArn)) {
    throw new InvalidResourcePropertiesError(`SecretArn of site ${names.siteId} must be a Secrets Manager secret ARN`);
  }
  const passwordVersion = properties.PasswordVersion;
  if (passwordVersion !== undefined && typeof passwordVersion !== 'string') {
    throw new InvalidResourcePropertiesError(`PasswordVersion of site ${names.siteId} must be a string`);
  }
  return {
    names,
    secretArn,
    maxConnections: parseMaxConnections(properties.MaxConnections),
    passwordVersion,
  };
}

export function physicalIdOf(names: SiteNames): string {
  return `${PHYSICAL_ID_PREFIX}${names.user}`;
}

/**
 * The site a physical id stands for, or undefined when the id was not issued by this provider
 * (for example the Provider framework's marker for a failed Create).
 */
export function siteNamesFromPhysicalId(physicalId: string): SiteNames | undefined {
  if (!physicalId.startsWith(PHYSICAL_ID_PREFIX)) return undefined;
  return siteNamesFromUser(physicalId.slice(PHYSICAL_ID_PREFIX.length));
}
