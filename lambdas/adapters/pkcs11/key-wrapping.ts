/**
 * Key material leaving the HSM only wrapped for AWS KMS (BYOK upload, README "BYOK upload"), and
 * an HMAC computed in the HSM.
 *
 * Wrapping runs entirely inside the HSM: AWS KMS's wrapping public key is created in the session
 * as a session object (CKA_TOKEN false) that may wrap; for RSA_AES_KEY_WRAP_* an ephemeral AES-256
 * session key is generated in the HSM, wraps the target with CKM_AES_KEY_WRAP_PAD (RFC 5649) and
 * is itself wrapped with CKM_RSA_PKCS_OAEP (the HSMs at hand have no CKM_RSA_AES_KEY_WRAP, so it
 * is composed from the two); both session objects are destroyed before the call returns. A
 * private key wrapped this way is its PKCS#8 PrivateKeyInfo, which is what AWS KMS imports.
 */
import { createPublicKey } from 'node:crypto';
import * as pkcs11js from './pkcs11js';
import { HsmError } from '../../core/ports/hsm';
import type { HmacAlgorithm, ImportWrappingAlgorithm, SignHmacRequest, WrapForImportRequest, WrappedKeyMaterial, HmacResult } from '../../contract/hsm-key-types';
import type { SessionLease } from './session-lease';
import { findKeyObject, type KeyObject } from './typed-key-objects';

/** Room for the largest wrapped key: an RSA 4096 PKCS#8 key (~2.4 KB) after AES key wrap. */
const WRAPPED_KEY_BUFFER_BYTES = 8192;
/** Room for an RSA-OAEP block of the largest wrapping key AWS KMS offers (RSA 4096). */
const OAEP_BUFFER_BYTES = 1024;

const HMAC_MECHANISMS: Readonly<Record<HmacAlgorithm, number>> = {
  HMAC_SHA_224: pkcs11js.CKM_SHA224_HMAC,
  HMAC_SHA_256: pkcs11js.CKM_SHA256_HMAC,
  HMAC_SHA_384: pkcs11js.CKM_SHA384_HMAC,
  HMAC_SHA_512: pkcs11js.CKM_SHA512_HMAC,
};

/** CKM_RSA_PKCS_OAEP with the algorithm's hash for both the label digest and MGF1 (as AWS KMS uses it). */
function oaepMechanism(algorithm: ImportWrappingAlgorithm): pkcs11js.Mechanism {
  const sha256 = algorithm.endsWith('SHA_256');
  return {
    mechanism: pkcs11js.CKM_RSA_PKCS_OAEP,
    parameter: {
      type: pkcs11js.CK_PARAMS_RSA_OAEP,
      hashAlg: sha256 ? pkcs11js.CKM_SHA256 : pkcs11js.CKM_SHA_1,
      mgf: sha256 ? pkcs11js.CKG_MGF1_SHA256 : pkcs11js.CKG_MGF1_SHA1,
      source: 1, // CKZ_DATA_SPECIFIED, with no label
    } as pkcs11js.RsaOAEP,
  };
}

/** The key with this CKA_ID, or KEY_NOT_FOUND. */
async function requireKey(lease: SessionLease, objectId: string): Promise<KeyObject> {
  const key = await findKeyObject(lease, objectId);
  if (key === undefined) throw new HsmError('KEY_NOT_FOUND', undefined, `no key with CKA_ID ${objectId} in the partition`);
  return key;
}

/** Wraps the key with AWS KMS's public key inside the HSM, as `request.algorithm` says. */
export async function wrapKeyForImport(lease: SessionLease, objectId: string, request: WrapForImportRequest): Promise<WrappedKeyMaterial> {
  const target = await requireKey(lease, objectId);
  const directOaep = request.algorithm.startsWith('RSAES_OAEP');
  if (directOaep && target.objectClass !== 'secret') {
    throw new HsmError('KEY_FUNCTION_NOT_PERMITTED', undefined, `${request.algorithm} wraps secret keys only; a private key needs RSA_AES_KEY_WRAP_*`);
  }
  const { pkcs11, session } = lease;
  const created: pkcs11js.Handle[] = [];
  try {
    const wrappingKey = await lease.sessionCall('C_CreateObject', session, wrappingKeyTemplate(request.wrappingPublicKey));
    created.push(wrappingKey);
    const oaep = oaepMechanism(request.algorithm);
    if (directOaep) {
      const wrapped = await lease.callAsync('C_WrapKey', () => pkcs11.C_WrapKeyAsync(session, oaep, wrappingKey, target.handle, Buffer.alloc(OAEP_BUFFER_BYTES)));
      return { encryptedKeyMaterial: wrapped.toString('base64') };
    }
    const ephemeral = await lease.callAsync('C_GenerateKey', () =>
      pkcs11.C_GenerateKeyAsync(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
        { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
        { type: pkcs11js.CKA_TOKEN, value: false },
        { type: pkcs11js.CKA_WRAP, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: true },
      ]),
    );
    created.push(ephemeral);
    const wrappedTarget = await lease.callAsync('C_WrapKey', () =>
      pkcs11.C_WrapKeyAsync(session, { mechanism: pkcs11js.CKM_AES_KEY_WRAP_PAD }, ephemeral, target.handle, Buffer.alloc(WRAPPED_KEY_BUFFER_BYTES)),
    );
    const wrappedEphemeral = await lease.callAsync('C_WrapKey', () => pkcs11.C_WrapKeyAsync(session, oaep, wrappingKey, ephemeral, Buffer.alloc(OAEP_BUFFER_BYTES)));
    return { encryptedKeyMaterial: Buffer.concat([wrappedEphemeral, wrappedTarget]).toString('base64') };
  } finally {
    for (const handle of created) {
      try {
        await lease.sessionCall('C_DestroyObject', session, handle);
      } catch {
        // A session object also vanishes when the session closes (as after a call that timed out,
        // whose session is closed once the HSM answers); the wrap's own outcome is what counts.
      }
    }
  }
}

/** AWS KMS's wrapping public key as a session object that may wrap and nothing else. */
function wrappingKeyTemplate(spkiBase64: string): pkcs11js.Template {
  let jwk;
  try {
    jwk = createPublicKey({ key: Buffer.from(spkiBase64, 'base64'), format: 'der', type: 'spki' }).export({ format: 'jwk' });
  } catch (error) {
    throw new HsmError('DEVICE_ERROR', undefined, 'the wrapping public key is not a DER SubjectPublicKeyInfo', { cause: error });
  }
  if (jwk.kty !== 'RSA' || jwk.n === undefined || jwk.e === undefined) throw new HsmError('DEVICE_ERROR', undefined, 'the wrapping public key is not an RSA key');
  return [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_RSA },
    { type: pkcs11js.CKA_TOKEN, value: false },
    { type: pkcs11js.CKA_WRAP, value: true },
    { type: pkcs11js.CKA_ENCRYPT, value: false },
    { type: pkcs11js.CKA_VERIFY, value: false },
    { type: pkcs11js.CKA_MODULUS, value: Buffer.from(jwk.n, 'base64url') },
    { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from(jwk.e, 'base64url') },
  ];
}

/** The HMAC of the message with a generic secret key, computed in the HSM (C_Sign). */
export async function signHmac(lease: SessionLease, objectId: string, request: SignHmacRequest): Promise<HmacResult> {
  const key = await requireKey(lease, objectId);
  if (key.objectClass !== 'secret') throw new HsmError('KEY_FUNCTION_NOT_PERMITTED', undefined, `the key with CKA_ID ${objectId} is not a secret key`);
  const { pkcs11, session } = lease;
  await lease.sessionCall('C_SignInit', session, { mechanism: HMAC_MECHANISMS[request.algorithm] }, key.handle);
  const mac = await lease.callAsync('C_Sign', () => pkcs11.C_SignAsync(session, Buffer.from(request.message, 'base64'), Buffer.alloc(64)));
  return { mac: mac.toString('base64') };
}
