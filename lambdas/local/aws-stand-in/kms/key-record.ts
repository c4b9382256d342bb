/**
 * The stand-in's record of one KMS key, kept in the `keys` collection of its account and region
 * (`KEYS` below). Field names follow KeyMetadata in @aws-sdk/client-kms's models (lower camel
 * case); `describeKey` in key-metadata.ts turns a record into KeyMetadata. Dates are epoch
 * seconds, as AWS JSON 1.1 sends them.
 *
 * `material` is what the key's origin needs to encrypt: it is written and read only by the
 * key's origin (see key-origins.ts). A local test double keeps it in its state folder; AWS keeps
 * it in HSMs.
 */
import type { ScopedState } from '../state';

export const KEYS = 'keys';
export const ALIASES = 'aliases';
export const CUSTOM_KEY_STORES = 'customKeyStores';

export type KeyState = 'Creating' | 'Enabled' | 'Disabled' | 'PendingDeletion' | 'PendingImport' | 'PendingReplicaDeletion' | 'Unavailable' | 'Updating';
export type KeyOrigin = 'AWS_KMS' | 'EXTERNAL' | 'AWS_CLOUDHSM' | 'EXTERNAL_KEY_STORE';
export type KeyUsage = 'ENCRYPT_DECRYPT' | 'SIGN_VERIFY' | 'GENERATE_VERIFY_MAC' | 'KEY_AGREEMENT' | 'ENCAPSULATE_DECAPSULATE';

export interface Tag {
  readonly TagKey: string;
  readonly TagValue: string;
}

/** Origin-specific key material; each origin defines its own `kind` and fields (base64 strings). */
export interface KeyMaterial {
  readonly kind: string;
  readonly [field: string]: string | undefined;
}

export interface KmsKeyRecord {
  readonly keyId: string;
  readonly arn: string;
  readonly accountId: string;
  readonly region: string;
  readonly creationDate: number;
  description: string;
  keyState: KeyState;
  readonly keyUsage: KeyUsage;
  /** `SYMMETRIC_DEFAULT`, `RSA_2048`, `HMAC_256`, `ECC_NIST_P256`, ... */
  readonly keySpec: string;
  readonly origin: KeyOrigin;
  readonly keyManager: 'CUSTOMER' | 'AWS';
  readonly multiRegion: boolean;
  /** Keys in a custom key store (origins AWS_CLOUDHSM and EXTERNAL_KEY_STORE). */
  readonly customKeyStoreId?: string;
  readonly cloudHsmClusterId?: string;
  /** EXTERNAL_KEY_STORE keys: the external key's id in the proxy. */
  readonly xksKeyId?: string;
  /** The key policy document, exactly as given (or the default policy). */
  policy: string;
  tags: Tag[];
  /** Set while PendingDeletion. */
  deletionDate?: number;
  pendingDeletionWindowInDays?: number;
  rotationEnabled: boolean;
  rotationPeriodInDays?: number;
  nextRotationDate?: number;
  /** EXTERNAL keys with imported material. */
  expirationModel?: 'KEY_MATERIAL_EXPIRES' | 'KEY_MATERIAL_DOES_NOT_EXPIRE';
  validTo?: number;
  /** Identifies the current material, where the origin has one (AWS_KMS and EXTERNAL). */
  currentKeyMaterialId?: string;
  material?: KeyMaterial;
}

export const keysOf = (state: ScopedState) => state.collection<KmsKeyRecord>(KEYS);

export interface AliasRecord {
  /** `alias/...` */
  readonly aliasName: string;
  readonly aliasArn: string;
  targetKeyId: string;
  readonly creationDate: number;
  lastUpdatedDate: number;
}

export const aliasesOf = (state: ScopedState) => state.collection<AliasRecord>(ALIASES);
