/**
 * Request and query schemas of the key store, credential, virtual key and HYOK key routes
 * (CCKM's key store and key APIs; referenced from ./schemas.ts). TypeBox (schema-parts.ts), request types beside them.
 *
 * The schemas check shapes: types, enums, lengths and numeric bounds. Rules that span fields or need
 * state (VPC connectivity needs a service name, the endpoint is `https://<fqdn>`, the health-check
 * key's attributes, which fields each store type takes) live in the services, which answer with a
 * 400 that says what to do. Fields the services refuse with such a message are listed here so that
 * the caller gets that message rather than "unknown property".
 */
import { Type } from '@sinclair/typebox';
import type { RequestOf, RequestSchema } from './json-schema';
import { linkAwsParam, POLICY_SHORTCUT_SCHEMAS } from './aws-key-schemas';
import {
  KMS_CUSTOM_KEY_STORE_TYPES, KMS_XKS_PROXY_CONNECTIVITY, kmsCloudHsmClusterId, kmsKeyStorePassword, kmsTrustAnchorCertificate, kmsXksAccessKeyId,
  kmsXksProxyUriEndpoint, kmsXksProxyUriPath, kmsXksProxyVpcEndpointServiceName, kmsXksSecretAccessKey,
} from './aws-kms-fields';
import { LISTS } from './lists';
import { enumOf, listQuery as query, strictObject as strict, text } from './schema-parts';

/** A resource id (our ids are UUIDs; names are accepted where the seeds say "name or id"). */
const id = text(256);
const bool = Type.Boolean();

const policy = strict({ reserved: bool });
/** AWS KMS's CreateCustomKeyStore and UpdateCustomKeyStore fields (aws-kms-fields.ts), by our names. */
const xksProxy = {
  xks_proxy_connectivity: enumOf(KMS_XKS_PROXY_CONNECTIVITY),
  xks_proxy_uri_endpoint: kmsXksProxyUriEndpoint,
  xks_proxy_uri_path: kmsXksProxyUriPath,
  xks_proxy_vpc_endpoint_service_name: kmsXksProxyVpcEndpointServiceName,
};

export const keyStoreSchemas = {
  create: strict(
    {
      name: text(256),
      kms: id,
      region: text(64),
      linked_state: bool,
      enable_success_audit_event: bool,
      local_hosted_params: strict({
        blocked: bool,
        mtls_enabled: bool,
        mtls_client_subject_cn: text(253),
        partition_id: id,
        health_check_key_id: id,
        max_credentials: Type.Integer({ minimum: 2, maximum: 20 }),
        source_key_tier: text(32),
        policy,
      }),
      aws_param: strict({
        custom_key_store_type: enumOf(KMS_CUSTOM_KEY_STORE_TYPES),
        ...xksProxy,
        // AWS_CLOUDHSM fields (the service checks them, and refuses them for external stores).
        cloud_hsm_cluster_id: kmsCloudHsmClusterId,
        key_store_password: kmsKeyStorePassword,
        trust_anchor_certificate: kmsTrustAnchorCertificate,
      }),
    },
    ['name', 'kms', 'region', 'aws_param'],
  ),
  /** At least one field: an empty PATCH is a mistake, not a request to touch `updatedAt`. */
  update: strict(
    {
      name: text(256),
      enable_success_audit_event: bool,
      local_hosted_params: strict({
        health_check_key_id: id,
        mtls_enabled: bool,
        mtls_client_subject_cn: text(253),
        max_credentials: Type.Integer({ minimum: 2, maximum: 20 }),
      }),
      aws_param: strict({
        ...xksProxy,
        // Refused by the service with a message saying where these are managed.
        access_key_id: kmsXksAccessKeyId,
        secret_access_key: kmsXksSecretAccessKey,
        // AWS_CLOUDHSM stores only.
        cloud_hsm_cluster_id: kmsCloudHsmClusterId,
        key_store_password: kmsKeyStorePassword,
      }),
    },
    [],
    { minProperties: 1 },
  ),
  /** POST .../{id}/connect: a CloudHSM store's new kmsuser password, replacing the stored one first. */
  connect: strict({ key_store_password: kmsKeyStorePassword }),
  /** POST .../get-unused-cloudhsm-clusters. */
  unusedCloudHsmClusters: strict({ kms: id, region: text(64) }, ['kms', 'region']),
  /** POST .../{id}/create-aws-key: a KMS key in a CloudHSM store (aws_param.Alias is required; the service says so). */
  createCloudHsmKey: strict({ aws_param: linkAwsParam, ...POLICY_SHORTCUT_SCHEMAS }, ['aws_param']),
  /** POST .../{id}/link (CCKM's "Link Local External Custom Key Store"). */
  link: strict(
    {
      aws_param: strict({ xks_proxy_uri_endpoint: kmsXksProxyUriEndpoint, xks_proxy_vpc_endpoint_service_name: kmsXksProxyVpcEndpointServiceName }, ['xks_proxy_uri_endpoint']),
    },
    ['aws_param'],
  ),
  listQuery: query(LISTS.keyStores),
  listCredentialsQuery: query(LISTS.keyStoreCredentials),
} satisfies Record<string, RequestSchema>;

export type CreateKeyStoreRequest = RequestOf<typeof keyStoreSchemas.create>;
export type UpdateKeyStoreRequest = RequestOf<typeof keyStoreSchemas.update>;
export type ConnectKeyStoreRequest = RequestOf<typeof keyStoreSchemas.connect>;
export type UnusedCloudHsmClustersRequest = RequestOf<typeof keyStoreSchemas.unusedCloudHsmClusters>;
export type CreateCloudHsmKeyRequest = RequestOf<typeof keyStoreSchemas.createCloudHsmKey>;
export type LinkKeyStoreRequest = RequestOf<typeof keyStoreSchemas.link>;

export const virtualKeySchemas = {
  /** `kms_id`: the owning account container (name or id); by default the source key's; a virtual key in use keeps its owner. */
  create: strict({ source_key_id: id, deletable: bool, kms_id: id }, ['source_key_id']),
  update: strict({ deletable: bool, kms_id: id }, [], { minProperties: 1 }),
  listQuery: query(LISTS.virtualKeys),
  /** Versions of a virtual key, and of an HYOK key (its virtual key's versions). */
  listVersionsQuery: query(LISTS.virtualKeyVersions),
} satisfies Record<string, RequestSchema>;

export type CreateVirtualKeyRequest = RequestOf<typeof virtualKeySchemas.create>;
export type UpdateVirtualKeyRequest = RequestOf<typeof virtualKeySchemas.update>;

export const hyokKeySchemas = {
  create: strict(
    {
      local_hosted_params: strict(
        { source_key_id: id, custom_key_store_id: id, blocked: bool, source_key_tier: text(32), policy },
        ['source_key_id', 'custom_key_store_id'],
      ),
      // With any of these the KMS key is created too (the store must be linked).
      aws_param: linkAwsParam,
      ...POLICY_SHORTCUT_SCHEMAS,
    },
    ['local_hosted_params'],
  ),
  rotate: strict({ source_key_id: id, source_key_tier: text(32) }, ['source_key_id']),
} satisfies Record<string, RequestSchema>;

export type CreateHyokKeyRequest = RequestOf<typeof hyokKeySchemas.create>;
export type RotateHyokKeyRequest = RequestOf<typeof hyokKeySchemas.rotate>;
