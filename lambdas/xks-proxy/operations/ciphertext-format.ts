/**
 * How the proxy lays out its ciphertexts (the XKS Proxy API spec, Encrypt, and Appendix C).
 *
 * `ciphertextMetadata` (5 bytes, well under the spec's 20) = format version ‖ u32be key version.
 * The key version picks the HYOK key version (and so the HSM source key) on decrypt, so that a
 * rotation leaves every older ciphertext decryptable. The format version names the rules below,
 * so that a future change of the AAD layout can still decrypt what this format produced (the
 * spec's own advice).
 *
 * Format 1: AES-256-GCM, 12-byte IV, 16-byte tag, and the HSM AAD
 *   u16be(len AAD) ‖ AAD ‖ u8(len ciphertextMetadata) ‖ ciphertextMetadata
 * exactly as the spec says (not a hash of the AAD, as AWS's reference proxy does).
 */
import { createHash } from 'node:crypto';
import { XksError } from '../errors';

export const CIPHERTEXT_FORMAT_V1 = 1;
const METADATA_V1_LENGTH = 5;
export const FORMAT_V1_IV_BYTES = 12;
const MAX_KEY_VERSION = 0xffff_ffff;

export interface CiphertextMetadata {
  readonly format: typeof CIPHERTEXT_FORMAT_V1;
  readonly keyVersion: number;
}

export function encodeCiphertextMetadata(keyVersion: number): Buffer {
  if (!Number.isInteger(keyVersion) || keyVersion < 0 || keyVersion > MAX_KEY_VERSION) {
    throw new RangeError(`key version ${keyVersion} does not fit the ciphertext metadata`);
  }
  const metadata = Buffer.alloc(METADATA_V1_LENGTH);
  metadata.writeUInt8(CIPHERTEXT_FORMAT_V1, 0);
  metadata.writeUInt32BE(keyVersion, 1);
  return metadata;
}

function notOurs(reason: string): XksError {
  return new XksError('InvalidCiphertextException', 'The ciphertextMetadata does not belong to a ciphertext of this proxy', {
    cause: new Error(reason),
  });
}

/** Metadata that this proxy did not produce cannot name a key version: InvalidCiphertextException. */
export function decodeCiphertextMetadata(metadata: Buffer | undefined): CiphertextMetadata {
  if (metadata === undefined || metadata.length === 0) throw notOurs('ciphertextMetadata is missing');
  if (metadata[0] !== CIPHERTEXT_FORMAT_V1) throw notOurs(`unknown ciphertext format ${metadata[0]}`);
  if (metadata.length !== METADATA_V1_LENGTH) throw notOurs('ciphertextMetadata has the wrong length for format 1');
  return { format: CIPHERTEXT_FORMAT_V1, keyVersion: metadata.readUInt32BE(1) };
}

/** The AAD handed to the HSM (format 1): both lengths included, as the spec requires. */
export function hsmAad(aad: Buffer | undefined, ciphertextMetadata: Buffer): Buffer {
  const aadLength = aad?.length ?? 0;
  if (aadLength > 0xffff) throw new RangeError('AAD longer than 65,535 bytes cannot be length-prefixed');
  if (ciphertextMetadata.length > 0xff) throw new RangeError('ciphertextMetadata longer than 255 bytes');
  const out = Buffer.allocUnsafe(2 + aadLength + 1 + ciphertextMetadata.length);
  out.writeUInt16BE(aadLength, 0);
  if (aad) aad.copy(out, 2);
  out.writeUInt8(ciphertextMetadata.length, 2 + aadLength);
  ciphertextMetadata.copy(out, 3 + aadLength);
  return out;
}

export interface CdivInput {
  readonly additionalAuthenticatedData?: Buffer;
  readonly ciphertextMetadata?: Buffer;
  readonly initializationVector: Buffer;
  readonly ciphertext: Buffer;
  readonly authenticationTag: Buffer;
}

/** Appendix C: Base64(SHA-256(AAD ‖ ciphertextMetadata ‖ IV ‖ ciphertext ‖ tag)), absent fields empty. */
export function ciphertextDataIntegrityValue(input: CdivInput): string {
  const hash = createHash('sha256');
  if (input.additionalAuthenticatedData) hash.update(input.additionalAuthenticatedData);
  if (input.ciphertextMetadata) hash.update(input.ciphertextMetadata);
  return hash.update(input.initializationVector).update(input.ciphertext).update(input.authenticationTag).digest('base64');
}
