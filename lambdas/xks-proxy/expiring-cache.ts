/**
 * A small async cache with an explicit age limit (Powertools Parameters' `maxAge` idea) and one
 * load in flight per key, so that a burst of requests for a cold key costs one lookup. Failed
 * loads are not cached. `undefined` results are cached like any other value (a missing key store
 * stays missing for at most `maxAgeMs`).
 */
export interface ExpiringCacheOptions {
  readonly maxAgeMs: number;
  /** Entries beyond this count evict the oldest; default 10,000. */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

interface Entry<V> {
  readonly expiresAt: number;
  readonly value: Promise<V>;
}

export class ExpiringCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly maxAgeMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: ExpiringCacheOptions) {
    this.maxAgeMs = options.maxAgeMs;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  get(key: string, load: () => Promise<V>): Promise<V> {
    const now = this.now();
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt > now) return entry.value;
    const value = load();
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    const fresh: Entry<V> = { expiresAt: now + this.maxAgeMs, value };
    this.entries.set(key, fresh);
    value.catch(() => {
      if (this.entries.get(key) === fresh) this.entries.delete(key);
    });
    return value;
  }

  invalidate(key: string): void {
    this.entries.delete(key);
  }
}
