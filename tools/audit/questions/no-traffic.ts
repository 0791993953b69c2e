import type { Inventory } from '../inventory';
import type { Finding, PathKind, SelfAssessmentAnswer } from '../types';
import { PATH_KINDS } from '../types';
import type { AuditQuestion } from './question';
import { answer, noSites } from './support';

const QUESTION: AuditQuestion = {
  number: 5,
  text: 'Is traffic between client sites blocked?',
  answer: ({ inventory, findings, pairs }) => noTraffic(inventory, findings, pairs),
};

function noTraffic(inventory: Inventory, findings: readonly Finding[], pairs: number): SelfAssessmentAnswer {
  if (inventory.sites.length === 0) return noSites(QUESTION);
  const byKind = (kind: PathKind) => findings.filter((f) => f.kind === kind).length;
  const evidence = [
    `${pairs} ordered pairs of ${inventory.sites.length} sites checked: ${PATH_KINDS.map((k) => `${byKind(k)} ${k}`).join(', ')} paths.`,
    ...findings.slice(0, 5).map((f) => `✗ ${f.kind}: ${f.summary}`),
    ...(findings.length > 5 ? [`… and ${findings.length - 5} more paths (see the findings)`] : []),
  ];
  return answer(QUESTION, findings.length === 0, evidence);
}

export { QUESTION as noTrafficQuestion };
