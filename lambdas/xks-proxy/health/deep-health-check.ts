/**
 * The deep health check behind GetHealthStatus, run for each HSM the store's partition reaches
 * (its members, contract/hsm.ts PartitionMember; the partition itself when none are set; for a
 * CloudHSM cluster, see `clusterMembers`): an
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
import type { CloudHsmClusterHsms, CloudHsmHsm } from '../../core/ports/cloudhsm-clusters';
import { MAX_PARTITION_MEMBERS } from '../../contract/hsm';
import { toXksError, XksError } from '../errors';
import { ClusterHsmStates, type ClusterHsmStatesOptions } from './cluster-hsm-states';
import { healthRefreshAfterMs } from './health-timing';

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
export type HealthCheckedStore = Pick<XksKeyStoreView, 'id' | 'healthCheckKey' | 'healthCheckCiphertext' | 'partitionMembers' | 'cloudHsmClusterId'>;

/** Where the HSM states of CloudHSM clusters come from (cluster-hsm-states.ts), and how long to wait for them. */
export type CloudHsmHealthOptions = Omit<ClusterHsmStatesOptions, 'refreshAfterMs' | 'now'> & {
  /** DescribeClusters in the deployment's own account and region (adapters/aws/cloudhsm-sdk.ts SdkCloudHsmClusterHsms). */
  readonly clusters: CloudHsmClusterHsms;
};

export interface DeepHealthCheckOptions {
  /**
   * A check slower than this still passes but reports DEGRADED: the HSM serves, yet too slowly
   * for comfort inside KMS's 250 ms per call. @default 100
   */
  readonly degradedAfterMs?: number;
  /**
   * Lists the HSMs of a store's CloudHSM cluster (`cloudHsmClusterId`) one by one.
   * @default - none: such a partition is one member, the cluster, from its PKCS#11 check alone
   */
  readonly cloudHsm?: CloudHsmHealthOptions;
  /** The health monitor's (health-monitor.ts, the same options object): a cluster's HSM states are read once per refresh period. */
  readonly maxAgeMs?: number;
  readonly refreshAfterMs?: number;
  readonly now?: () => number;
}

/** Whether any member can serve: the store is unhealthy only when none can. */
export function canServe(fleet: FleetHealth): boolean {
  return fleet.members.some((member) => member.status !== 'UNAVAILABLE');
}

/**
 * The members the PKCS#11 check reaches: a CloudHSM cluster's one slot (named by the cluster id),
 * else the members as configured, else the partition itself.
 */
export function membersOf(store: HealthCheckedStore): readonly PartitionMember[] {
  const { partition } = store.healthCheckKey;
  if (store.cloudHsmClusterId !== undefined) return [{ id: store.cloudHsmClusterId, tokenLabel: partition.tokenLabel }];
  return store.partitionMembers ?? [{ id: partition.partitionId, tokenLabel: partition.tokenLabel }];
}

/**
 * One member per HSM of a CloudHSM cluster, from the PKCS#11 check of the cluster's slot and the
 * HSMs' states as DescribeClusters lists them (`undefined`: no answer, see cluster-hsm-states.ts):
 * - an HSM whose state is ACTIVE has the check's status (ACTIVE, or DEGRADED when it was slow);
 *   DEGRADED is DEGRADED; any other state (CREATE_IN_PROGRESS, DELETE_IN_PROGRESS, DELETED) is
 *   UNAVAILABLE;
 * - when the check failed, every HSM is UNAVAILABLE: the client reaches none of them;
 * - the PKCS#11 check is the proof that the store can serve, and the AWS API only says which HSMs
 *   serve it. So when the API did not answer (failed, slow, no such cluster) or lists no HSM that
 *   can serve while the check passed, the cluster is reported as one member (id = cluster id) with
 *   the check's status: an outage of the CloudHSM control plane, or a missing permission or VPC
 *   endpoint, never makes KMS see a serving store as unavailable (the failure goes to
 *   `onLookupFailed`, the log, instead).
 * At most MAX_PARTITION_MEMBERS entries (the spec's limit; a cluster holds up to 28 HSMs).
 */
export function clusterMembers(check: MemberHealth, hsms: readonly CloudHsmHsm[] | undefined): MemberHealth[] {
  if (hsms === undefined || hsms.length === 0) return [check];
  const members = check.status === 'UNAVAILABLE' ? hsms.map((hsm) => ({ ...check, id: hsm.HsmId })) : hsms.map((hsm) => hsmMember(hsm, check));
  if (check.status !== 'UNAVAILABLE' && !members.some((member) => member.status !== 'UNAVAILABLE')) return [check];
  return members.slice(0, MAX_PARTITION_MEMBERS);
}

function hsmMember(hsm: CloudHsmHsm, check: MemberHealth): MemberHealth {
  const { latencyMs } = check;
  if (hsm.State === 'ACTIVE') return { id: hsm.HsmId, status: check.status, latencyMs };
  if (hsm.State === 'DEGRADED') return { id: hsm.HsmId, status: 'DEGRADED', latencyMs };
  const said = hsm.StateMessage ? ` (${hsm.StateMessage})` : '';
  return { id: hsm.HsmId, status: 'UNAVAILABLE', latencyMs, error: new XksError('InternalException', `AWS CloudHSM reports the HSM ${hsm.State ?? 'without a state'}${said}`) };
}

export class DeepHealthCheck {
  private readonly degradedAfterMs: number;
  private readonly now: () => number;
  private readonly clusterHsms?: ClusterHsmStates;
  private readonly onLookupFailed?: (clusterId: string, error: Error) => void;

  constructor(
    private readonly keyCrypto: KeyCrypto,
    options: DeepHealthCheckOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.degradedAfterMs = options.degradedAfterMs ?? 100;
    if (options.cloudHsm) {
      const { clusters, ...cloudHsm } = options.cloudHsm;
      this.clusterHsms = new ClusterHsmStates(clusters, { ...cloudHsm, refreshAfterMs: healthRefreshAfterMs(options), now: options.now });
      this.onLookupFailed = cloudHsm.onLookupFailed;
    }
  }

  /** Every member checked at once; never rejects (a failure is that member's UNAVAILABLE). */
  async checkFleet(store: HealthCheckedStore): Promise<FleetHealth> {
    const checkedAt = this.now();
    const clusterId = store.cloudHsmClusterId;
    if (clusterId !== undefined && this.clusterHsms !== undefined) {
      // The cluster's one slot checked over PKCS#11 while its HSMs' states are read from AWS.
      const [check, listed] = await Promise.all([this.checkMember(store, membersOf(store)[0]), this.clusterHsms.hsmsOf(clusterId)]);
      const members = clusterMembers(check, listed?.hsms);
      if (listed !== undefined && members[0] === check && check.status !== 'UNAVAILABLE') {
        this.onLookupFailed?.(clusterId, new Error(`AWS CloudHSM lists no HSM of ${clusterId} that can serve (${listed.hsms.map((hsm) => `${hsm.HsmId} ${hsm.State ?? '-'}`).join(', ') || 'none'}), yet its PKCS#11 check passed: the cluster is reported as one member`));
      }
      return { checkedAt, members };
    }
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
