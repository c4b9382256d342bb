/**
 * Remote key stores as the key store routes show them (remote-key-store.ts): read-only, found by
 * key store synchronization, visible to callers who may view the stores of their container.
 */
import type { Access } from '../accounts/access';
import type { AccountData } from '../accounts/account';
import { authorize, getAccount, type AccountRecord } from '../key-references';
import type { StateStore } from '../ports/state-store';
import { type RemoteKeyStoreData, remoteKeyStoreResource, type RemoteKeyStoreResource } from './remote-key-store';

export class RemoteKeyStoreService {
  constructor(private readonly deps: { readonly state: StateStore }) {}

  /** The remote store with this id, if there is one (403 when the caller may not view its container). */
  async find(access: Access, id: string): Promise<RemoteKeyStoreResource | undefined> {
    const remote = await this.deps.state.get<RemoteKeyStoreData>('remoteKeyStore', id);
    if (remote === undefined) return undefined;
    const account = await getAccount(this.deps.state, remote.data.accountId);
    authorize(access, account);
    return remoteKeyStoreResource(remote, account?.data.name ?? '');
  }

  /** Every remote store of the containers `visible` admits. */
  async listAll(visible: (account: AccountRecord | undefined) => boolean): Promise<RemoteKeyStoreResource[]> {
    const [remote, accounts] = await Promise.all([this.deps.state.list<RemoteKeyStoreData>('remoteKeyStore'), this.deps.state.list<AccountData>('account')]);
    const byId = new Map(accounts.map((a) => [a.id, a]));
    return remote.filter((r) => visible(byId.get(r.data.accountId))).map((r) => remoteKeyStoreResource(r, byId.get(r.data.accountId)?.data.name ?? ''));
  }
}
