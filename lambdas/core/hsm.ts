/**
 * The HSM-facing ports: what the control plane asks of the HSM agent, and what the XKS proxy asks
 * of the PKCS#11 key source. Pure types: no pkcs11js here (adapters/pkcs11 implements them).
 */

export type HsmType = 'luna' | 'cloudhsm' | 'softhsm';
export const HSM_TYPES: readonly HsmType[] = ['luna', 'cloudhsm', 'softhsm'];

/** Everything needed to open a session on a partition. The PIN is fetched by the HSM side. */
export interface PartitionConnection {
  readonly partitionId: string;
  readonly hsmType: HsmType;
  readonly tokenLabel: string;
  /** Name of the secret (SecretStore) that holds the partition PIN. Never the PIN itself. */
  readonly pinSecretName: string;
}

/** The PKCS#11 boolean attributes we set and report on AES source keys. */
export type KeyAttributeName =
  | 'CKA_ENCRYPT' | 'CKA_DECRYPT' | 'CKA_WRAP' | 'CKA_UNWRAP' | 'CKA_SIGN' | 'CKA_VERIFY'
  | 'CKA_DERIVE' | 'CKA_SENSITIVE' | 'CKA_EXTRACTABLE' | 'CKA_MODIFIABLE' | 'CKA_TOKEN' | 'CKA_PRIVATE';

export const KEY_ATTRIBUTE_NAMES: readonly KeyAttributeName[] = [
  'CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_WRAP', 'CKA_UNWRAP', 'CKA_SIGN', 'CKA_VERIFY',
  'CKA_DERIVE', 'CKA_SENSITIVE', 'CKA_EXTRACTABLE', 'CKA_MODIFIABLE', 'CKA_TOKEN', 'CKA_PRIVATE',
];

export type KeyAttributes = Readonly<Record<KeyAttributeName, boolean>>;

/** A key as the HSM reports it (read back, never assumed). */
export interface HsmKeyInfo {
  readonly objectId: string; // CKA_ID, hex
  readonly label: string; // CKA_LABEL
  readonly keyType: 'AES' | 'OTHER';
  readonly sizeBits: number; // CKA_VALUE_LEN * 8
  readonly attributes: KeyAttributes;
}

/** Identifies a key object inside a partition. We set CKA_ID ourselves at generation. */
export interface HsmKeyRef {
  readonly partition: PartitionConnection;
  readonly objectId: string; // CKA_ID, hex
}

export interface GenerateKeyRequest {
  readonly objectId: string; // CKA_ID to set, hex
  readonly label: string;
  readonly sizeBits: 256;
  /** Attributes listed by the caller are true; every other boolean attribute is false. */
  readonly attributes: KeyAttributes;
}

export interface PartitionTestResult {
  readonly ready: boolean;
  /** `ready`, or the PKCS#11 failure (e.g. `CKR_PIN_INCORRECT`, `token not found`). Never the PIN. */
  readonly message: string;
}

/**
 * The HSM agent (design.md): the only way the control plane reaches PKCS#11.
 * On AWS a Lambda invoke of the agent function; locally the same service in-process.
 */
export interface HsmAgent {
  testPartition(partition: PartitionConnection): Promise<PartitionTestResult>;
  generateKey(partition: PartitionConnection, request: GenerateKeyRequest): Promise<HsmKeyInfo>;
  describeKey(key: HsmKeyRef): Promise<HsmKeyInfo | undefined>;
  destroyKey(key: HsmKeyRef): Promise<void>;
  /** Deep health check: AES-GCM encrypt+decrypt with the key inside the HSM. */
  checkKey(key: HsmKeyRef): Promise<PartitionTestResult>;
}

/** Result of an AES-256-GCM encryption inside the HSM. */
export interface GcmCiphertext {
  readonly iv: Buffer; // 12 bytes
  readonly ciphertext: Buffer;
  readonly tag: Buffer; // 16 bytes
}

/**
 * The XKS proxy's crypto port. Errors are `HsmError`s carrying a `reason` the proxy maps to an
 * XKS errorName in one table.
 */
export interface KeyCrypto {
  encrypt(key: HsmKeyRef, plaintext: Buffer, aad: Buffer): Promise<GcmCiphertext>;
  decrypt(key: HsmKeyRef, input: GcmCiphertext, aad: Buffer): Promise<Buffer>;
  /** The key's attributes, as read from the HSM (cached by the adapter with its handle). */
  describe(key: HsmKeyRef): Promise<HsmKeyInfo | undefined>;
}

export type HsmFailureReason =
  | 'KEY_NOT_FOUND' // no such object in the partition
  | 'KEY_FUNCTION_NOT_PERMITTED' // CKR_KEY_FUNCTION_NOT_PERMITTED
  | 'DECRYPT_FAILED' // wrong tag/AAD/IV/ciphertext (CKR_ENCRYPTED_DATA_INVALID, CKR_GENERAL_ERROR on SoftHSM2, …)
  | 'TOKEN_NOT_FOUND' // no token with the label (unplugged, removed)
  | 'LOGIN_FAILED' // wrong PIN, locked
  | 'TIMEOUT' // no answer within the time budget
  | 'DEVICE_ERROR'; // anything else: the session is discarded

export class HsmError extends Error {
  constructor(
    readonly reason: HsmFailureReason,
    /** The PKCS#11 return code name when there is one, e.g. `CKR_DEVICE_ERROR`. */
    readonly returnCode: string | undefined,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'HsmError';
  }
}
