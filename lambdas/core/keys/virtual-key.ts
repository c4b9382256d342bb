/**
 * Virtual keys (CCKM's "Create a Virtual Key" … "List Virtual Key Versions"): the indirection
 * between an HYOK key and HSM source keys that makes rotation possible. Version 0 points at the
 * source key the virtual key was created with; every rotation appends a version pointing at a new
 * source key, and every version stays usable for decryption unless a key rotation job gave it an
 * expiry (`expiresAt`).
 *
 * Versions live inside the virtual key record (ascending, append-only), so that reading the key
 * (one consistent read) gives the XKS proxy every version at once, and appending one is guarded by
 * the record's version.
 */
import { envelope, type ResourceEnvelope, type Timestamps } from '../resource';

export interface VirtualKeyVersionData {
  /** Stable id of this version (the seeds show one per version). */
  readonly id: string;
  readonly version: number;
  readonly sourceKeyId: string;
  readonly partitionId: string;
  /** CKA_ID (hex) of the source key, copied from its record: the proxy finds the HSM object with it. */
  readonly objectId: string;
  /** CKA_LABEL of the source key (shown as the HYOK key's `local_key_name`). */
  readonly sourceKeyLabel: string;
  readonly createdAt: string;
  /**
   * From this time the version no longer decrypts (the XKS proxy answers InvalidStateException):
   * set on the version a key rotation job with `expire_in` or `expiration` replaced.
   */
  readonly expiresAt?: string;
}

export interface VirtualKeyData extends Timestamps {
  /** Every version's source key is in this partition. */
  readonly partitionId: string;
  /** The seeds' `deletable`: false by default; a virtual key is deleted only once it is set. */
  readonly deletable: boolean;
  /** Ascending by `version`, never empty. */
  readonly versions: readonly VirtualKeyVersionData[];
  /** The owning account container (`kms_id`), as for HSM source keys (hsm-key.ts). */
  readonly accountId?: string;
}

/** Counters kept on the virtual key record. */
export const VIRTUAL_KEY_COUNTERS = {
  /** HYOK keys backed by this virtual key (0 or 1): it is deleted only at 0. */
  hyokKeys: 'hyokKeys',
} as const;

/** One virtual key backs at most one HYOK key: rotating the HYOK key appends to its virtual key. */
export const MAX_HYOK_KEYS_PER_VIRTUAL_KEY = 1;

export function currentVersion(key: VirtualKeyData): VirtualKeyVersionData {
  return key.versions[key.versions.length - 1];
}

export interface VirtualKeyResource extends ResourceEnvelope {
  readonly partition_id: string;
  readonly partition_label: string;
  /** Source key of the current version. */
  readonly source_key_id: string;
  /** Number of the current version. */
  readonly version: number;
  readonly deletable: boolean;
  readonly kms_id?: string;
}

export interface VirtualKeyVersionResource extends ResourceEnvelope {
  readonly virtual_key_id: string;
  readonly partition_id: string;
  readonly partition_label: string;
  readonly source_key_id: string;
  readonly version: number;
  /** When the version stops decrypting, if a key rotation job gave it an expiry. */
  readonly expires_at?: string;
}

export function virtualKeyResource(id: string, key: VirtualKeyData, partitionLabel: string): VirtualKeyResource {
  const current = currentVersion(key);
  return {
    ...envelope('virtual-keys', id, key),
    partition_id: key.partitionId,
    partition_label: partitionLabel,
    source_key_id: current.sourceKeyId,
    version: current.version,
    deletable: key.deletable,
    ...(key.accountId === undefined ? {} : { kms_id: key.accountId }),
  };
}

export function virtualKeyVersionResource(
  virtualKeyId: string,
  version: VirtualKeyVersionData,
  partitionLabel: string,
): VirtualKeyVersionResource {
  return {
    ...envelope('virtual-key-versions', version.id, { createdAt: version.createdAt, updatedAt: version.createdAt }),
    virtual_key_id: virtualKeyId,
    partition_id: version.partitionId,
    partition_label: partitionLabel,
    source_key_id: version.sourceKeyId,
    version: version.version,
    ...(version.expiresAt === undefined ? {} : { expires_at: version.expiresAt }),
  };
}
