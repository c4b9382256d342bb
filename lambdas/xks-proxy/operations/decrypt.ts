/**
 * Decrypt (the XKS Proxy API spec): AES-256-GCM inside the HSM with the HYOK key version that
 * the ciphertextMetadata names. Metadata this proxy did not write, a version the key does not
 * have, an IV of a length format 1 never uses, and any tag/AAD/IV/ciphertext mismatch reported by
 * the HSM are all InvalidCiphertextException.
 */
import { decodeCiphertextMetadata, FORMAT_V1_IV_BYTES, hsmAad } from './ciphertext-format';
import { XksError } from '../errors';
import { AAD, DATA, encryptionAlgorithm, invalid, IV_LENGTHS, MAX_CIPHERTEXT_METADATA_BYTES, optionalBytes, requestMetadata, requiredBytes, TAG_BYTES, type JsonObject, type RequestMetadata } from './request-fields';
import { rejectIfBlocked, versionForDecrypt } from './key-versions';
import type { KeyContext, KeyOperation } from './operation';

/** Request payload, per the XKS Proxy API spec. */
export interface DecryptRequest {
  readonly requestMetadata: RequestMetadata & { readonly awsPrincipalArn: string; readonly kmsKeyArn: string };
  readonly ciphertext: Buffer;
  readonly ciphertextMetadata?: Buffer;
  readonly encryptionAlgorithm: 'AES_GCM';
  readonly additionalAuthenticatedData?: Buffer;
  readonly initializationVector: Buffer;
  readonly authenticationTag: Buffer;
}

/** Response payload, per the XKS Proxy API spec. */
export interface DecryptResponse {
  readonly plaintext: string;
}

async function enact({ key, keyCrypto, deadlineAt }: KeyContext, request: DecryptRequest): Promise<DecryptResponse> {
  rejectIfBlocked(key);
  const metadata = decodeCiphertextMetadata(request.ciphertextMetadata);
  if (request.initializationVector.length !== FORMAT_V1_IV_BYTES) {
    throw new XksError('InvalidCiphertextException', 'The initialization vector does not belong to a ciphertext of this proxy');
  }
  const version = versionForDecrypt(key, metadata.keyVersion);
  const plaintext = await keyCrypto.decrypt(
    version.key,
    { iv: request.initializationVector, ciphertext: request.ciphertext, tag: request.authenticationTag },
    // decodeCiphertextMetadata succeeded, so the metadata is present.
    hsmAad(request.additionalAuthenticatedData, request.ciphertextMetadata as Buffer),
    { deadlineAt },
  );
  return { plaintext: plaintext.toString('base64') };
}

export function parseDecryptRequest(body: JsonObject): DecryptRequest {
  const metadata = requestMetadata(body, { awsPrincipalArn: true, kmsKeyArn: true });
  const initializationVector = requiredBytes(body, 'initializationVector', { min: 12, max: 16, maxIs: 'spec' });
  if (!IV_LENGTHS.includes(initializationVector.length)) throw invalid('initializationVector must be 12 or 16 bytes');
  return {
    requestMetadata: metadata as DecryptRequest['requestMetadata'],
    ciphertext: requiredBytes(body, 'ciphertext', DATA),
    ciphertextMetadata: optionalBytes(body, 'ciphertextMetadata', { min: 0, max: MAX_CIPHERTEXT_METADATA_BYTES, maxIs: 'spec' }),
    encryptionAlgorithm: encryptionAlgorithm(body),
    additionalAuthenticatedData: optionalBytes(body, 'additionalAuthenticatedData', AAD),
    initializationVector,
    authenticationTag: requiredBytes(body, 'authenticationTag', { min: TAG_BYTES, max: TAG_BYTES, maxIs: 'spec' }),
  };
}

export const decrypt: KeyOperation<DecryptRequest> = {
  scope: 'key',
  parse: parseDecryptRequest,
  enact,
};
