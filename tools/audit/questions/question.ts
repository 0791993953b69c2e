import type { Inventory } from '../inventory';
import type { Answer, Finding, SelfAssessmentAnswer } from '../types';

/** What every question is answered from: the templates' inventory and the pair matrix. */
export interface QuestionContext {
  readonly inventory: Inventory;
  /** The pair matrix's findings. */
  readonly findings: readonly Finding[];
  /** How many ordered pairs of sites the matrix examined. */
  readonly pairs: number;
}

/**
 * One question of the isolation self-assessment (docs/audit.md), in a file of its own as
 * cdk-nag keeps one rule per file: its number, its text, the answer a sealed fleet gives,
 * and how it is answered from the templates.
 */
export interface AuditQuestion {
  readonly number: number;
  readonly text: string;
  /** The answer of a sealed fleet. @default 'yes' */
  readonly wanted?: Answer;
  answer(context: QuestionContext): SelfAssessmentAnswer;
}
