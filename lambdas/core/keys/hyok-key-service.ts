/**
 * HYOK keys (README "AWS keys"; seeds: "Create an AWS HYOK Key" … "Link an Unlinked AWS HYOK key"):
 * an AWS KMS external key in one of our external key stores, backed by a virtual key. Create
 * (unlinked, or linked in one call when the request has `aws_param` or policy parameters and the
 * store is linked), link, versions, block, unblock, rotate. Listing, reading, deleting and the KMS
 * key operations are the AWS key service's (aws-key-service.ts), as for every kind of AWS key.
 *
 * ACL: the container is the key store's account (copied onto the key at creation).
 * Invariants: the store counts its HYOK keys (`KEY_STORE_COUNTERS.hyokKeys`, so it cannot be
 * deleted under them) and a virtual key backs at most one HYOK key (`VIRTUAL_KEY_COUNTERS.hyokKeys`
 * with max 1, so that rotating one HYOK key never changes another); both counters move in the same
 * transaction as the HYOK key.
 *
 * `local_hosted_params.source_key_id` may name a virtual key, or an HSM source key: then a virtual
 * key over it (not deletable, as CCKM's default) is created in the same transaction
 * (hyok-key-source.ts).
 *
 * Creating a linked key writes the HYOK key first (AWS KMS asks the proxy for it while it creates
 * the KMS key), then calls AWS KMS; when AWS KMS refuses, the same transaction's writes are undone,
 * so no HYOK key is left behind.
 */
import { type Access, missingReferenceFor } from '../accounts/access';
import { ConflictError } from '../errors';
import type { ListPage } from '../listing';
import type { IdGenerator } from '../ports/id-generator';
import type { Clock } from '../ports/clock';
import type { AwsKmsKeys } from '../ports/aws-kms-keys';
import { KEY_STORE_COUNTERS, type KeyStoreData } from '../key-stores/key-store';
import { currentVersion, type VirtualKeyVersionResource } from './virtual-key';
import type { EntityRecord, StateOp, StateStore } from '../ports/state-store';
import { authorize, claimKeyFor, getAccount, KEY_STORE_RESOURCE, type KeyStoreRecord, partitionLabel, requireHsmKey, transactWithClaim } from '../key-references';
import { CHANGED_CONCURRENTLY, retryOnChange } from '../retry-on-change';
import { type AwsKeyData, type HyokKeyData, isHyokKey, kmsKeySnapshot } from './aws-key';
import type { HyokKeyResource } from './aws-key-resource';
import { AWS_KEY_RESOURCE, type AwsKeyService } from './aws-key-service';
import { asksToLink, createKmsKey, type LinkHyokKeyRequest, linkPlan, type LinkPlan, requireLinkedStore, undoKmsKey } from './hyok-key-link';
import { kmsLocationOf, readKmsKey } from './kms-key-reads';
import { listVersions, loadVirtualKey, newVersion } from './virtual-key-service';
import { backingVirtualKey, checkTier } from './hyok-key-source';
import type { CreateHyokKeyRequest, RotateHyokKeyRequest } from '../../contract/key-schemas';

export type HyokKeyRecord = EntityRecord<HyokKeyData>;

/** POST /v1/cckm/aws/create-hyok-key and POST .../{id}/rotate: the types of `hyokKeySchemas.create` and `rotate`. */
export type { CreateHyokKeyRequest, RotateHyokKeyRequest };

export interface HyokKeyServiceDeps {
  readonly state: StateStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly awsKmsKeys: AwsKmsKeys;
  readonly awsKeys: AwsKeyService;
}

export class HyokKeyService {
  constructor(private readonly deps: HyokKeyServiceDeps) {}

  /**
   * 1. Resolve the key store (the route's ACL on its account) and the source key: a virtual key
   *    whose partition is the store's, or an HSM key (AES-256, in the store's partition); with link
   *    parameters, check them and that the store is linked.
   * 2. One transaction: the HYOK key, the store's and the virtual key's `hyokKeys` counters (and the
   *    new virtual key with its source key reference, when given an HSM key).
   * 3. With link parameters: create the KMS key; when AWS KMS refuses, undo step 2 and answer its refusal.
   */
  async create(access: Access, request: CreateHyokKeyRequest): Promise<HyokKeyResource> {
    const { state, clock, ids } = this.deps;
    const params = request.local_hosted_params;
    const store = await this.resolveStore(access, params.custom_key_store_id);
    checkTier(params.source_key_tier, store.data.sourceKeyTier, 'local_hosted_params.source_key_tier');
    const account = await getAccount(state, store.data.accountId);
    const link = asksToLink(request)
      ? { plan: linkPlan(request, account?.data.accountId ?? ''), customKeyStoreId: requireLinkedStore(store.id, store.data.aws?.customKeyStoreId) }
      : undefined;
    const now = clock.now().toISOString();
    const id = ids.newId();
    const { virtualKeyId, ops, claim, reclaim } = await backingVirtualKey(state, access, store, params.source_key_id, { now, ids });
    const data: HyokKeyData = {
      kind: 'hyok',
      keyStoreId: store.id,
      accountId: store.data.accountId,
      region: store.data.region,
      sourceKeyTier: store.data.sourceKeyTier,
      virtualKeyId,
      blocked: params.blocked ?? false,
      linkedState: false,
      createdAt: now,
      updatedAt: now,
    };
    const writes: StateOp[] = [
      { op: 'create', kind: 'awsKey', id, data },
      { op: 'count', kind: 'keyStore', id: store.id, counter: KEY_STORE_COUNTERS.hyokKeys, delta: 1, conflictMessage: `Key store ${store.id} was deleted meanwhile` },
      ...ops,
    ];
    await transactWithClaim(state, writes, claim, reclaim);
    const created: HyokKeyRecord = { kind: 'awsKey', id, data, version: 1, counters: {} };
    if (link === undefined) return this.show(created);
    try {
      return await this.linkRecord(created, link.plan, link.customKeyStoreId);
    } catch (error) {
      // The source key stays assigned to this container (the claim): it was this container's to use.
      await state.transact(writes.map(undo));
      throw error;
    }
  }

  /** Creates the KMS key of an unlinked HYOK key in its linked, connected store (route ACL `hyokkeylink`). */
  async link(access: Access, id: string, request: LinkHyokKeyRequest): Promise<HyokKeyResource> {
    const key = await this.load(access, id);
    if (key.data.linkedState) throw new ConflictError(`HYOK key ${id} is already linked to AWS KMS key ${key.data.kms?.metadata.Arn ?? ''}`);
    const store = await this.deps.state.get<KeyStoreData>('keyStore', key.data.keyStoreId);
    if (store === undefined) throw new ConflictError(`The key store of HYOK key ${id} no longer exists`);
    const account = await getAccount(this.deps.state, key.data.accountId);
    const plan = linkPlan(request, account?.data.accountId ?? '');
    return this.linkRecord(key, plan, requireLinkedStore(store.id, store.data.aws?.customKeyStoreId));
  }

  async listVersions(access: Access, id: string, query: Readonly<Record<string, string | undefined>>): Promise<ListPage<VirtualKeyVersionResource>> {
    const key = await this.load(access, id);
    const virtualKey = await loadVirtualKey(this.deps.state, key.data.virtualKeyId);
    return listVersions(virtualKey, await partitionLabel(this.deps.state, virtualKey.data.partitionId), query);
  }

  /** Blocks AWS KMS's use of the key at the proxy (within its state cache's 5 s). */
  block(access: Access, id: string): Promise<HyokKeyResource> {
    return this.setBlocked(access, id, true);
  }

  unblock(access: Access, id: string): Promise<HyokKeyResource> {
    return this.setBlocked(access, id, false);
  }

  /**
   * A new version of the key's virtual key pointing at `source_key_id` (an AES-256 HSM key in the
   * store's partition): new encryptions use it, older ciphertexts still decrypt with theirs (the
   * proxy's ciphertext metadata names the version), through AWS KMS as well. The key records the
   * source keys it rotated from and to. `replacedVersionExpiresAt` (a key rotation job's expiry)
   * is when the version it replaces stops decrypting.
   */
  async rotate(access: Access, id: string, request: RotateHyokKeyRequest, options: { readonly replacedVersionExpiresAt?: string } = {}): Promise<HyokKeyResource> {
    const { state, clock, ids } = this.deps;
    return retryOnChange(async () => {
      const key = await this.load(access, id);
      checkTier(request.source_key_tier, key.data.sourceKeyTier, 'source_key_tier');
      const virtualKey = await loadVirtualKey(state, key.data.virtualKeyId);
      const sourceKey = await requireHsmKey(state, request.source_key_id, 'source_key_id', access);
      const claim = await claimKeyFor(state, access, 'hsmKey', sourceKey, key.data.accountId, 'source_key_id');
      const now = clock.now().toISOString();
      const next = newVersion(virtualKey, sourceKey, 'source_key_id', { now, ids, replacedVersionExpiresAt: options.replacedVersionExpiresAt });
      const rotatedFrom = currentVersion(virtualKey.data).sourceKeyId;
      const data: HyokKeyData = { ...key.data, rotatedAt: now, rotatedFrom, rotatedTo: sourceKey.id, updatedAt: now };
      await state.transact([
        { op: 'update', kind: 'awsKey', id, data, expectedVersion: key.version, conflictMessage: CHANGED_CONCURRENTLY },
        ...next.ops,
        ...claim,
      ]);
      return this.show({ ...key, data, version: key.version + 1 });
    });
  }

  /**
   * CreateKey (and its alias) for the key, then the record linked with AWS KMS's side of it. When
   * the record cannot be written (it changed or went meanwhile), the new KMS key is scheduled for
   * deletion again.
   */
  private async linkRecord(key: HyokKeyRecord, plan: LinkPlan, customKeyStoreId: string): Promise<HyokKeyResource> {
    const { state, clock, awsKmsKeys } = this.deps;
    const account = await getAccount(state, key.data.accountId);
    const at = kmsLocationOf(account, key.data.accountId, key.data.region);
    const metadata = await createKmsKey(awsKmsKeys, at, plan, { hyokKeyId: key.id, customKeyStoreId });
    try {
      const read = await readKmsKey(awsKmsKeys, at, metadata.KeyId, clock.now());
      const kms = read === 'gone' ? kmsKeySnapshot({ metadata, aliases: plan.alias === undefined ? [] : [plan.alias], tags: plan.createKey.tags ?? [] }, clock.now().toISOString()) : read;
      const data: HyokKeyData = { ...key.data, linkedState: true, kms, updatedAt: clock.now().toISOString() };
      await state.transact([{ op: 'update', kind: 'awsKey', id: key.id, data, expectedVersion: key.version, conflictMessage: `HYOK key ${key.id} changed while its KMS key was created; the KMS key ${metadata.KeyId} was scheduled for deletion, link again` }]);
      return this.show({ ...key, data, version: key.version + 1 });
    } catch (error) {
      await undoKmsKey(awsKmsKeys, at, metadata.KeyId);
      throw error;
    }
  }

  private setBlocked(access: Access, id: string, blocked: boolean): Promise<HyokKeyResource> {
    const { state, clock } = this.deps;
    return retryOnChange(async () => {
      const key = await this.load(access, id);
      if (key.data.blocked === blocked) return this.show(key);
      const data: HyokKeyData = { ...key.data, blocked, updatedAt: clock.now().toISOString() };
      await state.transact([{ op: 'update', kind: 'awsKey', id, data, expectedVersion: key.version, conflictMessage: CHANGED_CONCURRENTLY }]);
      return this.show({ ...key, data, version: key.version + 1 });
    });
  }

  private async show(key: HyokKeyRecord): Promise<HyokKeyResource> {
    return (await this.deps.awsKeys.show(key)) as HyokKeyResource;
  }

  /** An HYOK key the caller may do the route's action on: missing is 404 for admins, 403 for users; another kind is a 409. */
  private async load(access: Access, id: string): Promise<HyokKeyRecord> {
    const { key } = await this.deps.awsKeys.load(access, id);
    if (!isHyokKey(key.data)) throw new ConflictError(`${AWS_KEY_RESOURCE} ${id} is not an HYOK key`);
    return key as EntityRecord<AwsKeyData> as HyokKeyRecord;
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
}

/** The op that takes back what `op` did (for a create that AWS KMS refused). */
function undo(op: StateOp): StateOp {
  if (op.op === 'create') return { op: 'delete', kind: op.kind, id: op.id };
  if (op.op === 'count') return { op: 'count', kind: op.kind, id: op.id, counter: op.counter, delta: -op.delta, min: 0 };
  throw new Error(`cannot undo a ${op.op} op`);
}
