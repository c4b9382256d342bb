/**
 * GetKeyStoreHealth (CCKM's "Check Health Status of External Custom Key Store"): an
 * unauthenticated deep check of a key store — an AES-GCM encrypt and decrypt with its health-check
 * key inside the HSM, and a decrypt of the store's health-check ciphertext (which proves the key is
 * still the one that was set), through the HSM agent (management functions never load PKCS#11). At most
 * `RATE_PER_SECOND` checks per key store per instance; beyond that TooManyRequestsError (429).
 */
import { ConflictError, DependencyError, NotFoundError, TooManyRequestsError } from '../errors';
import type { HsmAgent } from '../ports/hsm';
import type { PartitionTestResult } from '../../contract/hsm';
import { TokenBucket } from '../token-bucket';
import { openHealthCheckCiphertext } from './health-check-ciphertext';
import type { XksStateSource } from '../ports/xks-state-source';

export interface KeyStoreHealthOptions {
  /** Milliseconds since the epoch. @default Date.now */
  readonly now?: () => number;
}

/** The seeds' limit: two requests per second per key store (per node). */
const RATE_PER_SECOND = 2;

/** The deep check's outcome for the log (never sent: it names HSM failures). */
export interface KeyStoreHealthFailure {
  readonly keyStoreId: string;
  readonly result: PartitionTestResult;
}

const MAX_TRACKED_STORES = 10_000;

export class KeyStoreHealthService {
  private readonly now: () => number;
  /** Token bucket per key store id, the least recently created dropped beyond MAX_TRACKED_STORES. */
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly keyStores: XksStateSource,
    private readonly hsmAgent: HsmAgent,
    options: KeyStoreHealthOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Resolves when the store is healthy. The rate limit is applied first, so a flood of requests
   * (the route is public) reaches neither the state table nor the HSM.
   */
  async check(keyStoreId: string): Promise<void> {
    this.take(keyStoreId);
    const store = await this.keyStores.getKeyStore(keyStoreId);
    if (!store) throw new NotFoundError('Key store', keyStoreId);
    if (store.blocked) throw new ConflictError(`Key store ${JSON.stringify(keyStoreId)} is blocked`);
    const { healthCheckKey, healthCheckCiphertext } = store;
    const [roundTrip, stored] = await Promise.all([
      this.hsmAgent.checkKey(healthCheckKey),
      healthCheckCiphertext === undefined ? undefined : openHealthCheckCiphertext(this.hsmAgent, healthCheckKey, store.id, healthCheckCiphertext),
    ]);
    const result = stored === undefined || !roundTrip.ready ? roundTrip : stored;
    if (!result.ready) {
      throw new DependencyError('The key store did not pass the health check with its health-check key', {
        cause: { keyStoreId, result } satisfies KeyStoreHealthFailure,
      });
    }
  }

  private take(keyStoreId: string): void {
    let bucket = this.buckets.get(keyStoreId);
    if (!bucket) {
      if (this.buckets.size >= MAX_TRACKED_STORES) {
        const oldest = this.buckets.keys().next();
        if (!oldest.done) this.buckets.delete(oldest.value);
      }
      bucket = new TokenBucket({ capacity: RATE_PER_SECOND, refillPerSecond: RATE_PER_SECOND, now: this.now });
      this.buckets.set(keyStoreId, bucket);
    }
    if (!bucket.take()) throw new TooManyRequestsError(`At most ${RATE_PER_SECOND} health checks per second per key store`);
  }
}
