/**
 * Creating an external key store: checked, written here in one transaction with its first
 * credential, its name claim and its counters, then (linked) made in AWS KMS, and deleted here
 * again when AWS KMS refuses.
 */
import type { Access } from '../accounts/access';
import { accountKeyStoreCounts } from '../accounts/account';
import { ValidationError } from '../errors';
import { HSM_KEY_COUNTERS, hsmKeyRef } from '../hsm/hsm-key';
import { partitionConnection } from '../hsm/partition';
import {
  claimKeyFor,
  type KeyStoreRecord,
  type PartitionRecord,
  requireHsmKey,
  requireInPartition,
  requirePartition,
  resolveAccount,
  transactWithClaim,
} from '../key-references';
import type { Clock } from '../ports/clock';
import type { HsmAgent } from '../ports/hsm';
import type { IdGenerator } from '../ports/id-generator';
import type { SecretStore } from '../ports/secret-store';
import type { StateOp, StateStore } from '../ports/state-store';
import { xksProxyUriPath } from '../../contract/xks-proxy-uri';
import { kmsLocation } from './aws-kms-links';
import { sealHealthCheckCiphertext } from './health-check-ciphertext';
import {
  CLOUDHSM_KEY_STORE,
  DEFAULT_MAX_CREDENTIALS,
  EXTERNAL_KEY_STORE,
  KEY_STORE_COUNTERS,
  type KeyStoreData,
  keyStoreResource,
  type KeyStoreResource,
  normalizeSourceKeyTier,
  SOURCE_KEY_TIER_BY_HSM_TYPE,
  SOURCE_KEY_TIERS,
  type SourceKeyTier,
} from './key-store';
import type { KeyStoreLinking } from './key-store-linking';
import type { KeyStoreRemoval } from './key-store-removal';
import type { CreateKeyStoreRequest } from './key-store-requests';
import { checkClientSubjectCn, checkHealthCheckKey, checkXksProxyUriEndpoint, refuseMtlsWithoutTrustStore, resolveConnectivity } from './key-store-rules';
import type { KeyStoreViews } from './key-store-views';
import { discardXksSecrets, issueXksCredential, type IssuedXksCredential, landedDespite } from './xks-credentials';

/** A store with a credential that was just created: the secret is shown here and never again. */
export type KeyStoreWithNewCredential = KeyStoreResource & IssuedXksCredential['response'];

export interface KeyStoreCreationDeps {
  readonly state: StateStore;
  readonly secrets: SecretStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** Makes the health-check ciphertext with the health-check key. */
  readonly hsmAgent: HsmAgent;
}

export class KeyStoreCreation {
  constructor(
    private readonly deps: KeyStoreCreationDeps,
    /** Whether the deployment verifies XKS client certificates (key-store-rules.ts `refuseMtlsWithoutTrustStore`). */
    private readonly mtlsTrustStore: boolean,
    private readonly views: KeyStoreViews,
    private readonly linking: KeyStoreLinking,
    private readonly removal: KeyStoreRemoval,
  ) {}

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
    refuseMtlsWithoutTrustStore(local?.mtls_enabled, this.mtlsTrustStore);
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
        ...accountKeyStoreCounts(account.id, request.region, 1),
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
      linked = await this.linking.createInAwsKms(id, kmsLocation(account, request.region), credential);
    } catch (error) {
      await this.removal.deleteHere(id);
      throw error;
    }
    return { ...(await this.views.present(linked, account)), ...issued.response };
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
