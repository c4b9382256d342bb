/**
 * CloudHSM key stores (`AWS_CLOUDHSM`): create, show, update, connect, disconnect, delete, and the
 * rules they share with the cluster listing (README "CloudHSM key stores").
 *
 * Both sides are kept together so that a failure leaves nothing half-made:
 *  - create: the password is written to the secret store, then the store is created in AWS KMS
 *    (which checks cluster and trust anchor), then recorded here; a refusal at any step undoes the
 *    steps before it (the secret removed, the AWS KMS store deleted again);
 *  - a new password (PATCH, or connect with one) replaces the secret, then goes to AWS KMS; when
 *    AWS KMS refuses, the old secret is put back;
 *  - delete: only while AWS KMS has the store DISCONNECTED and no AWS key of the key manager is in
 *    it; AWS KMS first (it also refuses while it has KMS keys there), then the record, then the secret.
 * The record never holds the password; names share one namespace with external key stores.
 */
import type { Access } from '../accounts/access';
import { notFoundFor } from '../accounts/access';
import { ConflictError } from '../errors';
import { authorize, getAccount, KEY_STORE_RESOURCE, resolveAccount, type AccountRecord } from '../key-references';
import type { AwsKms, CloudHsmKeyStoreChanges, KmsLocation } from '../ports/aws-kms';
import type { Clock } from '../ports/clock';
import type { IdGenerator } from '../ports/id-generator';
import type { SecretStore } from '../ports/secret-store';
import type { EntityRecord, StateStore } from '../ports/state-store';
import { CHANGED_CONCURRENTLY, retryOnChange } from '../retry-on-change';
import { secretNames } from '../secret-names';
import { ConnectionStates, kmsLocation } from './aws-kms-links';
import {
  checkClusterId,
  locationOf,
  requireRegion,
  refuseExternalFields,
  refuseUpdateFields,
  required,
  checkKeyStorePassword,
  checkTrustAnchorCertificate,
  CLOUDHSM_KEY_STORE_COUNTERS,
  type CloudHsmKeyStoreData,
  cloudHsmKeyStoreResource,
  type CloudHsmKeyStoreResource,
} from './cloudhsm-key-store';
import { CLOUDHSM_KEY_STORE } from './key-store';
import type { CreateKeyStoreRequest, UpdateKeyStoreRequest } from './key-store-requests';
import { accountKeyStoreCounts } from '../accounts/account';

import { replaceKmsuserPassword } from './kmsuser-password';
import { landedDespite } from './xks-credentials';

export type CloudHsmKeyStoreRecord = EntityRecord<CloudHsmKeyStoreData>;

export interface CloudHsmKeyStoreServiceDeps {
  readonly state: StateStore;
  readonly secrets: SecretStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly awsKms: AwsKms;
}

export class CloudHsmKeyStoreService {
  private readonly connections: ConnectionStates;

  constructor(private readonly deps: CloudHsmKeyStoreServiceDeps) {
    this.connections = new ConnectionStates(deps.awsKms, () => deps.clock.now().getTime());
  }

  /**
   * 1. Check the fields (the three CloudHSM ones required, no external key store field).
   * 2. Resolve the account container (ACL `keystoreadd`) and its region.
   * 3. Write the password, create the store in AWS KMS, record it here with the name claim and the
   *    container's counters; each failure undoes what came before.
   */
  async create(access: Access, request: CreateKeyStoreRequest): Promise<CloudHsmKeyStoreResource> {
    const { state, secrets, clock, ids, awsKms } = this.deps;
    refuseExternalFields(request);
    const aws = request.aws_param;
    const clusterId = checkClusterId(required(aws.cloud_hsm_cluster_id, 'aws_param.cloud_hsm_cluster_id'), 'aws_param.cloud_hsm_cluster_id');
    const password = checkKeyStorePassword(required(aws.key_store_password, 'aws_param.key_store_password'), 'aws_param.key_store_password');
    const trustAnchor = checkTrustAnchorCertificate(required(aws.trust_anchor_certificate, 'aws_param.trust_anchor_certificate'), 'aws_param.trust_anchor_certificate');
    const account = await resolveAccount(state, access, request.kms, 'kms');
    requireRegion(account, request.region);

    const id = ids.newId();
    const secretName = secretNames.cloudHsmPassword(id);
    const at = kmsLocation(account, request.region);
    await secrets.put(secretName, password);
    let customKeyStoreId: string;
    try {
      customKeyStoreId = await awsKms.createCloudHsmKeyStore(at, { name: request.name, cloudHsmClusterId: clusterId, trustAnchorCertificate: trustAnchor, keyStorePassword: password });
    } catch (error) {
      await secrets.delete(secretName).catch(() => undefined);
      throw error;
    }
    const now = clock.now().toISOString();
    const data: CloudHsmKeyStoreData = {
      name: request.name, accountId: account.id, region: request.region, customKeyStoreType: CLOUDHSM_KEY_STORE,
      cloudHsmClusterId: clusterId, trustAnchorCertificate: trustAnchor, customKeyStoreId, createdAt: now, updatedAt: now,
    };
    try {
      await state.transact([
        {
          op: 'create', kind: 'cloudHsmKeyStore', id, data, uniqueName: request.name,
          counters: { [CLOUDHSM_KEY_STORE_COUNTERS.awsKeys]: 0 },
          conflictMessage: `A key store named ${JSON.stringify(request.name)} already exists`,
        },
        ...accountKeyStoreCounts(account.id, request.region, 1),
      ]);
    } catch (error) {
      if (!(await landedDespite(error, async () => (await state.get('cloudHsmKeyStore', id)) !== undefined))) {
        await awsKms.deleteCustomKeyStore(at, customKeyStoreId).catch(() => undefined);
        await secrets.delete(secretName).catch(() => undefined);
        throw error;
      }
    }
    return cloudHsmKeyStoreResource(id, data, { accountName: account.data.name, connection: { state: 'DISCONNECTED' } });
  }

  /** The store (ACL of the route on its container), or undefined when no CloudHSM store has the id. */
  async find(id: string): Promise<CloudHsmKeyStoreRecord | undefined> {
    return this.deps.state.get<CloudHsmKeyStoreData>('cloudHsmKeyStore', id);
  }

  async get(access: Access, id: string): Promise<CloudHsmKeyStoreResource> {
    const { store, account } = await this.load(access, id);
    return this.present(store, account);
  }

  /** The stores of the containers `visible` accepts (custom-key-stores.ts filters and pages them with the external ones). */
  async listAll(visible: (account: AccountRecord | undefined) => boolean): Promise<CloudHsmKeyStoreResource[]> {
    const { state } = this.deps;
    const [stores, accounts] = await Promise.all([state.list<CloudHsmKeyStoreData>('cloudHsmKeyStore'), state.list<AccountRecord['data']>('account')]);
    const accountById = new Map(accounts.map((a) => [a.id, a]));
    const shown = stores.filter((s) => visible(accountById.get(s.data.accountId)));
    const connections = await this.connections.ofMany(shown.flatMap((s) => {
      const account = accountById.get(s.data.accountId);
      return account === undefined ? [] : [{ at: kmsLocation(account, s.data.region), customKeyStoreId: s.data.customKeyStoreId }];
    }));
    let next = 0;
    return shown.map((s) => {
      const account = accountById.get(s.data.accountId);
      return cloudHsmKeyStoreResource(s.id, s.data, { accountName: account?.data.name ?? '', connection: account === undefined ? undefined : connections[next++] });
    });
  }

  /** Name, cluster (one of the original's backup lineage) and password, only while AWS KMS has the store DISCONNECTED. */
  async update(access: Access, id: string, request: UpdateKeyStoreRequest): Promise<CloudHsmKeyStoreResource> {
    const aws = request.aws_param ?? {};
    refuseUpdateFields(request);
    const clusterId = aws.cloud_hsm_cluster_id === undefined ? undefined : checkClusterId(aws.cloud_hsm_cluster_id, 'aws_param.cloud_hsm_cluster_id');
    const password = aws.key_store_password === undefined ? undefined : checkKeyStorePassword(aws.key_store_password, 'aws_param.key_store_password');
    const { state, clock, awsKms } = this.deps;
    return retryOnChange(async () => {
      const { store, account } = await this.load(access, id);
      const at = locationOf(store, account);
      await this.requireDisconnected(store, at, 'changed');
      const old = store.data;
      const changes: CloudHsmKeyStoreChanges = {
        ...(request.name === undefined || request.name === old.name ? {} : { name: request.name }),
        ...(clusterId === undefined || clusterId === old.cloudHsmClusterId ? {} : { cloudHsmClusterId: clusterId }),
      };
      const data: CloudHsmKeyStoreData = { ...old, name: changes.name ?? old.name, cloudHsmClusterId: changes.cloudHsmClusterId ?? old.cloudHsmClusterId, updatedAt: clock.now().toISOString() };
      const restorePassword = password === undefined ? undefined : await replaceKmsuserPassword(this.deps, { keyStoreId: id, at, customKeyStoreId: store.data.customKeyStoreId }, password, changes);
      if (restorePassword === undefined && Object.keys(changes).length > 0) await awsKms.updateCloudHsmKeyStore(at, old.customKeyStoreId, changes);
      try {
        await state.transact([{
          op: 'update', kind: 'cloudHsmKeyStore', id, data, expectedVersion: store.version, conflictMessage: CHANGED_CONCURRENTLY,
          ...(data.name === old.name ? {} : { rename: { from: old.name, to: data.name } }),
        }]);
      } catch (error) {
        // Put AWS KMS back as it was, so that a retry (or the caller) starts from the recorded store.
        const undo = { ...(changes.name ? { name: old.name } : {}), ...(changes.cloudHsmClusterId ? { cloudHsmClusterId: old.cloudHsmClusterId } : {}) };
        if (Object.keys(undo).length > 0) await awsKms.updateCloudHsmKeyStore(at, old.customKeyStoreId, undo).catch(() => undefined);
        await restorePassword?.();
        throw error;
      }
      return this.present({ ...store, data, version: store.version + 1 }, account);
    });
  }

  /** ConnectCustomKeyStore; with `key_store_password`, the stored password is replaced first (the store must be DISCONNECTED for that). */
  async connect(access: Access, id: string, request: { readonly key_store_password?: string } = {}): Promise<CloudHsmKeyStoreResource> {
    const password = request.key_store_password === undefined ? undefined : checkKeyStorePassword(request.key_store_password, 'key_store_password');
    const { store, account } = await this.load(access, id);
    const at = locationOf(store, account);
    if (password !== undefined) {
      await this.requireDisconnected(store, at, 'given a new password');
      await replaceKmsuserPassword(this.deps, { keyStoreId: id, at, customKeyStoreId: store.data.customKeyStoreId }, password, {});
    }
    await this.deps.awsKms.connectCustomKeyStore(at, store.data.customKeyStoreId);
    return this.presentFresh(store, account);
  }

  async disconnect(access: Access, id: string): Promise<CloudHsmKeyStoreResource> {
    const { store, account } = await this.load(access, id);
    await this.deps.awsKms.disconnectCustomKeyStore(locationOf(store, account), store.data.customKeyStoreId);
    return this.presentFresh(store, account);
  }

  /** Only while DISCONNECTED and without AWS keys (the 409 says which is not so); AWS KMS first, then here, then the password. */
  async delete(access: Access, id: string): Promise<void> {
    const { state, secrets, awsKms } = this.deps;
    await retryOnChange(async () => {
      const { store, account } = await this.load(access, id);
      const at = locationOf(store, account);
      const keys = store.counters[CLOUDHSM_KEY_STORE_COUNTERS.awsKeys] ?? 0;
      const connection = await this.connections.of(at, store.data.customKeyStoreId, { fresh: true });
      const reasons = [
        ...(connection.state === 'DISCONNECTED' ? [] : [`it is ${connection.state} in AWS KMS (disconnect it first)`]),
        ...(keys === 0 ? [] : [`it still has ${keys} AWS key(s) (schedule their deletion in AWS KMS and delete them here first)`]),
      ];
      if (reasons.length > 0) throw new ConflictError(`CloudHSM key store ${id} cannot be deleted: ${reasons.join('; ')}`);
      await awsKms.deleteCustomKeyStore(at, store.data.customKeyStoreId);
      this.connections.forget(store.data.customKeyStoreId);
      await state.transact([
        { op: 'delete', kind: 'cloudHsmKeyStore', id, expectedVersion: store.version, uniqueName: store.data.name, requireZero: [CLOUDHSM_KEY_STORE_COUNTERS.awsKeys], conflictMessage: CHANGED_CONCURRENTLY },
        ...accountKeyStoreCounts(store.data.accountId, store.data.region, -1),
      ]);
    });
    await secrets.delete(secretNames.cloudHsmPassword(id)).catch(() => undefined);
  }

  /** A store the caller may do the route's action on: missing is 404 for admins, 403 for users. */
  async load(access: Access, id: string): Promise<{ store: CloudHsmKeyStoreRecord; account: AccountRecord | undefined }> {
    const store = await this.find(id);
    if (store === undefined) throw notFoundFor(access.principal, KEY_STORE_RESOURCE, id);
    const account = await getAccount(this.deps.state, store.data.accountId);
    authorize(access, account);
    return { store, account };
  }

  async present(store: CloudHsmKeyStoreRecord, account: AccountRecord | undefined): Promise<CloudHsmKeyStoreResource> {
    const connection = account === undefined ? undefined : await this.connections.of(kmsLocation(account, store.data.region), store.data.customKeyStoreId);
    return cloudHsmKeyStoreResource(store.id, store.data, { accountName: account?.data.name ?? '', connection });
  }

  private async presentFresh(store: CloudHsmKeyStoreRecord, account: AccountRecord | undefined): Promise<CloudHsmKeyStoreResource> {
    this.connections.forget(store.data.customKeyStoreId);
    return this.present(store, account);
  }

  private async requireDisconnected(store: CloudHsmKeyStoreRecord, at: KmsLocation, what: string): Promise<void> {
    const connection = await this.connections.of(at, store.data.customKeyStoreId, { fresh: true });
    if (connection.state !== 'DISCONNECTED') {
      throw new ConflictError(`CloudHSM key store ${store.id} is ${connection.state} in AWS KMS; it can be ${what} only while DISCONNECTED (disconnect it first)`);
    }
  }

}
