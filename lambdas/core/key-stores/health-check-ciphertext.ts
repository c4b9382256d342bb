/**
 * A key store's `health_check_ciphertext`: the store's id encrypted by its health-check key
 * inside the HSM when that key is set (create, or an update that changes it). A later deep health
 * check decrypts it again, which proves that the partition still holds the very key that was set,
 * not merely some key under the same CKA_ID.
 *
 * Format: Base64 of IV (12 bytes) ‖ ciphertext ‖ GCM tag (16 bytes); the AAD names the purpose and
 * the key's CKA_ID, so the bytes open for this check and this key only. A store id (a UUID, 36
 * characters) gives 64 bytes, the length the seeds' examples show.
 */
import { HsmError, type GcmCiphertext, type HsmAgent } from '../ports/hsm';
import type { HsmKeyRef, PartitionTestResult } from '../../contract/hsm';
import { isError } from '../errors';

/** What encrypts and decrypts inside the HSM: the HSM agent, or the proxy's KeyCrypto. */
export type HsmGcm = Pick<HsmAgent, 'encrypt' | 'decrypt'>;

const IV_BYTES = 12;
const TAG_BYTES = 16;

const aadFor = (key: HsmKeyRef): Buffer => Buffer.from(`key store health check with CKA_ID ${key.objectId}`);

export async function sealHealthCheckCiphertext(hsm: HsmGcm, key: HsmKeyRef, keyStoreId: string): Promise<string> {
  const sealed = await hsm.encrypt(key, Buffer.from(keyStoreId), aadFor(key));
  return Buffer.concat([sealed.iv, sealed.ciphertext, sealed.tag]).toString('base64');
}

/**
 * Decrypts the store's ciphertext with its health-check key: ready when it opens to the store's id.
 * A tag that does not verify (another key under the CKA_ID, altered bytes) is "not ready"; other
 * HSM failures are thrown, as the other HSM calls of a check throw them.
 */
export async function openHealthCheckCiphertext(hsm: HsmGcm, key: HsmKeyRef, keyStoreId: string, ciphertext: string): Promise<PartitionTestResult> {
  const sealed = splitSealed(Buffer.from(ciphertext, 'base64'));
  if (sealed === undefined) return { ready: false, message: 'the stored health-check ciphertext is too short' };
  try {
    const opened = await hsm.decrypt(key, sealed, aadFor(key));
    return opened.equals(Buffer.from(keyStoreId))
      ? { ready: true, message: 'ready' }
      : { ready: false, message: 'DECRYPT_FAILED: the health-check ciphertext opened to other bytes' };
  } catch (error) {
    if (isError(error, HsmError) && error.reason === 'DECRYPT_FAILED') {
      return { ready: false, message: 'DECRYPT_FAILED: the health-check key no longer decrypts the ciphertext it made' };
    }
    throw error;
  }
}

function splitSealed(bytes: Buffer): GcmCiphertext | undefined {
  if (bytes.length < IV_BYTES + TAG_BYTES) return undefined;
  return {
    iv: bytes.subarray(0, IV_BYTES),
    ciphertext: bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES),
    tag: bytes.subarray(bytes.length - TAG_BYTES),
  };
}
