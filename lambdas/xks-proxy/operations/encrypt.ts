/**
 * Encrypt (the XKS Proxy API spec): AES-256-GCM inside the HSM with the HYOK key's current
 * version. The ciphertextMetadata names that version (ciphertext-format.ts) and is bound into the
 * tag through the HSM AAD. When KMS asks for a CDIV, it is computed from the response fields
 * first and then confirmed by decrypting the fresh ciphertext (Appendix C's order), so a key
 * that may only encrypt answers InvalidKeyUsageException instead of returning a ciphertext
 * nobody could decrypt.
 */
import { timingSafeEqual } from 'node:crypto';
import { HsmError, type GcmCiphertext, type KeyCrypto } from '../../core/ports/hsm';
import type { HsmKeyRef } from '../../contract/hsm';
import { ciphertextDataIntegrityValue, encodeCiphertextMetadata, FORMAT_V1_IV_BYTES, hsmAad } from './ciphertext-format';
import { XksError } from '../errors';
import {
  AAD,
  DATA,
  encryptionAlgorithm,
  invalid,
  optionalBytes,
  optionalString,
  requestMetadata,
  requiredBytes,
  TAG_BYTES,
  type JsonObject,
  type RequestMetadata,
} from './request-fields';
import { currentVersion, rejectIfBlocked } from './key-versions';
import type { KeyContext, KeyOperation } from './operation';
import { isError } from '../../core/errors';

/** Request payload, per the XKS Proxy API spec. */
export interface EncryptRequest {
  readonly requestMetadata: RequestMetadata & { readonly awsPrincipalArn: string; readonly kmsKeyArn: string };
  readonly plaintext: Buffer;
  readonly encryptionAlgorithm: 'AES_GCM';
  readonly additionalAuthenticatedData?: Buffer;
  readonly ciphertextDataIntegrityValueAlgorithm?: 'SHA_256';
}

/** Response payload, per the XKS Proxy API spec. */
export interface EncryptResponse {
  readonly ciphertext: string;
  readonly ciphertextMetadata: string;
  readonly initializationVector: string;
  readonly authenticationTag: string;
  readonly ciphertextDataIntegrityValue?: string;
}

/** Appendix C, step 4: on a failed check, encrypt again (once) before giving up. */
const CDIV_ATTEMPTS = 2;

async function sealWithHsm(keyCrypto: KeyCrypto, key: HsmKeyRef, plaintext: Buffer, aad: Buffer, deadlineAt: number): Promise<GcmCiphertext> {
  const sealed = await keyCrypto.encrypt(key, plaintext, aad, { deadlineAt });
  if (sealed.iv.length !== FORMAT_V1_IV_BYTES || sealed.tag.length !== TAG_BYTES || sealed.ciphertext.length !== plaintext.length) {
    throw new HsmError('DEVICE_ERROR', undefined, 'the HSM returned a GCM result of unexpected size');
  }
  return sealed;
}

function responseOf(sealed: GcmCiphertext, metadata: Buffer): EncryptResponse {
  return {
    ciphertext: sealed.ciphertext.toString('base64'),
    ciphertextMetadata: metadata.toString('base64'),
    initializationVector: sealed.iv.toString('base64'),
    authenticationTag: sealed.tag.toString('base64'),
  };
}

/** Decrypts what was just sealed; false when it does not give the plaintext back. */
async function opensAgain(keyCrypto: KeyCrypto, key: HsmKeyRef, sealed: GcmCiphertext, aad: Buffer, plaintext: Buffer, deadlineAt: number): Promise<boolean> {
  try {
    const opened = await keyCrypto.decrypt(key, sealed, aad, { deadlineAt });
    return opened.length === plaintext.length && timingSafeEqual(opened, plaintext);
  } catch (error) {
    if (isError(error, HsmError) && error.reason === 'DECRYPT_FAILED') return false;
    throw error; // KEY_FUNCTION_NOT_PERMITTED → InvalidKeyUsageException, device failures → InternalException
  }
}

async function enact({ key, keyCrypto, deadlineAt }: KeyContext, request: EncryptRequest): Promise<EncryptResponse> {
  rejectIfBlocked(key);
  const version = currentVersion(key);
  const metadata = encodeCiphertextMetadata(version.version);
  const aad = hsmAad(request.additionalAuthenticatedData, metadata);
  if (request.ciphertextDataIntegrityValueAlgorithm === undefined) {
    return responseOf(await sealWithHsm(keyCrypto, version.key, request.plaintext, aad, deadlineAt), metadata);
  }
  for (let attempt = 1; attempt <= CDIV_ATTEMPTS; attempt += 1) {
    const sealed = await sealWithHsm(keyCrypto, version.key, request.plaintext, aad, deadlineAt);
    // The response strings are fixed before the CDIV is computed, and the CDIV before the check
    // decrypt: a corruption after any step is caught by the next one (Appendix C).
    const response = responseOf(sealed, metadata);
    const cdiv = ciphertextDataIntegrityValue({
      additionalAuthenticatedData: request.additionalAuthenticatedData,
      ciphertextMetadata: metadata,
      initializationVector: sealed.iv,
      ciphertext: sealed.ciphertext,
      authenticationTag: sealed.tag,
    });
    if (await opensAgain(keyCrypto, version.key, sealed, aad, request.plaintext, deadlineAt)) {
      return { ...response, ciphertextDataIntegrityValue: cdiv };
    }
  }
  throw new XksError('InternalException', 'The ciphertext produced by the external key manager did not decrypt', {
    cause: new Error(`CDIV check failed ${CDIV_ATTEMPTS} times`),
  });
}

export function parseEncryptRequest(body: JsonObject): EncryptRequest {
  const metadata = requestMetadata(body, { awsPrincipalArn: true, kmsKeyArn: true });
  const cdivAlgorithm = optionalString(body, 'ciphertextDataIntegrityValueAlgorithm', '');
  if (cdivAlgorithm !== undefined && cdivAlgorithm !== 'SHA_256') throw invalid('ciphertextDataIntegrityValueAlgorithm must be SHA_256');
  return {
    requestMetadata: metadata as EncryptRequest['requestMetadata'],
    plaintext: requiredBytes(body, 'plaintext', DATA),
    encryptionAlgorithm: encryptionAlgorithm(body),
    additionalAuthenticatedData: optionalBytes(body, 'additionalAuthenticatedData', AAD),
    ciphertextDataIntegrityValueAlgorithm: cdivAlgorithm,
  };
}

export const encrypt: KeyOperation<EncryptRequest> = {
  scope: 'key',
  parse: parseEncryptRequest,
  enact,
};
