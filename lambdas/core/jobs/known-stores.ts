/**
 * The custom key stores the key manager knows in one account container and region, by AWS KMS's
 * `cks-` id: our external and CloudHSM key stores (linked ones) and the remote stores key store
 * synchronization found. Synchronization ties each key it finds in one of them to that store's
 * record (`custom_key_store_id`). Read once per page, and only when a key of the page is in a
 * custom key store.
 */
import { derivedId } from '../keys/aws-key';
import type { CloudHsmKeyStoreData } from '../key-stores/cloudhsm-key-store';
import type { KeyStoreData } from '../key-stores/key-store';
import type { RemoteKeyStoreData } from '../key-stores/remote-key-store';
import type { KmsLocation } from '../ports/aws-kms';
import type { StateStore } from '../ports/state-store';

/** A store's record: its kind and the key manager's id of it. */
export interface KnownStore {
  readonly kind: 'keyStore' | 'cloudHsmKeyStore' | 'remoteKeyStore';
  readonly id: string;
}

/** The record id of a remote store: derived from where AWS KMS has it, so that runs never make two. */
export function remoteKeyStoreId(at: KmsLocation, customKeyStoreId: string): string {
  return derivedId(`remote-key-store:${at.accountId}:${at.region}:${customKeyStoreId}`);
}

export class KnownStores {
  private ours?: Promise<ReadonlyMap<string, KnownStore>>;

  constructor(
    private readonly state: StateStore,
    private readonly at: KmsLocation,
  ) {}

  /** The store AWS KMS calls `customKeyStoreId` here, if the key manager knows it. */
  async find(customKeyStoreId: string): Promise<KnownStore | undefined> {
    this.ours ??= this.readOurs();
    const ours = (await this.ours).get(customKeyStoreId);
    if (ours !== undefined) return ours;
    const id = remoteKeyStoreId(this.at, customKeyStoreId);
    const remote = await this.state.get<RemoteKeyStoreData>('remoteKeyStore', id);
    return remote === undefined || remote.data.accountId !== this.at.containerId ? undefined : { kind: 'remoteKeyStore', id };
  }

  private async readOurs(): Promise<ReadonlyMap<string, KnownStore>> {
    const here = (data: { readonly accountId: string; readonly region: string }): boolean => data.accountId === this.at.containerId && data.region === this.at.region;
    const [external, cloudHsm] = await Promise.all([this.state.list<KeyStoreData>('keyStore'), this.state.list<CloudHsmKeyStoreData>('cloudHsmKeyStore')]);
    const stores = new Map<string, KnownStore>();
    for (const r of external) if (here(r.data) && r.data.aws !== undefined) stores.set(r.data.aws.customKeyStoreId, { kind: 'keyStore', id: r.id });
    for (const r of cloudHsm) if (here(r.data)) stores.set(r.data.customKeyStoreId, { kind: 'cloudHsmKeyStore', id: r.id });
    return stores;
  }
}
