/** What the isolation audit reports. Plain data: it serializes to JSON as it is. */
import type { AssemblyProvenance } from '../../infra/shared/provenance';

export type PathKind = 'network' | 'iam' | 'database' | 'storage';

export const PATH_KINDS: readonly PathKind[] = ['network', 'iam', 'database', 'storage'];

/** One rule, statement or property of a template, named exactly. */
export interface RuleReference {
  readonly stack: string;
  readonly logicalId: string;
  /** The rule itself in one line, e.g. `ingress tcp 8080 from {…/SecurityGroup} "From the LB"`. */
  readonly rule: string;
}

/** A way for site `from` to reach something of site `to`. */
export interface Finding {
  readonly kind: PathKind;
  readonly from: string;
  readonly to: string;
  /** One line that says what the path is. */
  readonly summary: string;
  /** Every rule the path goes through, in order. */
  readonly rules: readonly RuleReference[];
}

/**
 * Something the audit cannot decide from the templates (a policy it cannot read): shown as
 * "needs review", never counted as a path or as isolation.
 */
export interface Review {
  /** The site whose principal or wiring it concerns. */
  readonly site: string;
  readonly summary: string;
  readonly rules: readonly RuleReference[];
}

/** One ordered pair of sites. */
export interface PairVerdict {
  readonly from: string;
  readonly to: string;
  readonly ok: boolean;
  readonly findings: readonly Finding[];
}

export interface AuditedSite {
  readonly id: string;
  readonly stack: string;
  readonly environment?: string;
  readonly cell?: string;
  readonly isolation: 'standard' | 'strict';
}

export type Answer = 'yes' | 'no';

/** One question of the isolation self-assessment, answered from the templates. */
export interface SelfAssessmentAnswer {
  readonly number: number;
  readonly question: string;
  readonly answer: Answer;
  /**
   * The answer of a sealed fleet: `yes` unless the question asks whether something can go wrong
   * ("Can a site send data to another account through a Bulkhead endpoint?" wants `no`). The score
   * counts the answers that are the wanted one.
   */
  readonly wanted?: Answer;
  /** What in the templates the answer rests on (and, for "no", what is missing). */
  readonly evidence: readonly string[];
}

/** Whether an answer is the one a sealed fleet gives. */
export function answeredWell(q: Pick<SelfAssessmentAnswer, 'answer' | 'wanted'>): boolean {
  return q.answer === (q.wanted ?? 'yes');
}

export interface AuditStatistics {
  readonly stacks: number;
  readonly resources: number;
  readonly securityGroups: number;
  readonly securityGroupRules: number;
  readonly policyStatements: number;
  readonly accessPoints: number;
  readonly databaseUsers: number;
  readonly durationMs: number;
}

export interface AuditResult {
  /** The cloud assembly directory audited. */
  readonly assembly: string;
  /** The fleet file, environment and commit the assembly was synthesized from (absent when it does not say). */
  readonly provenance?: AssemblyProvenance;
  readonly environment?: string;
  readonly generatedAt: string;
  readonly sites: readonly AuditedSite[];
  /** Every ordered pair (A, B), A ≠ B: n × (n − 1) entries, in site order. */
  readonly pairs: readonly PairVerdict[];
  readonly pairsChecked: number;
  readonly findings: readonly Finding[];
  /** What the audit cannot decide from the templates: to be looked at by a person (not a path). */
  readonly reviews?: readonly Review[];
  /** True when no pair has a path: the isolation audit passed. */
  readonly passed: boolean;
  readonly questions: readonly SelfAssessmentAnswer[];
  /** Number of "yes" answers, out of {@link AuditResult.questions}' length (11). */
  readonly score: number;
  readonly statistics: AuditStatistics;
}
