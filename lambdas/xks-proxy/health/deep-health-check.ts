/**
 * The deep health check behind GetHealthStatus, run for each HSM the store's partition reaches
 * (its members, contract/hsm.ts PartitionMember; the partition itself when none are set): an
 * AES-GCM encrypt and decrypt inside that HSM with the store's health-check key (never a KMS key,
 * as the spec asks), so that ACTIVE means an encrypt or decrypt right after would succeed, and a
 * decrypt of the store's health-check ciphertext (core/key-stores/health-check-ciphertext.ts), so
 * that a different key under the health-check key's CKA_ID fails the check. Each PKCS#11 call has
 * the adapter's own budget (the proxy's 200 ms): an HSM slower than that could not serve KMS.
 *
 * When results are taken and how fresh they are kept is health-monitor.ts's business.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { HsmError, type KeyCrypto } from '../../core/ports/hsm';
import type { HsmKeyRef, PartitionMember } from '../../contract/hsm';
import type { XksKeyStoreView } from '../../core/ports/xks-state-source';
import { openHealthCheckCiphertext } from '../../core/key-stores/health-check-ciphertext';
import { toXksError, XksError } from '../errors';

export type EkmHealthStatus = 'ACTIVE' | 'DEGRADED' | 'UNAVAILABLE';

/** One member's outcome. `error` (UNAVAILABLE only) is for the log, never for the response. */
export interface MemberHealth {
  readonly id: string;
  readonly status: EkmHealthStatus;
  readonly latencyMs: number;
  readonly error?: XksError;
}

/** One check of every member of the store's partition. */
export interface FleetHealth {
  /** When the check started (epoch ms): its age is counted from here. */
  readonly checkedAt: number;
  readonly members: readonly MemberHealth[];
}

/** What a check needs of the store. */
export type HealthCheckedStore = Pick<XksKeyStoreView, 'id' | 'healthCheckKey' | 'healthCheckCiphertext' | 'partitionMembers'>;

export interface DeepHealthCheckOptions {
  /**
   * A check slower than this still passes but reports DEGRADED: the HSM serves, yet too slowly
   * for comfort inside KMS's 250 ms per call. @default 100
   */
  readonly degradedAfterMs?: number;
  readonly now?: () => number;
}

/** Whether any member can serve: the store is unhealthy only when none can. */
export function canServe(fleet: FleetHealth): boolean {
  return fleet.members.some((member) => member.status !== 'UNAVAILABLE');
}

/** The members the check reaches: as configured, else the partition itself. */
export function membersOf(store: HealthCheckedStore): readonly PartitionMember[] {
  const { partition } = store.healthCheckKey;
  return store.partitionMembers ?? [{ id: partition.partitionId, tokenLabel: partition.tokenLabel }];
}

export class DeepHealthCheck {
  private readonly degradedAfterMs: number;
  private readonly now: () => number;

  constructor(
    private readonly keyCrypto: KeyCrypto,
    options: DeepHealthCheckOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.degradedAfterMs = options.degradedAfterMs ?? 100;
  }

  /** Every member checked at once; never rejects (a failure is that member's UNAVAILABLE). */
  async checkFleet(store: HealthCheckedStore): Promise<FleetHealth> {
    const checkedAt = this.now();
    const members = await Promise.all(membersOf(store).map((member) => this.checkMember(store, member)));
    return { checkedAt, members };
  }

  private async checkMember(store: HealthCheckedStore, member: PartitionMember): Promise<MemberHealth> {
    const started = this.now();
    // The member's own token, with the partition's PIN and the health-check key's CKA_ID.
    const { partition, objectId } = store.healthCheckKey;
    const key: HsmKeyRef = member.tokenLabel === partition.tokenLabel ? store.healthCheckKey : { partition: { ...partition, tokenLabel: member.tokenLabel }, objectId };
    try {
      const plaintext = randomBytes(32);
      const aad = randomBytes(16);
      const sealed = await this.keyCrypto.encrypt(key, plaintext, aad);
      const opened = await this.keyCrypto.decrypt(key, sealed, aad);
      if (opened.length !== plaintext.length || !timingSafeEqual(opened, plaintext)) {
        throw new HsmError('DEVICE_ERROR', undefined, 'the health-check decrypt returned a different plaintext');
      }
      if (store.healthCheckCiphertext !== undefined) {
        const stored = await openHealthCheckCiphertext(this.keyCrypto, key, store.id, store.healthCheckCiphertext);
        if (!stored.ready) throw new HsmError('KEY_NOT_FOUND', undefined, `the health-check key is not the one that was set: ${stored.message}`);
      }
      const latencyMs = this.now() - started;
      return { id: member.id, status: latencyMs > this.degradedAfterMs ? 'DEGRADED' : 'ACTIVE', latencyMs };
    } catch (error) {
      return { id: member.id, status: 'UNAVAILABLE', latencyMs: this.now() - started, error: healthError(error) };
    }
  }
}

/** What a failed check is called in the log: the HSM's timeout, or InternalException (a missing or refusing key included). */
function healthError(error: unknown): XksError {
  const mapped = toXksError(error);
  if (mapped.errorName === 'DependencyTimeoutException' || mapped.errorName === 'InternalException') return mapped;
  return new XksError('InternalException', 'The deep health check with the key store\'s health-check key failed', { cause: error });
}
