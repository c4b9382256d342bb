/**
 * HSM vocabulary shared by the CDK (HSM types), the request schemas (attribute names), the HSM
 * agent protocol and the runtime: plain types and constants, no PKCS#11.
 */
import type { EcCurve, HsmKeyType } from './hsm-key-types';

export type HsmType = 'luna' | 'cloudhsm' | 'softhsm';
export const HSM_TYPES: readonly HsmType[] = ['luna', 'cloudhsm', 'softhsm'];

/**
 * Who makes the 96-bit IV of an AES-GCM encryption, and where it comes back (decryption is the
 * same for all: the IV is passed in):
 * - `hsm-after-tag`: an empty IV is passed (ulIvLen 0); the HSM generates one and returns
 *   ciphertext ‖ tag ‖ IV. Luna 7, as AWS's reference XKS proxy (aws-kms-xks-proxy,
 *   handlers/encrypt.rs) was tested with.
 * - `hsm-in-iv-buffer`: 12 zero bytes are passed; the HSM ignores them and writes the IV it
 *   generated into that buffer (AWS CloudHSM's PKCS#11 library, "Supported mechanisms": "the HSM
 *   writes the generated IV to the memory reference pointed to by the pIV element").
 * - `caller-hsm-rng`: the caller passes 12 bytes drawn from the HSM's RNG (C_GenerateRandom);
 *   SoftHSM2, and HSMs whose policy lets the caller choose the IV.
 * Whatever the convention, a ciphertext whose IV is all zeros is never handed out.
 */
export type GcmIvConvention = 'hsm-after-tag' | 'hsm-in-iv-buffer' | 'caller-hsm-rng';
export const GCM_IV_CONVENTIONS: readonly GcmIvConvention[] = ['hsm-after-tag', 'hsm-in-iv-buffer', 'caller-hsm-rng'];
export const DEFAULT_GCM_IV_CONVENTION: Readonly<Record<HsmType, GcmIvConvention>> = {
  luna: 'hsm-after-tag',
  cloudhsm: 'hsm-in-iv-buffer',
  softhsm: 'caller-hsm-rng',
};

/**
 * Where a partition's PKCS#11 calls that may wait on the HSM run (adapters/pkcs11/config.ts):
 * - `worker-thread`: off the event loop, raced against the call's deadline, so that an HSM that
 *   stalls costs that one call its deadline while the function keeps serving (network HSMs);
 * - `inline`: on the event loop, the budget checked after each call (a library with nothing to
 *   wait for, such as SoftHSM2, whose calls take microseconds).
 */
export type Pkcs11CallMode = 'inline' | 'worker-thread';
export const PKCS11_CALL_MODES: readonly Pkcs11CallMode[] = ['inline', 'worker-thread'];

/**
 * One HSM that a partition reaches, checked on its own by the XKS proxy's deep health check and
 * listed in GetHealthStatus's `ekmFleetDetails`: a member of a Luna HA group (its physical
 * partition, seen by its own token label), or an HSM (cluster) the CloudHSM client shows as its
 * own slot. Every member holds the partition's keys under the same CKA_IDs and takes the same PIN.
 */
export interface PartitionMember {
  /** `ekmFleetDetails.id`: unique within the partition. */
  readonly id: string;
  /** The member's own token label (CK_TOKEN_INFO.label). */
  readonly tokenLabel: string;
}

/** The spec: GetHealthStatus lists at most ten external key managers. */
export const MAX_PARTITION_MEMBERS = 10;

/** Everything needed to open a session on a partition. The PIN is fetched by the HSM side. */
export interface PartitionConnection {
  readonly partitionId: string;
  readonly hsmType: HsmType;
  readonly tokenLabel: string;
  /** Name of the secret (SecretStore) that holds the partition PIN. Never the PIN itself. */
  readonly pinSecretName: string;
  /** The partition's IV convention. @default DEFAULT_GCM_IV_CONVENTION[hsmType] */
  readonly gcmIvConvention?: GcmIvConvention;
  /**
   * Where this partition's PKCS#11 calls run, cipher and session calls alike: set when the
   * partition differs from its type (a Luna PCIe card in the host, a SoftHSM2 token tested as a
   * network HSM). @default - the container's mode for the HSM type (Pkcs11Config)
   */
  readonly pkcs11CallMode?: Pkcs11CallMode;
}

/**
 * The PKCS#11 boolean attributes we set and report on source keys. On a key pair the private key
 * carries them, except CKA_ENCRYPT, CKA_VERIFY and CKA_WRAP, which are the public key's.
 */
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
  readonly keyType: HsmKeyType | 'OTHER';
  /** CKA_VALUE_LEN * 8 of secret keys, the modulus size of RSA keys, the curve's field size of EC keys. */
  readonly sizeBits: number;
  readonly attributes: KeyAttributes;
  /** EC keys: the curve CKA_EC_PARAMS names. */
  readonly curve?: EcCurve;
  /** Key pairs: the public key, PEM (SubjectPublicKeyInfo). */
  readonly publicKeyPem?: string;
}

/** Identifies a key object inside a partition. We set CKA_ID ourselves at generation. */
export interface HsmKeyRef {
  readonly partition: PartitionConnection;
  readonly objectId: string; // CKA_ID, hex
}

export interface GenerateKeyRequest {
  readonly objectId: string; // CKA_ID to set, hex
  readonly label: string;
  /** @default 'AES' */
  readonly keyType?: HsmKeyType;
  /** One of KEY_SIZES for the type; EC keys: the curve's size. */
  readonly sizeBits: number;
  /** EC keys only. */
  readonly curve?: EcCurve;
  /** Attributes listed by the caller are true; every other boolean attribute is false. */
  readonly attributes: KeyAttributes;
}

export interface PartitionTestResult {
  readonly ready: boolean;
  /** `ready`, or the PKCS#11 failure (e.g. `CKR_PIN_INCORRECT`, `token not found`). Never the PIN. */
  readonly message: string;
}

export type HsmFailureReason =
  | 'KEY_NOT_FOUND' // no such object in the partition
  | 'KEY_FUNCTION_NOT_PERMITTED' // CKR_KEY_FUNCTION_NOT_PERMITTED
  | 'DECRYPT_FAILED' // wrong tag/AAD/IV/ciphertext (CKR_ENCRYPTED_DATA_INVALID, CKR_GENERAL_ERROR on SoftHSM2, …)
  | 'TOKEN_NOT_FOUND' // no token with the label (unplugged, removed)
  | 'LOGIN_FAILED' // wrong PIN, locked
  | 'TIMEOUT' // no answer within the time budget
  | 'DEVICE_ERROR'; // anything else: the session is discarded
