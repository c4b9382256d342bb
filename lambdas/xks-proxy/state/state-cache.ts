/**
 * The proxy's view of control-plane state, cached in the container. Block, unblock and
 * credential deletion take effect within `maxAgeMs` (≤ 5 s, design.md "The XKS hot path"). A busy
 * container re-reads a key store / key in the background every `maxAgeMs / 2`, so requests do
 * not wait on DynamoDB; an idle one reads it when the next request comes.
 */
import type { XksKeyStoreView, XksKeyView, XksStateSource } from '../../core/ports/xks-state-source';
import { ExpiringCache } from './expiring-cache';

/** The longest staleness the design allows. */
export const MAX_STATE_AGE_MS = 5_000;

export interface CachedXksStateSourceOptions {
  /** @default 4_000 (must not exceed MAX_STATE_AGE_MS) */
  readonly maxAgeMs?: number;
  readonly now?: () => number;
}

export class CachedXksStateSource implements XksStateSource {
  private readonly keyStores: ExpiringCache<XksKeyStoreView | undefined>;
  private readonly keys: ExpiringCache<XksKeyView | undefined>;

  constructor(
    private readonly source: XksStateSource,
    options: CachedXksStateSourceOptions = {},
  ) {
    const maxAgeMs = options.maxAgeMs ?? 4_000;
    if (maxAgeMs > MAX_STATE_AGE_MS) throw new Error(`state cache maxAgeMs ${maxAgeMs} exceeds ${MAX_STATE_AGE_MS} ms`);
    // Refreshed in the background from half the age limit on, so a busy store never waits on DynamoDB.
    const refreshAfterMs = maxAgeMs > 0 ? maxAgeMs / 2 : undefined;
    this.keyStores = new ExpiringCache({ maxAgeMs, refreshAfterMs, now: options.now });
    this.keys = new ExpiringCache({ maxAgeMs, refreshAfterMs, now: options.now });
  }

  getKeyStore(keyStoreId: string): Promise<XksKeyStoreView | undefined> {
    return this.keyStores.get(keyStoreId, () => this.source.getKeyStore(keyStoreId));
  }

  getKey(keyStoreId: string, externalKeyId: string): Promise<XksKeyView | undefined> {
    return this.keys.get(`${keyStoreId}/${externalKeyId}`, () => this.source.getKey(keyStoreId, externalKeyId));
  }
}
