/**
 * What backs a new HYOK key: the virtual key `local_hosted_params.source_key_id` names, or a new
 * virtual key over the HSM source key it names (not deletable, as CCKM's default), in the key
 * store's partition either way. The caller writes the returned ops in the HYOK key's transaction.
 */
import { type Access, missingReferenceFor } from '../accounts/access';
import { ConflictError, ValidationError } from '../errors';
import type { HsmKeyData } from '../hsm/hsm-key';
import { normalizeSourceKeyTier } from '../key-stores/key-store';
import { claimKeyFor, type KeyStoreRecord, requireHsmKey, requireInPartition } from '../key-references';
import type { IdGenerator } from '../ports/id-generator';
import type { StateOp, StateStore } from '../ports/state-store';
import { MAX_HYOK_KEYS_PER_VIRTUAL_KEY, VIRTUAL_KEY_COUNTERS, type VirtualKeyData } from './virtual-key';
import { loadVirtualKey, newVirtualKey } from './virtual-key-service';

/** The virtual key a new HYOK key points at, with the writes and the source key claim that go with it. */
export interface HyokKeyBacking {
  readonly virtualKeyId: string;
  /** The virtual key's `hyokKeys` counter, or the new virtual key with its source key reference. */
  readonly ops: readonly StateOp[];
  /** The source key's assignment to the store's container (key-references.ts `claimKeyFor`). */
  readonly claim: StateOp[];
  /** The claim worked out again from a fresh read, when the first one lost a race. */
  readonly reclaim: () => Promise<StateOp[]>;
}

/** Resolves `sourceKeyId` (a virtual key or an HSM source key) for a new HYOK key in `store`. */
export async function backingVirtualKey(
  state: StateStore,
  access: Access,
  store: KeyStoreRecord,
  sourceKeyId: string,
  { now, ids }: { readonly now: string; readonly ids: IdGenerator },
): Promise<HyokKeyBacking> {
  const field = 'local_hosted_params.source_key_id';
  const existing = await state.get<VirtualKeyData>('virtualKey', sourceKeyId);
  if (existing !== undefined) {
    const claim = await claimKeyFor(state, access, 'virtualKey', existing, store.data.accountId, field);
    const reclaim = async () => claimKeyFor(state, access, 'virtualKey', await loadVirtualKey(state, existing.id), store.data.accountId, field);
    if (existing.data.partitionId !== store.data.partitionId) {
      throw new ValidationError(`virtual key ${existing.id} is in HSM partition ${existing.data.partitionId}, not in ${store.data.partitionId} (the key store's partition)`, field);
    }
    if ((existing.counters[VIRTUAL_KEY_COUNTERS.hyokKeys] ?? 0) >= MAX_HYOK_KEYS_PER_VIRTUAL_KEY) {
      throw new ConflictError(`Virtual key ${existing.id} already backs an HYOK key; use another virtual key or an HSM source key id`);
    }
    const count: StateOp = {
      op: 'count',
      kind: 'virtualKey',
      id: existing.id,
      counter: VIRTUAL_KEY_COUNTERS.hyokKeys,
      delta: 1,
      max: MAX_HYOK_KEYS_PER_VIRTUAL_KEY,
      conflictMessage: `Virtual key ${existing.id} already backs an HYOK key, or was deleted meanwhile`,
    };
    return { virtualKeyId: existing.id, ops: [count], claim, reclaim };
  }
  const sourceKey = await state.get<HsmKeyData>('hsmKey', sourceKeyId);
  if (sourceKey === undefined) throw missingReferenceFor(access.principal, `no virtual key or HSM source key has the id ${JSON.stringify(sourceKeyId)}`, field);
  const claim = await claimKeyFor(state, access, 'hsmKey', sourceKey, store.data.accountId, field);
  const reclaim = async () => claimKeyFor(state, access, 'hsmKey', await requireHsmKey(state, sourceKey.id, field, access), store.data.accountId, field);
  requireInPartition(sourceKey, store.data.partitionId, field);
  const planned = newVirtualKey(sourceKey, field, { now, ids, deletable: false, hyokKeys: 1, accountId: store.data.accountId });
  return { virtualKeyId: planned.id, ops: planned.ops, claim, reclaim };
}

/** An optional `source_key_tier` must be the key store's (its partition's) tier. */
export function checkTier(requested: string | undefined, tier: string, field: string): void {
  const normalized = normalizeSourceKeyTier(requested);
  if (normalized !== undefined && normalized !== tier) throw new ValidationError(`must be the key store's source key tier, ${tier}`, field);
}
