/**
 * HYOK keys (seeds 001 "Create an AWS HYOK Key" … "Unblock AWS HYOK key"; reference: AWS keys):
 * an AWS KMS external key in one of our external key stores, backed by a virtual key. Unlinked
 * only: create, list, get, versions, block, unblock, rotate, delete.
 *
 * ACL: the container is the key store's account (copied onto the key at creation).
 * Invariants: the store counts its HYOK keys (`KEY_STORE_COUNTERS.hyokKeys`, so it cannot be
 * deleted under them) and a virtual key backs at most one HYOK key (`VIRTUAL_KEY_COUNTERS.hyokKeys`
 * with max 1, so that rotating one HYOK key never changes another); both counters move in the same
 * transaction as the HYOK key.
 *
 * `local_hosted_params.source_key_id` may name a virtual key, or an HSM source key: then a virtual
 * key over it (not deletable, as the seeds' default) is created in the same transaction.
 */
import { type Access, missingReferenceFor, notFoundFor } from '../accounts/access';
import { ConflictError, ValidationError } from '../errors';
import { type ListPage, matchesFilter, page, parseBooleanFilter, parseListQuery } from '../listing';
import { type HyokKeyData, hyokKeyResource, type HyokKeyResource } from './aws-key';
import type { IdGenerator } from '../ports/id-generator';
import type { Clock } from '../ports/clock';
import type { HsmKeyData } from '../hsm/hsm-key';
import { KEY_STORE_COUNTERS, type KeyStoreData, normalizeSourceKeyTier } from '../key-stores/key-store';
import {
  currentVersion,
  MAX_HYOK_KEYS_PER_VIRTUAL_KEY,
  VIRTUAL_KEY_COUNTERS,
  type VirtualKeyData,
  type VirtualKeyVersionResource,
} from './virtual-key';
import type { EntityRecord, StateOp, StateStore } from '../ports/state-store';
import {
  type AccountRecord,
  authorize,
  getAccount,
  KEY_STORE_RESOURCE,
  type KeyStoreRecord,
  mayDo,
  partitionLabel,
  claimKeyFor,
  transactWithClaim,
  requireHsmKey,
  requireInPartition,
} from '../key-references';
import { CHANGED_CONCURRENTLY, retryOnChange } from '../retry-on-change';
import { listVersions, loadVirtualKey, newVersion, newVirtualKey, type VirtualKeyRecord } from './virtual-key-service';

export type HyokKeyRecord = EntityRecord<HyokKeyData>;

export const HYOK_KEY_RESOURCE = 'AWS key';

/** POST /v1/cckm/aws/create-hyok-key (shape checked by `hyokKeySchemas.create`). */
export interface CreateHyokKeyRequest {
  readonly local_hosted_params: {
    readonly source_key_id: string;
    readonly custom_key_store_id: string;
    readonly blocked?: boolean;
    readonly source_key_tier?: string;
    readonly policy?: { readonly reserved?: boolean };
  };
  readonly aws_param?: Readonly<Record<string, unknown>>;
  readonly external_accounts?: readonly string[];
  readonly key_admins?: readonly string[];
  readonly key_admins_roles?: readonly string[];
  readonly key_users?: readonly string[];
  readonly key_users_roles?: readonly string[];
  readonly policytemplate?: string;
}

/** POST /v1/cckm/aws/keys/{id}/rotate: the HSM source key of the new version. */
export interface RotateHyokKeyRequest {
  readonly source_key_id: string;
  readonly source_key_tier?: string;
}

export interface HyokKeyServiceDeps {
  readonly state: StateStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
}

const SORTABLE = ['createdAt', 'updatedAt', 'region', 'kms', 'kms_id', 'custom_key_store_id', 'id', 'version'];
/** Parameters that only mean something for a key linked to AWS KMS. */
const LINK_ONLY_FIELDS = ['aws_param', 'external_accounts', 'key_admins', 'key_admins_roles', 'key_users', 'key_users_roles', 'policytemplate'] as const;

export class HyokKeyService {
  constructor(private readonly deps: HyokKeyServiceDeps) {}

  /**
   * 1. Refuse parameters that need linking (not available yet).
   * 2. Resolve the key store (the route's ACL on its account) and the source key: a virtual key
   *    whose partition is the store's, or an HSM key (AES-256, in the store's partition).
   * 3. One transaction: the HYOK key, the store's and the virtual key's `hyokKeys` counters (and the
   *    new virtual key with its source key reference, when given an HSM key).
   */
  async create(access: Access, request: CreateHyokKeyRequest): Promise<HyokKeyResource> {
    const { state, clock, ids } = this.deps;
    const params = request.local_hosted_params;
    for (const field of LINK_ONLY_FIELDS) {
      const value = request[field];
      if (value !== undefined && !(typeof value === 'object' && Object.keys(value).length === 0)) {
        throw new ValidationError('applies when the key is linked to AWS KMS, which is not available yet; create the key unlinked and create the KMS key with aws_param.XksKeyConfiguration.Id from the response', field);
      }
    }
    const store = await this.resolveStore(access, params.custom_key_store_id);
    checkTier(params.source_key_tier, store.data.sourceKeyTier, 'local_hosted_params.source_key_tier');
    const field = 'local_hosted_params.source_key_id';
    const now = clock.now().toISOString();
    const id = ids.newId();
    const ops: StateOp[] = [];
    let claim: StateOp[];
    let reclaim: () => Promise<StateOp[]>;
    let virtualKey: { id: string; data: VirtualKeyData };
    const existing = await state.get<VirtualKeyData>('virtualKey', params.source_key_id);
    if (existing !== undefined) {
      claim = await claimKeyFor(state, access, 'virtualKey', existing, store.data.accountId, field);
      reclaim = async () => claimKeyFor(state, access, 'virtualKey', await loadVirtualKey(state, existing.id), store.data.accountId, field);
      if (existing.data.partitionId !== store.data.partitionId) {
        throw new ValidationError(`virtual key ${existing.id} is in HSM partition ${existing.data.partitionId}, not in ${store.data.partitionId} (the key store's partition)`, field);
      }
      if ((existing.counters[VIRTUAL_KEY_COUNTERS.hyokKeys] ?? 0) >= MAX_HYOK_KEYS_PER_VIRTUAL_KEY) {
        throw new ConflictError(`Virtual key ${existing.id} already backs an HYOK key; use another virtual key or an HSM source key id`);
      }
      virtualKey = existing;
      ops.push({
        op: 'count',
        kind: 'virtualKey',
        id: existing.id,
        counter: VIRTUAL_KEY_COUNTERS.hyokKeys,
        delta: 1,
        max: MAX_HYOK_KEYS_PER_VIRTUAL_KEY,
        conflictMessage: `Virtual key ${existing.id} already backs an HYOK key, or was deleted meanwhile`,
      });
    } else {
      const sourceKey = await state.get<HsmKeyData>('hsmKey', params.source_key_id);
      if (sourceKey === undefined) throw missingReferenceFor(access.principal, `no virtual key or HSM source key has the id ${JSON.stringify(params.source_key_id)}`, field);
      claim = await claimKeyFor(state, access, 'hsmKey', sourceKey, store.data.accountId, field);
      reclaim = async () => claimKeyFor(state, access, 'hsmKey', await requireHsmKey(state, sourceKey.id, field, access), store.data.accountId, field);
      requireInPartition(sourceKey, store.data.partitionId, field);
      const planned = newVirtualKey(sourceKey, field, { now, ids, deletable: false, hyokKeys: 1, accountId: store.data.accountId });
      virtualKey = planned;
      ops.push(...planned.ops);
    }
    const data: HyokKeyData = {
      keyStoreId: store.id,
      accountId: store.data.accountId,
      region: store.data.region,
      sourceKeyTier: store.data.sourceKeyTier,
      virtualKeyId: virtualKey.id,
      blocked: params.blocked ?? false,
      linkedState: false,
      createdAt: now,
      updatedAt: now,
    };
    await transactWithClaim(
      state,
      [
        { op: 'create', kind: 'awsKey', id, data },
        { op: 'count', kind: 'keyStore', id: store.id, counter: KEY_STORE_COUNTERS.hyokKeys, delta: 1, conflictMessage: `Key store ${store.id} was deleted meanwhile` },
        ...ops,
      ],
      claim,
      reclaim,
    );
    return this.present({ kind: 'awsKey', id, data, version: 1, counters: {} }, { keyStore: store, virtualKey });
  }

  /** HYOK keys in containers where the caller has the route's action, filtered, sorted and paged. */
  async list(access: Access, query: Readonly<Record<string, string | undefined>>): Promise<ListPage<HyokKeyResource>> {
    const listQuery = parseListQuery(query, SORTABLE);
    const filters = { blocked: parseBooleanFilter(query, 'blocked'), linked: parseBooleanFilter(query, 'linked_state'), gone: parseBooleanFilter(query, 'gone') };
    // Filters on AWS KMS-side fields (keyid, arn, alias, enabled, keystate, keyusage, job_config_id)
    // match linked keys only; an unlinked key has none of those values.
    const awsSide = ['keyid', 'arn', 'alias', 'enabled', 'keystate', 'keyusage', 'job_config_id'].some((name) => (query[name] ?? '') !== '');
    const { state } = this.deps;
    const [keys, accounts, stores, virtualKeys] = await Promise.all([
      state.list<HyokKeyData>('awsKey'),
      state.list<AccountRecord['data']>('account'),
      state.list<KeyStoreData>('keyStore'),
      state.list<VirtualKeyData>('virtualKey'),
    ]);
    const accountById = new Map(accounts.map((a) => [a.id, a]));
    const storeById = new Map(stores.map((s) => [s.id, s]));
    const virtualKeyById = new Map(virtualKeys.map((v) => [v.id, v]));
    const resources = keys
      .filter((k) => mayDo(access, accountById.get(k.data.accountId)))
      .flatMap((k) => {
        const virtualKey = virtualKeyById.get(k.data.virtualKeyId);
        if (virtualKey === undefined) return [];
        return [resourceOf(k, { account: accountById.get(k.data.accountId), keyStore: storeById.get(k.data.keyStoreId), virtualKey })];
      })
      .filter(
        (r) =>
          !awsSide &&
          matchesFilter(query.id, r.id) &&
          (matchesFilter(query.kms, r.kms) || matchesFilter(query.kms, r.kms_id)) &&
          matchesFilter(query.kms_id, r.kms_id) &&
          matchesFilter(query.region, r.region) &&
          // AWS KMS reports keys in external key stores with this origin.
          matchesFilter(query.origin, 'EXTERNAL_KEY_STORE') &&
          matchesFilter(query.key_material_origin, r.key_material_origin) &&
          matchesFilter(query.key_source, r.key_source) &&
          matchesFilter(query.custom_key_store_id, r.custom_key_store_id) &&
          matchesFilter(filters.blocked, r.blocked) &&
          matchesFilter(filters.linked, r.linked_state) &&
          matchesFilter(filters.gone, r.gone),
      );
    return page(resources, listQuery);
  }

  async get(access: Access, id: string): Promise<HyokKeyResource> {
    return this.present(await this.load(access, id));
  }

  async listVersions(access: Access, id: string, query: Readonly<Record<string, string | undefined>>): Promise<ListPage<VirtualKeyVersionResource>> {
    const key = await this.load(access, id);
    const virtualKey = await loadVirtualKey(this.deps.state, key.data.virtualKeyId);
    return listVersions(virtualKey, await partitionLabel(this.deps.state, virtualKey.data.partitionId), query);
  }

  block(access: Access, id: string): Promise<HyokKeyResource> {
    return this.setBlocked(access, id, true);
  }

  unblock(access: Access, id: string): Promise<HyokKeyResource> {
    return this.setBlocked(access, id, false);
  }

  /**
   * A new version of the key's virtual key pointing at `source_key_id` (an AES-256 HSM key in the
   * store's partition): new encryptions use it, older ciphertexts still decrypt with theirs.
   */
  async rotate(access: Access, id: string, request: RotateHyokKeyRequest): Promise<HyokKeyResource> {
    const { state, clock, ids } = this.deps;
    return retryOnChange(async () => {
      const key = await this.load(access, id);
      checkTier(request.source_key_tier, key.data.sourceKeyTier, 'source_key_tier');
      const virtualKey = await loadVirtualKey(state, key.data.virtualKeyId);
      const sourceKey = await requireHsmKey(state, request.source_key_id, 'source_key_id', access);
      const claim = await claimKeyFor(state, access, 'hsmKey', sourceKey, key.data.accountId, 'source_key_id');
      const now = clock.now().toISOString();
      const next = newVersion(virtualKey, sourceKey, 'source_key_id', { now, ids });
      const data: HyokKeyData = { ...key.data, rotatedAt: now, updatedAt: now };
      await state.transact([
        { op: 'update', kind: 'awsKey', id, data, expectedVersion: key.version, conflictMessage: CHANGED_CONCURRENTLY },
        ...next.ops,
        ...claim,
      ]);
      return this.present({ ...key, data, version: key.version + 1 }, { virtualKey: { id: virtualKey.id, data: next.data } });
    });
  }

  /** Deletes an unlinked HYOK key and releases its store and virtual key (which stays, with its versions). */
  async delete(access: Access, id: string): Promise<void> {
    const { state } = this.deps;
    await retryOnChange(async () => {
      const key = await this.load(access, id);
      if (key.data.linkedState) throw new ConflictError(`AWS key ${id} is linked to AWS KMS; only unlinked HYOK keys can be deleted here`);
      await state.transact([
        { op: 'delete', kind: 'awsKey', id, expectedVersion: key.version, conflictMessage: CHANGED_CONCURRENTLY },
        { op: 'count', kind: 'keyStore', id: key.data.keyStoreId, counter: KEY_STORE_COUNTERS.hyokKeys, delta: -1, min: 0 },
        { op: 'count', kind: 'virtualKey', id: key.data.virtualKeyId, counter: VIRTUAL_KEY_COUNTERS.hyokKeys, delta: -1, min: 0 },
      ]);
    });
  }

  private setBlocked(access: Access, id: string, blocked: boolean): Promise<HyokKeyResource> {
    const { state, clock } = this.deps;
    return retryOnChange(async () => {
      const key = await this.load(access, id);
      if (key.data.blocked === blocked) return this.present(key);
      const data: HyokKeyData = { ...key.data, blocked, updatedAt: clock.now().toISOString() };
      await state.transact([{ op: 'update', kind: 'awsKey', id, data, expectedVersion: key.version, conflictMessage: CHANGED_CONCURRENTLY }]);
      return this.present({ ...key, data, version: key.version + 1 });
    });
  }

  /** An HYOK key the caller may do the route's action on: missing is 404 for admins, 403 for users. */
  private async load(access: Access, id: string): Promise<HyokKeyRecord> {
    const key = await this.deps.state.get<HyokKeyData>('awsKey', id);
    if (key === undefined) throw notFoundFor(access.principal, HYOK_KEY_RESOURCE, id);
    authorize(access, await getAccount(this.deps.state, key.data.accountId));
    return key;
  }

  /** The key store a create request names: missing is a 400 naming the field for admins, 403 for users. */
  private async resolveStore(access: Access, id: string): Promise<KeyStoreRecord> {
    const store = await this.deps.state.get<KeyStoreData>('keyStore', id);
    if (store === undefined) {
      throw missingReferenceFor(access.principal, `no ${KEY_STORE_RESOURCE.toLowerCase()} has the id ${JSON.stringify(id)}`, 'local_hosted_params.custom_key_store_id');
    }
    authorize(access, await getAccount(this.deps.state, store.data.accountId));
    return store;
  }

  /** The key as the API shows it; loads whatever related record the caller did not pass. */
  private async present(
    key: HyokKeyRecord,
    known: { keyStore?: KeyStoreRecord; virtualKey?: { id: string; data: VirtualKeyData } } = {},
  ): Promise<HyokKeyResource> {
    const { state } = this.deps;
    const [account, keyStore, virtualKey] = await Promise.all([
      getAccount(state, key.data.accountId),
      known.keyStore ?? state.get<KeyStoreData>('keyStore', key.data.keyStoreId),
      known.virtualKey ?? loadVirtualKey(state, key.data.virtualKeyId),
    ]);
    return resourceOf(key, { account, keyStore, virtualKey });
  }
}

function resourceOf(
  key: HyokKeyRecord,
  related: { account?: AccountRecord; keyStore?: KeyStoreRecord; virtualKey: Pick<VirtualKeyRecord, 'data'> },
): HyokKeyResource {
  const current = currentVersion(related.virtualKey.data);
  return hyokKeyResource(key.id, key.data, {
    accountName: related.account?.data.name ?? '',
    keyStoreName: related.keyStore?.data.name ?? '',
    localKeyId: current.sourceKeyId,
    localKeyName: current.sourceKeyLabel,
    currentVersion: current.version,
  });
}

/** An optional `source_key_tier` must be the key store's (its partition's) tier. */
function checkTier(requested: string | undefined, tier: string, field: string): void {
  const normalized = normalizeSourceKeyTier(requested);
  if (normalized !== undefined && normalized !== tier) throw new ValidationError(`must be the key store's source key tier, ${tier}`, field);
}
