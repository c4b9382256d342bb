/**
 * The request bodies of the custom key store routes, as the handlers pass them on (their shapes
 * are checked first by the schemas in contract/key-schemas.ts). CloudHSM stores take the same
 * create and update bodies (cloudhsm-key-store-service.ts reads their CloudHSM fields).
 */
import type { XksProxyConnectivity } from './key-store';

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
