/** A token bucket's size and how many tokens it gains per second. */
export interface BucketSpec {
  capacity: number;
  refillPerSecond: number;
}

/** Decides which bucket a call draws from (undefined: not rate limited). */
export type BucketPolicy = (command: string, input: unknown) => { key: string; spec: BucketSpec } | undefined;

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * A token-bucket rate limiter: each bucket starts full, every call takes one token, tokens
 * come back continuously at the refill rate up to the capacity, and a call that finds
 * fewer than one token is refused. Time is real (`Date.now`, so vitest fake timers move
 * it) because the caller's back-off and retries wait in real time.
 */
export class TokenBucketLimiter {
  private buckets = new Map<string, Bucket>();

  constructor(
    readonly policy: BucketPolicy,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Takes a token for the call; false when the bucket is empty. */
  tryTake(command: string, input: unknown): boolean {
    const choice = this.policy(command, input);
    if (!choice) return true;
    const now = this.now();
    let bucket = this.buckets.get(choice.key);
    if (!bucket) {
      bucket = { tokens: choice.spec.capacity, updatedAt: now };
      this.buckets.set(choice.key, bucket);
    }
    const elapsed = Math.max(0, now - bucket.updatedAt) / 1000;
    bucket.tokens = Math.min(choice.spec.capacity, bucket.tokens + elapsed * choice.spec.refillPerSecond);
    bucket.updatedAt = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Tokens left in a bucket (for tests and benchmarks). */
  tokens(key: string): number | undefined {
    return this.buckets.get(key)?.tokens;
  }

  reset(): void {
    this.buckets.clear();
  }
}

/** One bucket per command, all the same size. */
export function perCommandBuckets(spec: BucketSpec): BucketPolicy {
  return (command) => ({ key: command, spec });
}
