/** A token bucket: `take` succeeds while tokens remain; they come back at `refillPerSecond`, up to `capacity`. */
export interface TokenBucketOptions {
  readonly capacity: number;
  readonly refillPerSecond: number;
  readonly now?: () => number;
}

export class TokenBucket {
  private tokens: number;
  private updatedAt: number;
  private readonly now: () => number;

  constructor(private readonly options: TokenBucketOptions) {
    if (!(options.capacity > 0) || !(options.refillPerSecond > 0)) throw new Error('a token bucket needs a capacity and a refill rate above zero');
    this.now = options.now ?? Date.now;
    this.tokens = options.capacity;
    this.updatedAt = this.now();
  }

  take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.options.capacity, this.tokens + ((now - this.updatedAt) / 1000) * this.options.refillPerSecond);
    this.updatedAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
