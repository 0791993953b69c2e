import { BackupModel } from './backup';
import { type CallFilter, CallLog, type CallRecord } from './call-log';
import { VirtualClock } from './clock';
import { CloudWatchModel } from './cloudwatch';
import { CloudWatchLogsModel } from './cloudwatch-logs';
import { DynamoDbModel } from './dynamodb/dynamodb-model';
import { Ec2Model } from './ec2/ec2-model';
import { ec2RequestThrottling } from './ec2-request-throttling';
import { parameterStoreThroughput } from './ssm-throughput';
import { EcsModel } from './ecs/ecs-model';
import { Elbv2Model } from './elbv2/elbv2-model';
import { type AwsServiceError, abortError, awsError, GENERIC_ERRORS, NotModelledError, timeoutError } from './errors';
import { type Fault, FaultRegistry } from './faults';
import { type SiteSnapshot, snapshotSite } from './fleet/snapshot';
import type { FleetHandles } from './fleet/types';
import { IamModel } from './iam';
import { LambdaModel } from './lambda';
import { type BucketPolicy, TokenBucketLimiter } from './rate-limit';
import { S3Model } from './s3';
import { SecretsManagerModel } from './secrets-manager';
import type { Handler, ServiceModel } from './service-model';
import { isMutating, SERVICE_NAMES, type ServiceName } from './service-names';
import { SfnModel } from './sfn';
import { SnsModel } from './sns';
import { SsmModel } from './ssm';
import { clone } from './util/clone';
import { IdGenerator } from './util/ids';

/**
 * How SDK retries behave for calls answered by the model. `aws-sdk-client-mock` replaces
 * `client.send`, which skips the SDK's middleware, so the model replays the retry loop
 * itself with the client's own configured retry strategy:
 * - `sdk` (default): the client's strategy decides and waits its real back-off.
 * - `sdk-no-delay`: same decisions and attempt counts, no waiting (fast tests).
 * - `off`: one attempt, errors surface at once (what plain aws-sdk-client-mock does).
 */
export type RetryMode = 'sdk' | 'sdk-no-delay' | 'off';

/** Options for {@link installAwsModel} / {@link AwsModel}. */
export interface AwsModelOptions {
  accountId?: string;
  region?: string;
  /** Seed of the id generator. */
  seed?: number;
  /** Virtual start time. */
  startTime?: Date;
  /** Real milliseconds each call waits before it is answered (all or per service). */
  latencyMs?: number | Partial<Record<ServiceName, number>>;
  retries?: RetryMode;
  /** Virtual milliseconds each call moves the clock (lets polling loops make progress). */
  autoAdvanceMs?: number;
  /** Turn on EC2's documented request token buckets (see ec2-request-throttling.ts). */
  ec2RequestThrottling?: boolean;
  /** Turn on Parameter Store's documented read throughput, default or higher (see ssm-throughput.ts). */
  parameterStoreThroughput?: 'default' | 'higher';
}

/** A call as it arrives at the model, before it is answered. */
export interface ArrivingCall {
  readonly service: ServiceName;
  readonly command: string;
  /** The request as sent (read only: the model answers from its own copy). */
  readonly input: unknown;
  readonly attempt: number;
}

/** Per-call information the transport passes to {@link AwsModel.invoke}. */
export interface InvokeContext {
  abortSignal?: AbortSignal;
  attempt?: number;
}

/**
 * A stateful model of the AWS APIs Bulkhead calls. Install it with `installAwsModel()`,
 * seed it with `seedFleet()`, drive time with `advance()`, inject failures with
 * `faults.add()` and inspect `calls`.
 */
export class AwsModel {
  readonly accountId: string;
  readonly region: string;
  readonly options: Required<Pick<AwsModelOptions, 'retries'>> & AwsModelOptions;
  readonly clock: VirtualClock;
  readonly ids: IdGenerator;
  readonly faults = new FaultRegistry();
  readonly calls = new CallLog();
  /** Per-service token-bucket limiters; see {@link AwsModel.setRateLimit}. */
  readonly rateLimits = new Map<ServiceName, TokenBucketLimiter>();

  readonly ec2: Ec2Model;
  readonly ecs: EcsModel;
  readonly elbv2: Elbv2Model;
  readonly iam: IamModel;
  readonly secretsManager: SecretsManagerModel;
  readonly s3: S3Model;
  readonly sns: SnsModel;
  readonly sfn: SfnModel;
  readonly dynamodb: DynamoDbModel;
  readonly cloudwatch: CloudWatchModel;
  readonly logs: CloudWatchLogsModel;
  readonly backup: BackupModel;
  readonly lambda: LambdaModel;
  readonly ssm: SsmModel;

  /** What `seedFleet` built, for `snapshotSite`. */
  /** Every fleet seeded into this account, by environment (two environments may share one). */
  fleets: Record<string, FleetHandles> = {};
  fleet: FleetHandles | undefined;

  private readonly services: Record<ServiceName, ServiceModel<object>>;
  private readonly handlerCache = new Map<ServiceName, Record<string, Handler>>();
  private readonly previousStates = new Map<ServiceName, object>();
  private readonly hanging = new Set<(e: Error) => void>();
  private restoreHooks: Array<() => void> = [];
  private callHooks: Array<(call: ArrivingCall) => void> = [];

  constructor(options: AwsModelOptions = {}) {
    this.options = { retries: 'sdk', ...options };
    this.accountId = options.accountId ?? '123456789012';
    this.region = options.region ?? process.env.AWS_REGION ?? 'eu-west-1';
    this.clock = new VirtualClock(options.startTime?.getTime());
    this.ids = new IdGenerator(options.seed);
    this.ec2 = new Ec2Model(this);
    this.ecs = new EcsModel(this);
    this.elbv2 = new Elbv2Model(this);
    this.iam = new IamModel(this);
    this.secretsManager = new SecretsManagerModel(this);
    this.s3 = new S3Model(this);
    this.sns = new SnsModel(this);
    this.sfn = new SfnModel(this);
    this.dynamodb = new DynamoDbModel(this);
    this.cloudwatch = new CloudWatchModel(this);
    this.logs = new CloudWatchLogsModel(this);
    this.backup = new BackupModel(this);
    this.lambda = new LambdaModel(this);
    this.ssm = new SsmModel(this);
    this.services = {
      EC2: this.ec2,
      ECS: this.ecs,
      ELBv2: this.elbv2,
      IAM: this.iam,
      SecretsManager: this.secretsManager,
      S3: this.s3,
      SNS: this.sns,
      SFN: this.sfn,
      DynamoDB: this.dynamodb,
      CloudWatch: this.cloudwatch,
      CloudWatchLogs: this.logs,
      Backup: this.backup,
      Lambda: this.lambda,
      SSM: this.ssm,
    };
    if (options.ec2RequestThrottling) this.setRateLimit('EC2', ec2RequestThrottling);
    if (options.parameterStoreThroughput) {
      this.setRateLimit('SSM', parameterStoreThroughput(options.parameterStoreThroughput));
    }
  }

  /** The model of one service by name. */
  service(name: ServiceName): ServiceModel<object> {
    return this.services[name];
  }

  /** The commands a service answers. */
  commands(name: ServiceName): string[] {
    return Object.keys(this.handlersOf(name));
  }

  /**
   * Answers one attempt of one AWS call: records it, waits the configured latency, applies
   * the rate limiter and any matching fault, then runs the handler. A write that throws is
   * rolled back, so every call is atomic.
   */
  async invoke(
    service: ServiceName,
    command: string,
    rawInput: unknown,
    context: InvokeContext = {},
  ): Promise<Record<string, unknown>> {
    const svc = this.services[service];
    const mutating = isMutating(command);
    const record = this.calls.start({
      service,
      command,
      input: clone(rawInput ?? {}),
      mutating,
      attempt: context.attempt ?? 1,
      at: this.clock.now(),
      wallTime: Date.now(),
    });
    for (const hook of this.callHooks) hook({ service, command, input: rawInput ?? {}, attempt: context.attempt ?? 1 });
    try {
      const latency = this.latencyFor(service);
      if (latency > 0) await sleep(latency, context.abortSignal);
      if (context.abortSignal?.aborted) throw abortError();
      if (this.options.autoAdvanceMs) this.advance(this.options.autoAdvanceMs);
      const handler = this.handlersOf(service)[command];
      if (!handler) throw new NotModelledError(service, command);
      const requested = clone(rawInput ?? {});

      const limiter = this.rateLimits.get(service);
      if (limiter && !limiter.tryTake(command, requested)) {
        record.injected = 'rate-limit';
        throw this.genericError(service, 'throttle');
      }

      const fault = this.faults.take(service, command, requested, mutating);
      if (fault) record.injected = fault.kind;
      if (fault && fault.kind !== 'stale' && !fault.afterCommit) throw await this.faultError(fault, context);

      const input = (await svc.prepareInput(command, requested)) as never;
      let output: unknown;
      if (fault?.kind === 'stale') {
        output = this.runStale(svc, handler, input);
      } else if (fault?.afterCommit) {
        this.run(svc, handler, input, mutating);
        record.committed = true;
        throw await this.faultError(fault, context);
      } else {
        output = this.run(svc, handler, input, mutating);
      }
      const copy = svc.finalizeOutput(command, clone(output)) as Record<string, unknown>;
      this.faults.noteSuccess(service, command);
      record.outcome = 'ok';
      record.output = clone(output);
      return {
        ...copy,
        $metadata: {
          httpStatusCode: 200,
          requestId: this.ids.uuid(),
          attempts: 1,
          totalRetryDelay: 0,
        },
      };
    } catch (error) {
      record.outcome = 'error';
      const e = error as Partial<AwsServiceError>;
      record.error = {
        name: String(e.name),
        message: String(e.message),
        status: e.$metadata?.httpStatusCode,
      };
      throw error;
    }
  }

  /** Moves virtual time forward, running the schedulers (ECS, target health) every second. */
  advance(ms: number): void {
    const end = this.clock.now() + ms;
    while (this.clock.now() < end) {
      this.clock.set(Math.min(end, this.clock.now() + 1000));
      this.ecs.schedule();
    }
  }

  /** Alias of {@link AwsModel.advance}. */
  tick(ms: number): void {
    this.advance(ms);
  }

  /**
   * Advances in one-second steps until `predicate` holds; returns the virtual milliseconds
   * it took. Throws when `maxMs` passes first.
   */
  advanceUntil(predicate: () => boolean, options: { maxMs?: number; stepMs?: number } = {}): number {
    const maxMs = options.maxMs ?? 3_600_000;
    const step = options.stepMs ?? 1000;
    let elapsed = 0;
    while (!predicate()) {
      if (elapsed >= maxMs) {
        throw new Error(`aws-model: condition not reached within ${maxMs} virtual ms`);
      }
      this.advance(step);
      elapsed += step;
    }
    return elapsed;
  }

  /** A deep, comparable copy of everything belonging to a seeded site (see snapshotSite). */
  snapshot(siteId: string): SiteSnapshot {
    return snapshotSite(this, siteId);
  }

  /** Every mutating call attempt (failed ones included unless filtered). */
  mutatingCalls(filter: Omit<CallFilter, 'mutating'> = {}): CallRecord[] {
    return this.calls.find({ ...filter, mutating: true });
  }

  /** Calls to one service (and optionally one command). */
  callsTo(service: ServiceName, command?: string | RegExp): CallRecord[] {
    return this.calls.find({ service, command });
  }

  /** Installs (or with `undefined` removes) a token-bucket limiter for a service. */
  setRateLimit(service: ServiceName, policy: BucketPolicy | undefined, now?: () => number): void {
    if (!policy) this.rateLimits.delete(service);
    else this.rateLimits.set(service, new TokenBucketLimiter(policy, now));
  }

  /** Empties every service, the clock, faults, calls and limiters; mocks stay installed. */
  reset(): void {
    for (const name of SERVICE_NAMES) this.services[name].resetState();
    this.clock.reset();
    this.ids.reset();
    this.faults.clear();
    this.faults.resetHistory();
    this.calls.clear();
    for (const limiter of this.rateLimits.values()) limiter.reset();
    this.previousStates.clear();
    for (const reject of this.hanging) reject(new Error('aws-model: reset while the call hung'));
    this.hanging.clear();
    this.fleet = undefined;
    this.fleets = {};
  }

  /** Resets and removes the SDK mocks (call in afterEach). */
  restore(): void {
    this.reset();
    for (const hook of this.restoreHooks) hook();
    this.restoreHooks = [];
    this.callHooks = [];
  }

  /**
   * Runs `hook` on every call as it arrives, before the model answers it, with the state as
   * the call finds it (test/support/iam-authorization checks each against its caller's IAM
   * policy). Returns a function that removes it; `restore` removes them all.
   */
  onCall(hook: (call: ArrivingCall) => void): () => void {
    this.callHooks.push(hook);
    return () => {
      this.callHooks = this.callHooks.filter((h) => h !== hook);
    };
  }

  /** Registers cleanup for {@link AwsModel.restore} (used by the installer). */
  onRestore(hook: () => void): void {
    this.restoreHooks.push(hook);
  }

  private readonly historyHooks: (() => void)[] = [];

  /** Registers what `clearHistory` also forgets (the SDK stubs' own call records). */
  onClearHistory(hook: () => void): void {
    this.historyHooks.push(hook);
  }

  /**
   * Forgets every call recorded so far: the call log and the stubs' records (sinon keeps
   * each call's arguments and errors). Long benchmarks clear it so memory measures the code.
   */
  clearHistory(): void {
    this.calls.clear();
    for (const hook of this.historyHooks) hook();
  }

  /** The throttle/server/denied error a service sends. */
  genericError(service: ServiceName, kind: 'throttle' | 'server' | 'denied'): AwsServiceError {
    const [code, status, message] = GENERIC_ERRORS[service][kind];
    return awsError(service, code, message, { status, requestId: this.ids.uuid() });
  }

  private handlersOf(service: ServiceName): Record<string, Handler> {
    let handlers = this.handlerCache.get(service);
    if (!handlers) {
      handlers = this.services[service].handlers();
      this.handlerCache.set(service, handlers);
    }
    return handlers;
  }

  private run(svc: ServiceModel<object>, handler: Handler, input: never, mutating: boolean): unknown {
    if (!mutating) return (handler as (i: unknown) => unknown)(input);
    const before = structuredClone(svc.state);
    try {
      const output = (handler as (i: unknown) => unknown)(input);
      this.previousStates.set(svc.service, before);
      return output;
    } catch (error) {
      svc.state = before;
      throw error;
    }
  }

  private runStale(svc: ServiceModel<object>, handler: Handler, input: never): unknown {
    const previous = this.previousStates.get(svc.service);
    if (!previous) return (handler as (i: unknown) => unknown)(input);
    const current = svc.state;
    svc.state = structuredClone(previous);
    try {
      return (handler as (i: unknown) => unknown)(input);
    } finally {
      svc.state = current;
    }
  }

  private async faultError(fault: Fault, context: InvokeContext): Promise<Error> {
    const { service } = fault;
    switch (fault.kind) {
      case 'throttle':
      case 'server':
      case 'denied': {
        const [code, status, message] = GENERIC_ERRORS[service][fault.kind];
        return awsError(service, fault.code ?? code, fault.message ?? message, {
          status: fault.status ?? status,
          fields: fault.fields,
          requestId: this.ids.uuid(),
        });
      }
      case 'error': {
        if (!fault.code) return new Error('aws-model: an `error` fault needs a `code`');
        return awsError(service, fault.code, fault.message ?? fault.code, {
          status: fault.status,
          fields: fault.fields,
          requestId: this.ids.uuid(),
        });
      }
      case 'timeout': {
        if (fault.timeoutMs !== undefined) {
          await sleep(fault.timeoutMs, context.abortSignal);
          return timeoutError(fault.timeoutMs);
        }
        return await new Promise<Error>((_, reject) => {
          this.hanging.add(reject);
          const signal = context.abortSignal;
          if (signal) {
            if (signal.aborted) reject(abortError());
            signal.addEventListener('abort', () => reject(abortError()), { once: true });
          }
        });
      }
      default:
        return new Error(`aws-model: unknown fault kind ${fault.kind}`);
    }
  }

  /** Changes the real latency every later call waits (benchmarks set up fast, then measure slow). */
  setLatency(latencyMs: AwsModelOptions['latencyMs']): void {
    (this.options as AwsModelOptions).latencyMs = latencyMs;
  }

  private latencyFor(service: ServiceName): number {
    const latency = this.options.latencyMs;
    if (latency === undefined) return 0;
    if (typeof latency === 'number') return latency;
    return latency[service] ?? 0;
  }
}

/** Waits real time; rejects with an AbortError if the signal fires first. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError());
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
