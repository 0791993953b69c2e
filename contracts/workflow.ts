/**
 * The incident workflow's contract: which step a state of the state machine asks a function
 * to run (`{ step, input }` payloads). The workflow (infra/response/incident-workflow.ts)
 * names steps from these lists only, and each function's handler runs exactly these, so a
 * misspelt step fails type checking instead of failing an incident at 3 a.m.
 */

/** Steps the incident function runs (runtime/incident). */
export const INCIDENT_STEPS = ['keep-evidence', 'notify', 'stop-contained-tasks', 'mark-failed'] as const;
/** A step of the incident function (the workflow names it, runtime/incident runs it). */
export type IncidentStepName = (typeof INCIDENT_STEPS)[number];

/** Steps the recovery function runs (runtime/recovery). */
export const RECOVERY_STEPS = [
  'begin-restore',
  'rotate-credentials',
  'deploy-known-good',
  'check-health',
  'reopen',
  'return-to-primary',
  'close-restore',
  'mark-restore-failed',
  'await-approval',
  'approval-timed-out',
  'release-false-positive',
] as const;
/** A step of the recovery function (the workflow names it, runtime/recovery runs it). */
export type RecoveryStepName = (typeof RECOVERY_STEPS)[number];
