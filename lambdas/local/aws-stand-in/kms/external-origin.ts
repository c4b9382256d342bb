/**
 * Origin EXTERNAL: a key created without material (PendingImport) that works once material is
 * imported (import-operations.ts). The imported material sits in the key record as
 * `{kind: 'imported', secret}` (base64); symmetric keys encrypt with it (AES-256-GCM), asymmetric
 * and HMAC keys sign and MAC with it (asymmetric-operations.ts).
 *
 * Material that expires (ExpirationModel KEY_MATERIAL_EXPIRES) is deleted when its ValidTo has
 * passed, the next time the key is used or its material is managed (nothing here runs a timer).
 */
import { AwsError, invalidKeyState } from '../aws-error';
import type { OperationContext } from '../operation-registry';
import { gcmDecrypt, gcmEncrypt, packGcm, unpackGcm } from './aes-gcm';
import { keysOf, type KeyMaterial, type KmsKeyRecord } from './key-record';
import type { KeyOriginProvider } from './key-origins';
import { MATERIAL_KEY_SPECS } from './key-spec-crypto';

export const IMPORTED_MATERIAL = 'imported';

export function importedMaterial(bytes: Buffer): KeyMaterial {
  return { kind: IMPORTED_MATERIAL, secret: bytes.toString('base64') };
}

/**
 * The key with expired imported material removed (PendingImport), written back when that
 * happened; other keys unchanged.
 */
export function withExpiredMaterialDeleted(context: OperationContext, key: KmsKeyRecord): KmsKeyRecord {
  if (key.origin !== 'EXTERNAL' || key.expirationModel !== 'KEY_MATERIAL_EXPIRES' || key.validTo === undefined || key.material === undefined) return key;
  if (key.validTo * 1000 > context.runtime.now().getTime()) return key;
  const expired: KmsKeyRecord = { ...key, material: undefined, keyState: key.keyState === 'PendingDeletion' ? 'PendingDeletion' : 'PendingImport', expirationModel: undefined, validTo: undefined };
  keysOf(context.state).put(key.keyId, expired);
  return expired;
}

/**
 * The key's material bytes (imported, or generated for origin AWS_KMS: both keep them in
 * `material.secret`); KMSInvalidStateException when the key has none.
 */
export function materialBytes(context: OperationContext, key: KmsKeyRecord): Buffer {
  const current = withExpiredMaterialDeleted(context, key);
  const encoded = current.material?.secret;
  if (encoded === undefined) throw invalidKeyState(`${key.arn} is pending import.`);
  return Buffer.from(encoded, 'base64');
}

export const externalOrigin: KeyOriginProvider = {
  origin: 'EXTERNAL',
  keySpecs: MATERIAL_KEY_SPECS,

  async create(request) {
    if (request.customKeyStoreId !== undefined) {
      throw new AwsError('UnsupportedOperationException', 'You cannot create a KMS key with imported key material in a custom key store.');
    }
    return { keyState: 'PendingImport' };
  },

  async encrypt({ key, aad, context }, plaintext) {
    return [packGcm(gcmEncrypt(materialBytes(context, key), plaintext, aad))];
  },

  async decrypt({ key, aad, context }, parts) {
    const material = materialBytes(context, key);
    if (parts.length !== 1) throw new AwsError('InvalidCiphertextException', 'The ciphertext is invalid.');
    // Another material (re-imported into a new key) or a changed ciphertext or encryption context fails the tag.
    return gcmDecrypt(material, unpackGcm(parts[0]), aad);
  },

  describe(key) {
    return key.expirationModel ? { ExpirationModel: key.expirationModel, ValidTo: key.validTo } : {};
  },
};
