/** AES-256-GCM as KMS's own layer uses it: 96-bit random IV, 128-bit tag. */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AwsError } from '../aws-error';

export interface GcmParts {
  readonly iv: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

export function gcmEncrypt(key: Buffer, plaintext: Buffer, aad: Buffer): GcmParts {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, ciphertext, tag: cipher.getAuthTag() };
}

/** InvalidCiphertextException when the tag does not verify (wrong context, tampered blob). */
export function gcmDecrypt(key: Buffer, parts: GcmParts, aad: Buffer): Buffer {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, parts.iv);
    decipher.setAAD(aad);
    decipher.setAuthTag(parts.tag);
    return Buffer.concat([decipher.update(parts.ciphertext), decipher.final()]);
  } catch {
    throw new AwsError('InvalidCiphertextException', 'The ciphertext is invalid.');
  }
}

/** iv | ciphertext | tag as one buffer (the inner layer of external-key-store ciphertexts). */
export const packGcm = (parts: GcmParts): Buffer => Buffer.concat([parts.iv, parts.ciphertext, parts.tag]);

export function unpackGcm(packed: Buffer): GcmParts {
  if (packed.length < 28) throw new AwsError('InvalidCiphertextException', 'The ciphertext is invalid.');
  return { iv: packed.subarray(0, 12), ciphertext: packed.subarray(12, packed.length - 16), tag: packed.subarray(packed.length - 16) };
}
