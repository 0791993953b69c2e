import type {
  DescribeExecutionCommandInput,
  DescribeExecutionCommandOutput,
  SendTaskFailureCommandInput,
  SendTaskFailureCommandOutput,
  SendTaskHeartbeatCommandInput,
  SendTaskHeartbeatCommandOutput,
  SendTaskSuccessCommandInput,
  SendTaskSuccessCommandOutput,
  StartExecutionCommandInput,
  StartExecutionCommandOutput,
  StopExecutionCommandInput,
  StopExecutionCommandOutput,
} from '@aws-sdk/client-sfn';
import { type Handler, type Out, ServiceModel } from './service-model';

/**
 * Execution names: 1-80 characters, no whitespace, none of `< > { } [ ] ? * " # % \ ^ | ~ ` $ & , ; : /`
 * and no control characters (U+0000-001F, U+007F-009F).
 */
function validExecutionName(name: string): boolean {
  for (const ch of name) {
    const code = ch.charCodeAt(0);
    if (code <= 0x1f || (code >= 0x7f && code <= 0x9f)) return false;
    if (/\s/.test(ch) || '<>{}[]?*"#%\\^|~`$&,;:/'.includes(ch)) return false;
  }
  return true;
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  startDate: number;
  stopDate?: number;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
}

/** A task token answer the model recorded. */
export interface TaskTokenAnswer {
  taskToken: string;
  outcome: 'success' | 'failure' | 'heartbeat';
  output?: string;
  error?: string;
  cause?: string;
  at: number;
}

interface SfnState {
  stateMachines: Record<string, { stateMachineArn: string; name: string; definition?: string }>;
  executions: Record<string, ExecutionRecord>;
  /** Tokens a test issued; when any exist, unknown tokens are refused. */
  tokens: Record<string, 'open' | 'closed'>;
  answers: TaskTokenAnswer[];
}

/**
 * Called after StartExecution creates an execution. It may finish the execution through
 * `model.sfn.succeed/fail`; a returned promise runs detached, like the real workflow.
 */
export type StartExecutionHook = (execution: Readonly<ExecutionRecord>, model: SfnModel) => void | Promise<void>;

/**
 * Step Functions executions (no state machine interpreter: a test hook decides what an
 * execution does). StartExecution is idempotent by name: the same name and input while
 * the execution runs returns the same ARN; a different input, or a closed execution,
 * answers ExecutionAlreadyExists. Task-token answers are recorded.
 */
export class SfnModel extends ServiceModel<SfnState> {
  readonly service = 'SFN' as const;
  private hooks: StartExecutionHook[] = [];
  private running = new Set<Promise<void>>();

  protected initialState(): SfnState {
    return { stateMachines: {}, executions: {}, tokens: {}, answers: [] };
  }

  override resetState(): void {
    super.resetState();
    this.hooks = [];
  }

  handlers(): Record<string, Handler> {
    return {
      StartExecution: (i: StartExecutionCommandInput) => this.startExecution(i),
      DescribeExecution: (i: DescribeExecutionCommandInput) => this.describeExecution(i),
      StopExecution: (i: StopExecutionCommandInput) => this.stopExecution(i),
      SendTaskSuccess: (i: SendTaskSuccessCommandInput) => this.answer(i.taskToken, 'success', { output: i.output }),
      SendTaskFailure: (i: SendTaskFailureCommandInput) =>
        this.answer(i.taskToken, 'failure', { error: i.error, cause: i.cause }),
      SendTaskHeartbeat: (i: SendTaskHeartbeatCommandInput) => this.answer(i.taskToken, 'heartbeat', {}),
    };
  }

  /** Creates a state machine (seeding); returns its ARN. */
  createStateMachine(name: string, definition?: string): string {
    const arn = this.arn('states', `stateMachine:${name}`);
    this.state.stateMachines[arn] = { stateMachineArn: arn, name, definition };
    return arn;
  }

  /** Runs `hook` for every new execution (returns a function that removes it). */
  onStartExecution(hook: StartExecutionHook): () => void {
    this.hooks.push(hook);
    return () => {
      this.hooks = this.hooks.filter((h) => h !== hook);
    };
  }

  /** Waits for every detached hook to settle. */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }

  executions(): ExecutionRecord[] {
    return Object.values(this.state.executions).map((e) => structuredClone(e));
  }

  succeed(executionArn: string, output: unknown = {}): void {
    this.close(executionArn, 'SUCCEEDED', { output: JSON.stringify(output) });
  }

  failExecution(executionArn: string, error: string, cause?: string): void {
    this.close(executionArn, 'FAILED', { error, cause });
  }

  /** A task token that SendTask* calls may answer (turns on token checking). */
  issueTaskToken(): string {
    const token = Buffer.from(this.model.ids.hex(48)).toString('base64');
    this.state.tokens[token] = 'open';
    return token;
  }

  /** Task-token answers received. */
  answers(): TaskTokenAnswer[] {
    return this.state.answers.map((a) => ({ ...a }));
  }

  private close(arn: string, status: ExecutionStatus, extra: Partial<ExecutionRecord>): void {
    const e = this.state.executions[arn];
    if (!e) throw new Error(`aws-model: no execution ${arn}`);
    if (e.status !== 'RUNNING') return;
    Object.assign(e, extra, { status, stopDate: this.now });
  }

  private startExecution(input: StartExecutionCommandInput): Out<StartExecutionCommandOutput> {
    const arn = input.stateMachineArn ?? '';
    if (!/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]+$/.test(arn)) {
      this.fail('InvalidArn', `Invalid Arn: 'Resource type not valid in this context: ${arn}'`);
    }
    const machine = this.state.stateMachines[arn];
    if (!machine) this.fail('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    const name = input.name ?? this.model.ids.uuid();
    if (name.length < 1 || name.length > 80 || !validExecutionName(name)) {
      this.fail('InvalidName', `Invalid Name: '${name}'`);
    }
    const text = input.input ?? '{}';
    try {
      JSON.parse(text);
    } catch (e) {
      this.fail('InvalidExecutionInput', `Invalid State Machine Execution Input: '${(e as Error).message}'`);
    }
    if (Buffer.byteLength(text) > 262_144)
      this.fail('InvalidExecutionInput', 'Invalid State Machine Execution Input: input too large');
    const executionArn = this.arn('states', `execution:${machine.name}:${name}`);
    const existing = this.state.executions[executionArn];
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === text) {
        return { executionArn, startDate: new Date(existing.startDate) };
      }
      this.fail('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const execution: ExecutionRecord = {
      executionArn,
      stateMachineArn: arn,
      name,
      status: 'RUNNING',
      startDate: this.now,
      input: text,
    };
    this.state.executions[executionArn] = execution;
    for (const hook of this.hooks) {
      const result = hook(structuredClone(execution), this);
      if (result instanceof Promise) {
        const p = result.catch((e: unknown) => {
          this.failExecution(executionArn, 'States.Runtime', String(e));
        });
        this.running.add(p);
        void p.finally(() => this.running.delete(p));
      }
    }
    return { executionArn, startDate: new Date(execution.startDate) };
  }

  private execution(arn: string | undefined): ExecutionRecord {
    const e = this.state.executions[arn ?? ''];
    if (!e) {
      if (!/:execution:/.test(arn ?? '')) return this.fail('InvalidArn', `Invalid Arn: '${arn}'`);
      return this.fail('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    }
    return e;
  }

  private describeExecution(input: DescribeExecutionCommandInput): Out<DescribeExecutionCommandOutput> {
    const e = this.execution(input.executionArn);
    return {
      executionArn: e.executionArn,
      stateMachineArn: e.stateMachineArn,
      name: e.name,
      status: e.status,
      startDate: new Date(e.startDate),
      stopDate: e.stopDate !== undefined ? new Date(e.stopDate) : undefined,
      input: e.input,
      inputDetails: { included: true },
      output: e.output,
      outputDetails: e.output !== undefined ? { included: true } : undefined,
      error: e.error,
      cause: e.cause,
    };
  }

  private stopExecution(input: StopExecutionCommandInput): Out<StopExecutionCommandOutput> {
    const e = this.execution(input.executionArn);
    if (e.status === 'RUNNING')
      Object.assign(e, { status: 'ABORTED', stopDate: this.now, error: input.error, cause: input.cause });
    return { stopDate: new Date(e.stopDate ?? this.now) };
  }

  private answer(
    token: string | undefined,
    outcome: TaskTokenAnswer['outcome'],
    extra: { output?: string; error?: string; cause?: string },
  ): Out<SendTaskSuccessCommandOutput & SendTaskFailureCommandOutput & SendTaskHeartbeatCommandOutput> {
    if (!token) this.fail('InvalidToken', "Invalid Token: 'Required parameter taskToken is missing'");
    if (extra.output !== undefined) {
      try {
        JSON.parse(extra.output);
      } catch (e) {
        this.fail('InvalidOutput', `Invalid Output: '${(e as Error).message}'`);
      }
    }
    if (Object.keys(this.state.tokens).length) {
      const state = this.state.tokens[token];
      if (state === undefined) this.fail('TaskDoesNotExist', 'Task Does Not Exist');
      if (state === 'closed') this.fail('TaskTimedOut', "Task Timed Out: 'Provided task does not exist anymore'");
      if (outcome !== 'heartbeat') this.state.tokens[token] = 'closed';
    }
    this.state.answers.push({ taskToken: token, outcome, ...extra, at: this.now });
    return {};
  }
}
