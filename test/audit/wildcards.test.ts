import { describe, expect, it } from 'vitest';
import { parseIpv4Cidr, rangesOverlap } from '../../tools/audit/cidr';
import {
  directoriesOverlap,
  mysqlPatternMatches,
  patternMatches,
  patternsIntersect,
  SEGMENT,
} from '../../tools/audit/wildcards';

describe('IAM patterns', () => {
  it('match ARNs with * and ? as IAM does', () => {
    expect(
      patternMatches('arn:aws:secretsmanager:*:*:secret:*', 'arn:aws:secretsmanager:eu-west-1:1:secret:a/b-x'),
    ).toBe(true);
    expect(patternMatches('arn:aws:s3:::bucket/?', 'arn:aws:s3:::bucket/ab')).toBe(false);
    expect(patternMatches('*', '')).toBe(true);
  });

  it('intersect when some ARN matches both, however the unknown parts turn out', () => {
    const secret = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:bulkhead/example/sites/bakery/database-??????';
    expect(patternsIntersect('arn:aws:secretsmanager:eu-west-1:111122223333:secret:*', secret)).toBe(true);
    expect(patternsIntersect('arn:aws:secretsmanager:*:*:secret:bulkhead/example/sites/bak*', secret)).toBe(true);
    expect(patternsIntersect('arn:aws:secretsmanager:*:*:secret:bulkhead/example/sites/acme-shop/*', secret)).toBe(
      false,
    );
    expect(patternsIntersect(secret.replace('bakery', 'acme-shop'), secret)).toBe(false);
  });

  it('keep a resource-side segment wildcard inside one ARN field', () => {
    const streams = `arn:aws:logs:eu-west-1:1:log-group:/bulkhead/example/sites/clinic:log-stream:${SEGMENT}`;
    expect(patternsIntersect('arn:aws:logs:*:*:log-group:/bulkhead/example/sites/clinic:*', streams)).toBe(true);
    expect(patternsIntersect('arn:aws:logs:*:*:log-group:/bulkhead/example/sites/b*', streams)).toBe(false);
  });
});

describe('MySQL GRANT patterns', () => {
  it('treat _ and % as wildcards unless escaped', () => {
    expect(mysqlPatternMatches('wp_acme_shop', 'wp_acmeXshop')).toBe(true);
    expect(mysqlPatternMatches('wp\\_acme\\_shop', 'wp_acmeXshop')).toBe(false);
    expect(mysqlPatternMatches('wp\\_acme\\_shop', 'wp_acme_shop')).toBe(true);
    expect(mysqlPatternMatches('wp%', 'wp_clinic')).toBe(true);
    expect(mysqlPatternMatches('wp\\_c%', 'wp_bakery')).toBe(false);
  });
});

describe('directories and CIDRs', () => {
  it('overlap when one directory is the other or inside it, by whole segments', () => {
    expect(directoriesOverlap('/sites/a', '/sites/a/uploads')).toBe(true);
    expect(directoriesOverlap('/sites/a/', '/sites//a')).toBe(true);
    expect(directoriesOverlap('/sites/a', '/sites/ab')).toBe(false);
    expect(directoriesOverlap('/', '/sites/b')).toBe(true);
  });

  it('parse IPv4 CIDRs and tell overlap', () => {
    const vpc = parseIpv4Cidr('10.40.0.0/16');
    const subnet = parseIpv4Cidr('10.40.128.0/26');
    const other = parseIpv4Cidr('10.41.0.0/16');
    expect(vpc && subnet && rangesOverlap(vpc, subnet)).toBe(true);
    expect(vpc && other && rangesOverlap(vpc, other)).toBe(false);
    expect(parseIpv4Cidr('10.0.0.0/33')).toBeUndefined();
    expect(parseIpv4Cidr('pl-123')).toBeUndefined();
  });
});
