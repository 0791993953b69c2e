import { describe, expect, it } from 'vitest';
import {
  InvalidResourcePropertiesError,
  InvalidSiteIdentifierError,
  redact,
  SecretFormatError,
} from '../../runtime/db-user/errors';
import { parseSiteUserProperties, physicalIdOf, siteNamesFromPhysicalId } from '../../runtime/db-user/properties';
import { parseAdminSecret, parseSiteSecret } from '../../runtime/db-user/secrets';
import {
  alterUserStatement,
  createSchemaStatement,
  createUserStatement,
  deriveSiteNames,
  dropUserStatement,
  grantStatement,
  parseMaxConnections,
  privilegesMatch,
  SITE_ID_PATTERN,
  SITE_PRIVILEGES,
  schemaGrantPattern,
  siteNamesFromUser,
  sqlString,
  validatePassword,
  validateSiteNames,
} from '../../runtime/db-user/sql';
import { SITE_ID_PATTERN as FLEET_SITE_ID_PATTERN } from '../../infra/config/fleet-schema';

const account = { user: 'site_acme_shop', host: '%' };
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:bulkhead/site/acme-shop-AbCdEf';

describe('site names', () => {
  it('uses the same site id rule as the fleet file', () => {
    // Assess
    expect(SITE_ID_PATTERN.source).toBe(FLEET_SITE_ID_PATTERN.source);
    expect(SITE_ID_PATTERN.flags).toBe(FLEET_SITE_ID_PATTERN.flags);
  });

  it('derives wp_<id> and site_<id> with - replaced by _', () => {
    // Act
    const names = deriveSiteNames('acme-shop');

    // Assess
    expect(names).toEqual({ siteId: 'acme-shop', schema: 'wp_acme_shop', user: 'site_acme_shop' });
  });

  it.each([
    ["x'; DROP DATABASE mysql; --"],
    ['acme`shop'],
    ['acme;shop'],
    ['acme%'],
    ['acme_shop'],
    ['\u0430cme'], // Cyrillic а
    ['acm\u0435'], // Cyrillic е
    ['\uff41cme'], // fullwidth a
    ['acme\u200b'], // zero-width space
    ['acme\n'],
    ['ACME'],
    ['Acme'],
    ['a'],
    ['a'.repeat(25)],
    ['-acme'],
    ['acme-'],
    ['ac--me'],
    ['1acme'],
    ['acme shop'],
    [''],
    [42],
    [undefined],
    [null],
  ])('refuses the site id %j', (siteId) => {
    // Act
    const attempt = () => deriveSiteNames(siteId);

    // Assess
    expect(attempt).toThrow(InvalidSiteIdentifierError);
    expect(attempt).toThrow(/is not a valid site id/);
  });

  it('accepts the longest allowed site id (24 characters)', () => {
    // Act
    const names = deriveSiteNames(`a${'b'.repeat(23)}`);

    // Assess
    expect(names.user).toHaveLength(29);
  });

  it.each([
    [{ siteId: 'acme-shop', schema: 'wp_other', user: 'site_acme_shop' }, /Schema "wp_other"/],
    [{ siteId: 'acme-shop', schema: 'WP_ACME_SHOP', user: 'site_acme_shop' }, /Schema/],
    [{ siteId: 'acme-shop', schema: 'wp_acme-shop', user: 'site_acme_shop' }, /Schema/],
    [{ siteId: 'acme-shop', schema: 'wp_acme_shop', user: 'root' }, /User "root"/],
    [{ siteId: 'acme-shop', schema: 'wp_acme_shop', user: "site_acme_shop'@'%" }, /User/],
    [{ siteId: 'acme-shop', schema: 'wp_acme_shop', user: undefined }, /User/],
  ])('refuses schema or user that do not match the site id: %j', (input, message) => {
    // Act
    const attempt = () => validateSiteNames(input);

    // Assess
    expect(attempt).toThrow(InvalidSiteIdentifierError);
    expect(attempt).toThrow(message);
  });

  it('maps a user name back to its site and refuses anything else', () => {
    // Assess
    expect(siteNamesFromUser('site_acme_shop')).toEqual(deriveSiteNames('acme-shop'));
    for (const user of ['root', 'rdsadmin', 'site_', 'site_a__b', 'site_acme_', 'site_ACME', "site_a'"]) {
      expect(() => siteNamesFromUser(user)).toThrow(InvalidSiteIdentifierError);
    }
  });
});

describe('SQL literals and statements', () => {
  it('doubles quotes and refuses backslashes, control and non-ASCII characters', () => {
    // Assess
    expect(sqlString(`it's "x"`)).toBe(`'it''s "x"'`);
    for (const value of ['a\\', 'a\n', 'a\u0000', '\u00e9']) {
      expect(() => sqlString(value)).toThrow(InvalidSiteIdentifierError);
    }
  });

  it('escapes _ in the GRANT schema pattern so it names exactly one schema', () => {
    // Assess
    expect(schemaGrantPattern('wp_acme_shop')).toBe('wp\\_acme\\_shop');
  });

  it('builds the schema statement with utf8mb4_unicode_ci', () => {
    // Act
    const statement = createSchemaStatement(deriveSiteNames('acme-shop'));

    // Assess
    expect(statement.sql).toBe(
      'CREATE DATABASE IF NOT EXISTS `wp_acme_shop` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci',
    );
  });

  it('grants exactly the WordPress privileges on the site schema, nothing global, no GRANT OPTION', () => {
    // Act
    const statement = grantStatement(account, 'wp_acme_shop');

    // Assess
    expect(statement.sql).toBe(
      "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, CREATE TEMPORARY TABLES, LOCK TABLES ON `wp\\_acme\\_shop`.* TO 'site_acme_shop'@'%'",
    );
    expect(statement.sql).not.toMatch(/\*\.\*|GRANT OPTION|ALL/);
  });

  it('creates users with REQUIRE SSL and the connection cap, and marks the password as secret', () => {
    // Act
    const statement = createUserStatement(account, "pa'ss word1", {
      requireTls: true,
      maxConnections: 40,
    });

    // Assess
    expect(statement.sql).toBe(
      "CREATE USER 'site_acme_shop'@'%' IDENTIFIED BY 'pa''ss word1' REQUIRE SSL WITH MAX_USER_CONNECTIONS 40",
    );
    expect(statement.secrets).toEqual(["pa'ss word1"]);
    expect(statement.label).not.toContain('pa');
  });

  it('uses REQUIRE NONE only in local-test mode', () => {
    // Act
    const statement = alterUserStatement(account, 'password1', {
      requireTls: false,
      maxConnections: 3,
    });

    // Assess
    expect(statement.sql).toBe(
      "ALTER USER 'site_acme_shop'@'%' IDENTIFIED BY 'password1' REQUIRE NONE WITH MAX_USER_CONNECTIONS 3",
    );
  });

  it('drops with IF EXISTS and never drops a schema', () => {
    // Act
    const statement = dropUserStatement(account);

    // Assess
    expect(statement.sql).toBe("DROP USER IF EXISTS 'site_acme_shop'@'%'");
  });
});

describe('privilegesMatch', () => {
  const exact = {
    global: [{ privilege: 'USAGE', grantable: 'NO' }],
    schema: SITE_PRIVILEGES.map((privilege) => ({
      target: 'wp\\_acme\\_shop',
      privilege,
      grantable: 'NO',
    })),
    other: 0,
  };

  it('accepts exactly the site grant', () => {
    // Assess
    expect(privilegesMatch(exact, 'wp_acme_shop')).toBe(true);
  });

  it.each([
    ['a global privilege', { ...exact, global: [{ privilege: 'PROCESS', grantable: 'NO' }] }],
    ['a grantable privilege', { ...exact, schema: exact.schema.map((r) => ({ ...r, grantable: 'YES' })) }],
    [
      'an unescaped (wildcard) grant',
      { ...exact, schema: exact.schema.map((r) => ({ ...r, target: 'wp_acme_shop' })) },
    ],
    [
      'another schema',
      {
        ...exact,
        schema: [...exact.schema, { target: 'mysql', privilege: 'SELECT', grantable: 'NO' }],
      },
    ],
    ['a missing privilege', { ...exact, schema: exact.schema.slice(1) }],
    [
      'an extra schema privilege',
      {
        ...exact,
        schema: [...exact.schema, { target: 'wp\\_acme\\_shop', privilege: 'TRIGGER', grantable: 'NO' }],
      },
    ],
    ['a table grant', { ...exact, other: 1 }],
  ])('detects %s', (_label, observed) => {
    // Assess
    expect(privilegesMatch(observed, 'wp_acme_shop')).toBe(false);
  });
});

describe('resource properties', () => {
  const valid = {
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:provider',
    SiteId: 'acme-shop',
    Schema: 'wp_acme_shop',
    User: 'site_acme_shop',
    SecretArn: SECRET_ARN,
    MaxConnections: '40',
    PasswordVersion: '3',
  };

  it('parses valid properties (all strings, as CloudFormation sends them)', () => {
    // Act
    const properties = parseSiteUserProperties(valid);

    // Assess
    expect(properties).toEqual({
      names: deriveSiteNames('acme-shop'),
      secretArn: SECRET_ARN,
      maxConnections: 40,
      passwordVersion: '3',
    });
  });

  it.each(['0', '-1', '4.5', '40 ', '1e3', '10001', 'forty', ''])('refuses MaxConnections %j', (value) => {
    // Assess
    expect(() => parseMaxConnections(value)).toThrow(InvalidResourcePropertiesError);
  });

  it('refuses a SecretArn that is not a Secrets Manager ARN', () => {
    // Act
    const attempt = () => parseSiteUserProperties({ ...valid, SecretArn: 'my-secret' });

    // Assess
    expect(attempt).toThrow(InvalidResourcePropertiesError);
  });

  it('round-trips the physical id and ignores ids it did not issue', () => {
    // Act
    const id = physicalIdOf(deriveSiteNames('acme-shop'));

    // Assess
    expect(id).toBe('bulkhead-db-user:site_acme_shop');
    expect(siteNamesFromPhysicalId(id)).toEqual(deriveSiteNames('acme-shop'));
    expect(siteNamesFromPhysicalId('AWSCDK::CustomResourceProviderFramework::CREATE_FAILED')).toBe(undefined);
    expect(() => siteNamesFromPhysicalId('bulkhead-db-user:root')).toThrow(InvalidSiteIdentifierError);
  });
});

describe('secrets', () => {
  it('never repeats a password in validation errors', () => {
    // Prepare
    const password = 'short\\';

    // Act
    const error = (() => {
      try {
        validatePassword(password, 'site secret');
      } catch (e) {
        return e as Error;
      }
    })();

    // Assess
    expect(error).toBeInstanceOf(SecretFormatError);
    expect(error?.message).not.toContain(password);
  });

  it('refuses a site secret that is not JSON without quoting it', () => {
    // Prepare
    const text = 'hunter2-not-json';

    // Act
    const error = (() => {
      try {
        parseSiteSecret(text, 'site_acme_shop');
      } catch (e) {
        return e as Error;
      }
    })();

    // Assess
    expect(error).toBeInstanceOf(SecretFormatError);
    expect(error?.message).not.toContain('hunter2');
    expect(error?.cause).toBeUndefined();
  });

  it('reads the admin secret as RDS writes it', () => {
    // Act
    const credentials = parseAdminSecret(
      JSON.stringify({ engine: 'mysql', username: 'admin', password: 'p', host: 'h', port: 3306 }),
    );

    // Assess
    expect(credentials).toEqual({ username: 'admin', password: 'p' });
  });

  it('redacts raw and SQL-quoted forms of a secret', () => {
    // Act
    const text = redact("near 'it''s-secret' and it's-secret and it\\'s-secret", ["it's-secret"]);

    // Assess
    expect(text).toBe("near '[REDACTED]' and [REDACTED] and [REDACTED]");
  });
});
