/**
 * HSM source keys (`/v1/cckm/hsm/keys`): keys generated inside a partition by the HSM agent (AES-256,
 * RSA and EC key pairs, generic secrets for HMAC: hsm-key-types.ts), listed, read and destroyed.
 * Only AES-256 keys back key stores and virtual keys (key-stores/key-store-rules.ts `checkAes256`).
 *
 * Invariants and where they are kept:
 *  - labels are unique within a partition (a name claim `<partition>/<label>`);
 *  - the partition counts its keys (`hsmKeys`, in the same transaction as the record);
 *  - a key is destroyed only while nothing references it (`requireZero` on `references`, which key
 *    stores and virtual key versions adjust in their transactions). The record goes first, in one
 *    transaction with that guard, so nothing can start referencing a key that is being destroyed;
 *  - the record exists before the HSM object (status `in_progress`), so a crash never leaves a
 *    key in the HSM that no record names; when the agent call times out (the HSM may have made the
 *    key), the record stays as `PENDING` and is settled later (pending-hsm-keys.ts).
 */
import { randomBytes } from 'node:crypto';
import { ConflictError, DependencyError, NotFoundError, isError } from '../errors';
import type { HsmAgent } from '../ports/hsm';
import { type HsmKeyInfo, KEY_ATTRIBUTE_NAMES, type KeyAttributes } from '../../contract/hsm';
import { LISTS } from '../../contract/lists';
import { type ListPage, parseList } from '../listing';
import type { IdGenerator } from '../ports/id-generator';
import type { Clock } from '../ports/clock';
import { checkExtractableOnlyWrapped, describeSpec, hsmKeySpecOf, matchesSpec } from './hsm-key-types';
import {
  HSM_KEY_COUNTERS,
  type HsmKeyData,
  hsmKeyRef,
  hsmKeyResource,
  type HsmKeyResource,
  hsmKeyUniqueName,
  availableHsmKey,
  hsmKeyRemovalOps,
} from './hsm-key';
import { isTimeout, PendingHsmKeys } from './pending-hsm-keys';
import { PARTITION_COUNTERS, partitionConnection, type PartitionData } from './partition';
import type { StateStore } from '../ports/state-store';
import { partitionLabel, partitionLabels, requirePartition, visibleAccounts } from '../key-references';
import { notFoundFor } from '../accounts/access';
import type { Principal } from '../ports/token-verifier';
import { moveHsmKeyOps, requestedOwner, requireOwner } from '../key-ownership';
import { retryOnChange } from '../retry-on-change';
import type { CreateHsmKeyRequest, UpdateHsmKeyRequest } from '../../contract/hsm-schemas';

export const HSM_KEY_RESOURCE = 'HSM source key';

/** POST /v1/cckm/hsm/keys and PATCH .../{id}: the types of `hsmSchemas.createKey` and `updateKey`. */
export type { CreateHsmKeyRequest, UpdateHsmKeyRequest };

export interface HsmKeyServiceDeps {
  readonly state: StateStore;
  readonly hsmAgent: HsmAgent;
  readonly clock: Clock;
  readonly ids: IdGenerator;
}

const NO_ATTRIBUTES = Object.fromEntries(KEY_ATTRIBUTE_NAMES.map((name) => [name, false])) as KeyAttributes;

export class HsmKeyService {
  private readonly pending: PendingHsmKeys;

  constructor(private readonly deps: HsmKeyServiceDeps) {
    this.pending = new PendingHsmKeys(deps);
  }

  /**
   * 1. Resolve the partition (400 naming `partition_id` when it does not exist) and check the key
   *    type it is asked for (400 naming `mechanism`, `size`, `curve` or `attributes`).
   * 2. Write the record `in_progress` with its label claim and the partition's count (409 on a taken label).
   * 3. Generate the key in the HSM under a random 16-byte CKA_ID; on failure remove the record again.
   * 4. Record the attributes the HSM reports and mark the key `AVAILABLE`.
   */
  async create(request: CreateHsmKeyRequest): Promise<HsmKeyResource> {
    const { state, hsmAgent, clock, ids } = this.deps;
    const partition = await requirePartition(state, request.partition_id, 'partition_id');
    const spec = hsmKeySpecOf(request, partition.data.hsmType);
    checkExtractableOnlyWrapped(request.attributes);
    const accountId = await requestedOwner(state, request.kms_id);
    const id = ids.newId();
    const now = clock.now().toISOString();
    const pending: HsmKeyData = {
      partitionId: partition.id,
      ...(accountId === undefined ? {} : { accountId }),
      label: request.label,
      objectId: randomBytes(16).toString('hex'),
      mechanism: spec.mechanism,
      keyType: 'OTHER',
      sizeBits: 0,
      attributes: NO_ATTRIBUTES,
      requestedAttributes: [...request.attributes],
      status: 'in_progress',
      createdAt: now,
      updatedAt: now,
    };
    await state.transact([
      {
        op: 'create',
        kind: 'hsmKey',
        id,
        data: pending,
        uniqueName: hsmKeyUniqueName(partition.id, request.label),
        counters: { [HSM_KEY_COUNTERS.references]: 0 },
        conflictMessage: `An HSM key labelled ${JSON.stringify(request.label)} already exists in partition ${JSON.stringify(partition.data.name)}`,
      },
      { op: 'count', kind: 'partition', id: partition.id, counter: PARTITION_COUNTERS.hsmKeys, delta: 1, min: 1, conflictMessage: `The HSM partition ${partition.id} was deleted meanwhile` },
    ]);

    const connection = partitionConnection(partition.id, partition.data);
    const key = hsmKeyRef(pending, connection);
    let info: HsmKeyInfo;
    try {
      const attributes = Object.fromEntries(KEY_ATTRIBUTE_NAMES.map((name) => [name, request.attributes.includes(name)])) as KeyAttributes;
      const { keyType, sizeBits, curve } = spec;
      info = await hsmAgent.generateKey(connection, { objectId: pending.objectId, label: request.label, keyType, sizeBits, ...(curve === undefined ? {} : { curve }), attributes });
      if (!matchesSpec(info, spec)) {
        await hsmAgent.destroyKey(key);
        throw new DependencyError(`The HSM generated a key of type ${describeSpec(info)} instead of ${describeSpec(spec)}`);
      }
    } catch (error) {
      if (isTimeout(error)) throw await this.pending.markPending(id, pending, error);
      await state.transact(hsmKeyRemovalOps(id, pending));
      throw error;
    }

    const available = availableHsmKey(pending, info, clock.now().toISOString());
    try {
      await state.transact([{ op: 'update', kind: 'hsmKey', id, data: available, expectedVersion: 1 }]);
    } catch (error) {
      if (!isError(error, ConflictError)) throw error;
      // Deleted while it was being generated: the HSM object must not outlive its record.
      await hsmAgent.destroyKey(key);
      throw new ConflictError(`The HSM key ${id} was deleted while it was being generated`, { cause: error });
    }
    return hsmKeyResource(id, available, partition.data.tokenLabel);
  }

  /** Filters `id`, `partition_id`, `label`, `object_id`, `status`, `kms_id`; users see only keys of containers they hold an action on. */
  async list(principal: Principal, query: Readonly<Record<string, string | undefined>>): Promise<ListPage<HsmKeyResource>> {
    const listing = parseList(query, LISTS.hsmKeys);
    const [keys, labels, visible] = await Promise.all([this.deps.state.list<HsmKeyData>('hsmKey'), partitionLabels(this.deps.state), visibleAccounts(this.deps.state, principal)]);
    return listing.page(keys.filter((k) => visible(k.data.accountId)).map((k) => hsmKeyResource(k.id, k.data, labels.get(k.data.partitionId) ?? '')));
  }

  /** Missing, or of a container the user holds no action on: 404 for admins, 403 for users. */
  async get(principal: Principal, id: string): Promise<HsmKeyResource> {
    const stored = await this.deps.state.get<HsmKeyData>('hsmKey', id);
    // A PENDING key is settled first: completed from what the HSM has, or removed when it has none.
    const key = stored?.data.status === 'PENDING' ? await this.pending.settle(stored) : stored;
    if (!key || !(await visibleAccounts(this.deps.state, principal))(key.data.accountId)) throw notFoundFor(principal, HSM_KEY_RESOURCE, id);
    return hsmKeyResource(id, key.data, await partitionLabel(this.deps.state, key.data.partitionId));
  }

  /** Sets the owning container (key-ownership.ts: 400 for a missing one, 409 while the key is in use or still being generated). */
  async update(id: string, request: UpdateHsmKeyRequest): Promise<HsmKeyResource> {
    const { state, clock } = this.deps;
    const accountId = await requireOwner(state, request.kms_id);
    return retryOnChange(async () => {
      const key = await state.get<HsmKeyData>('hsmKey', id);
      if (!key) throw new NotFoundError(HSM_KEY_RESOURCE, id);
      if (key.data.status !== 'AVAILABLE') throw new ConflictError(`The HSM key ${id} is ${key.data.status}; set its kms_id once it is AVAILABLE`);
      const data: HsmKeyData = { ...key.data, accountId, updatedAt: clock.now().toISOString() };
      const ops = moveHsmKeyOps(key, accountId, data);
      if (ops.length > 0) await state.transact(ops);
      return hsmKeyResource(id, ops.length > 0 ? data : key.data, await partitionLabel(state, key.data.partitionId));
    });
  }

  /**
   * 1. Delete the record, refused (409) while a key store or virtual key version references it.
   * 2. Destroy the object in the HSM; if that fails, put the record back and answer 502.
   */
  async delete(id: string): Promise<void> {
    const { state, hsmAgent } = this.deps;
    const key = await state.get<HsmKeyData>('hsmKey', id);
    if (!key) throw new NotFoundError(HSM_KEY_RESOURCE, id);
    const partition = await state.get<PartitionData>('partition', key.data.partitionId);
    await state.transact(hsmKeyRemovalOps(id, key.data));
    if (!partition) return; // Its partition is gone (it cannot be while keys count on it): nothing to destroy.
    try {
      await hsmAgent.destroyKey(hsmKeyRef(key.data, partitionConnection(partition.id, partition.data)));
    } catch (error) {
      await state.transact([
        { op: 'create', kind: 'hsmKey', id, data: key.data, uniqueName: hsmKeyUniqueName(key.data.partitionId, key.data.label), counters: { [HSM_KEY_COUNTERS.references]: 0 } },
        { op: 'count', kind: 'partition', id: key.data.partitionId, counter: PARTITION_COUNTERS.hsmKeys, delta: 1 },
      ]);
      throw error;
    }
  }
}
