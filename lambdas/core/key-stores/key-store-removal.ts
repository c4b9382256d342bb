/**
 * Deleting external key stores: on request (DELETE, refused while the store has HYOK keys, and
 * for a linked store done in AWS KMS first, which refuses while it is connected or has KMS keys),
 * and here only, for a store that create could not make in AWS KMS.
 */
import type { Access } from '../accounts/access';
import { accountKeyStoreCounts } from '../accounts/account';
import { ConflictError } from '../errors';
import { HSM_KEY_COUNTERS } from '../hsm/hsm-key';
import { releaseAssignment } from '../job-config-labels';
import { type KeyStoreRecord, loadKeyStore } from '../key-references';
import type { AwsKms } from '../ports/aws-kms';
import type { CredentialUsage } from '../ports/credential-usage';
import type { SecretStore } from '../ports/secret-store';
import type { StateOp, StateStore } from '../ports/state-store';
import { CHANGED_CONCURRENTLY, retryOnChange } from '../retry-on-change';
import { type ConnectionStates, kmsLocation } from './aws-kms-links';
import { KEY_STORE_COUNTERS, type KeyStoreData } from './key-store';
import { discardXksSecrets } from './xks-credentials';

export interface KeyStoreRemovalDeps {
  readonly state: StateStore;
  readonly secrets: SecretStore;
  readonly awsKms: AwsKms;
  /** The proxy's record of credential uses; a deleted store's is removed with it. */
  readonly credentialUsage: CredentialUsage;
}

export class KeyStoreRemoval {
  constructor(
    private readonly deps: KeyStoreRemovalDeps,
    private readonly connections: ConnectionStates,
  ) {}

  /**
   * Deletes the store; a linked one in AWS KMS first, which refuses while it is connected or still
   * has KMS keys (the 409 says how many).
   */
  async delete(access: Access, id: string): Promise<void> {
    const { state } = this.deps;
    const removed = await retryOnChange(async () => {
      const { store, account } = await loadKeyStore(state, access, id);
      const hyokKeys = store.counters[KEY_STORE_COUNTERS.hyokKeys] ?? 0;
      if (hyokKeys > 0) throw new ConflictError(`Key store ${id} still has ${hyokKeys} HYOK key(s); delete them first`);
      if (store.data.aws !== undefined && account !== undefined) {
        await this.deps.awsKms.deleteCustomKeyStore(kmsLocation(account, store.data.region), store.data.aws.customKeyStoreId);
        this.connections.forget(store.data.aws.customKeyStoreId);
      }
      await state.transact(deleteOps(store));
      return store.data.credentials;
    });
    await this.discardLeftovers(id, removed);
  }

  /** Removes a store that was created here but could not be created in AWS KMS: record, name, counters, secrets. */
  async deleteHere(id: string): Promise<void> {
    const { state } = this.deps;
    const removed = await retryOnChange(async () => {
      const store = await state.get<KeyStoreData>('keyStore', id);
      if (store === undefined) return [];
      await state.transact(deleteOps(store));
      return store.data.credentials;
    });
    await this.discardLeftovers(id, removed);
  }

  /**
   * After a store's delete committed: its secrets and its credential uses, best effort (the store
   * is gone either way, and a second attempt finds nothing to remove).
   */
  private async discardLeftovers(id: string, credentials: readonly { readonly id: string }[]): Promise<void> {
    await Promise.all([
      discardXksSecrets(this.deps.secrets, id, credentials.map((c) => c.id)),
      this.deps.credentialUsage.forgetStore(id).catch(() => undefined),
    ]);
  }
}

/** The transaction that deletes a store: record and name claim (only without HYOK keys), counters. */
function deleteOps(store: KeyStoreRecord): StateOp[] {
  return [
    // A new HYOK key makes requireZero fail: answered as "changed", re-read, then refused by the caller.
    { op: 'delete', kind: 'keyStore', id: store.id, expectedVersion: store.version, uniqueName: store.data.name, requireZero: [KEY_STORE_COUNTERS.hyokKeys], conflictMessage: CHANGED_CONCURRENTLY },
    ...accountKeyStoreCounts(store.data.accountId, store.data.region, -1),
    { op: 'count', kind: 'hsmKey', id: store.data.healthCheckKeyId, counter: HSM_KEY_COUNTERS.references, delta: -1, min: 0 },
    ...releaseAssignment(store.data.labels),
  ];
}
