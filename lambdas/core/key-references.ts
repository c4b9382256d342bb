/**
 * Resolving what HSM keys, key stores, virtual keys and HYOK keys refer to (AWS account
 * containers, HSM partitions, HSM source keys, key stores), with the 400/403/404 answers those
 * lookups mean for a request. Shared by the HSM key, key store, credential, virtual key and HYOK
 * key services.
 */
import { type Access, isPermitted, missingReferenceFor, notFoundFor } from './accounts/access';
import { ForbiddenError, ValidationError } from './errors';
import type { AccountData } from './accounts/account';
import type { HsmKeyData } from './hsm/hsm-key';
import type { KeyStoreData } from './key-stores/key-store';
import type { PartitionData } from './hsm/partition';
import type { EntityRecord, StateStore } from './ports/state-store';

export type AccountRecord = EntityRecord<AccountData>;
export type PartitionRecord = EntityRecord<PartitionData>;
export type HsmKeyRecord = EntityRecord<HsmKeyData>;
export type KeyStoreRecord = EntityRecord<KeyStoreData>;

export const KEY_STORE_RESOURCE = 'Key store';

/**
 * The account container a request names in `field` (the seeds' `kms`: name or id), if the caller
 * may do the route's action on it. Missing: a 400 naming the field for admins; for everyone else
 * the same 403 as "not permitted", so that neither reveals whether it exists.
 */
export async function resolveAccount(state: StateStore, access: Access, nameOrId: string, field: string): Promise<AccountRecord> {
  const account = await findAccount(state, nameOrId);
  if (account === undefined) throw missingReferenceFor(access.principal, `no AWS account container has the name or id ${JSON.stringify(nameOrId)}`, field);
  authorize(access, account);
  return account;
}

/** The account container with this id, or else with this name. */
async function findAccount(state: StateStore, idOrName: string): Promise<AccountRecord | undefined> {
  return (await state.get<AccountData>('account', idOrName)) ?? (await state.list<AccountData>('account')).find((account) => account.data.name === idOrName);
}

/** 403 unless the caller may do the route's action on the container (a vanished container: admins only). */
export function authorize(access: Access, account: AccountRecord | undefined): void {
  if (!mayDo(access, account)) throw new ForbiddenError();
}

export function mayDo(access: Access, account: AccountRecord | undefined): boolean {
  return access.principal.isAdmin || (account !== undefined && isPermitted(access, account.data));
}

/** The account container a stored key store (or HYOK key) belongs to; undefined if it vanished. */
export function getAccount(state: StateStore, accountId: string): Promise<AccountRecord | undefined> {
  return state.get<AccountData>('account', accountId);
}

/** A key store the caller may do the route's action on: missing is 404 for admins, 403 for users. */
export async function loadKeyStore(state: StateStore, access: Access, id: string): Promise<{ store: KeyStoreRecord; account: AccountRecord | undefined }> {
  const store = await state.get<KeyStoreData>('keyStore', id);
  if (store === undefined) throw notFoundFor(access.principal, KEY_STORE_RESOURCE, id);
  const account = await getAccount(state, store.data.accountId);
  authorize(access, account);
  return { store, account };
}

/** An HSM partition referred to by a request field: 400 naming the field when it does not exist. */
export async function requirePartition(state: StateStore, id: string, field: string): Promise<PartitionRecord> {
  const partition = await state.get<PartitionData>('partition', id);
  if (partition === undefined) throw new ValidationError(`no HSM partition has the id ${JSON.stringify(id)}`, field);
  return partition;
}

/** An HSM source key referred to by a request field: 400 naming the field when it does not exist. */
export async function requireHsmKey(state: StateStore, id: string, field: string): Promise<HsmKeyRecord> {
  const key = await state.get<HsmKeyData>('hsmKey', id);
  if (key === undefined) throw new ValidationError(`no HSM source key has the id ${JSON.stringify(id)}`, field);
  return key;
}

/** 400 naming the field unless the source key is in `partitionId`. */
export function requireInPartition(key: HsmKeyRecord, partitionId: string, field: string): void {
  if (key.data.partitionId !== partitionId) {
    throw new ValidationError(`source key ${key.id} is in HSM partition ${key.data.partitionId}, not in ${partitionId} (the key store's partition)`, field);
  }
}

/** Labels of every partition, by id (`partition_label` in responses; empty when one is gone). */
export async function partitionLabels(state: StateStore): Promise<ReadonlyMap<string, string>> {
  return new Map((await state.list<PartitionData>('partition')).map((p) => [p.id, p.data.tokenLabel]));
}

export async function partitionLabel(state: StateStore, partitionId: string): Promise<string> {
  return (await state.get<PartitionData>('partition', partitionId))?.data.tokenLabel ?? '';
}
