/**
 * Origin AWS_KMS: KMS makes the key material (kept in the state folder): a random AES-256 key for
 * SYMMETRIC_DEFAULT, which encrypts with AES-256-GCM; for asymmetric and HMAC key specs, the
 * private key or secret that asymmetric-operations.ts signs and MACs with (key-spec-crypto.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { AwsError } from '../aws-error';
import { gcmDecrypt, gcmEncrypt } from './aes-gcm';
import type { KeyOriginProvider } from './key-origins';
import type { KeyMaterial, KmsKeyRecord } from './key-record';
import { generateKeyMaterial, MATERIAL_KEY_SPECS } from './key-spec-crypto';

export const SYMMETRIC_MATERIAL = 'AES_256';

/** New AES-256 material and its id (CurrentKeyMaterialId: 64 hex characters, as AWS shows). */
export function newSymmetricMaterial(): { material: KeyMaterial; materialId: string } {
  const secret = randomBytes(32);
  return { material: { kind: SYMMETRIC_MATERIAL, secret: secret.toString('base64') }, materialId: createHash('sha256').update(secret).update('id').digest('hex') };
}

export function symmetricSecretOf(key: KmsKeyRecord): Buffer {
  if (key.material?.kind !== SYMMETRIC_MATERIAL || key.material.secret === undefined) throw new AwsError('KMSInternalException', 'The key has no symmetric material.', 500);
  return Buffer.from(key.material.secret, 'base64');
}

export const awsKmsOrigin: KeyOriginProvider = {
  origin: 'AWS_KMS',
  keySpecs: MATERIAL_KEY_SPECS,
  async create({ keySpec }) {
    if (keySpec !== 'SYMMETRIC_DEFAULT') return { material: { kind: keySpec, secret: generateKeyMaterial(keySpec).toString('base64') } };
    const { material, materialId } = newSymmetricMaterial();
    return { material, currentKeyMaterialId: materialId };
  },
  async encrypt(request, plaintext) {
    const { iv, ciphertext, tag } = gcmEncrypt(symmetricSecretOf(request.key), plaintext, request.aad);
    return [iv, ciphertext, tag];
  },
  async decrypt(request, parts) {
    if (parts.length !== 3) throw new AwsError('InvalidCiphertextException', 'The ciphertext is invalid.');
    return gcmDecrypt(symmetricSecretOf(request.key), { iv: parts[0], ciphertext: parts[1], tag: parts[2] }, request.aad);
  },
};
