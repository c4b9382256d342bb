/**
 * Decrypt (xks_proxy_api_spec.md): AES-256-GCM inside the HSM with the HYOK key version that
 * the ciphertextMetadata names. Metadata this proxy did not write, a version the key does not
 * have, an IV of a length format 1 never uses, and any tag/AAD/IV/ciphertext mismatch reported by
 * the HSM are all InvalidCiphertextException.
 */
import { decodeCiphertextMetadata, FORMAT_V1_IV_BYTES, hsmAad } from '../ciphertext-format';
import { XksError } from '../errors';
import { parseDecryptRequest, type DecryptRequest } from '../request-body';
import { rejectIfBlocked, versionForDecrypt } from './key-versions';
import type { KeyContext, KeyOperation } from './operation';

/** Response payload, per the XKS Proxy API spec. */
export interface DecryptResponse {
  readonly plaintext: string;
}

async function enact({ key, keyCrypto }: KeyContext, request: DecryptRequest): Promise<DecryptResponse> {
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
  );
  return { plaintext: plaintext.toString('base64') };
}

export const decrypt: KeyOperation<DecryptRequest> = {
  scope: 'key',
  parse: parseDecryptRequest,
  enact,
};
