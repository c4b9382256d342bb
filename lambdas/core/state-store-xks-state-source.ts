/**
 * `XksStateSource` over the control plane's StateStore: what the XKS proxy needs about a key store
 * and an HYOK key, flattened. Every read is a consistent `get` (never a list), so a block, unblock,
 * rotation or credential deletion is visible on the next call. No caching here: the proxy wraps this
 * in its own bounded-staleness cache (xks-proxy/state-cache.ts).
 *
 * Reads per call: getKeyStore = store + partition + health-check key (3 gets, 2 in parallel);
 * getKey = HYOK key + virtual key + partition (3 gets, 2 in parallel).
 */
import type { HsmKeyRef } from '../contract/hsm';
import { EXTERNAL_KEY_ID_PATTERN, type HyokKeyData } from './keys/aws-key';
import { type HsmKeyData, hsmKeyRef } from './hsm/hsm-key';
import type { KeyStoreData } from './key-stores/key-store';
import { partitionConnection, partitionMembers, type PartitionData } from './hsm/partition';
import { currentVersion, type VirtualKeyData } from './keys/virtual-key';
import { secretNames } from './secret-names';
import type { StateStore } from './ports/state-store';
import type { XksKeyStoreView, XksKeyView, XksStateIds, XksStateSource } from './ports/xks-state-source';

/** State that references a record that is gone: cannot happen while the counters hold; reported, never guessed around. */
export class InconsistentStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InconsistentStateError';
  }
}

export class StateStoreXksStateSource implements XksStateSource {
  constructor(private readonly state: StateStore) {}

  /** Two list reads: every key store and every HYOK key (the external key id is the HYOK key's id). */
  async listIds(): Promise<XksStateIds> {
    const [stores, keys] = await Promise.all([this.state.list<KeyStoreData>('keyStore'), this.state.list<HyokKeyData>('awsKey')]);
    return {
      keyStoreIds: stores.map((store) => store.id),
      keys: keys.filter((key) => EXTERNAL_KEY_ID_PATTERN.test(key.id)).map((key) => ({ keyStoreId: key.data.keyStoreId, externalKeyId: key.id })),
    };
  }

  async getKeyStore(keyStoreId: string): Promise<XksKeyStoreView | undefined> {
    const store = await this.state.get<KeyStoreData>('keyStore', keyStoreId);
    if (store === undefined) return undefined;
    const { data } = store;
    const [partition, healthCheckKey] = await Promise.all([
      this.state.get<PartitionData>('partition', data.partitionId),
      this.state.get<HsmKeyData>('hsmKey', data.healthCheckKeyId),
    ]);
    if (partition === undefined) throw new InconsistentStateError(`key store ${keyStoreId}: HSM partition ${data.partitionId} is missing`);
    if (healthCheckKey === undefined) throw new InconsistentStateError(`key store ${keyStoreId}: health-check key ${data.healthCheckKeyId} is missing`);
    const connection = partitionConnection(partition.id, partition.data);
    return {
      id: store.id,
      name: data.name,
      region: data.region,
      blocked: data.blocked,
      mtlsEnabled: data.mtlsEnabled,
      ...(data.mtlsClientSubjectCn === undefined ? {} : { mtlsClientSubjectCn: data.mtlsClientSubjectCn }),
      enableSuccessAuditEvent: data.enableSuccessAuditEvent,
      partition: connection,
      partitionMembers: partitionMembers(partition.id, partition.data),
      ...(partition.data.cloudHsmClusterId === undefined ? {} : { cloudHsmClusterId: partition.data.cloudHsmClusterId }),
      healthCheckKey: hsmKeyRef(healthCheckKey.data, connection),
      ...(data.healthCheckCiphertext === undefined ? {} : { healthCheckCiphertext: data.healthCheckCiphertext }),
      credentials: data.credentials.map((c) => ({ id: c.id, accessKeyId: c.accessKeyId, secretName: secretNames.xksCredential(store.id, c.id) })),
    };
  }

  async getKey(keyStoreId: string, externalKeyId: string): Promise<XksKeyView | undefined> {
    // The external key id is the HYOK key's id; anything else cannot name a key.
    if (!EXTERNAL_KEY_ID_PATTERN.test(externalKeyId)) return undefined;
    const key = await this.state.get<HyokKeyData>('awsKey', externalKeyId);
    if (key === undefined || key.data.keyStoreId !== keyStoreId) return undefined;
    const virtualKey = await this.state.get<VirtualKeyData>('virtualKey', key.data.virtualKeyId);
    if (virtualKey === undefined) throw new InconsistentStateError(`HYOK key ${key.id}: virtual key ${key.data.virtualKeyId} is missing`);
    const partitionIds = [...new Set(virtualKey.data.versions.map((v) => v.partitionId))];
    const partitions = await Promise.all(partitionIds.map((id) => this.state.get<PartitionData>('partition', id)));
    const connections = new Map(
      partitions.map((partition, i) => {
        if (partition === undefined) throw new InconsistentStateError(`virtual key ${virtualKey.id}: HSM partition ${partitionIds[i]} is missing`);
        return [partition.id, partitionConnection(partition.id, partition.data)] as const;
      }),
    );
    return {
      externalKeyId,
      awsKeyId: key.id,
      keyStoreId,
      blocked: key.data.blocked,
      currentVersion: currentVersion(virtualKey.data).version,
      versions: virtualKey.data.versions.map((v) => ({
        version: v.version,
        key: hsmKeyRef(v, connections.get(v.partitionId) as HsmKeyRef['partition']),
        ...(v.expiresAt === undefined ? {} : { expiresAt: v.expiresAt }),
      })),
    };
  }
}
