/**
 * External key stores as the API shows them: one (get, and every change's answer) or a list page.
 * A linked store carries AWS KMS's connection state, kept per container for a few seconds
 * (aws-kms-links.ts `ConnectionStates`) and read again when a change asks for it fresh.
 */
import type { Access } from '../accounts/access';
import { LISTS } from '../../contract/lists';
import { type AccountRecord, getAccount, type KeyStoreRecord, loadKeyStore, mayDo, partitionLabel, partitionLabels } from '../key-references';
import { type ListPage, parseList } from '../listing';
import type { StateStore } from '../ports/state-store';
import { type ConnectionStates, kmsLocation } from './aws-kms-links';
import type { ConnectionView } from './custom-key-store-resource';
import { type KeyStoreData, keyStoreResource, type KeyStoreResource } from './key-store';

export class KeyStoreViews {
  constructor(
    private readonly state: StateStore,
    private readonly connections: ConnectionStates,
  ) {}

  /** The store as the API shows it; a linked one with AWS KMS's connection state (read again when older than a few seconds). */
  async present(store: KeyStoreRecord, account?: AccountRecord, options: { readonly freshConnection?: boolean } = {}): Promise<KeyStoreResource> {
    const { state } = this;
    const owner = account ?? (await getAccount(state, store.data.accountId));
    const connection = options.freshConnection && store.data.aws !== undefined && owner !== undefined
      ? await this.connections.of(kmsLocation(owner, store.data.region), store.data.aws.customKeyStoreId, { fresh: true })
      : (await this.connectionsOf([store], new Map(owner ? [[owner.id, owner]] : [])))[0];
    return keyStoreResource(store.id, store.data, { accountName: owner?.data.name ?? '', partitionLabel: await partitionLabel(state, store.data.partitionId), connection });
  }

  /** Stores the caller may view (`viewkeystore` on their container), filtered, sorted and paged. */
  async list(access: Access, query: Readonly<Record<string, string | undefined>>): Promise<ListPage<KeyStoreResource>> {
    const listing = parseList(query, LISTS.keyStores);
    const { state } = this;
    const [stores, accounts, labelById] = await Promise.all([
      state.list<KeyStoreData>('keyStore'),
      state.list<AccountRecord['data']>('account'),
      partitionLabels(state),
    ]);
    const accountById = new Map(accounts.map((a) => [a.id, a]));
    const visible = stores.filter((s) => mayDo(access, accountById.get(s.data.accountId)));
    const connections = await this.connectionsOf(visible, accountById);
    const resources = visible.map((s, i) =>
      keyStoreResource(s.id, s.data, {
        accountName: accountById.get(s.data.accountId)?.data.name ?? '',
        partitionLabel: labelById.get(s.data.partitionId) ?? '',
        connection: connections[i],
      }),
    );
    return listing.page(resources);
  }

  async get(access: Access, id: string): Promise<KeyStoreResource> {
    const { store, account } = await loadKeyStore(this.state, access, id);
    return this.present(store, account);
  }

  /** AWS KMS's connection states of the linked ones among `stores` (kept ones when fresh enough); undefined for the others. */
  private async connectionsOf(stores: readonly KeyStoreRecord[], accountById: ReadonlyMap<string, AccountRecord>): Promise<Array<ConnectionView | undefined>> {
    const linked = stores.flatMap((store, i) => {
      const account = accountById.get(store.data.accountId);
      return store.data.aws !== undefined && account !== undefined ? [{ i, at: kmsLocation(account, store.data.region), customKeyStoreId: store.data.aws.customKeyStoreId }] : [];
    });
    const views = await this.connections.ofMany(linked);
    const result: Array<ConnectionView | undefined> = stores.map(() => undefined);
    linked.forEach((entry, j) => (result[entry.i] = views[j]));
    return result;
  }
}
