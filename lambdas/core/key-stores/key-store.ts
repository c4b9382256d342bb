/**
 * External custom key stores (`EXTERNAL_KEY_STORE`), as stored and as the API shows them
 * (CCKM's "Create a Custom Key Store" … "Edit a Custom Key Store"; CCKM's operator guide).
 * Every store here is locally hosted (`type: 'LOCAL'`: its proxy is this key manager). A linked
 * store also exists in AWS KMS (`aws`: its `cks-` id and the credential AWS KMS signs with); its
 * `connection_state` is AWS KMS's, read when it is shown. An unlinked one is `DISCONNECTED` as far
 * as the key manager knows.
 */
import type { HsmType } from '../../contract/hsm';
import { healthCheckUriPath, xksProxyUriPath } from '../../contract/xks-proxy-uri';
import type { CustomKeyStoreConnectionState } from '../ports/aws-kms';
import type { Timestamps } from '../resource';
import { type ConnectionView, connectionFields, type CustomKeyStoreHeader, customKeyStoreHeader } from './custom-key-store-resource';
import type { XksCredentialData } from './credential';

export const EXTERNAL_KEY_STORE = 'EXTERNAL_KEY_STORE';
export const CLOUDHSM_KEY_STORE = 'AWS_CLOUDHSM';

export type XksProxyConnectivity = 'PUBLIC_ENDPOINT' | 'VPC_ENDPOINT_SERVICE';

/**
 * Where a store's source keys live. `hsm-luna` is CCKM's name for Luna partitions; we name the
 * other PKCS#11 key sources the same way: `hsm-cloudhsm` (AWS CloudHSM) and `hsm-softhsm` (SoftHSM2).
 * CCKM's `local` tier (CipherTrust Manager keys) does not exist here.
 */
export type SourceKeyTier = 'hsm-luna' | 'hsm-cloudhsm' | 'hsm-softhsm';
export const SOURCE_KEY_TIER_BY_HSM_TYPE: Readonly<Record<HsmType, SourceKeyTier>> = {
  luna: 'hsm-luna',
  cloudhsm: 'hsm-cloudhsm',
  softhsm: 'hsm-softhsm',
};
export const SOURCE_KEY_TIERS: readonly SourceKeyTier[] = Object.values(SOURCE_KEY_TIER_BY_HSM_TYPE);

/** A `source_key_tier` as requested: the seeds spell Luna's tier both `hsm-luna` (responses) and `luna-hsm` (request docs). */
export function normalizeSourceKeyTier(requested: string | undefined): string | undefined {
  return requested === 'luna-hsm' ? 'hsm-luna' : requested;
}

/** Operator guide: "between 2 and 20 credentials (default 20 credentials)" (the bounds: keyStoreSchemas). */
export const DEFAULT_MAX_CREDENTIALS = 20;

/** Counters kept on the key store record (StateStore `counters`). */
export const KEY_STORE_COUNTERS = {
  /** HYOK keys in the store: +1 by CreateHyokKey, -1 by DeleteAwsKey; the store is deleted only at 0. */
  hyokKeys: 'hyokKeys',
} as const;

export interface KeyStoreData extends Timestamps {
  readonly name: string;
  /** Id of the AWS account container (`kms_id`). */
  readonly accountId: string;
  readonly region: string;
  readonly customKeyStoreType: typeof EXTERNAL_KEY_STORE;
  /** @default LOCAL (records written before the field was stored) */
  readonly type?: KeyStoreHostingType;
  /** CCKM's labels (the seeds show a credential rotation schedule's `job_config_id`). @default {} */
  readonly labels?: Readonly<Record<string, string>>;
  readonly xksProxyUriEndpoint: string;
  readonly xksProxyConnectivity: XksProxyConnectivity;
  readonly xksProxyVpcEndpointServiceName?: string;
  readonly partitionId: string;
  readonly sourceKeyTier: SourceKeyTier;
  readonly healthCheckKeyId: string;
  /** Base64, made by the health-check key when it was set (health-check-ciphertext.ts); absent on records written before. */
  readonly healthCheckCiphertext?: string;
  readonly maxCredentials: number;
  readonly blocked: boolean;
  readonly mtlsEnabled: boolean;
  /** The CN an mTLS client certificate must carry. @default kmsClientCertificateCn(region) */
  readonly mtlsClientSubjectCn?: string;
  readonly enableSuccessAuditEvent: boolean;
  /** Whether the store is also in AWS KMS (set by create with `linked_state: true` or by link). */
  readonly linkedState: boolean;
  /** A linked store's side in AWS KMS; absent while it is unlinked (and while create is linking it). */
  readonly aws?: AwsKmsLink;
  /** The key store synchronization job that linked it, if one did (a page run again counts it as that job did). */
  readonly linkedBy?: string;
  /** Version of the newest credential ever created (the seeds' `credential_version`). */
  readonly credentialVersion: number;
  /** Current credentials, oldest first; never more than `maxCredentials`, never empty. */
  readonly credentials: readonly XksCredentialData[];
}

/** A linked store in AWS KMS. */
export interface AwsKmsLink {
  /** AWS KMS's id of the store, `cks-...`. */
  readonly customKeyStoreId: string;
  /** The credential AWS KMS signs its XKS requests with. */
  readonly accessKeyId: string;
  /** Credentials it signed with before, and when each was replaced: AWS KMS may use them for REPLACED_CREDENTIAL_GRACE_MS more. */
  readonly replaced?: ReadonlyArray<{ readonly accessKeyId: string; readonly at: string }>;
}

/**
 * AWS KMS may keep signing with a replaced credential for up to five minutes (UpdateCustomKeyStore
 * takes effect gradually), so the key manager keeps it valid that long.
 */
export const REPLACED_CREDENTIAL_GRACE_MS = 5 * 60_000;

/** Where the store is hosted (seeds' `type`): here, always by this key manager. */
export type KeyStoreHostingType = 'LOCAL';

/** What the response needs besides the store itself. */
export interface KeyStoreContext {
  /** Name of the account container (`kms`). */
  readonly accountName: string;
  readonly partitionLabel: string;
  /** AWS KMS's connection state of a linked store. @default DISCONNECTED */
  readonly connection?: ConnectionView;
}

export interface KeyStoreResource extends CustomKeyStoreHeader {
  readonly type: KeyStoreHostingType;
  /** CCKM's labels of the store (e.g. `job_config_id` of a credential rotation schedule). */
  readonly labels: Readonly<Record<string, string>>;
  readonly locally_hosted: true;
  readonly credential_version: number;
  readonly cloud_name: 'aws';
  readonly version_count: number;
  readonly gone: false;
  readonly enable_success_audit_event: boolean;
  readonly aws_param: {
    readonly custom_key_store_name: string;
    readonly custom_key_store_type: typeof EXTERNAL_KEY_STORE;
    readonly xks_proxy_uri_endpoint: string;
    readonly xks_proxy_uri_path: string;
    readonly xks_proxy_connectivity: XksProxyConnectivity;
    readonly xks_proxy_vpc_endpoint_service_name?: string;
    /** AWS KMS's id of a linked store. */
    readonly custom_key_store_id?: string;
    readonly connection_state: CustomKeyStoreConnectionState;
    /** AWS KMS's reason when connection_state is FAILED. */
    readonly connection_error_code?: string;
  };
  readonly local_hosted_params: {
    readonly blocked: boolean;
    readonly mtls_enabled: boolean;
    /** The subject CN the proxy requires of the client certificate when mtls_enabled (AWS KMS's by default). */
    readonly mtls_client_subject_cn: string;
    readonly partition_id: string;
    readonly partition_label: string;
    readonly source_container_id: string;
    readonly source_container_type: SourceKeyTier;
    readonly source_key_tier: SourceKeyTier;
    readonly health_check_key_id: string;
    /** The store's id encrypted by the health-check key when it was set; deep health checks decrypt it. */
    readonly health_check_ciphertext?: string;
    /** The unauthenticated deep health check of the store (operator's guide "Health Check URI Path"): prefix it with https://<host>. */
    readonly health_check_uri_path: string;
    readonly max_credentials: number;
    readonly linked_state: boolean;
    readonly policy: { readonly reserved: false };
  };
}

export function keyStoreResource(id: string, store: KeyStoreData, context: KeyStoreContext): KeyStoreResource {
  return {
    ...customKeyStoreHeader(id, store, { ...store, accountName: context.accountName }),
    type: store.type ?? 'LOCAL',
    labels: store.labels ?? {},
    locally_hosted: true,
    credential_version: store.credentialVersion,
    cloud_name: 'aws',
    version_count: 0,
    gone: false,
    enable_success_audit_event: store.enableSuccessAuditEvent,
    aws_param: {
      custom_key_store_name: store.name,
      custom_key_store_type: store.customKeyStoreType,
      xks_proxy_uri_endpoint: store.xksProxyUriEndpoint,
      xks_proxy_uri_path: xksProxyUriPath(id),
      xks_proxy_connectivity: store.xksProxyConnectivity,
      ...(store.xksProxyVpcEndpointServiceName === undefined
        ? {}
        : { xks_proxy_vpc_endpoint_service_name: store.xksProxyVpcEndpointServiceName }),
      ...(store.aws === undefined ? {} : { custom_key_store_id: store.aws.customKeyStoreId }),
      ...connectionFields(context.connection),
    },
    local_hosted_params: {
      blocked: store.blocked,
      mtls_enabled: store.mtlsEnabled,
      mtls_client_subject_cn: store.mtlsClientSubjectCn ?? kmsClientCertificateCn(store.region),
      partition_id: store.partitionId,
      partition_label: context.partitionLabel,
      source_container_id: store.partitionId,
      source_container_type: store.sourceKeyTier,
      source_key_tier: store.sourceKeyTier,
      health_check_key_id: store.healthCheckKeyId,
      ...(store.healthCheckCiphertext === undefined ? {} : { health_check_ciphertext: store.healthCheckCiphertext }),
      health_check_uri_path: healthCheckUriPath(id),
      max_credentials: store.maxCredentials,
      linked_state: store.linkedState,
      policy: { reserved: false },
    },
  };
}

/**
 * The subject CN of the client certificate AWS KMS presents for mTLS in a region (the XKS spec,
 * "Authentication"): the proxy's default for a store with mTLS.
 */
export function kmsClientCertificateCn(region: string): string {
  return `cks.kms.${region}.amazonaws.com`;
}

/** The record without its VPC endpoint service name (connectivity changes set it again or leave it out). */
export function withoutVpcName(data: KeyStoreData): KeyStoreData {
  const { xksProxyVpcEndpointServiceName: _dropped, ...rest } = data;
  return rest;
}
