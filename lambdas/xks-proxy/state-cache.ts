/**
 * The proxy's view of control-plane state, cached in the container. Block, unblock and
 * credential deletion take effect within `maxAgeMs` (≤ 5 s, design.md "The XKS hot path"), and a
 * warm container reads DynamoDB at most once per key store / key per `maxAgeMs`.
 */
import type { XksKeyStoreView, XksKeyView, XksStateSource } from '../core/xks-state';
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
    this.keyStores = new ExpiringCache({ maxAgeMs, now: options.now });
    this.keys = new ExpiringCache({ maxAgeMs, now: options.now });
  }

  getKeyStore(keyStoreId: string): Promise<XksKeyStoreView | undefined> {
    return this.keyStores.get(keyStoreId, () => this.source.getKeyStore(keyStoreId));
  }

  getKey(keyStoreId: string, externalKeyId: string): Promise<XksKeyView | undefined> {
    return this.keys.get(`${keyStoreId}/${externalKeyId}`, () => this.source.getKey(keyStoreId, externalKeyId));
  }
}
