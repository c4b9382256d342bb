/**
 * External custom key stores: create, list, get, update, delete, block, unblock
 * (seeds 001 "Create a Custom Key Store" … "Unblock Access", 004 operator guide).
 *
 * Invariants and where they are kept:
 *  - the name is unique: a name claim in the create transaction, moved by rename on update;
 *  - the account container counts its key stores and the health-check key counts its users
 *    (counters adjusted in the same transaction as the store, so neither can be deleted under it);
 *  - a store is deleted only while it has no HYOK key (`requireZero` on its `hyokKeys` counter,
 *    which CreateHyokKey increments in its own transaction);
 *  - read-modify-write changes carry the store's version and are recomputed when it moved.
 */
import type { Access } from '../accounts/access';
import { ConflictError, ValidationError } from '../errors';
import { type ListPage, matchesFilter, page, parseBooleanFilter, parseListQuery } from '../listing';
import { ACCOUNT_COUNTERS } from '../accounts/account';
import type { IdGenerator } from '../ports/id-generator';
import type { Clock } from '../ports/clock';
import { HSM_KEY_COUNTERS } from '../hsm/hsm-key';
import {
  checkHealthCheckKey,
  checkXksProxyUriEndpoint,
  CLOUDHSM_KEY_STORE,
  DEFAULT_MAX_CREDENTIALS,
  EXTERNAL_KEY_STORE,
  KEY_STORE_COUNTERS,
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
import type { StateOp, StateStore } from '../ports/state-store';
import { discardXksSecrets, issueXksCredential, type IssuedXksCredential } from './xks-credentials';
import {
  type AccountRecord,
  getAccount,
  type KeyStoreRecord,
  loadKeyStore,
  mayDo,
  partitionLabel,
  partitionLabels,
  type PartitionRecord,
  requireHsmKey,
  requireInPartition,
  requirePartition,
  resolveAccount,
} from '../key-references';
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

/** A store with a credential that was just created: the secret is shown here and never again. */
export type KeyStoreWithNewCredential = KeyStoreResource & IssuedXksCredential['response'];

export interface KeyStoreServiceDeps {
  readonly state: StateStore;
  readonly secrets: SecretStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
}

const SORTABLE = ['name', 'createdAt', 'updatedAt', 'region', 'kms', 'kms_id', 'id'];

export class KeyStoreService {
  constructor(private readonly deps: KeyStoreServiceDeps) {}

  /**
   * 1. Refuse what is not available yet (CloudHSM stores, linking) and check the fields.
   * 2. Resolve the account container (ACL `keystoreadd`), its region, the partition and the
   *    health-check key, and check the key's attributes.
   * 3. Write the first credential's secret, then the store, the name claim and the counters in one
   *    transaction (the secret is removed again if the transaction fails).
   */
  async create(access: Access, request: CreateKeyStoreRequest): Promise<KeyStoreWithNewCredential> {
    const { state, secrets, clock, ids } = this.deps;
    const { aws_param: aws } = request;
    const local = request.local_hosted_params;
    refuseUnavailable(request);
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
    const partition = await requirePartition(state, local.partition_id, 'local_hosted_params.partition_id');
    const sourceKeyTier = resolveSourceKeyTier(partition, local.source_key_tier);
    const healthCheckKey = await requireHsmKey(state, local.health_check_key_id, 'local_hosted_params.health_check_key_id');
    requireInPartition(healthCheckKey, partition.id, 'local_hosted_params.health_check_key_id');
    checkHealthCheckKey(healthCheckKey.data, 'local_hosted_params.health_check_key_id');

    const id = ids.newId();
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
      maxCredentials: local.max_credentials ?? DEFAULT_MAX_CREDENTIALS,
      blocked: local.blocked ?? false,
      mtlsEnabled: local.mtls_enabled ?? false,
      enableSuccessAuditEvent: request.enable_success_audit_event ?? false,
      linkedState: false,
      credentialVersion: 1,
      credentials: [issued.credential],
      createdAt: now,
      updatedAt: now,
    };
    try {
      await state.transact([
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
      ]);
    } catch (error) {
      await discardXksSecrets(secrets, id, [issued.credential.id]);
      throw error;
    }
    return { ...keyStoreResource(id, data, { accountName: account.data.name, partitionLabel: partition.data.tokenLabel }), ...issued.response };
  }

  /** Stores the caller may view (`viewkeystore` on their container), filtered, sorted and paged. */
  async list(access: Access, query: Readonly<Record<string, string | undefined>>): Promise<ListPage<KeyStoreResource>> {
    const listQuery = parseListQuery(query, SORTABLE);
    const blocked = parseBooleanFilter(query, 'blocked');
    const linked = parseBooleanFilter(query, 'linked_state');
    const { state } = this.deps;
    const [stores, accounts, labelById] = await Promise.all([
      state.list<KeyStoreData>('keyStore'),
      state.list<AccountRecord['data']>('account'),
      partitionLabels(state),
    ]);
    const accountById = new Map(accounts.map((a) => [a.id, a]));
    const visible = stores.filter((s) => mayDo(access, accountById.get(s.data.accountId)));
    const resources = visible.map((s) =>
      keyStoreResource(s.id, s.data, { accountName: accountById.get(s.data.accountId)?.data.name ?? '', partitionLabel: labelById.get(s.data.partitionId) ?? '' }),
    );
    const matches = (r: KeyStoreResource): boolean =>
      matchesFilter(query.id, r.id) &&
      matchesFilter(query.name, r.name) &&
      (matchesFilter(query.kms, r.kms) || matchesFilter(query.kms, r.kms_id)) &&
      matchesFilter(query.kms_id, r.kms_id) &&
      matchesFilter(query.region, r.region) &&
      matchesFilter(query.cloud_name, r.cloud_name) &&
      matchesFilter(query.type, r.type) &&
      matchesFilter(blocked, r.local_hosted_params.blocked) &&
      matchesFilter(linked, r.local_hosted_params.linked_state) &&
      matchesFilter(query.xks_proxy_connectivity, r.aws_param.xks_proxy_connectivity) &&
      matchesFilter(query.connection_state, r.aws_param.connection_state) &&
      matchesFilter(query.source_key_tier, r.local_hosted_params.source_key_tier) &&
      matchesFilter(query.custom_key_store_type, r.aws_param.custom_key_store_type);
    return page(resources.filter(matches), listQuery);
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
      throw new ValidationError('only applies to AWS_CLOUDHSM key stores, which are not available yet', aws.cloud_hsm_cluster_id !== undefined ? 'aws_param.cloud_hsm_cluster_id' : 'aws_param.key_store_password');
    }
    const endpoint = aws.xks_proxy_uri_endpoint === undefined ? undefined : checkXksProxyUriEndpoint(aws.xks_proxy_uri_endpoint, 'aws_param.xks_proxy_uri_endpoint');
    if (aws.xks_proxy_uri_path !== undefined && aws.xks_proxy_uri_path !== xksProxyUriPath(id)) {
      throw new ValidationError(`cannot be changed; this key store's path is ${xksProxyUriPath(id)}`, 'aws_param.xks_proxy_uri_path');
    }
    return retryOnChange(async () => {
      const { store, account } = await loadKeyStore(state, access, id);
      const old = store.data;
      const ops: StateOp[] = [];
      let healthCheckKeyId = old.healthCheckKeyId;
      if (local.health_check_key_id !== undefined && local.health_check_key_id !== old.healthCheckKeyId) {
        const key = await requireHsmKey(state, local.health_check_key_id, 'local_hosted_params.health_check_key_id');
        requireInPartition(key, old.partitionId, 'local_hosted_params.health_check_key_id');
        checkHealthCheckKey(key.data, 'local_hosted_params.health_check_key_id');
        healthCheckKeyId = key.id;
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
        maxCredentials,
        mtlsEnabled: local.mtls_enabled ?? old.mtlsEnabled,
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
      return this.present({ ...store, data, version: store.version + 1 }, account);
    });
  }

  async delete(access: Access, id: string): Promise<void> {
    const { state, secrets } = this.deps;
    const removed = await retryOnChange(async () => {
      const { store } = await loadKeyStore(state, access, id);
      const hyokKeys = store.counters[KEY_STORE_COUNTERS.hyokKeys] ?? 0;
      if (hyokKeys > 0) throw new ConflictError(`Key store ${id} still has ${hyokKeys} HYOK key(s); delete them first`);
      await state.transact([
        // A new HYOK key makes requireZero fail: answered as "changed", re-read, then refused above.
        { op: 'delete', kind: 'keyStore', id, expectedVersion: store.version, uniqueName: store.data.name, requireZero: [KEY_STORE_COUNTERS.hyokKeys], conflictMessage: CHANGED_CONCURRENTLY },
        ...accountCounts(store.data.accountId, store.data.region, -1),
        { op: 'count', kind: 'hsmKey', id: store.data.healthCheckKeyId, counter: HSM_KEY_COUNTERS.references, delta: -1, min: 0 },
      ]);
      return store.data.credentials;
    });
    await discardXksSecrets(secrets, id, removed.map((c) => c.id));
  }

  block(access: Access, id: string): Promise<KeyStoreResource> {
    return this.setBlocked(access, id, true);
  }

  unblock(access: Access, id: string): Promise<KeyStoreResource> {
    return this.setBlocked(access, id, false);
  }

  /** The store as the API shows it. */
  async present(store: KeyStoreRecord, account?: AccountRecord): Promise<KeyStoreResource> {
    const { state } = this.deps;
    const owner = account ?? (await getAccount(state, store.data.accountId));
    return keyStoreResource(store.id, store.data, { accountName: owner?.data.name ?? '', partitionLabel: await partitionLabel(state, store.data.partitionId) });
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

/** CloudHSM key stores and linking are the next wave; say so instead of half-doing them. */
function refuseUnavailable(request: CreateKeyStoreRequest): void {
  const type = request.aws_param.custom_key_store_type ?? EXTERNAL_KEY_STORE;
  if (type === CLOUDHSM_KEY_STORE) {
    throw new ValidationError('AWS_CLOUDHSM (CloudHSM-backed) key stores are not available yet; only EXTERNAL_KEY_STORE', 'aws_param.custom_key_store_type');
  }
  if (type !== EXTERNAL_KEY_STORE) throw new ValidationError(`must be ${EXTERNAL_KEY_STORE}`, 'aws_param.custom_key_store_type');
  for (const field of ['cloud_hsm_cluster_id', 'key_store_password', 'trust_anchor_certificate'] as const) {
    if (request.aws_param[field] !== undefined) {
      throw new ValidationError('only applies to AWS_CLOUDHSM key stores, which are not available yet', `aws_param.${field}`);
    }
  }
  if (request.linked_state === true) {
    throw new ValidationError('linking to AWS KMS is not available yet: create the store unlinked (linked_state false) and create the external key store in AWS KMS with the returned xks_proxy_configuration', 'linked_state');
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
function accountCounts(accountId: string, region: string, delta: 1 | -1): StateOp[] {
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
