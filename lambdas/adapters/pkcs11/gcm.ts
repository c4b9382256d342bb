/**
 * AES-256-GCM with a 128-bit tag inside the HSM. Who makes the 96-bit IV is the partition's
 * GcmIvConvention (contract/hsm.ts: by default Luna appends its own after the tag, CloudHSM writes
 * its own into the IV buffer, SoftHSM2 takes 12 bytes from its RNG). Decryption is the same
 * everywhere: ciphertext ‖ tag in, the IV passed in.
 * C_Encrypt and C_Decrypt run where the HSM type's CipherCallMode says (config.ts).
 */
import * as pkcs11js from './pkcs11js';
import { HsmError, type GcmCiphertext } from '../../core/ports/hsm';
import type { GcmIvConvention, HsmType } from '../../contract/hsm';
import type { CipherCallMode } from './config';
import type { SessionLease } from './session-lease';

/** What the GCM calls need to know about the partition's HSM. */
export interface GcmDevice {
  readonly hsmType: HsmType;
  readonly cipherCallMode: CipherCallMode;
  readonly ivConvention: GcmIvConvention;
}

export const GCM_IV_BYTES = 12;
export const GCM_TAG_BYTES = 16;

function gcmMechanism(iv: Buffer, aad: Buffer): pkcs11js.Mechanism {
  const parameter: pkcs11js.AesGCM = {
    // The PKCS#11 2.40 struct (with ulIvBits), which SoftHSM2, Luna and CloudHSM read.
    type: pkcs11js.CK_PARAMS_AES_GCM_v240,
    iv,
    ivBits: iv.length * 8,
    aad,
    tagBits: GCM_TAG_BYTES * 8,
  };
  return { mechanism: pkcs11js.CKM_AES_GCM, parameter };
}

/** C_Encrypt or C_Decrypt of `input` into `output`, in line or on a worker thread. */
async function cipherCall(
  lease: SessionLease,
  mode: CipherCallMode,
  pkcs11Function: 'C_Encrypt' | 'C_Decrypt',
  input: Buffer,
  output: Buffer,
): Promise<Buffer> {
  const { pkcs11, session } = lease;
  if (mode === 'inline') return lease.call(pkcs11Function, () => pkcs11[pkcs11Function](session, input, output));
  const onWorkerThread = pkcs11Function === 'C_Encrypt' ? pkcs11.C_EncryptAsync : pkcs11.C_DecryptAsync;
  return lease.callAsync(pkcs11Function, () => onWorkerThread.call(pkcs11, session, input, output));
}

export async function gcmEncrypt(
  lease: SessionLease,
  { hsmType, cipherCallMode, ivConvention }: GcmDevice,
  key: pkcs11js.Handle,
  plaintext: Buffer,
  aad: Buffer,
): Promise<GcmCiphertext> {
  const { pkcs11, session } = lease;
  const ivAppended = ivConvention === 'hsm-after-tag';
  const iv =
    ivConvention === 'caller-hsm-rng'
      ? lease.call('C_GenerateRandom', () => pkcs11.C_GenerateRandom(session, Buffer.alloc(GCM_IV_BYTES)))
      : ivAppended
        ? emptyWithMemory()
        : Buffer.alloc(GCM_IV_BYTES);
  lease.call('C_EncryptInit', () => pkcs11.C_EncryptInit(session, gcmMechanism(iv, aad), key));
  const expectedLength = plaintext.length + GCM_TAG_BYTES + (ivAppended ? GCM_IV_BYTES : 0);
  const input = plaintext.length > 0 ? plaintext : emptyWithMemory();
  const output = await cipherCall(lease, cipherCallMode, 'C_Encrypt', input, Buffer.alloc(expectedLength));
  if (output.length !== expectedLength) {
    throw new HsmError(
      'DEVICE_ERROR',
      undefined,
      `C_Encrypt returned ${output.length} bytes where the IV convention ${ivConvention} expects ${expectedLength}; check the partition's HSM type and gcm_iv_convention`,
    );
  }
  const tagEnd = plaintext.length + GCM_TAG_BYTES;
  const result: GcmCiphertext = {
    ciphertext: output.subarray(0, plaintext.length),
    tag: output.subarray(plaintext.length, tagEnd),
    iv: ivAppended ? output.subarray(tagEnd) : iv,
  };
  if (result.iv.every((byte) => byte === 0)) {
    // The HSM used the zero placeholder (or its RNG failed): never hand out such a ciphertext.
    throw new HsmError('DEVICE_ERROR', undefined, `the ${hsmType} HSM did not generate an IV (convention ${ivConvention}); check the partition's gcm_iv_convention`);
  }
  return result;
}

/**
 * A zero-length Buffer with memory behind it. An empty Buffer may have none, which pkcs11js passes
 * on as a NULL pointer (CKR_ARGUMENTS_BAD for data); a zero-length view of real memory is valid.
 */
function emptyWithMemory(): Buffer {
  return Buffer.alloc(1).subarray(0, 0);
}

export async function gcmDecrypt(
  lease: SessionLease,
  { cipherCallMode }: GcmDevice,
  key: pkcs11js.Handle,
  input: GcmCiphertext,
  aad: Buffer,
): Promise<Buffer> {
  if (input.tag.length !== GCM_TAG_BYTES || input.iv.length === 0) {
    throw new HsmError('DECRYPT_FAILED', undefined, `the tag must be ${GCM_TAG_BYTES} bytes and the IV not empty`);
  }
  const { pkcs11, session } = lease;
  lease.call('C_DecryptInit', () => pkcs11.C_DecryptInit(session, gcmMechanism(input.iv, aad), key));
  const sealed = Buffer.concat([input.ciphertext, input.tag]);
  return cipherCall(lease, cipherCallMode, 'C_Decrypt', sealed, Buffer.alloc(sealed.length));
}
