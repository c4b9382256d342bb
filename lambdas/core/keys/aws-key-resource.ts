/**
 * An AWS key as the API shows it (`/v1/cckm/aws/keys`, the seeds' HYOK key examples and the
 * reference's key fields): the fields every kind has, `aws_param` mirroring AWS KMS's DescribeKey
 * plus `Policy`, `Alias` and `Tags`, and for HYOK keys their local side (`local_hosted_params`,
 * the current source key, the version).
 */
import type { KmsKeyMetadata, KmsTag } from '../ports/aws-kms-keys';
import type { SourceKeyTier } from '../key-stores/key-store';
import { envelope, type ResourceEnvelope } from '../resource';
import { type AwsKeyData, externalKeyId, type HyokKeyData, isHyokKey } from './aws-key';

/** What the response needs besides the key: names of related records, for HYOK keys their source. */
export interface AwsKeyContext {
  readonly accountName: string;
  /** Keys of the other kinds in one of the key manager's key stores (CloudHSM keys): the store's name. */
  readonly keyStoreName?: string;
  readonly hyok?: {
    readonly keyStoreName: string;
    /** The current version's source key. */
    readonly localKeyId: string;
    readonly localKeyName: string;
    readonly currentVersion: number;
  };
}

/**
 * `aws_param`: DescribeKey's fields (with CCKM's spelling `KeyID`) and the policy, aliases and
 * tags, once AWS KMS has been read for the key; before that (an unlinked HYOK key) only the
 * external key id AWS KMS is to use.
 */
export type AwsParam = Partial<Omit<KmsKeyMetadata, 'KeyId'>> & {
  readonly KeyID?: string;
  readonly Policy?: unknown;
  readonly Alias?: readonly string[];
  readonly Tags?: readonly KmsTag[];
  readonly KeyRotationEnabled?: boolean;
};

export interface AwsKeyResource extends ResourceEnvelope {
  readonly kms_id: string;
  readonly kms: string;
  readonly region: string;
  readonly cloud_name: 'aws';
  readonly key_type: 'symmetric' | 'asymmetric' | 'hmac';
  readonly basic_view_enabled: false;
  readonly gone: boolean;
  /** `ACTIVE` once the key manager has rotated the key (the key stays the one in use); `''` before. */
  readonly rotation_status: '' | 'ACTIVE';
  readonly rotated_at?: string;
  /** The latest rotation's source keys (HSM key ids): the replaced version's and the new one's. */
  readonly rotated_from?: string;
  readonly rotated_to?: string;
  readonly synced_at?: string;
  readonly deletion_date?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly key_material_origin: string;
  readonly key_source?: string;
  readonly linked_state: boolean;
  readonly blocked: boolean;
  readonly custom_key_store_id?: string;
  readonly custom_key_store_name?: string;
  readonly job_config_id?: string;
  readonly aws_param: AwsParam;
  /** HYOK keys: the current version's source key; uploaded keys: the HSM key whose material AWS KMS holds. */
  readonly local_key_id?: string;
  readonly local_key_name?: string;
  // HYOK keys only:
  readonly locally_hosted?: true;
  /** Number of the virtual key version new encryptions use. */
  readonly version?: number;
  readonly local_hosted_params?: {
    readonly blocked: boolean;
    readonly policy: { readonly reserved: false };
    readonly custom_key_store_id: string;
    readonly linked_state: boolean;
    /** The virtual key's id (for an HSM key source the seeds' `source_key_id` is the virtual key). */
    readonly source_key_id: string;
    readonly source_key_tier: SourceKeyTier;
  };
}

export function awsKeyResource(id: string, key: AwsKeyData, context: AwsKeyContext): AwsKeyResource {
  const metadata = key.kms?.metadata;
  const common = {
    ...envelope('aws-key', id, key),
    kms_id: key.accountId,
    kms: context.accountName,
    region: key.region,
    cloud_name: 'aws' as const,
    key_type: keyType(metadata?.KeySpec),
    basic_view_enabled: false as const,
    gone: key.gone === true,
    rotation_status: key.rotatedAt === undefined ? ('' as const) : ('ACTIVE' as const),
    ...(key.rotatedAt === undefined ? {} : { rotated_at: key.rotatedAt }),
    ...(key.rotatedFrom === undefined ? {} : { rotated_from: key.rotatedFrom }),
    ...(key.rotatedTo === undefined ? {} : { rotated_to: key.rotatedTo }),
    ...(key.kms === undefined ? {} : { synced_at: key.kms.syncedAt }),
    ...(metadata?.DeletionDate === undefined ? {} : { deletion_date: metadata.DeletionDate }),
    labels: key.labels ?? {},
    linked_state: key.linkedState,
    blocked: key.blocked,
  };
  if (isHyokKey(key)) return { ...common, ...hyokFields(key, context), aws_param: linkedAwsParam(key) ?? { XksKeyConfiguration: { Id: externalKeyId(id) } } };
  return {
    ...common,
    key_material_origin: key.keyMaterialOrigin,
    ...(key.keySource === undefined ? {} : { key_source: key.keySource }),
    ...(key.customKeyStoreId === undefined ? {} : { custom_key_store_id: key.customKeyStoreId }),
    ...(context.keyStoreName === undefined ? {} : { custom_key_store_name: context.keyStoreName }),
    ...(key.jobConfigId === undefined ? {} : { job_config_id: key.jobConfigId }),
    ...(key.localKeyId === undefined ? {} : { local_key_id: key.localKeyId, local_key_name: key.localKeyName ?? '' }),
    aws_param: linkedAwsParam(key) ?? {},
  };
}

function hyokFields(key: HyokKeyData, context: AwsKeyContext) {
  const hyok = context.hyok;
  return {
    key_material_origin: 'cckm',
    key_source: key.sourceKeyTier,
    custom_key_store_id: key.keyStoreId,
    custom_key_store_name: hyok?.keyStoreName ?? '',
    local_key_id: hyok?.localKeyId ?? '',
    local_key_name: hyok?.localKeyName ?? '',
    locally_hosted: true as const,
    version: hyok?.currentVersion ?? 0,
    local_hosted_params: {
      blocked: key.blocked,
      policy: { reserved: false as const },
      custom_key_store_id: key.keyStoreId,
      linked_state: key.linkedState,
      source_key_id: key.virtualKeyId,
      source_key_tier: key.sourceKeyTier,
    },
  };
}

/** `aws_param` of a key AWS KMS has been read for; undefined before that. */
function linkedAwsParam(key: AwsKeyData): AwsParam | undefined {
  if (key.kms === undefined) return undefined;
  const { KeyId, ...metadata } = key.kms.metadata;
  return {
    ...metadata,
    KeyID: KeyId,
    ...(key.kms.policy === undefined ? {} : { Policy: key.kms.policy }),
    Alias: key.kms.aliases,
    Tags: key.kms.tags,
    ...(key.kms.rotationEnabled === undefined ? {} : { KeyRotationEnabled: key.kms.rotationEnabled }),
  };
}

/** CCKM's `key_type` from AWS KMS's KeySpec (an unlinked HYOK key is a symmetric AES-256 key). */
function keyType(keySpec: string | undefined): AwsKeyResource['key_type'] {
  if (keySpec === undefined || keySpec === 'SYMMETRIC_DEFAULT') return 'symmetric';
  return keySpec.startsWith('HMAC_') ? 'hmac' : 'asymmetric';
}

/** An HYOK key's resource: it always has its local side and its external key id. */
export type HyokKeyResource = AwsKeyResource & {
  readonly aws_param: { readonly XksKeyConfiguration: { readonly Id: string } };
  readonly local_hosted_params: NonNullable<AwsKeyResource['local_hosted_params']>;
};
