import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { IncidentStepName, RecoveryStepName } from '../../contracts/workflow';

export interface IncidentWorkflowProps {
  /** The Lambda that runs the evidence, notice and stop steps (`runtime/incident`). */
  readonly stepFunction: lambda.IFunction;
  /** The Lambda that runs the approval, release and restore steps (`runtime/recovery`). */
  readonly recoveryFunction: lambda.IFunction;
  /** Where the state machine logs its executions. */
  readonly logGroup: logs.ILogGroup;
  /**
   * How often the restore looks at the new tasks' health.
   * @default 15 seconds
   */
  readonly healthPollInterval?: Duration;
}

/** Errors worth retrying: Lambda's own transient failures and throttling. */
const TRANSIENT_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.ClientExecutionTimeoutException',
  'ThrottlingException',
  'States.Timeout',
];

/**
 * The incident after containment:
 *
 * - keep evidence, notify;
 * - contained sites: restore on their own (`autoRestore`) or wait for an operator's decision
 *   (task token, `approvalTimeoutSeconds`): a false positive is released; a restore chooses
 *   a known-good digest, rotates the database password, deploys it in the standby group,
 *   polls its health (bounded), reopens the site, waits out the forensic hold, stops the
 *   contained tasks, moves the service back to its own group and closes the incident;
 * - no decision in time: the site stays contained; the hold ends, the contained tasks
 *   are stopped and the service is scaled to zero (release and restore scale it back).
 *
 * An execution started with `mode: "restore"` (an operator's `siteops restore`) goes straight
 * to the restore. Transient errors are retried; a failed evidence or notice step marks the
 * incident FAILED; a failed restore step marks it FAILED with the reason and leaves the site
 * contained.
 */
export class IncidentWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;

  private readonly props: IncidentWorkflowProps;

  constructor(scope: Construct, id: string, props: IncidentWorkflowProps) {
    super(scope, id);
    this.props = props;
    const markFailed = this.step('MarkFailed', 'mark-failed');
    const failed = new sfn.Fail(this, 'IncidentFailed', {
      error: 'IncidentWorkflowFailed',
      cause: 'A step failed; the incident is marked FAILED',
    });
    markFailed.next(failed);
    const keepEvidence = this.step('KeepEvidence', 'keep-evidence');
    const notify = this.step('Notify', 'notify');
    const hold = new sfn.Wait(this, 'ForensicHold', { time: sfn.WaitTime.timestampPath('$.holdUntil') });
    const stopTasks = this.step('StopContainedTasks', 'stop-contained-tasks');
    const done = new sfn.Succeed(this, 'Done');
    for (const task of [keepEvidence, notify, stopTasks]) task.addCatch(markFailed, { resultPath: '$.error' });

    const { restore, catchInto } = this.restoreStates(done);
    const { decide, awaitApproval, autoRestore } = this.decisionStates({
      restore,
      catchInto,
      done,
      markFailed,
      hold,
      stopTasks,
    });

    const contained = new sfn.Choice(this, 'WasContained')
      .when(
        sfn.Condition.and(
          sfn.Condition.stringEquals('$.status', 'CONTAINED'),
          sfn.Condition.isPresent('$.autoRestore'),
          sfn.Condition.booleanEquals('$.autoRestore', true),
        ),
        autoRestore,
      )
      .when(
        sfn.Condition.and(
          sfn.Condition.stringEquals('$.status', 'CONTAINED'),
          sfn.Condition.isPresent('$.approvalTimeoutSeconds'),
        ),
        awaitApproval,
      )
      .when(sfn.Condition.stringEquals('$.status', 'CONTAINED'), hold)
      .otherwise(done);
    const entry = new sfn.Choice(this, 'Entry')
      .when(
        sfn.Condition.and(sfn.Condition.isPresent('$.mode'), sfn.Condition.stringEquals('$.mode', 'restore')),
        decide,
      )
      .otherwise(keepEvidence);
    keepEvidence.next(notify).next(contained);

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(entry),
      comment:
        'Bulkhead incident: evidence, notify, approval or auto-restore, restore from a known-good image, forensic hold',
      timeout: Duration.days(9),
      tracingEnabled: true,
      logs: { destination: props.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
  }

  /** A Lambda step whose transient failures (TRANSIENT_ERRORS) are retried with back-off. */
  private invoke(stateId: string, fn: lambda.IFunction, name: string): tasks.LambdaInvoke {
    const task = new tasks.LambdaInvoke(this, stateId, {
      lambdaFunction: fn,
      payload: sfn.TaskInput.fromObject({ step: name, input: sfn.JsonPath.objectAt('$') }),
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
      taskTimeout: sfn.Timeout.duration(Duration.minutes(5)),
    });
    task.addRetry({
      errors: TRANSIENT_ERRORS,
      interval: Duration.seconds(2),
      maxAttempts: 6,
      backoffRate: 2,
      jitterStrategy: sfn.JitterType.FULL,
    });
    return task;
  }

  /** A step of `runtime/incident`: also retried (twice) when the task itself fails. */
  private step(stateId: string, name: IncidentStepName): tasks.LambdaInvoke {
    const task = this.invoke(stateId, this.props.stepFunction, name);
    task.addRetry({ errors: ['States.TaskFailed'], interval: Duration.seconds(5), maxAttempts: 2, backoffRate: 2 });
    return task;
  }

  /**
   * A step of `runtime/recovery`. Restore steps retry only what is transient: a refusal (no
   * known-good digest, say) or a half-done rotation must not run again on its own.
   */
  private recovery(stateId: string, name: RecoveryStepName): tasks.LambdaInvoke {
    return this.invoke(stateId, this.props.recoveryFunction, name);
  }

  /**
   * The restore: begin, rotate, deploy, poll the new tasks' health, reopen, hold, stop the
   * contained tasks, back to the site's own group, poll again, close. Any failure ends in
   * RestoreFailed (`catchInto`).
   */
  private restoreStates(done: sfn.Succeed): {
    restore: sfn.Chain;
    catchInto: (task: tasks.LambdaInvoke) => void;
  } {
    const restoreFailed = this.recovery('MarkRestoreFailed', 'mark-restore-failed');
    restoreFailed.next(
      new sfn.Fail(this, 'RestoreFailed', {
        error: 'RestoreFailed',
        cause: 'The restore stopped; the incident is FAILED with the reason and the site stays contained',
      }),
    );
    const catchInto = (task: tasks.LambdaInvoke) => {
      task.addCatch(restoreFailed, { resultPath: '$.error' });
    };
    const begin = this.recovery('BeginRestore', 'begin-restore');
    const rotate = this.recovery('RotateCredentials', 'rotate-credentials');
    const deploy = this.recovery('DeployKnownGood', 'deploy-known-good');
    const reopen = this.recovery('Reopen', 'reopen');
    const holdAfterRestore = new sfn.Wait(this, 'HoldBeforeStoppingContainedTasks', {
      time: sfn.WaitTime.timestampPath('$.holdUntil'),
    });
    const stopAfterRestore = this.step('StopContainedTasksAfterRestore', 'stop-contained-tasks');
    const backToPrimary = this.recovery('ReturnToOwnGroup', 'return-to-primary');
    const close = this.recovery('CloseIncident', 'close-restore');
    for (const task of [begin, rotate, deploy, reopen, stopAfterRestore, backToPrimary, close]) catchInto(task);

    const poll = this.props.healthPollInterval ?? Duration.seconds(15);
    const healthLoop = (prefix: string, next: sfn.IChainable) => {
      const wait = new sfn.Wait(this, `${prefix}Wait`, { time: sfn.WaitTime.duration(poll) });
      const check = this.recovery(`${prefix}Check`, 'check-health');
      catchInto(check);
      const decide = new sfn.Choice(this, `${prefix}Healthy`)
        .when(sfn.Condition.stringEquals('$.restore.health', 'healthy'), next)
        .when(sfn.Condition.stringEquals('$.restore.health', 'timed-out'), restoreFailed)
        .otherwise(wait);
      wait.next(check).next(decide);
      return wait;
    };
    const restore = begin
      .next(rotate)
      .next(deploy)
      .next(
        healthLoop(
          'NewTasks',
          reopen
            .next(holdAfterRestore)
            .next(stopAfterRestore)
            .next(backToPrimary)
            .next(healthLoop('OwnGroup', close.next(done))),
        ),
      );
    return { restore, catchInto };
  }

  /**
   * The decision: an operator's (task token, timed out into the forensic hold) or the
   * automatic restore's; a false positive is released, anything else restored.
   */
  private decisionStates(states: {
    restore: sfn.Chain;
    catchInto: (task: tasks.LambdaInvoke) => void;
    done: sfn.Succeed;
    markFailed: tasks.LambdaInvoke;
    hold: sfn.Wait;
    stopTasks: tasks.LambdaInvoke;
  }): { decide: sfn.Choice; awaitApproval: tasks.LambdaInvoke; autoRestore: sfn.Pass } {
    const { restore, catchInto, done, markFailed, hold, stopTasks } = states;
    const release = this.recovery('ReleaseFalsePositive', 'release-false-positive');
    catchInto(release);
    const decide = new sfn.Choice(this, 'Decision')
      .when(sfn.Condition.stringEquals('$.decision.decision', 'false-positive'), release.next(done))
      .otherwise(restore);
    const awaitApproval = new tasks.LambdaInvoke(this, 'AwaitApproval', {
      lambdaFunction: this.props.recoveryFunction,
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: sfn.TaskInput.fromObject({
        step: 'await-approval' satisfies RecoveryStepName,
        input: sfn.JsonPath.objectAt('$'),
        taskToken: sfn.JsonPath.taskToken,
      }),
      resultPath: '$.decision',
      taskTimeout: sfn.Timeout.at('$.approvalTimeoutSeconds'),
      retryOnServiceExceptions: false,
    });
    awaitApproval.addRetry({
      errors: TRANSIENT_ERRORS.filter((e) => e !== 'States.Timeout'),
      interval: Duration.seconds(2),
      maxAttempts: 6,
      backoffRate: 2,
    });
    const timedOut = this.recovery('ApprovalTimedOut', 'approval-timed-out');
    awaitApproval.addCatch(timedOut, { errors: ['States.Timeout'], resultPath: '$.error' });
    awaitApproval.addCatch(markFailed, { resultPath: '$.error' });
    timedOut.addCatch(markFailed, { resultPath: '$.error' });
    timedOut.next(hold);
    hold.next(stopTasks).next(done);
    awaitApproval.next(decide);
    const autoRestore = new sfn.Pass(this, 'AutoRestore', {
      result: sfn.Result.fromObject({ decision: 'restore', by: 'auto-restore' }),
      resultPath: '$.decision',
    });
    autoRestore.next(decide);
    return { decide, awaitApproval, autoRestore };
  }
}
