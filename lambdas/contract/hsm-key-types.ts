/**
 * The kinds of HSM source keys beyond AES (RSA and EC key pairs, generic secrets for HMAC), and
 * the data of the HSM agent's key-material operations: wrapping a key for import into AWS KMS
 * and computing an HMAC in the HSM. Plain types and constants, no PKCS#11.
 */

/** CKK_AES, CKK_RSA, CKK_EC, CKK_GENERIC_SECRET. */
export type HsmKeyType = 'AES' | 'RSA' | 'EC' | 'GENERIC_SECRET';
export const HSM_KEY_TYPES: readonly HsmKeyType[] = ['AES', 'RSA', 'EC', 'GENERIC_SECRET'];

/** The EC curves a key pair may be generated on (CKA_EC_PARAMS names one by its OID). */
export type EcCurve = 'P-256' | 'P-384' | 'P-521' | 'secp256k1';
export const EC_CURVES: readonly EcCurve[] = ['P-256', 'P-384', 'P-521', 'secp256k1'];

/** The field size of each curve in bits: what an EC key's `sizeBits` reports. */
export const EC_CURVE_BITS: Readonly<Record<EcCurve, number>> = { 'P-256': 256, 'P-384': 384, 'P-521': 521, secp256k1: 256 };

/** The PKCS#11 mechanism that generates each key type. */
export const GENERATION_MECHANISMS = {
  AES: 'CKM_AES_KEY_GEN',
  RSA: 'CKM_RSA_PKCS_KEY_PAIR_GEN',
  EC: 'CKM_EC_KEY_PAIR_GEN',
  GENERIC_SECRET: 'CKM_GENERIC_SECRET_KEY_GEN',
} as const satisfies Record<HsmKeyType, string>;
export type GenerationMechanism = (typeof GENERATION_MECHANISMS)[HsmKeyType];

/** The sizes in bits each sized key type may be generated with (EC keys take a curve instead). */
export const KEY_SIZES: Readonly<Record<Exclude<HsmKeyType, 'EC'>, readonly number[]>> = {
  AES: [256],
  RSA: [2048, 3072, 4096],
  GENERIC_SECRET: [224, 256, 384, 512],
};

/**
 * AWS KMS's wrapping algorithms (GetParametersForImport) the HSM agent implements inside the HSM:
 * RSA-OAEP of the key itself (secret keys), or RSA_AES_KEY_WRAP: an ephemeral AES-256 key made
 * in the HSM wraps the key with AES key wrap with padding (RFC 5649) and is itself wrapped with
 * RSA-OAEP; the result is the wrapped ephemeral key followed by the wrapped key.
 */
export type ImportWrappingAlgorithm = 'RSAES_OAEP_SHA_1' | 'RSAES_OAEP_SHA_256' | 'RSA_AES_KEY_WRAP_SHA_1' | 'RSA_AES_KEY_WRAP_SHA_256';
export const IMPORT_WRAPPING_ALGORITHMS: readonly ImportWrappingAlgorithm[] = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_256'];

export interface WrapForImportRequest {
  /** AWS KMS's wrapping public key (GetParametersForImport's PublicKey): DER SubjectPublicKeyInfo, base64. */
  readonly wrappingPublicKey: string;
  readonly algorithm: ImportWrappingAlgorithm;
}

/** The key wrapped for ImportKeyMaterial's EncryptedKeyMaterial, base64. Only AWS KMS can unwrap it. */
export interface WrappedKeyMaterial {
  readonly encryptedKeyMaterial: string;
}

/** HMAC mechanisms of generic secret keys (CKM_SHA224_HMAC …), named as AWS KMS names its MAC algorithms. */
export type HmacAlgorithm = 'HMAC_SHA_224' | 'HMAC_SHA_256' | 'HMAC_SHA_384' | 'HMAC_SHA_512';
export const HMAC_ALGORITHMS: readonly HmacAlgorithm[] = ['HMAC_SHA_224', 'HMAC_SHA_256', 'HMAC_SHA_384', 'HMAC_SHA_512'];

export interface SignHmacRequest {
  /** The message, base64. */
  readonly message: string;
  readonly algorithm: HmacAlgorithm;
}

/** The MAC the HSM computed, base64. */
export interface HmacResult {
  readonly mac: string;
}
