/**
 * Extension point for key origins. CreateKey (key-operations.ts) validates what every key shares
 * (description, usage, spec, policy, tags), then hands the origin-specific part to the provider
 * registered for `Origin` (`registry.keyOrigin(provider)`):
 *
 *  - AWS_KMS: aws-kms-origin.ts (AES-256-GCM material made here);
 *  - EXTERNAL_KEY_STORE: external-key-store-origin.ts (an external key in the store's XKS proxy,
 *    double encryption);
 *  - AWS_CLOUDHSM and EXTERNAL plug in the same way.
 *
 * The symmetric cryptographic operations (Encrypt, Decrypt, GenerateDataKey, ReEncrypt in
 * crypto-operations.ts) check the key's state and usage, then call the provider's `encrypt` /
 * `decrypt`; the provider returns / receives the origin's parts of the ciphertext blob
 * (ciphertext-blob.ts adds the key id around them).
 */
import type { JsonObject, OperationContext } from '../operation-registry';
import type { KeyMaterial, KeyState, KeyUsage, KmsKeyRecord } from './key-record';

/** CreateKey's input after the checks every origin shares. */
export interface CreateKeyRequest {
  readonly input: JsonObject;
  readonly keyId: string;
  readonly keySpec: string;
  readonly keyUsage: KeyUsage;
  readonly customKeyStoreId?: string;
}

/** The origin-specific fields of a new key record. */
export interface OriginKeyFields {
  /** @default 'Enabled' */
  readonly keyState?: KeyState;
  readonly customKeyStoreId?: string;
  readonly cloudHsmClusterId?: string;
  readonly xksKeyId?: string;
  readonly currentKeyMaterialId?: string;
  readonly material?: KeyMaterial;
}

export interface SymmetricCryptoRequest {
  readonly key: KmsKeyRecord;
  /** Additional authenticated data that binds the encryption context (see crypto-operations.ts). */
  readonly aad: Buffer;
  readonly context: OperationContext;
  /** The KMS operation on whose behalf this runs (`Encrypt`, `GenerateDataKey`, `ReEncrypt`, ...). */
  readonly kmsOperation: string;
  /** `SYMMETRIC_DEFAULT` for every call crypto-operations.ts makes today. */
  readonly encryptionAlgorithm: string;
}

export interface KeyOriginProvider {
  readonly origin: string;
  /** Key specs CreateKey accepts with this origin. */
  readonly keySpecs: readonly string[];
  /** Checks the origin's own CreateKey fields and makes its material; may call out (XKS proxy). */
  create(request: CreateKeyRequest, context: OperationContext): Promise<OriginKeyFields>;
  /** Absent when the origin's keys do no symmetric encryption here. */
  encrypt?(request: SymmetricCryptoRequest, plaintext: Buffer): Promise<Buffer[]>;
  decrypt?(request: SymmetricCryptoRequest, parts: readonly Buffer[]): Promise<Buffer>;
  /** Fields DescribeKey adds for this origin (e.g. XksKeyConfiguration). */
  describe?(key: KmsKeyRecord): JsonObject;
}
