/** The isolation audit: every ordered pair of sites, four kinds of path, the self-assessment's questions. */
import type { CloudAssembly } from './cloud-assembly';
import { findDatabasePaths } from './database-paths';
import { AccessEvaluator, findIamPaths } from './iam-paths';
import { buildInventory } from './inventory';
import { findNetworkPaths } from './network-paths';
import { answerSelfAssessment } from './self-assessment';
import { findSecretRoutes } from './secret-routes';
import { findStoragePaths } from './storage-paths';
import { dedupe, findTaskIdentityPaths } from './task-identity-paths';
import { findTrafficPaths } from './traffic-paths';
import type { AuditResult, Finding, PairVerdict } from './types';
import { answeredWell, PATH_KINDS } from './types';

export interface AuditOptions {
  /** Clock for `generatedAt` (tests pin it). */
  readonly now?: () => Date;
}

/** Audits a loaded cloud assembly. Pure: reads nothing from disk. */
export function auditAssembly(assembly: CloudAssembly, options: AuditOptions = {}): AuditResult {
  const started = performance.now();
  const inventory = buildInventory(assembly);
  const network = findNetworkPaths(inventory);
  const evaluator = new AccessEvaluator(inventory);
  const iam = findIamPaths(inventory, evaluator);
  const database = findDatabasePaths(inventory);
  const storage = findStoragePaths(inventory);
  const order = new Map(PATH_KINDS.map((k, i) => [k, i]));
  const findings: Finding[] = dedupe([
    ...network.findings,
    ...findTrafficPaths(inventory),
    ...iam.findings,
    ...findTaskIdentityPaths(inventory, evaluator),
    ...findSecretRoutes(inventory, evaluator),
    ...database.findings,
    ...storage.findings,
  ]);

  const byPair = new Map<string, Finding[]>();
  for (const finding of findings) {
    const key = `${finding.from}\u0000${finding.to}`;
    const list = byPair.get(key);
    if (list) list.push(finding);
    else byPair.set(key, [finding]);
  }
  const siteIndex = new Map(inventory.sites.map((s, i) => [s.id, i]));
  findings.sort(
    (x, y) =>
      (siteIndex.get(x.from) ?? 0) - (siteIndex.get(y.from) ?? 0) ||
      (siteIndex.get(x.to) ?? 0) - (siteIndex.get(y.to) ?? 0) ||
      (order.get(x.kind) ?? 0) - (order.get(y.kind) ?? 0),
  );
  const pairs: PairVerdict[] = [];
  for (const a of inventory.sites) {
    for (const b of inventory.sites) {
      if (a.id === b.id) continue;
      const found = byPair.get(`${a.id}\u0000${b.id}`) ?? [];
      pairs.push({ from: a.id, to: b.id, ok: found.length === 0, findings: found });
    }
  }
  const questions = answerSelfAssessment(inventory, findings, pairs.length);
  return {
    assembly: assembly.directory,
    ...(inventory.environment ? { environment: inventory.environment } : {}),
    generatedAt: (options.now?.() ?? new Date()).toISOString(),
    sites: inventory.sites.map(({ id, stack, environment, cell, isolation }) => ({
      id,
      stack,
      ...(environment ? { environment } : {}),
      ...(cell ? { cell } : {}),
      isolation,
    })),
    pairs,
    pairsChecked: pairs.length,
    findings,
    reviews: iam.reviews,
    passed: findings.length === 0,
    questions,
    score: questions.filter(answeredWell).length,
    statistics: {
      stacks: assembly.stacks.length,
      resources: inventory.resources.length,
      securityGroups: network.securityGroups,
      securityGroupRules: network.rules,
      policyStatements: iam.statements,
      accessPoints: storage.accessPoints,
      databaseUsers: database.users,
      durationMs: Math.round(performance.now() - started),
    },
  };
}

/** The verdict of one ordered pair. */
export function pairVerdict(result: AuditResult, from: string, to: string): PairVerdict | undefined {
  return result.pairs.find((p) => p.from === from && p.to === to);
}
