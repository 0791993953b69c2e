import { databaseUsersOf } from '../database-paths';
import type { Inventory } from '../inventory';
import type { Finding, SelfAssessmentAnswer } from '../types';
import type { AuditQuestion } from './question';
import { type SiteCheck, siteEvidence, answer, noSites } from './support';

const QUESTION: AuditQuestion = {
  number: 2,
  text: 'Does every site have its own database user and schema?',
  answer: ({ inventory, findings }) => ownDatabaseUser(inventory, findings),
};

function ownDatabaseUser(inventory: Inventory, findings: readonly Finding[]): SelfAssessmentAnswer {
  if (inventory.sites.length === 0) return noSites(QUESTION);
  const users = new Map<string, string[]>();
  const schemas = new Map<string, string[]>();
  const perSite = inventory.sites.map((site) => ({ site, list: databaseUsersOf(inventory, site) }));
  for (const { site, list: resources } of perSite) {
    for (const u of resources) {
      if (u.user) users.set(u.user, [...(users.get(u.user) ?? []), site.id]);
      if (u.schema) schemas.set(u.schema, [...(schemas.get(u.schema) ?? []), site.id]);
    }
  }
  const checks = perSite.map(({ site, list: resources }): SiteCheck => {
    const [u] = resources;
    if (resources.length !== 1 || !u) {
      return { ok: false, line: `${site.id}: ${resources.length} database-user resources (expected one)` };
    }
    const problems = [
      ...(u.siteId !== site.id ? [`SiteId is ${u.siteId ?? '(missing)'}`] : []),
      ...(!u.user
        ? ['no User']
        : (users.get(u.user) ?? []).length > 1
          ? [`user ${u.user} is shared with ${(users.get(u.user) ?? []).filter((s) => s !== site.id).join(', ')}`]
          : []),
      ...(!u.schema
        ? ['no Schema']
        : (schemas.get(u.schema) ?? []).length > 1
          ? [
              `schema ${u.schema} is shared with ${(schemas.get(u.schema) ?? []).filter((s) => s !== site.id).join(', ')}`,
            ]
          : []),
    ];
    return problems.length > 0
      ? { ok: false, line: `${site.id}: ${u.entry.logicalId} ${problems.join('; ')}` }
      : {
          ok: true,
          line: `${site.id}: ${u.entry.logicalId} (${u.entry.type}) creates user ${u.user} with schema ${u.schema}`,
        };
  });
  const paths = findings.filter((f) => f.kind === 'database').length;
  const evidence = [
    ...siteEvidence(checks),
    paths === 0
      ? "No database-user resource names another site's user, schema or secret (the provider grants on the escaped schema name only)."
      : `✗ ${paths} database path${paths === 1 ? '' : 's'} in the pair matrix.`,
  ];
  return answer(QUESTION, checks.every((c) => c.ok) && paths === 0, evidence);
}

export { QUESTION as ownDatabaseUserQuestion };
