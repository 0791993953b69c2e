import { StateMachine } from 'aws-local-stepfunctions';
import { runWorkflowStep } from '../../runtime/incident/index';
import { runRecoveryStep } from '../../runtime/recovery/index';
import type { ResponseWorld } from './response-world';
import type { Definition } from './workflow-definition';

/** Task states run by the incident function (evidence, notices, stops, mark failed). */
export const INCIDENT_STATES = [
  'KeepEvidence',
  'Notify',
  'StopContainedTasks',
  'StopContainedTasksAfterRestore',
  'MarkFailed',
];
/** Task states run by the recovery function (approval, release, restore). */
export const RECOVERY_STATES = [
  'AwaitApproval',
  'ApprovalTimedOut',
  'ReleaseFalsePositive',
  'BeginRestore',
  'RotateCredentials',
  'DeployKnownGood',
  'NewTasksCheck',
  'Reopen',
  'ReturnToOwnGroup',
  'OwnGroupCheck',
  'CloseIncident',
  'MarkRestoreFailed',
];
export const WAITS = ['ForensicHold', 'HoldBeforeStoppingContainedTasks', 'NewTasksWait', 'OwnGroupWait'];

export type StepHandler = (payload: never) => Promise<unknown>;

/**
 * Runs the synthesized incident workflow with aws-local-stepfunctions: every task state by
 * its real handler against the AWS model (unless `handlers` replaces it), waits and retry
 * intervals zero, and the model's clock moved by the poll interval before each health check.
 */
export function runIncidentWorkflow(
  definition: Definition,
  world: ResponseWorld,
  input: unknown,
  handlers: Record<string, StepHandler> = {},
) {
  const real = (state: string): StepHandler =>
    handlers[state] ??
    (INCIDENT_STATES.includes(state)
      ? (payload) => runWorkflowStep(payload)
      : async (payload) => {
          // Polling waits are zero here; move the model's clock by the poll interval instead.
          if (state.endsWith('Check')) world.aws.advance(15_000);
          return runRecoveryStep(payload);
        });
  const states = [...INCIDENT_STATES, ...RECOVERY_STATES];
  return new StateMachine(definition as never).run(input as never, {
    overrides: {
      taskResourceLocalHandlers: Object.fromEntries(states.map((s) => [s, real(s)])) as never,
      waitTimeOverrides: Object.fromEntries(WAITS.map((w) => [w, 0])),
      retryIntervalOverrides: Object.fromEntries(states.map((s) => [s, 0])),
    },
    context: { Task: { Token: world.aws.sfn.issueTaskToken() } } as never,
  });
}
