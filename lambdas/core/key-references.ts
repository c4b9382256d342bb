/**
 * Resolving what HSM keys, key stores, virtual keys and HYOK keys refer to (AWS account
 * containers, HSM partitions, HSM source keys, key stores), with the 400/403/404 answers those
 * lookups mean for a request. Shared by the HSM key, key store, credential, virtual key and HYOK
 * key services.
 */
import { type Access, isPermitted, isVisible, missingReferenceFor, notFoundFor } from './accounts/access';
import { ConflictError, ForbiddenError, ValidationError, isError } from './errors';
import type { AccountData } from './accounts/account';
import type { HsmKeyData } from './hsm/hsm-key';
import type { KeyStoreData } from './key-stores/key-store';
import type { PartitionData } from './hsm/partition';
import type { EntityRecord, StateOp, StateStore } from './ports/state-store';
import { CHANGED_CONCURRENTLY, retryOnChange } from './retry-on-change';

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

/** The account container an admin names in `field` (name or id); 400 naming the field when there is none. */
export async function requireAccount(state: StateStore, nameOrId: string, field: string): Promise<AccountRecord> {
  const account = await findAccount(state, nameOrId);
  if (account === undefined) throw new ValidationError(`no AWS account container has the name or id ${JSON.stringify(nameOrId)}`, field);
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
  if (store === undefined) {
    const cloudHsm = await state.get<{ readonly accountId: string }>('cloudHsmKeyStore', id);
    if (cloudHsm === undefined) throw notFoundFor(access.principal, KEY_STORE_RESOURCE, id);
    authorize(access, await getAccount(state, cloudHsm.data.accountId));
    throw new ValidationError(`key store ${id} is an AWS_CLOUDHSM key store; this operation applies to external key stores (EXTERNAL_KEY_STORE) only`, 'id');
  }
  const account = await getAccount(state, store.data.accountId);
  authorize(access, account);
  return { store, account };
}

/**
 * An HSM partition referred to by a request field: when it does not exist, a 400 naming the field
 * for admins (and admin-only routes, which pass no access), the same 403 as "not permitted" for users.
 */
export async function requirePartition(state: StateStore, id: string, field: string, access?: Access): Promise<PartitionRecord> {
  const partition = await state.get<PartitionData>('partition', id);
  if (partition === undefined) throw missingReference(access, `no HSM partition has the id ${JSON.stringify(id)}`, field);
  return partition;
}

/** An HSM source key referred to by a request field: missing is a 400 naming the field for admins, 403 for users. */
export async function requireHsmKey(state: StateStore, id: string, field: string, access?: Access): Promise<HsmKeyRecord> {
  const key = await state.get<HsmKeyData>('hsmKey', id);
  if (key === undefined) throw missingReference(access, `no HSM source key has the id ${JSON.stringify(id)}`, field);
  return key;
}

function missingReference(access: Access | undefined, message: string, field: string): Error {
  return access === undefined ? new ValidationError(message, field) : missingReferenceFor(access.principal, message, field);
}

/** The owner (`kms_id`) HSM source keys and virtual keys carry: the one account container whose stores and HYOK keys they may back. */
export interface OwnedKeyData {
  readonly accountId?: string;
}

/**
 * Tenancy of key references: may the HSM source key or virtual key that a request names in
 * `field` back a key store or HYOK key of container `accountId`? Returns the op to commit with the
 * reference: the one that assigns an unowned key to that container (an admin's first reference),
 * or a check that the key is unchanged (so it is still that container's when the reference lands).
 *  - owned by `accountId`: yes;
 *  - owned by no one: admins assign it; users get 403, exactly as for a key that does not exist;
 *  - owned by another container: 409 naming the field, for admins too; a user who may not see
 *    that container gets the same 403 as for a key that does not exist.
 * The assignment carries the key's version, so two first references racing assign it once.
 */
export async function claimKeyFor(
  state: StateStore,
  access: Access,
  kind: 'hsmKey' | 'virtualKey',
  key: EntityRecord<OwnedKeyData>,
  accountId: string,
  field: string,
): Promise<StateOp[]> {
  const owner = key.data.accountId;
  // Still this container's when the reference commits: an admin may move an unused key meanwhile.
  if (owner === accountId) return [{ op: 'check', kind, id: key.id, expectedVersion: key.version, conflictMessage: CHANGED_CONCURRENTLY }];
  const { principal } = access;
  if (owner === undefined) {
    if (!principal.isAdmin) throw new ForbiddenError();
    return [{ op: 'update', kind, id: key.id, data: { ...key.data, accountId }, expectedVersion: key.version, conflictMessage: CHANGED_CONCURRENTLY }];
  }
  if (!principal.isAdmin) {
    const ownerAccount = await getAccount(state, owner);
    if (ownerAccount === undefined || !isVisible(principal, ownerAccount.data)) throw new ForbiddenError();
  }
  const what = kind === 'hsmKey' ? 'HSM source key' : 'virtual key';
  throw new ConflictError(`${field}: ${what} ${key.id} belongs to AWS account container ${owner}; a key of one container never backs another container's key stores or HYOK keys`);
}

/**
 * Applies `ops` together with a key's `claim` (from claimKeyFor). When a racing first reference
 * assigned the key meanwhile, or an admin moved it (the claim's version moved), `reclaim` re-reads it and decides again:
 * owned by the same container now needs no claim, by another one is the 409.
 */
export async function transactWithClaim(state: StateStore, ops: readonly StateOp[], claim: readonly StateOp[], reclaim: () => Promise<StateOp[]>): Promise<void> {
  let current = claim;
  await retryOnChange(async () => {
    try {
      await state.transact([...ops, ...current]);
    } catch (error) {
      if (current.length > 0 && isError(error, ConflictError) && error.message === CHANGED_CONCURRENTLY) current = await reclaim();
      throw error;
    }
  });
}

/**
 * Which key owners the caller may see: admins every key (owned or not); users the keys of the
 * containers they hold an action on (never an unowned key).
 */
export async function visibleAccounts(state: StateStore, principal: Access['principal']): Promise<(accountId: string | undefined) => boolean> {
  if (principal.isAdmin) return () => true;
  const visible = new Set((await state.list<AccountData>('account')).filter((a) => isVisible(principal, a.data)).map((a) => a.id));
  return (accountId) => accountId !== undefined && visible.has(accountId);
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
