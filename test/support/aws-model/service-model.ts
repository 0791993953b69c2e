import { type AwsErrorOptions, awsError } from './errors';
import type { AwsModel } from './model';
import type { ServiceName } from './service-names';

/** A command handler: takes the SDK input, returns the SDK output without `$metadata`. */
export type Handler = (input: never) => unknown;

/** An SDK output shape without the `$metadata` the transport adds. */
export type Out<T> = Omit<T, '$metadata'>;

/**
 * Base of every service model. `state` is plain data (records, arrays, dates) so the model
 * can snapshot it with `structuredClone`: a write that throws is rolled back whole, and a
 * `stale` fault answers a read from the snapshot taken before the last write. Handlers must
 * therefore read `this.state` when they run and never keep references into it.
 */
export abstract class ServiceModel<S extends object> {
  abstract readonly service: ServiceName;
  state: S;

  constructor(readonly model: AwsModel) {
    this.state = this.initialState();
  }

  protected abstract initialState(): S;

  /** The commands this service answers, by name without the `Command` suffix. */
  abstract handlers(): Record<string, Handler>;

  /** Back to an empty account. */
  resetState(): void {
    this.state = this.initialState();
  }

  /**
   * Runs before the (synchronous) handler: S3 reads a streaming body here, so the handler
   * itself never awaits and every write is atomic.
   */
  async prepareInput(_command: string, input: unknown): Promise<unknown> {
    return input;
  }

  /** Post-processing after the output has been copied (S3 wraps bodies in streams). */
  finalizeOutput(_command: string, output: unknown): unknown {
    return output;
  }

  /** Throws the error AWS documents for this service and code. */
  fail(code: string, message: string, options?: AwsErrorOptions): never {
    throw awsError(this.service, code, message, options);
  }

  get now(): number {
    return this.model.clock.now();
  }

  nowDate(): Date {
    return this.model.clock.date();
  }

  get region(): string {
    return this.model.region;
  }

  get accountId(): string {
    return this.model.accountId;
  }

  /** `arn:aws:<service>:<region>:<account>:<resource>`. */
  arn(service: string, resource: string, options: { global?: boolean } = {}): string {
    return `arn:aws:${service}:${options.global ? '' : this.region}:${this.accountId}:${resource}`;
  }
}
