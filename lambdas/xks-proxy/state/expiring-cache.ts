/**
 * A small async cache with an explicit age limit (Powertools Parameters' `maxAge` idea) and one
 * load in flight per key, so that a burst of requests for a cold key costs one lookup. It is
 * bounded: beyond `maxEntries` the least recently used entry goes.
 *
 * - A value is never served once `maxAgeMs` have passed since its load started.
 * - With `refreshAfterMs`, a value older than that is still served while a fresh load runs in the
 *   background, so that a busy key never makes requests wait on the source (no latency spike at
 *   each expiry); only a key idle for `maxAgeMs` is loaded while the caller waits.
 * - Failed loads are not cached; after a failed background refresh the current value is served
 *   until its age limit, without further refreshes. `undefined` results are cached like any other value.
 */
export interface ExpiringCacheOptions {
  readonly maxAgeMs: number;
  /** Age from which a value is refreshed in the background; must be below maxAgeMs. @default - no refresh ahead */
  readonly refreshAfterMs?: number;
  /** Entries beyond this count evict the least recently used; default 10,000. */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

interface Entry<V> {
  /** When the load of this value started. */
  readonly loadedAt: number;
  readonly value: Promise<V>;
  /** The value once it has arrived (what `peek` answers without waiting). */
  arrived?: { readonly value: V };
  refreshing: boolean;
}

export class ExpiringCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  /** The key last in the map's order: using it again needs no reordering (a busy store and key hit it on every request). */
  private mostRecentKey?: string;
  private readonly maxAgeMs: number;
  private readonly refreshAfterMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: ExpiringCacheOptions) {
    this.maxAgeMs = options.maxAgeMs;
    this.refreshAfterMs = options.refreshAfterMs ?? Number.POSITIVE_INFINITY;
    if (this.refreshAfterMs >= this.maxAgeMs && options.refreshAfterMs !== undefined) {
      throw new Error(`refreshAfterMs ${this.refreshAfterMs} must be below maxAgeMs ${this.maxAgeMs}`);
    }
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  get(key: string, load: () => Promise<V>): Promise<V> {
    const now = this.now();
    const entry = this.entries.get(key);
    if (entry && now - entry.loadedAt < this.maxAgeMs) {
      this.touch(key, entry);
      if (entry.arrived && !entry.refreshing && now - entry.loadedAt >= this.refreshAfterMs) this.refresh(key, entry, load, now);
      return entry.value;
    }
    return this.store(key, load, now).value;
  }

  /**
   * `get` for a value that has already arrived, answered at once (no promise, nothing to wait
   * for): the same age limit, LRU use and refresh ahead. Undefined when there is none yet; the
   * caller then uses `get`.
   */
  peek(key: string, load: () => Promise<V>): { readonly value: V } | undefined {
    const entry = this.entries.get(key);
    if (entry?.arrived === undefined) return undefined;
    const now = this.now();
    if (now - entry.loadedAt >= this.maxAgeMs) return undefined;
    this.touch(key, entry);
    if (!entry.refreshing && now - entry.loadedAt >= this.refreshAfterMs) this.refresh(key, entry, load, now);
    return entry.arrived;
  }

  /** Whether a value (or a load) for the key is within its age limit. Does not count as a use. */
  has(key: string): boolean {
    const entry = this.entries.get(key);
    return entry !== undefined && this.now() - entry.loadedAt < this.maxAgeMs;
  }

  /** Stores a value that arrived by another way than `get`'s load. */
  set(key: string, value: V): void {
    this.insert(key, { loadedAt: this.now(), value: Promise.resolve(value), arrived: { value }, refreshing: false });
  }

  invalidate(key: string): void {
    this.entries.delete(key);
    if (key === this.mostRecentKey) this.mostRecentKey = undefined;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Most recently used last: a Map iterates in insertion order, so re-inserting is the LRU bookkeeping. */
  private touch(key: string, entry: Entry<V>): void {
    if (key === this.mostRecentKey) return;
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.mostRecentKey = key;
  }

  private insert(key: string, entry: Entry<V>): void {
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const leastRecentlyUsed = this.entries.keys().next();
      if (!leastRecentlyUsed.done) this.entries.delete(leastRecentlyUsed.value);
    }
    this.entries.set(key, entry);
    this.mostRecentKey = key;
  }

  private store(key: string, load: () => Promise<V>, now: number): Entry<V> {
    const fresh: Entry<V> = { loadedAt: now, value: load(), refreshing: false };
    this.insert(key, fresh);
    fresh.value.then(
      (value) => {
        fresh.arrived = { value };
      },
      () => {
        if (this.entries.get(key) === fresh) this.invalidate(key);
      },
    );
    return fresh;
  }

  /** Loads in the background; the new value replaces the current one only once it has arrived. */
  private refresh(key: string, current: Entry<V>, load: () => Promise<V>, now: number): void {
    current.refreshing = true;
    load().then(
      (value) => {
        if (this.entries.get(key) !== current) return;
        this.entries.set(key, { loadedAt: now, value: Promise.resolve(value), arrived: { value }, refreshing: false });
      },
      () => {
        // Left marked as refreshing: no retry at request rate against a failing source; the
        // value expires at its age limit and the next caller then loads (and sees the failure).
      },
    );
  }
}
