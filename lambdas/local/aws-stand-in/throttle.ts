/**
 * Request-rate limits per operation, per account and region, like AWS KMS's request quotas: a
 * token bucket per (account, region, operation) refilled at the configured rate, with one
 * second's worth of burst. A request that finds the bucket empty is answered
 * `ThrottlingException` ("Rate exceeded") and does nothing. No limits are set unless configured.
 */
export interface ThrottleOptions {
  /**
   * Requests per second by operation name (`CreateKey`, `ListKeys`, `AssumeRole`, ...);
   * `'*'` applies to every operation without its own entry.
   */
  readonly requestsPerSecond?: Readonly<Record<string, number>>;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export class Throttle {
  private rates: Readonly<Record<string, number>>;
  private readonly buckets = new Map<string, Bucket>();
  /** How many requests were refused so far (benchmarks print it). */
  throttledCount = 0;

  constructor(
    options: ThrottleOptions = {},
    private readonly nowMs: () => number = Date.now,
  ) {
    this.rates = options.requestsPerSecond ?? {};
  }

  /** Replaces the limits (benchmarks change them between runs). */
  configure(options: ThrottleOptions): void {
    this.rates = options.requestsPerSecond ?? {};
    this.buckets.clear();
  }

  /** True when the request may run; false (and counted) when it is throttled. */
  admit(accountId: string, region: string, operation: string): boolean {
    const rate = this.rates[operation] ?? this.rates['*'];
    if (rate === undefined) return true;
    const key = `${accountId}/${region}/${operation}`;
    const now = this.nowMs();
    const bucket = this.buckets.get(key) ?? { tokens: rate, updatedMs: now };
    bucket.tokens = Math.min(rate, bucket.tokens + ((now - bucket.updatedMs) / 1000) * rate);
    bucket.updatedMs = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) {
      this.throttledCount += 1;
      return false;
    }
    bucket.tokens -= 1;
    return true;
  }
}
