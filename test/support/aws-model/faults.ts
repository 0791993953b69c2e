import type { ServiceName } from './service-names';

/**
 * What an injected fault does to a matching call.
 * - `throttle`: the service's throttling error (EC2 `RequestLimitExceeded`, ...).
 * - `server`: a 5xx with `$fault: 'server'`.
 * - `timeout`: with `timeoutMs`, a `TimeoutError` after that many real milliseconds;
 *   without, the call never answers until its abort signal fires (or the model resets).
 * - `denied`: the service's authorization failure (EC2 `UnauthorizedOperation`, ...).
 * - `stale`: a read answered from the service's state as it was before its last write.
 * - `error`: any error code the test names in `code` (partial failures).
 */
export type FaultKind = 'throttle' | 'server' | 'timeout' | 'denied' | 'stale' | 'error';

/** A fault rule: which calls it matches and what it does to them. */
export interface FaultSpec {
  service: ServiceName;
  /** Command name without the `Command` suffix, a pattern, or omitted for every command. */
  command?: string | RegExp;
  kind: FaultKind;
  /** How many matching calls it affects; default unlimited (a `stale` fault: 1). */
  times?: number;
  /** Let this many matching calls through before the fault starts. */
  skip?: number;
  /**
   * Dormant until a call to this command of the same service has succeeded: a `stale` read
   * right after a write (ECS: "The Amazon ECS API follows an eventual consistency model ...
   * the result of an API command you run that affects your Amazon ECS resources might not
   * be immediately visible to all subsequent commands you run").
   */
  afterCommand?: string;
  /** Only calls whose input satisfies this predicate match. */
  when?: (input: unknown) => boolean;
  /** For `timeout`: reject with a TimeoutError after this many real milliseconds. */
  timeoutMs?: number;
  /** For `error` (or to override the default code of other kinds). */
  code?: string;
  message?: string;
  status?: number;
  /** Extra members on the error. */
  fields?: Record<string, unknown>;
  /** Carry out the call, then fail it: the change is made but the caller never hears. */
  afterCommit?: boolean;
}

/** A registered fault; `remove()` ends it early. */
export interface Fault extends FaultSpec {
  readonly id: number;
  /** How many calls it has affected so far. */
  fired: number;
  /** How many matching calls it has let through because of `skip`. */
  skipped: number;
  remove(): void;
}

/** The model's fault rules (`model.faults`). */
export class FaultRegistry {
  private faults: Fault[] = [];
  private nextId = 1;
  /** `service:command` of every call that succeeded (arms `afterCommand` faults). */
  private succeeded = new Set<string>();

  /** The model tells the registry each call that succeeded. */
  noteSuccess(service: ServiceName, command: string): void {
    this.succeeded.add(`${service}:${command}`);
  }

  /** Registers a fault; it applies to attempts (so the SDK's retries consume `times`). */
  add(spec: FaultSpec): Fault {
    const fault: Fault = {
      ...spec,
      times: spec.times ?? (spec.kind === 'stale' ? 1 : Number.POSITIVE_INFINITY),
      id: this.nextId++,
      fired: 0,
      skipped: 0,
      remove: () => this.remove(fault.id),
    };
    this.faults.push(fault);
    return fault;
  }

  remove(id: number): void {
    this.faults = this.faults.filter((f) => f.id !== id);
  }

  clear(): void {
    this.faults = [];
  }

  /** Forgets which calls succeeded (the model's reset). */
  resetHistory(): void {
    this.succeeded.clear();
  }

  /** The faults still registered. */
  list(): readonly Fault[] {
    return this.faults;
  }

  /**
   * The first fault that fires for this call, counting it. A `stale` fault only matches
   * reads; every other kind matches reads and writes.
   */
  take(service: ServiceName, command: string, input: unknown, mutating: boolean): Fault | undefined {
    for (const fault of this.faults) {
      if (fault.service !== service) continue;
      if (fault.command !== undefined) {
        const ok = typeof fault.command === 'string' ? fault.command === command : fault.command.test(command);
        if (!ok) continue;
      }
      if (fault.kind === 'stale' && mutating) continue;
      if (fault.afterCommand && !this.succeeded.has(`${service}:${fault.afterCommand}`)) continue;
      if (fault.when && !fault.when(input)) continue;
      if (fault.skipped < (fault.skip ?? 0)) {
        fault.skipped++;
        continue;
      }
      fault.fired++;
      if (fault.fired >= (fault.times ?? Number.POSITIVE_INFINITY)) this.remove(fault.id);
      return fault;
    }
    return undefined;
  }
}
