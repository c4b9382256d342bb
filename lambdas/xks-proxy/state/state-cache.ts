/**
 * The proxy's view of control-plane state, cached in the container. Block, unblock and
 * credential deletion take effect within `maxAgeMs` (≤ 5 s, README "Architecture", XKS hot path). A busy
 * container re-reads a key store / key in the background every `maxAgeMs / 2`, so requests do
 * not wait on DynamoDB; an idle one reads it when the next request comes.
 *
 * Strangers: a request reaches this cache only once its signature headers have the right shape
 * (auth/sigv4.ts `checkShape`), but anybody can forge that shape. So key stores that exist and
 * ids that name none are kept in two separate bounded LRU caches (a flood of unknown ids can only
 * evict other unknown ids, never a store in use), and reads for ids in neither are drawn from a
 * token bucket (`unknownReadsPerSecond`): past it the proxy answers ThrottlingException without a
 * read, so the reads a flood costs are bounded by the bucket, whatever its size.
 */
import type { XksKeyStoreView, XksKeyView, XksStateIds, XksStateSource } from '../../core/ports/xks-state-source';
import { XksError } from '../errors';
import { ExpiringCache } from './expiring-cache';
import { TokenBucket } from '../../core/token-bucket';

/** The longest staleness the design allows. */
export const MAX_STATE_AGE_MS = 5_000;

export interface CachedXksStateSourceOptions {
  /** @default 4_000 (must not exceed MAX_STATE_AGE_MS) */
  readonly maxAgeMs?: number;
  /** Key stores, keys and unknown store ids kept, each. @default 10_000 */
  readonly maxEntries?: number;
  /**
   * State reads per second (and burst) for store ids that are not cached: the first request of a
   * new key store, and every id a stranger makes up. @default 100
   */
  readonly unknownReadsPerSecond?: number;
  readonly now?: () => number;
}

const NO_KEY_STORE = { value: undefined } as const;

export class CachedXksStateSource implements XksStateSource {
  /** How long a view is kept; 0: every lookup reads the source. */
  readonly maxAgeMs: number;
  private readonly keyStores: ExpiringCache<XksKeyStoreView | undefined>;
  private readonly unknownStoreIds: ExpiringCache<undefined>;
  private readonly keys: ExpiringCache<XksKeyView | undefined>;
  private readonly unknownReads: TokenBucket;

  constructor(
    private readonly source: XksStateSource,
    options: CachedXksStateSourceOptions = {},
  ) {
    const maxAgeMs = options.maxAgeMs ?? 4_000;
    this.maxAgeMs = maxAgeMs;
    if (maxAgeMs > MAX_STATE_AGE_MS) throw new Error(`state cache maxAgeMs ${maxAgeMs} exceeds ${MAX_STATE_AGE_MS} ms`);
    const maxEntries = options.maxEntries ?? 10_000;
    // Refreshed in the background from half the age limit on, so a busy store never waits on DynamoDB.
    const refreshAfterMs = maxAgeMs > 0 ? maxAgeMs / 2 : undefined;
    this.keyStores = new ExpiringCache({ maxAgeMs, refreshAfterMs, maxEntries, now: options.now });
    this.unknownStoreIds = new ExpiringCache({ maxAgeMs, maxEntries, now: options.now });
    this.keys = new ExpiringCache({ maxAgeMs, refreshAfterMs, maxEntries, now: options.now });
    const rate = options.unknownReadsPerSecond ?? 100;
    this.unknownReads = new TokenBucket({ capacity: rate, refillPerSecond: rate, now: options.now });
  }

  async getKeyStore(keyStoreId: string): Promise<XksKeyStoreView | undefined> {
    if (this.unknownStoreIds.has(keyStoreId)) return undefined;
    const store = await this.keyStores.get(keyStoreId, () => this.readKeyStore(keyStoreId));
    if (store === undefined) {
      this.keyStores.invalidate(keyStoreId);
      this.unknownStoreIds.set(keyStoreId, undefined);
    }
    return store;
  }

  getKey(keyStoreId: string, externalKeyId: string): Promise<XksKeyView | undefined> {
    return this.keys.get(`${keyStoreId}/${externalKeyId}`, () => this.source.getKey(keyStoreId, externalKeyId));
  }

  /**
   * What `getKeyStore` would answer, when the cache holds it (a fresh view, or an id known to
   * name no store): answered at once, so the request neither waits nor races a timer. Undefined
   * when only `getKeyStore` can tell.
   */
  cachedKeyStore(keyStoreId: string): { readonly value: XksKeyStoreView | undefined } | undefined {
    if (this.unknownStoreIds.has(keyStoreId)) return NO_KEY_STORE;
    const cached = this.keyStores.peek(keyStoreId, () => this.readKeyStore(keyStoreId));
    // A read that found nothing is moved to the unknown ids by getKeyStore.
    return cached?.value === undefined ? undefined : cached;
  }

  /** What `getKey` would answer, when the cache holds it; undefined when only `getKey` can tell. */
  cachedKey(keyStoreId: string, externalKeyId: string): { readonly value: XksKeyView | undefined } | undefined {
    return this.keys.peek(`${keyStoreId}/${externalKeyId}`, () => this.source.getKey(keyStoreId, externalKeyId));
  }

  listIds(): Promise<XksStateIds> {
    return this.source.listIds();
  }

  /** Init-phase warm-up: reads the store into the cache without spending from the unknown-id budget. */
  async preloadKeyStore(keyStoreId: string): Promise<XksKeyStoreView | undefined> {
    const store = await this.source.getKeyStore(keyStoreId);
    if (store) this.keyStores.set(keyStoreId, store);
    return store;
  }

  /** A first read (not a background refresh of a store in the cache) spends from the bucket. */
  private readKeyStore(keyStoreId: string): Promise<XksKeyStoreView | undefined> {
    if (!this.keyStores.has(keyStoreId) && !this.unknownReads.take()) {
      return Promise.reject(new XksError('ThrottlingException', 'Too many requests for key stores this proxy has not seen; retry later'));
    }
    return this.source.getKeyStore(keyStoreId);
  }
}
