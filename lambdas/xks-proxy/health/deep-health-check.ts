/**
 * The deep health check behind GetHealthStatus: an AES-GCM encrypt and decrypt inside the HSM
 * with the store's health-check key (never a KMS key, as the spec asks), so that a 200 means an
 * encrypt or decrypt right after would succeed, and a decrypt of the store's health-check
 * ciphertext (core/key-stores/health-check-ciphertext.ts), so that a different key under the
 * health-check key's CKA_ID fails the check. A passing result is reused for at most
 * `maxAgeMs` (the spec allows one minute); a failing one is not cached, so recovery shows at once.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { HsmError, type KeyCrypto } from '../../core/ports/hsm';
import type { XksKeyStoreView } from '../../core/ports/xks-state-source';
import { openHealthCheckCiphertext } from '../../core/key-stores/health-check-ciphertext';
import { toXksError, XksError } from '../errors';
import { ExpiringCache } from '../state/expiring-cache';

/** The spec: a cached result MUST NOT be older than one minute. */
export const MAX_HEALTH_AGE_MS = 60_000;

export type EkmHealthStatus = 'ACTIVE' | 'DEGRADED' | 'UNAVAILABLE';

export type HealthResult =
  | { readonly ok: true; readonly status: EkmHealthStatus; readonly latencyMs: number }
  | { readonly ok: false; readonly error: XksError };

/** What a check needs of the store. */
export type HealthCheckedStore = Pick<XksKeyStoreView, 'id' | 'healthCheckKey' | 'healthCheckCiphertext'>;

export interface DeepHealthCheckOptions {
  /** @default 30_000 */
  readonly maxAgeMs?: number;
  /**
   * A check slower than this still passes but reports DEGRADED: the HSM serves, yet too slowly
   * for comfort inside KMS's 250 ms per call. @default 100
   */
  readonly degradedAfterMs?: number;
  readonly now?: () => number;
  /** Told the outcome of every check actually run (not of cached answers): metrics. */
  readonly onResult?: (passed: boolean) => void;
}

export class DeepHealthCheck {
  private readonly cache: ExpiringCache<HealthResult>;
  private readonly degradedAfterMs: number;
  private readonly now: () => number;
  private readonly onResult?: (passed: boolean) => void;

  constructor(
    private readonly keyCrypto: KeyCrypto,
    options: DeepHealthCheckOptions = {},
  ) {
    const maxAgeMs = options.maxAgeMs ?? 30_000;
    if (maxAgeMs > MAX_HEALTH_AGE_MS) throw new Error(`health cache maxAgeMs ${maxAgeMs} exceeds ${MAX_HEALTH_AGE_MS} ms`);
    this.now = options.now ?? Date.now;
    this.cache = new ExpiringCache({ maxAgeMs, now: this.now });
    this.degradedAfterMs = options.degradedAfterMs ?? 100;
    this.onResult = options.onResult;
  }

  async check(store: HealthCheckedStore): Promise<HealthResult> {
    const key = store.healthCheckKey;
    const cacheKey = `${key.partition.partitionId}\n${key.partition.tokenLabel}\n${key.objectId}\n${store.id}\n${store.healthCheckCiphertext ?? ''}`;
    const result = await this.cache.get(cacheKey, async () => {
      const outcome = await this.run(store);
      this.onResult?.(outcome.ok);
      return outcome;
    });
    if (!result.ok) this.cache.invalidate(cacheKey);
    return result;
  }

  private async run({ id, healthCheckKey: key, healthCheckCiphertext }: HealthCheckedStore): Promise<HealthResult> {
    const started = this.now();
    try {
      const plaintext = randomBytes(32);
      const aad = randomBytes(16);
      const sealed = await this.keyCrypto.encrypt(key, plaintext, aad);
      const opened = await this.keyCrypto.decrypt(key, sealed, aad);
      if (opened.length !== plaintext.length || !timingSafeEqual(opened, plaintext)) {
        throw new HsmError('DEVICE_ERROR', undefined, 'the health-check decrypt returned a different plaintext');
      }
      if (healthCheckCiphertext !== undefined) {
        const stored = await openHealthCheckCiphertext(this.keyCrypto, key, id, healthCheckCiphertext);
        if (!stored.ready) throw new HsmError('KEY_NOT_FOUND', undefined, `the health-check key is not the one that was set: ${stored.message}`);
      }
      const latencyMs = this.now() - started;
      return { ok: true, status: latencyMs > this.degradedAfterMs ? 'DEGRADED' : 'ACTIVE', latencyMs };
    } catch (error) {
      return { ok: false, error: healthError(error) };
    }
  }
}

/**
 * GetHealthStatus may only answer the errors the spec lists for it: a health-check key that is
 * missing or refuses the operation means the key manager cannot serve, i.e. InternalException.
 */
function healthError(error: unknown): XksError {
  const mapped = toXksError(error);
  if (mapped.errorName === 'DependencyTimeoutException' || mapped.errorName === 'InternalException') return mapped;
  return new XksError('InternalException', 'The deep health check with the key store\'s health-check key failed', { cause: error });
}
