import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';

export interface IncidentWorkflowProps {
  /** The Lambda that runs each step (`lambdas/incident`). */
  readonly stepFunction: lambda.IFunction;
  /** Where the state machine logs its executions. */
  readonly logGroup: logs.ILogGroup;
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
 * The incident after containment: keep evidence, notify, hold the contained tasks for the
 * forensic hold, then stop them. Every task retries transient errors; any failure lands in
 * MarkFailed (incident FAILED with the reason, alarm metric) and the execution fails. The
 * workflow never releases or reopens a site.
 */
export class IncidentWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: IncidentWorkflowProps) {
    super(scope, id);
    const step = (stateId: string, name: string) => {
      const task = new tasks.LambdaInvoke(this, stateId, {
        lambdaFunction: props.stepFunction,
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
      task.addRetry({ errors: ['States.TaskFailed'], interval: Duration.seconds(5), maxAttempts: 2, backoffRate: 2 });
      return task;
    };

    const markFailed = step('MarkFailed', 'mark-failed');
    const failed = new sfn.Fail(this, 'IncidentFailed', {
      error: 'IncidentWorkflowFailed',
      cause: 'A step failed; the incident is marked FAILED',
    });
    markFailed.next(failed);
    const keepEvidence = step('KeepEvidence', 'keep-evidence');
    const notify = step('Notify', 'notify');
    const hold = new sfn.Wait(this, 'ForensicHold', { time: sfn.WaitTime.secondsPath('$.forensicHoldSeconds') });
    const stopTasks = step('StopContainedTasks', 'stop-contained-tasks');
    const done = new sfn.Succeed(this, 'Done');
    for (const task of [keepEvidence, notify, stopTasks]) task.addCatch(markFailed, { resultPath: '$.error' });

    const contained = new sfn.Choice(this, 'WasContained')
      .when(sfn.Condition.stringEquals('$.status', 'CONTAINED'), hold.next(stopTasks.next(done)))
      .otherwise(done);
    const definition = keepEvidence.next(notify).next(contained);

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      comment: 'Bulkhead incident: evidence, notify, forensic hold, stop contained tasks',
      timeout: Duration.days(2),
      tracingEnabled: true,
      logs: { destination: props.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
  }
}
