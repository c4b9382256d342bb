/**
 * The KMS key half of the AWS KMS port: creating KMS keys (in external key stores for HYOK keys)
 * and the key operations of `/v1/cckm/aws/keys/{id}/...`, each one AWS KMS call, plus the reads that
 * mirror a key into its record (DescribeKey, ListAliases, ListResourceTags, GetKeyPolicy).
 *
 * The adapter (adapters/aws/kms-keys-sdk.ts, part of the same `SdkAwsKms` as ports/aws-kms.ts)
 * reaches the account as that port says and translates AWS's refusals the same way: a key in the
 * wrong state, an alias in use, a limit → 409 quoting AWS; a malformed policy, alias or tag → 400
 * naming our field; a key AWS KMS does not have → NotFoundError.
 */
import type { KmsLocation } from './aws-kms';

export interface KmsTag {
  readonly TagKey: string;
  readonly TagValue: string;
}

/**
 * DescribeKey's `KeyMetadata` with AWS's field names (they are what `aws_param` shows), dates as
 * ISO 8601 strings. Fields AWS KMS leaves out are absent.
 */
export interface KmsKeyMetadata {
  readonly AWSAccountId?: string;
  readonly KeyId: string;
  readonly Arn: string;
  readonly CreationDate?: string;
  readonly Enabled?: boolean;
  readonly Description?: string;
  readonly KeyUsage?: string;
  /** `Enabled`, `Disabled`, `PendingDeletion`, `PendingImport`, `Unavailable`, ... */
  readonly KeyState: string;
  readonly DeletionDate?: string;
  readonly PendingDeletionWindowInDays?: number;
  readonly ValidTo?: string;
  /** `AWS_KMS`, `EXTERNAL`, `AWS_CLOUDHSM`, `EXTERNAL_KEY_STORE`. */
  readonly Origin?: string;
  readonly CustomKeyStoreId?: string;
  readonly CloudHsmClusterId?: string;
  readonly ExpirationModel?: string;
  readonly KeyManager?: string;
  readonly CustomerMasterKeySpec?: string;
  readonly KeySpec?: string;
  readonly EncryptionAlgorithms?: readonly string[];
  readonly SigningAlgorithms?: readonly string[];
  readonly MacAlgorithms?: readonly string[];
  readonly MultiRegion?: boolean;
  readonly XksKeyConfiguration?: { readonly Id: string };
}

/** CreateKey's parameters that the key manager sets. */
export interface CreateKmsKeyRequest {
  readonly description?: string;
  /** Policy document as JSON text; absent = AWS KMS's default key policy. */
  readonly policy?: string;
  readonly bypassPolicyLockoutSafetyCheck?: boolean;
  readonly tags?: readonly KmsTag[];
  /** Keys in an external key store: the store's `cks-` id and the external key id the proxy knows. */
  readonly externalKeyStore?: { readonly customKeyStoreId: string; readonly xksKeyId: string };
  /** Keys in a CloudHSM key store (Origin `AWS_CLOUDHSM`): the store's `cks-` id; AWS KMS makes the key in the cluster. */
  readonly cloudHsmKeyStore?: { readonly customKeyStoreId: string };
  /** `EXTERNAL`: a key without material, PendingImport until ImportKeyMaterial. @default AWS_KMS (EXTERNAL_KEY_STORE with `externalKeyStore`, AWS_CLOUDHSM with `cloudHsmKeyStore`) */
  readonly origin?: 'EXTERNAL';
  /** @default SYMMETRIC_DEFAULT */
  readonly keySpec?: string;
  /** @default ENCRYPT_DECRYPT */
  readonly keyUsage?: string;
  readonly multiRegion?: boolean;
}

/** GetParametersForImport's answer: the wrapping public key (DER SubjectPublicKeyInfo) and the import token. */
export interface KmsImportParameters {
  readonly importToken: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly parametersValidTo?: string;
}

export interface ImportKmsKeyMaterialRequest {
  readonly importToken: Uint8Array;
  readonly encryptedKeyMaterial: Uint8Array;
  /** When the material expires (ExpirationModel KEY_MATERIAL_EXPIRES); absent: it does not expire. */
  readonly validTo?: string;
}

export interface AwsKmsKeys {
  /** CreateKey. In an external key store AWS KMS asks the proxy for the external key first. */
  createKey(at: KmsLocation, request: CreateKmsKeyRequest): Promise<KmsKeyMetadata>;

  /** DescribeKey. NotFoundError when AWS KMS has no such key (any more). */
  describeKeyMetadata(at: KmsLocation, keyId: string): Promise<KmsKeyMetadata>;
  /** ListAliases for the key, every page: the alias names (`alias/...`). */
  listKeyAliases(at: KmsLocation, keyId: string): Promise<string[]>;
  /** ListResourceTags, every page. */
  listKeyTags(at: KmsLocation, keyId: string): Promise<KmsTag[]>;
  /** GetKeyPolicy (`default`), as JSON text. */
  getKeyPolicy(at: KmsLocation, keyId: string): Promise<string>;
  /**
   * GetKeyRotationStatus: whether automatic rotation is on; undefined for keys AWS KMS cannot rotate
   * (asymmetric, HMAC, imported, custom key store keys: UnsupportedOperationException).
   */
  getKeyRotationStatus(at: KmsLocation, keyId: string): Promise<boolean | undefined>;

  enableKey(at: KmsLocation, keyId: string): Promise<void>;
  disableKey(at: KmsLocation, keyId: string): Promise<void>;
  /** ScheduleKeyDeletion with a waiting period of `days` (7-30). */
  scheduleKeyDeletion(at: KmsLocation, keyId: string, days: number): Promise<void>;
  cancelKeyDeletion(at: KmsLocation, keyId: string): Promise<void>;
  /** CreateAlias `alias` (`alias/...`) for the key; 409 when the alias exists. */
  createAlias(at: KmsLocation, alias: string, keyId: string): Promise<void>;
  /** DeleteAlias; NotFoundError when there is no such alias. */
  deleteAlias(at: KmsLocation, alias: string): Promise<void>;
  updateKeyDescription(at: KmsLocation, keyId: string, description: string): Promise<void>;
  tagKey(at: KmsLocation, keyId: string, tags: readonly KmsTag[]): Promise<void>;
  untagKey(at: KmsLocation, keyId: string, tagKeys: readonly string[]): Promise<void>;
  /** PutKeyPolicy (`default`) with a JSON policy document. */
  putKeyPolicy(at: KmsLocation, keyId: string, policy: string, bypassPolicyLockoutSafetyCheck?: boolean): Promise<void>;

  /** GetParametersForImport of a key with Origin EXTERNAL (`wrappingAlgorithm` as AWS KMS names it). */
  getParametersForImport(at: KmsLocation, keyId: string, wrappingAlgorithm: string, wrappingKeySpec: string): Promise<KmsImportParameters>;
  /** ImportKeyMaterial; the key is Enabled afterwards (unless it was disabled). */
  importKeyMaterial(at: KmsLocation, keyId: string, request: ImportKmsKeyMaterialRequest): Promise<void>;
  /** DeleteImportedKeyMaterial: the key is PendingImport afterwards. */
  deleteImportedKeyMaterial(at: KmsLocation, keyId: string): Promise<void>;
}
