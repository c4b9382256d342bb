/**
 * AWS keys managed here. So far only HYOK keys (seeds 001 "Create an AWS HYOK Key"): an AWS KMS
 * external key in one of our external key stores, backed by a virtual key. Unlinked only: the key
 * exists here, and the operator creates the KMS key with `aws_param.XksKeyConfiguration.Id`.
 */
import { envelope, type ResourceEnvelope, type Timestamps } from '../resource';
import type { SourceKeyTier } from '../key-stores/key-store';

export interface HyokKeyData extends Timestamps {
  readonly keyStoreId: string;
  /** The key store's account container (`kms_id`) and region, copied at creation (they never change). */
  readonly accountId: string;
  readonly region: string;
  readonly sourceKeyTier: SourceKeyTier;
  readonly virtualKeyId: string;
  readonly blocked: boolean;
  readonly linkedState: false;
  /** Set by the latest rotation. */
  readonly rotatedAt?: string;
}

/**
 * The external key id AWS KMS uses in XKS requests (`XksKeyConfiguration.Id`, ≤ 128 characters of
 * `[A-Za-z0-9._-]`): the HYOK key's own id, a UUID. The virtual key and source key ids stay private
 * (the seeds: "Do not provide the source_key_id, or virtual key's id to AWS KMS").
 */
export function externalKeyId(hyokKeyId: string): string {
  return hyokKeyId;
}

export const EXTERNAL_KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

/** What the response needs besides the HYOK key itself. */
export interface HyokKeyContext {
  readonly accountName: string;
  readonly keyStoreName: string;
  /** The current version's source key. */
  readonly localKeyId: string;
  readonly localKeyName: string;
  readonly currentVersion: number;
}

export interface HyokKeyResource extends ResourceEnvelope {
  readonly kms_id: string;
  readonly kms: string;
  readonly region: string;
  readonly cloud_name: 'aws';
  readonly key_type: 'symmetric';
  readonly basic_view_enabled: false;
  readonly gone: false;
  readonly rotation_status: '';
  readonly rotated_at?: string;
  readonly local_key_id: string;
  readonly local_key_name: string;
  readonly key_material_origin: 'cckm';
  readonly key_source: SourceKeyTier;
  readonly locally_hosted: true;
  readonly custom_key_store_id: string;
  readonly custom_key_store_name: string;
  readonly blocked: boolean;
  readonly linked_state: false;
  /** Number of the virtual key version new encryptions use. */
  readonly version: number;
  readonly local_hosted_params: {
    readonly blocked: boolean;
    readonly policy: { readonly reserved: false };
    readonly custom_key_store_id: string;
    readonly linked_state: false;
    /** The virtual key's id (seeds: "For Luna HSM key source, this is the ID of the virtual key"). */
    readonly source_key_id: string;
    readonly source_key_tier: SourceKeyTier;
  };
  readonly aws_param: { readonly XksKeyConfiguration: { readonly Id: string } };
}

export function hyokKeyResource(id: string, key: HyokKeyData, context: HyokKeyContext): HyokKeyResource {
  return {
    ...envelope('aws-key', id, key),
    kms_id: key.accountId,
    kms: context.accountName,
    region: key.region,
    cloud_name: 'aws',
    key_type: 'symmetric',
    basic_view_enabled: false,
    gone: false,
    rotation_status: '',
    ...(key.rotatedAt === undefined ? {} : { rotated_at: key.rotatedAt }),
    local_key_id: context.localKeyId,
    local_key_name: context.localKeyName,
    key_material_origin: 'cckm',
    key_source: key.sourceKeyTier,
    locally_hosted: true,
    custom_key_store_id: key.keyStoreId,
    custom_key_store_name: context.keyStoreName,
    blocked: key.blocked,
    linked_state: key.linkedState,
    version: context.currentVersion,
    local_hosted_params: {
      blocked: key.blocked,
      policy: { reserved: false },
      custom_key_store_id: key.keyStoreId,
      linked_state: key.linkedState,
      source_key_id: key.virtualKeyId,
      source_key_tier: key.sourceKeyTier,
    },
    aws_param: { XksKeyConfiguration: { Id: externalKeyId(id) } },
  };
}
