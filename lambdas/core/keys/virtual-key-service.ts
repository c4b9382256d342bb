/**
 * Virtual keys (CCKM's "Create a Virtual Key" … "List Virtual Key Versions"; admin routes):
 * create, list, get, update (`deletable`), delete, list versions. Also the state changes the HYOK
 * key service composes into its own transactions: a new virtual key over a source key, and a new
 * version (rotation).
 *
 * Every version holds a reference on its HSM source key (`HSM_KEY_COUNTERS.references`), taken in
 * the transaction that adds the version and released when the virtual key is deleted, so a source
 * key cannot be destroyed while any version still points at it.
 */
import { ConflictError, NotFoundError, ValidationError } from '../errors';
import { LISTS } from '../../contract/lists';
import { type ListPage, parseList } from '../listing';
import type { IdGenerator } from '../ports/id-generator';
import type { Clock } from '../ports/clock';
import { HSM_KEY_COUNTERS } from '../hsm/hsm-key';
import { checkAes256 } from '../key-stores/key-store-rules';
import {
  currentVersion,
  VIRTUAL_KEY_COUNTERS,
  type VirtualKeyData,
  virtualKeyResource,
  type VirtualKeyResource,
  type VirtualKeyVersionData,
  virtualKeyVersionResource,
  type VirtualKeyVersionResource,
} from './virtual-key';
import type { EntityRecord, StateOp, StateStore } from '../ports/state-store';
import { type HsmKeyRecord, partitionLabel, partitionLabels, requireHsmKey, transactWithClaim, visibleAccounts } from '../key-references';
import { claimSourceKeys, moveVirtualKeyOps, requestedOwner } from '../key-ownership';
import { notFoundFor } from '../accounts/access';
import type { Principal } from '../ports/token-verifier';
import { CHANGED_CONCURRENTLY, retryOnChange } from '../retry-on-change';
import type { CreateVirtualKeyRequest, UpdateVirtualKeyRequest } from '../../contract/key-schemas';

export type VirtualKeyRecord = EntityRecord<VirtualKeyData>;

export const VIRTUAL_KEY_RESOURCE = 'Virtual key';

/** POST /v1/cckm/virtual/keys and PATCH .../{id}: the types of `virtualKeySchemas.create` and `update`. */
export type { CreateVirtualKeyRequest, UpdateVirtualKeyRequest };

export interface VirtualKeyServiceDeps {
  readonly state: StateStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
}

export class VirtualKeyService {
  constructor(private readonly deps: VirtualKeyServiceDeps) {}

  async create(request: CreateVirtualKeyRequest): Promise<VirtualKeyResource> {
    const { state, clock, ids } = this.deps;
    const accountId = await requestedOwner(state, request.kms_id);
    const sourceKey = await requireHsmKey(state, request.source_key_id, 'source_key_id');
    const planned = newVirtualKey(sourceKey, 'source_key_id', { now: clock.now().toISOString(), ids, deletable: request.deletable ?? false, accountId });
    if (accountId === undefined) await state.transact(planned.ops);
    else await transactWithClaim(state, planned.ops, await claimSourceKeys(state, [sourceKey.id], accountId), () => claimSourceKeys(state, [sourceKey.id], accountId));
    return virtualKeyResource(planned.id, planned.data, await partitionLabel(state, planned.data.partitionId));
  }

  /** Users see only the virtual keys of containers they hold an action on. */
  async list(principal: Principal, query: Readonly<Record<string, string | undefined>>): Promise<ListPage<VirtualKeyResource>> {
    const listing = parseList(query, LISTS.virtualKeys);
    const [keys, labels, visible] = await Promise.all([this.deps.state.list<VirtualKeyData>('virtualKey'), partitionLabels(this.deps.state), visibleAccounts(this.deps.state, principal)]);
    return listing.page(keys.filter((k) => visible(k.data.accountId)).map((k) => virtualKeyResource(k.id, k.data, labels.get(k.data.partitionId) ?? '')));
  }

  async get(principal: Principal, id: string): Promise<VirtualKeyResource> {
    const key = await this.loadVisible(principal, id);
    return virtualKeyResource(key.id, key.data, await partitionLabel(this.deps.state, key.data.partitionId));
  }

  async update(id: string, request: UpdateVirtualKeyRequest): Promise<VirtualKeyResource> {
    const { state, clock } = this.deps;
    const accountId = await requestedOwner(state, request.kms_id);
    return retryOnChange(async () => {
      const key = await loadVirtualKey(state, id);
      const data: VirtualKeyData = {
        ...key.data,
        ...(request.deletable === undefined ? {} : { deletable: request.deletable }),
        ...(accountId === undefined ? {} : { accountId }),
        updatedAt: clock.now().toISOString(),
      };
      const move = accountId === undefined ? [] : await moveVirtualKeyOps(state, key, accountId, data);
      const write: StateOp = { op: 'update', kind: 'virtualKey', id, data, expectedVersion: key.version, conflictMessage: CHANGED_CONCURRENTLY };
      await state.transact(move.length > 0 ? move : [write]);
      return virtualKeyResource(id, data, await partitionLabel(state, data.partitionId));
    });
  }

  /** Refused (409) unless `deletable` is set and no HYOK key uses it; releases every version's source key. */
  async delete(id: string): Promise<void> {
    const { state } = this.deps;
    await retryOnChange(async () => {
      const key = await loadVirtualKey(state, id);
      if (!key.data.deletable) throw new ConflictError(`Virtual key ${id} is not deletable; set deletable to true first (PATCH)`);
      const hyokKeys = key.counters[VIRTUAL_KEY_COUNTERS.hyokKeys] ?? 0;
      if (hyokKeys > 0) throw new ConflictError(`Virtual key ${id} backs an HYOK key; delete the HYOK key first`);
      await state.transact([
        // A new HYOK user makes requireZero fail: answered as "changed", re-read, then refused above.
        { op: 'delete', kind: 'virtualKey', id, expectedVersion: key.version, requireZero: [VIRTUAL_KEY_COUNTERS.hyokKeys], conflictMessage: CHANGED_CONCURRENTLY },
        ...key.data.versions.map(
          (v): StateOp => ({ op: 'count', kind: 'hsmKey', id: v.sourceKeyId, counter: HSM_KEY_COUNTERS.references, delta: -1, min: 0 }),
        ),
      ]);
    });
  }

  async listVersions(principal: Principal, id: string, query: Readonly<Record<string, string | undefined>>): Promise<ListPage<VirtualKeyVersionResource>> {
    const key = await this.loadVisible(principal, id);
    return listVersions(key, await partitionLabel(this.deps.state, key.data.partitionId), query);
  }

  /** Missing, or of a container the user holds no action on: 404 for admins, 403 for users. */
  private async loadVisible(principal: Principal, id: string): Promise<VirtualKeyRecord> {
    const key = await this.deps.state.get<VirtualKeyData>('virtualKey', id);
    if (key === undefined || !(await visibleAccounts(this.deps.state, principal))(key.data.accountId)) throw notFoundFor(principal, VIRTUAL_KEY_RESOURCE, id);
    return key;
  }
}

/** Versions of a virtual key as a filtered, sorted page (also the HYOK key's versions). */
export function listVersions(key: VirtualKeyRecord, label: string, query: Readonly<Record<string, string | undefined>>): ListPage<VirtualKeyVersionResource> {
  return parseList(query, LISTS.virtualKeyVersions).page(key.data.versions.map((v) => virtualKeyVersionResource(key.id, v, label)));
}

export async function loadVirtualKey(state: StateStore, id: string): Promise<VirtualKeyRecord> {
  const key = await state.get<VirtualKeyData>('virtualKey', id);
  if (key === undefined) throw new NotFoundError(VIRTUAL_KEY_RESOURCE, id);
  return key;
}

/**
 * A new virtual key whose version 0 is `sourceKey` (AES-256, else 400 naming `field`), and the ops
 * that create it and take the reference on the source key. `hyokKeys` starts at the given value
 * (1 when an HYOK key is created with it in the same transaction).
 */
export function newVirtualKey(
  sourceKey: HsmKeyRecord,
  field: string,
  options: { readonly now: string; readonly ids: IdGenerator; readonly deletable: boolean; readonly hyokKeys?: number; readonly accountId?: string },
): { id: string; data: VirtualKeyData; ops: StateOp[] } {
  checkAes256(sourceKey.data, field);
  const id = options.ids.newId();
  const accountId = options.accountId ?? sourceKey.data.accountId;
  const data: VirtualKeyData = {
    ...(accountId === undefined ? {} : { accountId }),
    partitionId: sourceKey.data.partitionId,
    deletable: options.deletable,
    versions: [versionOf(sourceKey, 0, options.ids.newId(), options.now)],
    createdAt: options.now,
    updatedAt: options.now,
  };
  return {
    id,
    data,
    ops: [
      { op: 'create', kind: 'virtualKey', id, data, counters: { [VIRTUAL_KEY_COUNTERS.hyokKeys]: options.hyokKeys ?? 0 } },
      referenceOp(sourceKey),
    ],
  };
}

/**
 * The next version of `key`, pointing at `sourceKey` (AES-256 in the virtual key's partition and
 * not already the current source key, else 400 naming `field`), and the ops that write it. With
 * `replacedVersionExpiresAt`, the version it replaces expires then (or keeps an earlier expiry).
 */
export function newVersion(
  key: VirtualKeyRecord,
  sourceKey: HsmKeyRecord,
  field: string,
  options: { readonly now: string; readonly ids: IdGenerator; readonly replacedVersionExpiresAt?: string },
): { data: VirtualKeyData; version: VirtualKeyVersionData; ops: StateOp[] } {
  checkAes256(sourceKey.data, field);
  if (sourceKey.data.partitionId !== key.data.partitionId) {
    throw new ValidationError(`source key ${sourceKey.id} is in HSM partition ${sourceKey.data.partitionId}; every version must be in ${key.data.partitionId}`, field);
  }
  const current = currentVersion(key.data);
  if (current.sourceKeyId === sourceKey.id) throw new ValidationError(`is already the source key of the current version (${current.version})`, field);
  const version = versionOf(sourceKey, current.version + 1, options.ids.newId(), options.now);
  const replaced = withExpiry(current, options.replacedVersionExpiresAt);
  const data: VirtualKeyData = { ...key.data, versions: [...key.data.versions.slice(0, -1), replaced, version], updatedAt: options.now };
  return {
    data,
    version,
    ops: [
      { op: 'update', kind: 'virtualKey', id: key.id, data, expectedVersion: key.version, conflictMessage: CHANGED_CONCURRENTLY },
      referenceOp(sourceKey),
    ],
  };
}

function withExpiry(version: VirtualKeyVersionData, expiresAt: string | undefined): VirtualKeyVersionData {
  if (expiresAt === undefined) return version;
  if (version.expiresAt !== undefined && Date.parse(version.expiresAt) <= Date.parse(expiresAt)) return version;
  return { ...version, expiresAt };
}

function versionOf(sourceKey: HsmKeyRecord, version: number, id: string, now: string): VirtualKeyVersionData {
  return {
    id,
    version,
    sourceKeyId: sourceKey.id,
    partitionId: sourceKey.data.partitionId,
    objectId: sourceKey.data.objectId,
    sourceKeyLabel: sourceKey.data.label,
    createdAt: now,
  };
}

function referenceOp(sourceKey: HsmKeyRecord): StateOp {
  return { op: 'count', kind: 'hsmKey', id: sourceKey.id, counter: HSM_KEY_COUNTERS.references, delta: 1, conflictMessage: `HSM key ${sourceKey.id} was deleted meanwhile` };
}
