/**
 * The wrapping side of ImportKeyMaterial: the RSA wrapping key pairs GetParametersForImport hands
 * out, which wrapping algorithm may carry which key spec, and the unwrap.
 *
 * - RSAES_OAEP_SHA_1 / _SHA_256: the key material itself is RSA-OAEP encrypted.
 * - RSA_AES_KEY_WRAP_SHA_1 / _SHA_256 (PKCS #11's CKM_RSA_AES_KEY_WRAP): an ephemeral AES key,
 *   RSA-OAEP encrypted with the wrapping key (as long as the modulus), followed by the key
 *   material wrapped with that AES key under AES key wrap with padding (RFC 5649).
 */
import { constants, createDecipheriv, createPrivateKey, generateKeyPair, privateDecrypt } from 'node:crypto';
import { promisify } from 'node:util';
import { AwsError, validationError } from '../aws-error';
import { RSA_SPECS } from './key-spec-crypto';

export const WRAPPING_ALGORITHMS = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_256'] as const;
export const WRAPPING_KEY_SPECS = ['RSA_2048', 'RSA_3072', 'RSA_4096'] as const;
export type WrappingAlgorithm = (typeof WRAPPING_ALGORITHMS)[number];
export type WrappingKeySpec = (typeof WRAPPING_KEY_SPECS)[number];

/** RFC 5649's alternative initial value, which node's `id-aes*-wrap-pad` ciphers take as their IV. */
const KWP_IV = Buffer.from('a65959a6', 'hex');

export interface WrappingKeyPair {
  /** DER SubjectPublicKeyInfo, as GetParametersForImport's PublicKey. */
  readonly publicKeyDer: Buffer;
  /** DER PKCS#8, kept by the stand-in until the import token expires. */
  readonly privateKeyDer: Buffer;
}

const generateRsaKeyPair = promisify(generateKeyPair);

/** A new pair, made off the event loop (an RSA 4096 key takes seconds, and the server keeps serving). */
export async function generateWrappingKeyPair(spec: WrappingKeySpec): Promise<WrappingKeyPair> {
  const { publicKey, privateKey } = await generateRsaKeyPair('rsa', { modulusLength: Number(spec.slice(4)) });
  return {
    publicKeyDer: publicKey.export({ format: 'der', type: 'spki' }),
    privateKeyDer: privateKey.export({ format: 'der', type: 'pkcs8' }),
  };
}

/**
 * GetParametersForImport's checks of the pair of WrappingAlgorithm and WrappingKeySpec against
 * the KMS key: enum values (ValidationException), then what the key's material allows
 * (UnsupportedOperationException): RSA private keys need an RSA_AES algorithm, and RSA-OAEP with
 * a 2048-bit wrapping key cannot carry an ECC_NIST_P521 private key.
 */
export function checkWrappingChoice(keySpec: string, algorithm: unknown, wrappingKeySpec: unknown): { algorithm: WrappingAlgorithm; wrappingKeySpec: WrappingKeySpec } {
  if (algorithm === 'RSAES_PKCS1_V1_5') {
    throw new AwsError('UnsupportedOperationException', 'RSAES_PKCS1_V1_5 wrapping algorithm is no longer supported. Use RSAES_OAEP_SHA_256, RSAES_OAEP_SHA_1, RSA_AES_KEY_WRAP_SHA_256 or RSA_AES_KEY_WRAP_SHA_1.');
  }
  if (typeof algorithm !== 'string' || !(WRAPPING_ALGORITHMS as readonly string[]).includes(algorithm) && algorithm !== 'SM2PKE') {
    throw validationError('WrappingAlgorithm', algorithm, 'Member must satisfy enum value set: [RSAES_PKCS1_V1_5, RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, RSA_AES_KEY_WRAP_SHA_1, RSA_AES_KEY_WRAP_SHA_256, SM2PKE]');
  }
  if (typeof wrappingKeySpec !== 'string' || !(WRAPPING_KEY_SPECS as readonly string[]).includes(wrappingKeySpec) && wrappingKeySpec !== 'SM2') {
    throw validationError('WrappingKeySpec', wrappingKeySpec, 'Member must satisfy enum value set: [RSA_2048, RSA_3072, RSA_4096, SM2]');
  }
  if (algorithm === 'SM2PKE' || wrappingKeySpec === 'SM2') {
    throw new AwsError('UnsupportedOperationException', 'SM2 wrapping keys are supported only in the China Regions.');
  }
  const rsaAes = algorithm.startsWith('RSA_AES_KEY_WRAP');
  if ((RSA_SPECS as readonly string[]).includes(keySpec) && !rsaAes) {
    throw new AwsError('UnsupportedOperationException', `${algorithm} cannot wrap ${keySpec} key material. To import an RSA private key, use RSA_AES_KEY_WRAP_SHA_256 or RSA_AES_KEY_WRAP_SHA_1.`);
  }
  if (keySpec === 'ECC_NIST_P521' && !rsaAes && wrappingKeySpec === 'RSA_2048') {
    throw new AwsError('UnsupportedOperationException', `${algorithm} with an RSA_2048 wrapping key cannot wrap ECC_NIST_P521 key material. Use an RSA_AES wrapping algorithm or a longer wrapping key.`);
  }
  return { algorithm: algorithm as WrappingAlgorithm, wrappingKeySpec: wrappingKeySpec as WrappingKeySpec };
}

/** The key material, or InvalidCiphertextException when the wrapping key cannot unwrap it. */
export function unwrapKeyMaterial(algorithm: WrappingAlgorithm, privateKeyDer: Buffer, encrypted: Buffer): Buffer {
  const oaepHash = algorithm.endsWith('SHA_1') ? 'sha1' : 'sha256';
  const key = { key: privateKeyDer, format: 'der' as const, type: 'pkcs8' as const, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash };
  try {
    if (algorithm.startsWith('RSAES_OAEP')) return privateDecrypt(key, encrypted);
    const modulusBytes = (createPrivateKey({ key: privateKeyDer, format: 'der', type: 'pkcs8' }).asymmetricKeyDetails?.modulusLength ?? 0) / 8;
    const aesKey = privateDecrypt(key, encrypted.subarray(0, modulusBytes));
    const wrapped = encrypted.subarray(modulusBytes);
    // RFC 5649's output is at least two 64-bit blocks.
    if (![16, 24, 32].includes(aesKey.length) || wrapped.length < 16 || wrapped.length % 8 !== 0) throw new Error('not an RSA_AES_KEY_WRAP blob');
    const decipher = createDecipheriv(`id-aes${aesKey.length * 8}-wrap-pad`, aesKey, KWP_IV);
    return Buffer.concat([decipher.update(wrapped), decipher.final()]);
  } catch {
    throw new AwsError('InvalidCiphertextException', 'The key material could not be unwrapped with the wrapping key of this import token and its wrapping algorithm.');
  }
}
