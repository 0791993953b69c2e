/**
 * The isolation self-assessment's questions, in their numbered order (docs/audit.md): one
 * file each, answered from the templates. Adding a question is adding a file and a line here.
 */
import { automaticQuarantineQuestion } from './automatic-quarantine';
import { containerPrivilegesQuestion } from './container-privileges';
import { endpointExfiltrationQuestion } from './endpoint-exfiltration';
import { establishedConnectionsQuestion } from './established-connections';
import { immutableArtifactsQuestion } from './immutable-artifacts';
import { isolatedWritableDirectoriesQuestion } from './isolated-writable-directories';
import { noTrafficQuestion } from './no-traffic';
import { operatorMfaQuestion } from './operator-mfa';
import { ownDatabaseUserQuestion } from './own-database-user';
import type { AuditQuestion } from './question';
import { recoveryTrackedQuestion } from './recovery-tracked';
import { runbookAndTrailQuestion } from './runbook-and-trail';
import { runtimeMonitoringQuestion } from './runtime-monitoring';
import { secretsFromManagerQuestion } from './secrets-from-manager';
import { separateRuntimeQuestion } from './separate-runtime';

export type { AuditQuestion, QuestionContext } from './question';
export { OPERATOR_ROLE_COMPONENT } from './operator-mfa';

export const AUDIT_QUESTIONS: readonly AuditQuestion[] = [
  separateRuntimeQuestion,
  ownDatabaseUserQuestion,
  isolatedWritableDirectoriesQuestion,
  operatorMfaQuestion,
  noTrafficQuestion,
  secretsFromManagerQuestion,
  automaticQuarantineQuestion,
  immutableArtifactsQuestion,
  runbookAndTrailQuestion,
  recoveryTrackedQuestion,
  runtimeMonitoringQuestion,
  endpointExfiltrationQuestion,
  containerPrivilegesQuestion,
  establishedConnectionsQuestion,
];
