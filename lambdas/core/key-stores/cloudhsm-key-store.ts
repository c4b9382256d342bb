/**
 * CloudHSM key stores (`AWS_CLOUDHSM`), as stored and as the API shows them (CCKM's "Create a
 * Custom Key Store" for a CKS supported by an AWS CloudHSM). AWS KMS itself talks to the
 * customer's CloudHSM cluster as the crypto user `kmsuser`; the XKS proxy plays no part. Such a
 * store always exists in AWS KMS (its `cks-` id is recorded when it is created), its
 * `connection_state` is AWS KMS's, and the kmsuser password lives only in the secret store
 * (`secretNames.cloudHsmPassword`), never in this record.
 */
import { ConflictError, ValidationError } from '../errors';
import type { AccountRecord } from '../key-references';
import type { CustomKeyStoreConnectionState, KmsLocation } from '../ports/aws-kms';
import type { EntityRecord } from '../ports/state-store';
import { kmsLocation } from './aws-kms-links';
import type { Timestamps } from '../resource';
import { type ConnectionView, connectionFields, type CustomKeyStoreHeader, customKeyStoreHeader } from './custom-key-store-resource';
import { CLOUDHSM_KEY_STORE } from './key-store';
import type { CreateKeyStoreRequest, UpdateKeyStoreRequest } from './key-store-requests';

/** The seeds' `type` of a CloudHSM-backed store (the list filter's `LOCAL`, `REMOTE` or `CloudHSM`). */
export const CLOUDHSM_HOSTING_TYPE = 'CloudHSM';

/** Counters kept on the record (StateStore `counters`). */
export const CLOUDHSM_KEY_STORE_COUNTERS = {
  /** AWS keys made in the store (create-aws-key +1, DeleteAwsKey -1); the store is deleted only at 0. */
  awsKeys: 'awsKeys',
} as const;

export interface CloudHsmKeyStoreData extends Timestamps {
  readonly name: string;
  /** Id of the AWS account container (`kms_id`). */
  readonly accountId: string;
  readonly region: string;
  readonly customKeyStoreType: typeof CLOUDHSM_KEY_STORE;
  readonly cloudHsmClusterId: string;
  readonly trustAnchorCertificate: string;
  /** AWS KMS's id of the store, `cks-...`. */
  readonly customKeyStoreId: string;
}

export interface CloudHsmKeyStoreResource extends CustomKeyStoreHeader {
  readonly type: typeof CLOUDHSM_HOSTING_TYPE;
  readonly labels: Readonly<Record<string, string>>;
  readonly locally_hosted: false;
  readonly cloud_name: 'aws';
  readonly gone: false;
  readonly linked_state: true;
  readonly aws_param: {
    readonly custom_key_store_name: string;
    readonly custom_key_store_type: typeof CLOUDHSM_KEY_STORE;
    readonly custom_key_store_id: string;
    readonly cloud_hsm_cluster_id: string;
    readonly trust_anchor_certificate: string;
    readonly connection_state: CustomKeyStoreConnectionState;
    /** AWS KMS's reason when connection_state is FAILED (INVALID_CREDENTIALS, USER_LOCKED_OUT, ...). */
    readonly connection_error_code?: string;
  };
}

export function cloudHsmKeyStoreResource(id: string, store: CloudHsmKeyStoreData, context: { readonly accountName: string; readonly connection?: ConnectionView }): CloudHsmKeyStoreResource {
  return {
    ...customKeyStoreHeader(id, store, { ...store, accountName: context.accountName }),
    type: CLOUDHSM_HOSTING_TYPE,
    labels: {},
    locally_hosted: false,
    cloud_name: 'aws',
    gone: false,
    linked_state: true,
    aws_param: {
      custom_key_store_name: store.name,
      custom_key_store_type: CLOUDHSM_KEY_STORE,
      custom_key_store_id: store.customKeyStoreId,
      cloud_hsm_cluster_id: store.cloudHsmClusterId,
      trust_anchor_certificate: store.trustAnchorCertificate,
      ...connectionFields(context.connection),
    },
  };
}

/** AWS's CloudHSM cluster id: `cluster-` and 11 characters of base 32 (`cluster-1a23b4cdefg`). */
const CLUSTER_ID = /^cluster-[2-7a-zA-Z]{11,16}$/;

export function checkClusterId(value: string, field: string): string {
  if (!CLUSTER_ID.test(value)) throw new ValidationError('must be a CloudHSM cluster id like cluster-1a23b4cdefg (see get-unused-cloudhsm-clusters)', field);
  return value;
}

/** The kmsuser password: 7 to 32 characters, as AWS KMS takes it (the message never repeats it). */
export function checkKeyStorePassword(value: string, field: string): string {
  if (value.length < 7 || value.length > 32) throw new ValidationError('must be 7 to 32 characters (the kmsuser password of the cluster)', field);
  return value;
}

/** A PEM certificate (the cluster's issuing CA, customerCA.crt), at most 5,000 characters as AWS KMS allows. */
export function checkTrustAnchorCertificate(value: string, field: string): string {
  const pem = /^\s*-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\s*$/;
  if (value.length > 5000 || !pem.test(value)) {
    throw new ValidationError('must be the PEM text of the certificate that issued the cluster\'s certificate (customerCA.crt), at most 5,000 characters', field);
  }
  return value;
}

/** Fields of the create and update requests that only external key stores have. */
const EXTERNAL_ONLY = ['xks_proxy_connectivity', 'xks_proxy_uri_endpoint', 'xks_proxy_uri_path', 'xks_proxy_vpc_endpoint_service_name', 'access_key_id', 'secret_access_key'] as const;

export function required(value: string | undefined, field: string): string {
  if (value === undefined) throw new ValidationError('is required for AWS_CLOUDHSM key stores', field);
  return value;
}

export function requireRegion(account: AccountRecord, region: string): void {
  if (!account.data.regions.includes(region)) {
    throw new ValidationError(`must be one of the regions of AWS account container ${account.data.name}: ${account.data.regions.join(', ')}`, 'region');
  }
}

/** The AWS KMS the store lives in (409 when its container is gone). */
export function locationOf(store: EntityRecord<CloudHsmKeyStoreData>, account: AccountRecord | undefined): KmsLocation {
  if (account === undefined) throw new ConflictError(`The AWS account container of key store ${store.id} no longer exists`);
  return kmsLocation(account, store.data.region);
}

const ONLY_EXTERNAL = 'only applies to EXTERNAL_KEY_STORE key stores, not to AWS_CLOUDHSM ones';

export function refuseExternalFields(request: CreateKeyStoreRequest): void {
  if (request.local_hosted_params !== undefined) throw new ValidationError(ONLY_EXTERNAL, 'local_hosted_params');
  if (request.enable_success_audit_event !== undefined) throw new ValidationError(ONLY_EXTERNAL, 'enable_success_audit_event');
  if (request.linked_state === false) throw new ValidationError('a CloudHSM key store always exists in AWS KMS; omit linked_state or set it to true', 'linked_state');
  const field = EXTERNAL_ONLY.find((name) => (request.aws_param as Record<string, unknown>)[name] !== undefined);
  if (field !== undefined) throw new ValidationError(ONLY_EXTERNAL, `aws_param.${field}`);
}

export function refuseUpdateFields(request: UpdateKeyStoreRequest): void {
  if (request.local_hosted_params !== undefined) throw new ValidationError(ONLY_EXTERNAL, 'local_hosted_params');
  if (request.enable_success_audit_event !== undefined) throw new ValidationError(ONLY_EXTERNAL, 'enable_success_audit_event');
  const field = EXTERNAL_ONLY.find((name) => (request.aws_param as Record<string, unknown> | undefined)?.[name] !== undefined);
  if (field !== undefined) throw new ValidationError(ONLY_EXTERNAL, `aws_param.${field}`);
}
