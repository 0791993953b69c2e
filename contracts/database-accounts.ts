/**
 * A site's two database accounts (Secrets Manager's "alternating users" rotation strategy):
 * its user `site_<id>` and the alternate `site_<id>__b`. A rotation of a serving site moves
 * the site's secret to the other account, so tasks that started with the previous one keep
 * working until they are replaced. No site id yields `__` (single inner hyphens only, mapped
 * to `_`), so an alternate can never be another site's user; `site_` + 24 + `__b` is 32
 * characters, MySQL's longest user name. Dependency-free: Lambda code imports it.
 */
export const ALTERNATE_ACCOUNT_SUFFIX = '__b';

/** The other account of a site's pair: `site_x` ↔ `site_x__b`. */
export function otherAccountOf(user: string): string {
  return user.endsWith(ALTERNATE_ACCOUNT_SUFFIX)
    ? user.slice(0, -ALTERNATE_ACCOUNT_SUFFIX.length)
    : `${user}${ALTERNATE_ACCOUNT_SUFFIX}`;
}
