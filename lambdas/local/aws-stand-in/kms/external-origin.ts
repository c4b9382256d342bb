/**
 * Origin EXTERNAL: a key created without material (PendingImport) that works once material is
 * imported (import-operations.ts). The imported material sits in the key record as
 * `{kind: 'imported', key}` (base64); symmetric keys encrypt with it (AES-256-GCM), asymmetric
 * and HMAC keys sign and MAC with it (asymmetric-operations.ts).
 *
 * Material that expires (ExpirationModel KEY_MATERIAL_EXPIRES) is deleted when its ValidTo has
 * passed, the next time the key is used or its material is managed (nothing here runs a timer).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AwsError, invalidKeyState } from '../aws-error';
import type { OperationContext } from '../operation-registry';
import { keysOf, type KeyMaterial, type KmsKeyRecord } from './key-record';
import type { KeyOriginProvider } from './key-origins';
import { MATERIAL_KEY_SPECS } from './key-spec-crypto';

export const IMPORTED_MATERIAL = 'imported';

export function importedMaterial(bytes: Buffer): KeyMaterial {
  return { kind: IMPORTED_MATERIAL, key: bytes.toString('base64') };
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

/** The key's imported (or generated) material bytes; KMSInvalidStateException when it has none. */
export function materialBytes(context: OperationContext, key: KmsKeyRecord): Buffer {
  const current = withExpiredMaterialDeleted(context, key);
  const encoded = current.material?.key;
  if (encoded === undefined) throw invalidKeyState(`${key.arn} is pending import.`);
  return Buffer.from(encoded, 'base64');
}

const GCM_IV_BYTES = 12;
const GCM_TAG_BYTES = 16;

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
    const material = materialBytes(context, key);
    const iv = randomBytes(GCM_IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', material, iv).setAAD(aad);
    return [Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()])];
  },

  async decrypt({ key, aad, context }, parts) {
    const material = materialBytes(context, key);
    const [blob] = parts;
    if (parts.length !== 1 || blob.length < GCM_IV_BYTES + GCM_TAG_BYTES) throw invalidCiphertext();
    try {
      const decipher = createDecipheriv('aes-256-gcm', material, blob.subarray(0, GCM_IV_BYTES)).setAAD(aad);
      decipher.setAuthTag(blob.subarray(blob.length - GCM_TAG_BYTES));
      return Buffer.concat([decipher.update(blob.subarray(GCM_IV_BYTES, blob.length - GCM_TAG_BYTES)), decipher.final()]);
    } catch {
      // Another material (re-imported into a new key) or a changed ciphertext / encryption context.
      throw invalidCiphertext();
    }
  },

  describe(key) {
    return key.expirationModel ? { ExpirationModel: key.expirationModel, ValidTo: key.validTo } : {};
  },
};

const invalidCiphertext = () => new AwsError('InvalidCiphertextException', '');
