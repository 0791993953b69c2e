/**
 * The isolation self-assessment: each question (tools/audit/questions/, one file each) answered
 * from what the templates hold (never assumed): the answer is the sealed fleet's only when the
 * evidence for it is there for every site, and the evidence says what was found, or what is missing.
 */
import { AUDIT_QUESTIONS } from './questions';
import type { Inventory } from './inventory';
import type { Finding, SelfAssessmentAnswer } from './types';

export { OPERATOR_ROLE_COMPONENT } from './questions';

/** The questions' texts, in order. */
export const QUESTIONS: readonly string[] = AUDIT_QUESTIONS.map((q) => q.text);

/** Answers the questions; `findings` and `pairs` are the pair matrix's. */
export function answerSelfAssessment(
  inventory: Inventory,
  findings: readonly Finding[],
  pairs: number,
): SelfAssessmentAnswer[] {
  return AUDIT_QUESTIONS.map((q) => q.answer({ inventory, findings, pairs }));
}
