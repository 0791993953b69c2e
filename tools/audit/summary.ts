/** The audit in a few lines for a terminal. */
import { printable } from '../../contracts/display';
import { describeProvenance } from '../../infra/shared/provenance';
import type { AuditResult } from './types';
import { answeredWell, PATH_KINDS } from './types';

/** How many paths the summary names before it points to the HTML report. */
const LISTED_PATHS = 20;

export function formatAuditSummary(result: AuditResult): string {
  const lines: string[] = [];
  const n = result.sites.length;
  const counts = PATH_KINDS.map((k) => [k, result.findings.filter((f) => f.kind === k).length] as const).filter(
    ([, c]) => c > 0,
  );
  lines.push(
    `Isolation audit: ${n} site${n === 1 ? '' : 's'}, ${result.pairsChecked} ordered pairs checked, ` +
      (result.passed
        ? 'no path between sites: PASSED'
        : `${result.findings.length} path${result.findings.length === 1 ? '' : 's'} found (${counts.map(([k, c]) => `${c} ${k}`).join(', ')}): FAILED`),
  );
  lines.push(
    `  audited: ${result.provenance ? describeProvenance(result.provenance) : 'an assembly that does not say what it was synthesized from'}; assembly ${result.assembly}`,
  );
  for (const finding of result.findings.slice(0, LISTED_PATHS)) {
    lines.push(`  ✗ ${finding.kind} ${finding.from} → ${finding.to}: ${finding.summary}`);
    for (const rule of finding.rules) lines.push(`      ${rule.stack}/${rule.logicalId}: ${rule.rule}`);
  }
  if (result.findings.length > LISTED_PATHS) {
    lines.push(`  … and ${result.findings.length - LISTED_PATHS} more paths (see the HTML report)`);
  }
  const reviews = result.reviews ?? [];
  if (reviews.length > 0) {
    lines.push(`Needs review (${reviews.length}; not paths: the audit cannot read these):`);
    for (const review of reviews.slice(0, LISTED_PATHS)) lines.push(`  ? ${review.summary}`);
  }
  lines.push(`Self-assessment: ${result.score}/${result.questions.length}`);
  for (const q of result.questions) {
    const reason = !answeredWell(q)
      ? ` (${(q.evidence.find((e) => e.startsWith('✗')) ?? q.evidence[0] ?? '').replace(/^✗ /, '')})`
      : '';
    lines.push(
      `  ${String(q.number).padStart(2)}. ${answeredWell(q) ? q.answer.padEnd(3) : q.answer.toUpperCase().padEnd(3)} ${q.question}${reason}`,
    );
  }
  // Every line holds template strings (site ids, names, rule descriptions): one inert line each.
  return lines.map((line) => printable(line, 2_000)).join('\n');
}
