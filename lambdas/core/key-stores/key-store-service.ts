/**
 * External custom key stores: create, list, get, update, delete, block, unblock
 * (CCKM's "Create a Custom Key Store" … "Unblock Access"; CCKM's operator guide).
 *
 * Invariants and where they are kept:
 *  - the name is unique: a name claim in the create transaction, moved by rename on update;
 *  - the account container counts its key stores and the health-check key counts its users
 *    (counters adjusted in the same transaction as the store, so neither can be deleted under it);
 *  - a store is deleted only while it has no HYOK key (`requireZero` on its `hyokKeys` counter,
 *    which CreateHyokKey increments in its own transaction);
 *  - read-modify-write changes carry the store's version and are recomputed when it moved.
 *
 * Linked stores also exist in AWS KMS, in their account container's account and region. Changes
 * are made on both sides so that a failure leaves neither half-done: a store is created here
 * first (AWS KMS calls the proxy, which must know it), then in AWS KMS, and removed here again
 * when AWS KMS refuses; updates are written here, then pushed, and written back when AWS KMS
 * refuses them; a delete is done in AWS KMS first, which refuses while AWS KMS has keys in it.
 */
import type { Access } from '../accounts/access';
import type { AwsKms, ExternalKeyStoreChanges, KmsLocation } from '../ports/aws-kms';
import { ConflictError, ValidationError } from '../errors';
import { LISTS } from '../../contract/lists';
import { type ListPage, parseList } from '../listing';
import { ACCOUNT_COUNTERS } from '../accounts/account';
import type { IdGenerator } from '../ports/id-generator';
import type { Clock } from '../ports/clock';
import { HSM_KEY_COUNTERS, hsmKeyRef } from '../hsm/hsm-key';
import { partitionConnection } from '../hsm/partition';
import type { HsmAgent } from '../ports/hsm';
import { sealHealthCheckCiphertext } from './health-check-ciphertext';
import {
  checkClientSubjectCn,
  checkHealthCheckKey,
  checkXksProxyUriEndpoint,
  CLOUDHSM_KEY_STORE,
  DEFAULT_MAX_CREDENTIALS,
  EXTERNAL_KEY_STORE,
  KEY_STORE_COUNTERS,
  type ConnectionView,
  type KeyStoreData,
  keyStoreResource,
  type KeyStoreResource,
  normalizeSourceKeyTier,
  resolveConnectivity,
  SOURCE_KEY_TIER_BY_HSM_TYPE,
  SOURCE_KEY_TIERS,
  type SourceKeyTier,
  type XksProxyConnectivity,
} from './key-store';
import { xksProxyUriPath } from '../../contract/xks-proxy-uri';
import type { SecretStore } from '../ports/secret-store';
import type { CredentialUsage } from '../ports/credential-usage';
import { secretNames } from '../secret-names';
import type { StateOp, StateStore } from '../ports/state-store';
import { discardXksSecrets, issueXksCredential, type IssuedXksCredential, landedDespite } from './xks-credentials';
import {
  type AccountRecord,
  getAccount,
  type KeyStoreRecord,
  loadKeyStore,
  mayDo,
  partitionLabel,
  partitionLabels,
  type PartitionRecord,
  claimKeyFor,
  transactWithClaim,
  requireHsmKey,
  requireInPartition,
  requirePartition,
  resolveAccount,
} from '../key-references';
import { ConnectionStates, kmsLocation } from './aws-kms-links';
import { releaseAssignment } from '../job-config-labels';
import { CHANGED_CONCURRENTLY, retryOnChange } from '../retry-on-change';

/** POST /v1/cckm/aws/custom-key-stores (shape checked by `keyStoreSchemas.create`). */
export interface CreateKeyStoreRequest {
  readonly name: string;
  readonly kms: string;
  readonly region: string;
  readonly linked_state?: boolean;
  readonly enable_success_audit_event?: boolean;
  readonly local_hosted_params?: {
    readonly blocked?: boolean;
    readonly mtls_enabled?: boolean;
    readonly mtls_client_subject_cn?: string;
    readonly partition_id?: string;
    readonly health_check_key_id?: string;
    readonly max_credentials?: number;
    readonly source_key_tier?: string;
    readonly policy?: { readonly reserved?: boolean };
  };
  readonly aws_param: {
    readonly custom_key_store_type?: string;
    readonly xks_proxy_connectivity?: XksProxyConnectivity;
    readonly xks_proxy_uri_endpoint?: string;
    readonly xks_proxy_uri_path?: string;
    readonly xks_proxy_vpc_endpoint_service_name?: string;
    readonly cloud_hsm_cluster_id?: string;
    readonly key_store_password?: string;
    readonly trust_anchor_certificate?: string;
  };
}

/** PATCH /v1/cckm/aws/custom-key-stores/{id} (shape checked by `keyStoreSchemas.update`). */
export interface UpdateKeyStoreRequest {
  readonly name?: string;
  readonly enable_success_audit_event?: boolean;
  readonly local_hosted_params?: {
    readonly health_check_key_id?: string;
    readonly mtls_enabled?: boolean;
    readonly mtls_client_subject_cn?: string;
    readonly max_credentials?: number;
  };
  readonly aws_param?: {
    readonly xks_proxy_connectivity?: XksProxyConnectivity;
    readonly xks_proxy_uri_endpoint?: string;
    readonly xks_proxy_uri_path?: string;
    readonly xks_proxy_vpc_endpoint_service_name?: string;
    readonly access_key_id?: string;
    readonly secret_access_key?: string;
    readonly cloud_hsm_cluster_id?: string;
    readonly key_store_password?: string;
  };
}

/** POST /v1/cckm/aws/custom-key-stores/{id}/link (shape checked by `keyStoreSchemas.link`). */
export interface LinkKeyStoreRequest {
  readonly aws_param: {
    readonly xks_proxy_uri_endpoint: string;
    readonly xks_proxy_vpc_endpoint_service_name?: string;
  };
}

/** A store with a credential that was just created: the secret is shown here and never again. */
export type KeyStoreWithNewCredential = KeyStoreResource & IssuedXksCredential['response'];

export interface KeyStoreServiceDeps {
  readonly state: StateStore;
  readonly secrets: SecretStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** AWS KMS of the account containers (linked stores). */
  readonly awsKms: AwsKms;
  /** The proxy's record of credential uses; a deleted store's is removed with it. */
  readonly credentialUsage: CredentialUsage;
  /** Makes the health-check ciphertext with the health-check key when it is set. */
  readonly hsmAgent: HsmAgent;
}


export interface KeyStoreServiceOptions {
  /**
   * Whether the deployment verifies XKS client certificates (the ALB's trust store). Without one
   * no client certificate ever reaches the proxy, so a store with mTLS would refuse every request:
   * `mtls_enabled: true` is refused instead. @default false
   */
  readonly mtlsTrustStore?: boolean;
}

export class KeyStoreService {
  /** AWS KMS connection states of linked stores, kept per container for a few seconds. */
  private readonly connections: ConnectionStates;

  constructor(
    private readonly deps: KeyStoreServiceDeps,
    private readonly options: KeyStoreServiceOptions = {},
  ) {
    this.connections = new ConnectionStates(deps.awsKms, () => deps.clock.now().getTime());
  }

  /**
   * 1. Refuse CloudHSM fields (those stores are cloudhsm-key-store-service.ts's) and check the fields.
   * 2. Resolve the account container (ACL `keystoreadd`), its region, the partition and the
   *    health-check key, and check the key's attributes.
   * 3. Write the first credential's secret, then the store, the name claim and the counters in one
   *    transaction (the secret is removed again if the transaction fails).
   * 4. Linked (`linked_state: true`): create it in AWS KMS with the first credential (AWS KMS calls
   *    the proxy's GetHealthStatus before it answers). When AWS KMS refuses, the store is deleted
   *    here again and the error says what AWS KMS reported.
   */
  async create(access: Access, request: CreateKeyStoreRequest): Promise<KeyStoreWithNewCredential> {
    const { state, secrets, clock, ids } = this.deps;
    const { aws_param: aws } = request;
    const local = request.local_hosted_params;
    refuseUnavailable(request);
    this.refuseMtlsWithoutTrustStore(local?.mtls_enabled);
    if (local?.partition_id === undefined) throw new ValidationError('is required', 'local_hosted_params.partition_id');
    if (local.health_check_key_id === undefined) throw new ValidationError('is required', 'local_hosted_params.health_check_key_id');
    if (aws.xks_proxy_uri_endpoint === undefined) throw new ValidationError('is required', 'aws_param.xks_proxy_uri_endpoint');
    if (aws.xks_proxy_uri_path !== undefined) {
      throw new ValidationError('is assigned by the key manager (see the response); do not send it', 'aws_param.xks_proxy_uri_path');
    }
    const endpoint = checkXksProxyUriEndpoint(aws.xks_proxy_uri_endpoint, 'aws_param.xks_proxy_uri_endpoint');
    const connectivity = resolveConnectivity(aws.xks_proxy_connectivity ?? 'PUBLIC_ENDPOINT', aws.xks_proxy_vpc_endpoint_service_name);

    const account = await resolveAccount(state, access, request.kms, 'kms');
    if (!account.data.regions.includes(request.region)) {
      throw new ValidationError(`must be one of the regions of AWS account container ${account.data.name}: ${account.data.regions.join(', ')}`, 'region');
    }
    const partition = await requirePartition(state, local.partition_id, 'local_hosted_params.partition_id', access);
    const sourceKeyTier = resolveSourceKeyTier(partition, local.source_key_tier);
    const healthCheckKey = await requireHsmKey(state, local.health_check_key_id, 'local_hosted_params.health_check_key_id', access);
    const claim = await claimKeyFor(state, access, 'hsmKey', healthCheckKey, account.id, 'local_hosted_params.health_check_key_id');
    requireInPartition(healthCheckKey, partition.id, 'local_hosted_params.health_check_key_id');
    checkHealthCheckKey(healthCheckKey.data, 'local_hosted_params.health_check_key_id');

    const id = ids.newId();
    const healthCheckCiphertext = await sealHealthCheckCiphertext(this.deps.hsmAgent, hsmKeyRef(healthCheckKey.data, partitionConnection(partition.id, partition.data)), id);
    const now = clock.now().toISOString();
    const issued = await issueXksCredential(secrets, { keyStoreId: id, version: 1, credentialId: ids.newId(), now, uriPath: xksProxyUriPath(id) });
    const data: KeyStoreData = {
      name: request.name,
      accountId: account.id,
      region: request.region,
      customKeyStoreType: EXTERNAL_KEY_STORE,
      xksProxyUriEndpoint: endpoint,
      ...connectivity,
      partitionId: partition.id,
      sourceKeyTier,
      healthCheckKeyId: healthCheckKey.id,
      healthCheckCiphertext,
      maxCredentials: local.max_credentials ?? DEFAULT_MAX_CREDENTIALS,
      blocked: local.blocked ?? false,
      mtlsEnabled: local.mtls_enabled ?? false,
      ...(local.mtls_client_subject_cn === undefined ? {} : { mtlsClientSubjectCn: checkClientSubjectCn(local.mtls_client_subject_cn, 'local_hosted_params.mtls_client_subject_cn') }),
      enableSuccessAuditEvent: request.enable_success_audit_event ?? false,
      linkedState: request.linked_state ?? false,
      type: 'LOCAL',
      credentialVersion: 1,
      credentials: [issued.credential],
      createdAt: now,
      updatedAt: now,
    };
    try {
      const ops: StateOp[] = [
        {
          op: 'create',
          kind: 'keyStore',
          id,
          data,
          uniqueName: request.name,
          counters: { [KEY_STORE_COUNTERS.hyokKeys]: 0 },
          conflictMessage: `A key store named ${JSON.stringify(request.name)} already exists`,
        },
        ...accountCounts(account.id, request.region, 1),
        { op: 'check', kind: 'partition', id: partition.id, conflictMessage: `HSM partition ${partition.id} was deleted meanwhile` },
        { op: 'count', kind: 'hsmKey', id: healthCheckKey.id, counter: HSM_KEY_COUNTERS.references, delta: 1, conflictMessage: `HSM key ${healthCheckKey.id} was deleted meanwhile` },
      ];
      await transactWithClaim(state, ops, claim, async () =>
        claimKeyFor(state, access, 'hsmKey', await requireHsmKey(state, healthCheckKey.id, 'local_hosted_params.health_check_key_id', access), account.id, 'local_hosted_params.health_check_key_id'),
      );
    } catch (error) {
      const committed = await landedDespite(error, async () => (await state.get<KeyStoreData>('keyStore', id)) !== undefined);
      if (!committed) {
        await discardXksSecrets(secrets, id, [issued.credential.id]);
        throw error;
      }
    }
    if (!data.linkedState) {
      return { ...keyStoreResource(id, data, { accountName: account.data.name, partitionLabel: partition.data.tokenLabel }), ...issued.response };
    }
    const credential = { accessKeyId: issued.response.access_key_id, rawSecretAccessKey: issued.response.secret_access_key };
    let linked: KeyStoreRecord;
    try {
      linked = await this.createInAwsKms(id, kmsLocation(account, request.region), credential);
    } catch (error) {
      await this.deleteHere(id);
      throw error;
    }
    return { ...(await this.present(linked, account)), ...issued.response };
  }

  /**
   * POST .../{id}/link: creates an unlinked store in AWS KMS (its endpoint, and the VPC endpoint
   * service name for VPC connectivity, as given; its newest credential). Refused while blocked:
   * AWS KMS checks the proxy before it creates the store.
   */
  async link(access: Access, id: string, request: LinkKeyStoreRequest): Promise<KeyStoreResource> {
    const { state, secrets, clock } = this.deps;
    const endpoint = checkXksProxyUriEndpoint(request.aws_param.xks_proxy_uri_endpoint, 'aws_param.xks_proxy_uri_endpoint');
    const { store, account } = await loadKeyStore(state, access, id);
    if (store.data.linkedState) throw new ConflictError(`Key store ${id} is already linked to AWS KMS${store.data.aws ? ` (${store.data.aws.customKeyStoreId})` : ''}`);
    if (store.data.blocked) throw new ConflictError(`Key store ${id} is blocked; unblock it first (AWS KMS checks the proxy before it creates the store)`);
    if (account === undefined) throw new ConflictError(`The AWS account container of key store ${id} no longer exists`);
    const connectivity = resolveConnectivity(
      store.data.xksProxyConnectivity,
      request.aws_param.xks_proxy_vpc_endpoint_service_name ?? (store.data.xksProxyConnectivity === 'VPC_ENDPOINT_SERVICE' ? store.data.xksProxyVpcEndpointServiceName : undefined),
    );
    const newest = store.data.credentials[store.data.credentials.length - 1];
    const secret = await secrets.get(secretNames.xksCredential(id, newest.id));
    if (secret === undefined) throw new ConflictError(`The secret of credential ${newest.id} of key store ${id} is missing; rotate the credential, then link`);
    const at = kmsLocation(account, store.data.region);
    const settings = { ...withoutVpcName(store.data), xksProxyUriEndpoint: endpoint, ...connectivity };
    const customKeyStoreId = await this.deps.awsKms.createExternalKeyStore(at, externalKeyStoreSettings(id, settings, { accessKeyId: newest.accessKeyId, rawSecretAccessKey: secret }));
    try {
      const linked = await retryOnChange(async () => {
        const { store: current } = await loadKeyStore(state, access, id);
        if (current.data.linkedState) throw new ConflictError(`Key store ${id} was linked meanwhile`);
        const data: KeyStoreData = {
          ...withoutVpcName(current.data),
          xksProxyUriEndpoint: endpoint,
          ...connectivity,
          linkedState: true,
          aws: { customKeyStoreId, accessKeyId: newest.accessKeyId },
          updatedAt: clock.now().toISOString(),
        };
        await state.transact([{ op: 'update', kind: 'keyStore', id, data, expectedVersion: current.version, conflictMessage: CHANGED_CONCURRENTLY }]);
        return { ...current, data, version: current.version + 1 };
      });
      return await this.present(linked, account);
    } catch (error) {
      await this.deps.awsKms.deleteCustomKeyStore(at, customKeyStoreId).catch(() => undefined);
      throw error;
    }
  }

  /** POST .../{id}/connect: asks AWS KMS to connect a linked store (CONNECTING, then CONNECTED or FAILED). */
  connect(access: Access, id: string): Promise<KeyStoreResource> {
    return this.changeConnection(access, id, (at, cks) => this.deps.awsKms.connectCustomKeyStore(at, cks));
  }

  /** POST .../{id}/disconnect: asks AWS KMS to disconnect a linked store (DISCONNECTING, then DISCONNECTED). */
  disconnect(access: Access, id: string): Promise<KeyStoreResource> {
    return this.changeConnection(access, id, (at, cks) => this.deps.awsKms.disconnectCustomKeyStore(at, cks));
  }

  /** Stores the caller may view (`viewkeystore` on their container), filtered, sorted and paged. */
  async list(access: Access, query: Readonly<Record<string, string | undefined>>): Promise<ListPage<KeyStoreResource>> {
    const listing = parseList(query, LISTS.keyStores);
    const { state } = this.deps;
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
    const { store, account } = await loadKeyStore(this.deps.state, access, id);
    return this.present(store, account);
  }

  /**
   * Name, endpoint, connectivity, health-check key (its reference moves with it), mTLS, success
   * audit events and max credentials (not below the current number of credentials).
   */
  async update(access: Access, id: string, request: UpdateKeyStoreRequest): Promise<KeyStoreResource> {
    const { state, clock } = this.deps;
    const aws = request.aws_param ?? {};
    const local = request.local_hosted_params ?? {};
    if (aws.access_key_id !== undefined || aws.secret_access_key !== undefined) {
      throw new ValidationError(
        'credentials are generated by the key manager: use POST .../credentials or .../rotate-credential',
        aws.access_key_id !== undefined ? 'aws_param.access_key_id' : 'aws_param.secret_access_key',
      );
    }
    if (aws.cloud_hsm_cluster_id !== undefined || aws.key_store_password !== undefined) {
      throw new ValidationError(`only applies to ${CLOUDHSM_KEY_STORE} key stores; key store ${id} is an ${EXTERNAL_KEY_STORE}`, aws.cloud_hsm_cluster_id !== undefined ? 'aws_param.cloud_hsm_cluster_id' : 'aws_param.key_store_password');
    }
    const endpoint = aws.xks_proxy_uri_endpoint === undefined ? undefined : checkXksProxyUriEndpoint(aws.xks_proxy_uri_endpoint, 'aws_param.xks_proxy_uri_endpoint');
    if (aws.xks_proxy_uri_path !== undefined && aws.xks_proxy_uri_path !== xksProxyUriPath(id)) {
      throw new ValidationError(`cannot be changed; this key store's path is ${xksProxyUriPath(id)}`, 'aws_param.xks_proxy_uri_path');
    }
    this.refuseMtlsWithoutTrustStore(local.mtls_enabled);
    return retryOnChange(async () => {
      const { store, account } = await loadKeyStore(state, access, id);
      const old = store.data;
      if (old.linkedState) await this.refuseLinkedUpdate(store, account, request);
      const ops: StateOp[] = [];
      let { healthCheckKeyId, healthCheckCiphertext } = old;
      if (local.health_check_key_id !== undefined && local.health_check_key_id !== old.healthCheckKeyId) {
        const key = await requireHsmKey(state, local.health_check_key_id, 'local_hosted_params.health_check_key_id', access);
        ops.push(...(await claimKeyFor(state, access, 'hsmKey', key, old.accountId, 'local_hosted_params.health_check_key_id')));
        requireInPartition(key, old.partitionId, 'local_hosted_params.health_check_key_id');
        checkHealthCheckKey(key.data, 'local_hosted_params.health_check_key_id');
        const partition = await requirePartition(state, old.partitionId, 'local_hosted_params.health_check_key_id');
        healthCheckKeyId = key.id;
        healthCheckCiphertext = await sealHealthCheckCiphertext(this.deps.hsmAgent, hsmKeyRef(key.data, partitionConnection(partition.id, partition.data)), id);
        ops.push(
          { op: 'count', kind: 'hsmKey', id: key.id, counter: HSM_KEY_COUNTERS.references, delta: 1, conflictMessage: `HSM key ${key.id} was deleted meanwhile` },
          { op: 'count', kind: 'hsmKey', id: old.healthCheckKeyId, counter: HSM_KEY_COUNTERS.references, delta: -1, min: 0 },
        );
      }
      const maxCredentials = local.max_credentials ?? old.maxCredentials;
      if (maxCredentials < old.credentials.length) {
        throw new ConflictError(
          `local_hosted_params.max_credentials: the key store has ${old.credentials.length} credentials; delete ${old.credentials.length - maxCredentials} before lowering max_credentials to ${maxCredentials}`,
        );
      }
      const connectivity = aws.xks_proxy_connectivity ?? old.xksProxyConnectivity;
      const vpcName =
        aws.xks_proxy_vpc_endpoint_service_name ?? (connectivity === 'VPC_ENDPOINT_SERVICE' ? old.xksProxyVpcEndpointServiceName : undefined);
      const name = request.name ?? old.name;
      const data: KeyStoreData = {
        ...withoutVpcName(old),
        name,
        xksProxyUriEndpoint: endpoint ?? old.xksProxyUriEndpoint,
        ...resolveConnectivity(connectivity, vpcName),
        healthCheckKeyId,
        ...(healthCheckCiphertext === undefined ? {} : { healthCheckCiphertext }),
        maxCredentials,
        mtlsEnabled: local.mtls_enabled ?? old.mtlsEnabled,
        ...(local.mtls_client_subject_cn === undefined ? {} : { mtlsClientSubjectCn: checkClientSubjectCn(local.mtls_client_subject_cn, 'local_hosted_params.mtls_client_subject_cn') }),
        enableSuccessAuditEvent: request.enable_success_audit_event ?? old.enableSuccessAuditEvent,
        updatedAt: clock.now().toISOString(),
      };
      await state.transact([
        {
          op: 'update',
          kind: 'keyStore',
          id,
          data,
          expectedVersion: store.version,
          conflictMessage: CHANGED_CONCURRENTLY,
          ...(name === old.name ? {} : { rename: { from: old.name, to: name } }),
        },
        ...ops,
      ]).catch((error: unknown) => {
        // The rename's claim carries the op's message; tell a taken name apart from a moved version.
        if (error instanceof ConflictError && error.message === CHANGED_CONCURRENTLY && name !== old.name) {
          return this.explainRenameConflict(id, store.version, name, error);
        }
        throw error;
      });
      const updated = { ...store, data, version: store.version + 1 };
      if (old.aws !== undefined && account !== undefined) await this.pushUpdate(updated, old, account, changesInAwsKms(old, data));
      return this.present(updated, account);
    });
  }

  private refuseMtlsWithoutTrustStore(mtlsEnabled: boolean | undefined): void {
    if (mtlsEnabled === true && this.options.mtlsTrustStore !== true) {
      throw new ValidationError(
        'cannot be true: this deployment has no mutual-TLS trust store, so no client certificate would reach the proxy (deploy with mtlsTrustStoreBucket and mtlsTrustStoreKey)',
        'local_hosted_params.mtls_enabled',
      );
    }
  }

  /**
   * Deletes the store; a linked one in AWS KMS first, which refuses while it is connected or still
   * has KMS keys (the 409 says how many).
   */
  async delete(access: Access, id: string): Promise<void> {
    const { state } = this.deps;
    const removed = await retryOnChange(async () => {
      const { store, account } = await loadKeyStore(state, access, id);
      const hyokKeys = store.counters[KEY_STORE_COUNTERS.hyokKeys] ?? 0;
      if (hyokKeys > 0) throw new ConflictError(`Key store ${id} still has ${hyokKeys} HYOK key(s); delete them first`);
      if (store.data.aws !== undefined && account !== undefined) {
        await this.deps.awsKms.deleteCustomKeyStore(kmsLocation(account, store.data.region), store.data.aws.customKeyStoreId);
        this.connections.forget(store.data.aws.customKeyStoreId);
      }
      await state.transact(deleteOps(store));
      return store.data.credentials;
    });
    await this.discardLeftovers(id, removed);
  }

  block(access: Access, id: string): Promise<KeyStoreResource> {
    return this.setBlocked(access, id, true);
  }

  unblock(access: Access, id: string): Promise<KeyStoreResource> {
    return this.setBlocked(access, id, false);
  }

  /** The store as the API shows it; a linked one with AWS KMS's connection state (read again when older than a few seconds). */
  async present(store: KeyStoreRecord, account?: AccountRecord, options: { readonly freshConnection?: boolean } = {}): Promise<KeyStoreResource> {
    const { state } = this.deps;
    const owner = account ?? (await getAccount(state, store.data.accountId));
    const connection = options.freshConnection && store.data.aws !== undefined && owner !== undefined
      ? await this.connections.of(kmsLocation(owner, store.data.region), store.data.aws.customKeyStoreId, { fresh: true })
      : (await this.connectionsOf([store], new Map(owner ? [[owner.id, owner]] : [])))[0];
    return keyStoreResource(store.id, store.data, { accountName: owner?.data.name ?? '', partitionLabel: await partitionLabel(state, store.data.partitionId), connection });
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

  /** Creates a store just written here in AWS KMS and records its id; on failure the caller deletes it here. */
  private async createInAwsKms(id: string, at: KmsLocation, credential: { accessKeyId: string; rawSecretAccessKey: string }): Promise<KeyStoreRecord> {
    const { state, awsKms, clock } = this.deps;
    const created = await state.get<KeyStoreData>('keyStore', id);
    if (created === undefined) throw new ConflictError(`Key store ${id} was deleted while it was being linked`);
    const customKeyStoreId = await awsKms.createExternalKeyStore(at, externalKeyStoreSettings(id, created.data, credential));
    try {
      return await retryOnChange(async () => {
        const current = await state.get<KeyStoreData>('keyStore', id);
        if (current === undefined) throw new ConflictError(`Key store ${id} was deleted while it was being linked`);
        const data: KeyStoreData = { ...current.data, aws: { customKeyStoreId, accessKeyId: credential.accessKeyId }, updatedAt: clock.now().toISOString() };
        await state.transact([{ op: 'update', kind: 'keyStore', id, data, expectedVersion: current.version, conflictMessage: CHANGED_CONCURRENTLY }]);
        return { ...current, data, version: current.version + 1 };
      });
    } catch (error) {
      await awsKms.deleteCustomKeyStore(at, customKeyStoreId).catch(() => undefined);
      throw error;
    }
  }

  /** Removes a store that was created here but could not be created in AWS KMS: record, name, counters, secrets. */
  private async deleteHere(id: string): Promise<void> {
    const { state } = this.deps;
    const removed = await retryOnChange(async () => {
      const store = await state.get<KeyStoreData>('keyStore', id);
      if (store === undefined) return [];
      await state.transact(deleteOps(store));
      return store.data.credentials;
    });
    await this.discardLeftovers(id, removed);
  }

  /**
   * After a store's delete committed: its secrets and its credential uses, best effort (the store
   * is gone either way, and a second attempt finds nothing to remove).
   */
  private async discardLeftovers(id: string, credentials: readonly { readonly id: string }[]): Promise<void> {
    await Promise.all([
      discardXksSecrets(this.deps.secrets, id, credentials.map((c) => c.id)),
      this.deps.credentialUsage.forgetStore(id).catch(() => undefined),
    ]);
  }

  private async changeConnection(access: Access, id: string, change: (at: KmsLocation, customKeyStoreId: string) => Promise<void>): Promise<KeyStoreResource> {
    const { store, account } = await loadKeyStore(this.deps.state, access, id);
    if (store.data.aws === undefined || account === undefined) {
      throw new ConflictError(`Key store ${id} is not linked to AWS KMS; link it first (POST .../${id}/link), or connect it in AWS KMS yourself`);
    }
    await change(kmsLocation(account, store.data.region), store.data.aws.customKeyStoreId);
    this.connections.forget(store.data.aws.customKeyStoreId);
    return this.present(store, account, { freshConnection: true });
  }

  /**
   * The operator's guide for linked stores: no change while blocked, and connectivity, endpoint
   * and VPC endpoint service name only while AWS KMS has the store DISCONNECTED.
   */
  private async refuseLinkedUpdate(store: KeyStoreRecord, account: AccountRecord | undefined, request: UpdateKeyStoreRequest): Promise<void> {
    if (store.data.blocked) throw new ConflictError(`Key store ${store.id} is blocked; a linked store is updated only while unblocked (unblock it first)`);
    const aws = request.aws_param ?? {};
    const network = (['xks_proxy_connectivity', 'xks_proxy_uri_endpoint', 'xks_proxy_vpc_endpoint_service_name'] as const).find((field) => aws[field] !== undefined);
    if (network === undefined || store.data.aws === undefined || account === undefined) return;
    const connection = await this.connections.of(kmsLocation(account, store.data.region), store.data.aws.customKeyStoreId, { fresh: true });
    if (connection.state !== 'DISCONNECTED') {
      throw new ConflictError(`aws_param.${network}: AWS KMS changes the connectivity, endpoint and VPC endpoint service name of a store only while it is DISCONNECTED, and key store ${store.id} is ${connection.state}; disconnect it first`);
    }
  }

  /** Pushes changed names and proxy settings to AWS KMS; when AWS KMS refuses, the old ones are written back here. */
  private async pushUpdate(updated: KeyStoreRecord, old: KeyStoreData, account: AccountRecord, changes: ExternalKeyStoreChanges): Promise<void> {
    if (Object.keys(changes).length === 0 || old.aws === undefined) return;
    const { state, clock } = this.deps;
    try {
      await this.deps.awsKms.updateExternalKeyStore(kmsLocation(account, old.region), old.aws.customKeyStoreId, changes);
    } catch (error) {
      const restored: KeyStoreData = {
        ...withoutVpcName(updated.data),
        name: old.name,
        xksProxyUriEndpoint: old.xksProxyUriEndpoint,
        xksProxyConnectivity: old.xksProxyConnectivity,
        ...(old.xksProxyVpcEndpointServiceName === undefined ? {} : { xksProxyVpcEndpointServiceName: old.xksProxyVpcEndpointServiceName }),
        updatedAt: clock.now().toISOString(),
      };
      await state
        .transact([
          {
            op: 'update',
            kind: 'keyStore',
            id: updated.id,
            data: restored,
            expectedVersion: updated.version,
            conflictMessage: CHANGED_CONCURRENTLY,
            ...(restored.name === updated.data.name ? {} : { rename: { from: updated.data.name, to: restored.name } }),
          },
        ])
        .catch(() => undefined);
      throw error;
    }
  }

  private setBlocked(access: Access, id: string, blocked: boolean): Promise<KeyStoreResource> {
    const { state, clock } = this.deps;
    return retryOnChange(async () => {
      const { store, account } = await loadKeyStore(state, access, id);
      if (store.data.blocked === blocked) return this.present(store, account);
      const data: KeyStoreData = { ...store.data, blocked, updatedAt: clock.now().toISOString() };
      await state.transact([{ op: 'update', kind: 'keyStore', id, data, expectedVersion: store.version, conflictMessage: CHANGED_CONCURRENTLY }]);
      return this.present({ ...store, data, version: store.version + 1 }, account);
    });
  }

  /** The update op carries one message for both its version and its new name claim: find out which failed. */
  private async explainRenameConflict(id: string, version: number, name: string, error: ConflictError): Promise<never> {
    const current = await this.deps.state.get<KeyStoreData>('keyStore', id);
    if (current !== undefined && current.version === version) {
      throw new ConflictError(`A key store named ${JSON.stringify(name)} already exists`, { cause: error });
    }
    throw error;
  }
}

/** An external key store request: `EXTERNAL_KEY_STORE` (the default) and none of the CloudHSM fields (CloudHSM stores: cloudhsm-key-store-service.ts). */
function refuseUnavailable(request: CreateKeyStoreRequest): void {
  const type = request.aws_param.custom_key_store_type ?? EXTERNAL_KEY_STORE;
  if (type !== EXTERNAL_KEY_STORE) throw new ValidationError(`must be ${EXTERNAL_KEY_STORE} or ${CLOUDHSM_KEY_STORE}`, 'aws_param.custom_key_store_type');
  for (const field of ['cloud_hsm_cluster_id', 'key_store_password', 'trust_anchor_certificate'] as const) {
    if (request.aws_param[field] !== undefined) {
      throw new ValidationError(`only applies to ${CLOUDHSM_KEY_STORE} key stores (aws_param.custom_key_store_type)`, `aws_param.${field}`);
    }
  }
}

/** The partition's tier, unless the request names another one (400) or a tier that does not exist here. */
function resolveSourceKeyTier(partition: PartitionRecord, requested: string | undefined): SourceKeyTier {
  const tier = SOURCE_KEY_TIER_BY_HSM_TYPE[partition.data.hsmType];
  if (requested === undefined) return tier;
  const normalized = normalizeSourceKeyTier(requested);
  if (!SOURCE_KEY_TIERS.includes(normalized as SourceKeyTier)) {
    throw new ValidationError(`must be one of ${SOURCE_KEY_TIERS.join(', ')} (CipherTrust Manager "local" keys are not a key source here)`, 'local_hosted_params.source_key_tier');
  }
  if (normalized !== tier) {
    throw new ValidationError(`is ${requested}, but partition ${partition.id} is a ${partition.data.hsmType} partition (tier ${tier})`, 'local_hosted_params.source_key_tier');
  }
  return tier;
}

/** The account's key store counters (total and per region), +1 on create, -1 on delete. */
export function accountCounts(accountId: string, region: string, delta: 1 | -1): StateOp[] {
  const missing = `AWS account container ${accountId} was deleted meanwhile`;
  return [ACCOUNT_COUNTERS.keyStores, ACCOUNT_COUNTERS.keyStoresInRegion(region)].map((counter) => ({
    op: 'count' as const,
    kind: 'account' as const,
    id: accountId,
    counter,
    delta,
    ...(delta < 0 ? { min: 0 } : {}),
    conflictMessage: missing,
  }));
}

function withoutVpcName(data: KeyStoreData): KeyStoreData {
  const { xksProxyVpcEndpointServiceName: _dropped, ...rest } = data;
  return rest;
}

/** The transaction that deletes a store: record and name claim (only without HYOK keys), counters. */
function deleteOps(store: KeyStoreRecord): StateOp[] {
  return [
    // A new HYOK key makes requireZero fail: answered as "changed", re-read, then refused by the caller.
    { op: 'delete', kind: 'keyStore', id: store.id, expectedVersion: store.version, uniqueName: store.data.name, requireZero: [KEY_STORE_COUNTERS.hyokKeys], conflictMessage: CHANGED_CONCURRENTLY },
    ...accountCounts(store.data.accountId, store.data.region, -1),
    { op: 'count', kind: 'hsmKey', id: store.data.healthCheckKeyId, counter: HSM_KEY_COUNTERS.references, delta: -1, min: 0 },
    ...releaseAssignment(store.data.labels),
  ];
}

/** A store's settings as AWS KMS's CreateCustomKeyStore takes them. */
function externalKeyStoreSettings(id: string, store: KeyStoreData, credential: { accessKeyId: string; rawSecretAccessKey: string }) {
  return {
    name: store.name,
    uriEndpoint: store.xksProxyUriEndpoint,
    uriPath: xksProxyUriPath(id),
    connectivity: store.xksProxyConnectivity,
    ...(store.xksProxyVpcEndpointServiceName === undefined ? {} : { vpcEndpointServiceName: store.xksProxyVpcEndpointServiceName }),
    credential,
  };
}

/** What UpdateCustomKeyStore must change in AWS KMS after an update here. */
function changesInAwsKms(old: KeyStoreData, data: KeyStoreData): ExternalKeyStoreChanges {
  const vpcChanged = data.xksProxyVpcEndpointServiceName !== undefined && data.xksProxyVpcEndpointServiceName !== old.xksProxyVpcEndpointServiceName;
  return {
    ...(data.name === old.name ? {} : { name: data.name }),
    ...(data.xksProxyUriEndpoint === old.xksProxyUriEndpoint ? {} : { uriEndpoint: data.xksProxyUriEndpoint }),
    ...(data.xksProxyConnectivity === old.xksProxyConnectivity && !vpcChanged ? {} : { connectivity: data.xksProxyConnectivity }),
    ...(vpcChanged ? { vpcEndpointServiceName: data.xksProxyVpcEndpointServiceName } : {}),
  };
}
