/**
 * The HSM-facing ports: what the control plane asks of the HSM agent, and what the XKS proxy asks
 * of the PKCS#11 key source. Pure types: no pkcs11js here (adapters/pkcs11 implements them). The
 * data they exchange (partition connections, key references, attributes) is in contract/hsm.ts.
 */
import type {
  GenerateKeyRequest,
  HsmFailureReason,
  HsmKeyInfo,
  HsmKeyRef,
  PartitionConnection,
  PartitionTestResult,
} from '../../contract/hsm';
import type { HmacResult, SignHmacRequest, WrapForImportRequest, WrappedKeyMaterial } from '../../contract/hsm-key-types';
import { recordErrorKinds } from '../errors';

/**
 * The HSM agent (README, "Architecture"): the only way the control plane reaches PKCS#11.
 * On AWS a Lambda invoke of the agent function; locally the same service in-process.
 */
export interface HsmAgent {
  testPartition(partition: PartitionConnection): Promise<PartitionTestResult>;
  generateKey(partition: PartitionConnection, request: GenerateKeyRequest): Promise<HsmKeyInfo>;
  describeKey(key: HsmKeyRef): Promise<HsmKeyInfo | undefined>;
  destroyKey(key: HsmKeyRef): Promise<void>;
  /** Deep health check: AES-GCM encrypt+decrypt with the key inside the HSM. */
  checkKey(key: HsmKeyRef): Promise<PartitionTestResult>;
  /** The key wrapped inside the HSM with AWS KMS's wrapping public key (BYOK upload); never in the clear. */
  wrapKeyForImport(key: HsmKeyRef, request: WrapForImportRequest): Promise<WrappedKeyMaterial>;
  /** An HMAC computed in the HSM with a generic secret key. */
  signHmac(key: HsmKeyRef, request: SignHmacRequest): Promise<HmacResult>;
  /** AES-256-GCM inside the HSM, for key stores' health-check ciphertexts (never KMS data). */
  encrypt(key: HsmKeyRef, plaintext: Buffer, aad: Buffer): Promise<GcmCiphertext>;
  /** Fails with reason DECRYPT_FAILED when the tag does not verify (another key, altered bytes). */
  decrypt(key: HsmKeyRef, input: GcmCiphertext, aad: Buffer): Promise<Buffer>;
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
  encrypt(key: HsmKeyRef, plaintext: Buffer, aad: Buffer, options?: KeyCryptoCallOptions): Promise<GcmCiphertext>;
  decrypt(key: HsmKeyRef, input: GcmCiphertext, aad: Buffer, options?: KeyCryptoCallOptions): Promise<Buffer>;
  /** The key's attributes, as read from the HSM (cached by the adapter with its handle). */
  describe(key: HsmKeyRef, options?: KeyCryptoCallOptions): Promise<HsmKeyInfo | undefined>;
}

export interface KeyCryptoCallOptions {
  /**
   * When the caller's request must be answered (epoch ms): the call, with every step it takes
   * (a free session, login, key lookup, a retry), fails with reason TIMEOUT rather than run past
   * it. @default - the adapter's own per-call budget
   */
  readonly deadlineAt?: number;
}

/** An HSM failure, told apart with `isError(error, HsmError)` like the management API's errors (core/errors.ts). */
export class HsmError extends Error {
  static readonly kind: string = 'HsmError';
  constructor(
    readonly reason: HsmFailureReason,
    /** The PKCS#11 return code name when there is one, e.g. `CKR_DEVICE_ERROR`. */
    readonly returnCode: string | undefined,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'HsmError';
    recordErrorKinds(this, new.target);
  }
}
