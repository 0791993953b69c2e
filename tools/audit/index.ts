/**
 * `siteops audit`: an offline isolation audit of a synthesized fleet (a cloud assembly).
 * See docs/audit.md for what counts as a path and how the self-assessment's questions are answered.
 */
export { auditAssembly, type AuditOptions, pairVerdict } from './audit';
export {
  type AssemblyStack,
  type CfnResource,
  type CfnTemplate,
  type CloudAssembly,
  loadCloudAssembly,
} from './cloud-assembly';
export { AuditInputError } from './errors';
export { renderAuditHtml } from './html-report';
export { type RunAuditOptions, runAudit } from './run-audit';
export { OPERATOR_ROLE_COMPONENT, QUESTIONS } from './self-assessment';
export { formatAuditSummary } from './summary';
export {
  type Answer,
  type AuditedSite,
  type AuditResult,
  type AuditStatistics,
  type Finding,
  PATH_KINDS,
  type PairVerdict,
  type PathKind,
  type Review,
  type RuleReference,
  type SelfAssessmentAnswer,
} from './types';
