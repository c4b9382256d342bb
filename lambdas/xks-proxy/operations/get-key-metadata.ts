/**
 * GetKeyMetadata (the XKS Proxy API spec): the key's spec, usage and status, read from the HSM key
 * that the HYOK key's current version points at. `keyUsage` is exactly what the HSM key allows,
 * so a decrypt-only (retired) key says so; a blocked HYOK key is DISABLED.
 */
import type { KeyAttributeName } from '../../contract/hsm';
import { XksError } from '../errors';
import { requestMetadata, type JsonObject, type RequestMetadata } from './request-fields';
import { currentVersion } from './key-versions';
import type { KeyContext, KeyOperation } from './operation';

/** Request payload, per the XKS Proxy API spec. */
export interface GetKeyMetadataRequest {
  readonly requestMetadata: RequestMetadata & { readonly awsPrincipalArn: string };
}

/** Response payload, per the XKS Proxy API spec. */
export interface GetKeyMetadataResponse {
  readonly keySpec: string;
  readonly keyUsage: readonly string[];
  readonly keyStatus: 'ENABLED' | 'DISABLED';
}

/** ENCRYPT and DECRYPT first (what KMS looks for), then the other PKCS#11 usages; never more than ten. */
const USAGES: readonly (readonly [KeyAttributeName, string])[] = [
  ['CKA_ENCRYPT', 'ENCRYPT'],
  ['CKA_DECRYPT', 'DECRYPT'],
  ['CKA_WRAP', 'WRAP'],
  ['CKA_UNWRAP', 'UNWRAP'],
  ['CKA_SIGN', 'SIGN'],
  ['CKA_VERIFY', 'VERIFY'],
  ['CKA_DERIVE', 'DERIVE'],
];

async function enact({ key, keyCrypto, deadlineAt }: KeyContext): Promise<GetKeyMetadataResponse> {
  const info = await keyCrypto.describe(currentVersion(key).key, { deadlineAt });
  if (!info) throw new XksError('KeyNotFoundException', 'The external key was not found in the external key manager');
  return {
    // KMS accepts only AES_256; anything else is reported as what it is, so CreateKey refuses it.
    keySpec: info.keyType === 'AES' ? `AES_${info.sizeBits}` : 'UNSUPPORTED',
    keyUsage: USAGES.filter(([attribute]) => info.attributes[attribute]).map(([, usage]) => usage),
    keyStatus: key.blocked ? 'DISABLED' : 'ENABLED',
  };
}

export function parseGetKeyMetadataRequest(body: JsonObject): GetKeyMetadataRequest {
  const metadata = requestMetadata(body, { awsPrincipalArn: true, kmsKeyArn: false });
  return { requestMetadata: metadata as GetKeyMetadataRequest['requestMetadata'] };
}

export const getKeyMetadata: KeyOperation<GetKeyMetadataRequest> = {
  scope: 'key',
  parse: parseGetKeyMetadataRequest,
  enact,
};
