/**
 * The model's virtual clock. Resource timestamps, ECS task lifecycles, target health checks,
 * Object Lock retention and backup jobs all read it, so a test moves time forward with
 * `model.advance(ms)` instead of waiting. It starts at a fixed instant so runs are
 * reproducible. (Latency, SDK retry back-off and the token-bucket rate limiter use real
 * time, because they model waiting the caller really does.)
 */
export class VirtualClock {
  private current: number;

  constructor(private readonly start = Date.UTC(2025, 0, 6, 9, 0, 0)) {
    this.current = start;
  }

  /** Milliseconds since the epoch, virtual. */
  now(): number {
    return this.current;
  }

  /** The current virtual time as a Date. */
  date(): Date {
    return new Date(this.current);
  }

  /** Moves the clock forward (never backward). */
  set(ms: number): void {
    if (ms < this.current) throw new RangeError('the virtual clock never goes backward');
    this.current = ms;
  }

  reset(): void {
    this.current = this.start;
  }
}
