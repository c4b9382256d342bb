/**
 * Origin EXTERNAL_KEY_STORE: a KMS key backed by an external key in the store's XKS proxy.
 *
 * CreateKey checks the store (found, EXTERNAL_KEY_STORE, CONNECTED), that no other key of the
 * store uses the XksKeyId (XksKeyAlreadyInUseException), and asks the proxy (GetKeyMetadata) that
 * the external key is AES_256, ENABLED and allows ENCRYPT and DECRYPT
 * (XksKeyInvalidConfigurationException; XksKeyNotFoundException).
 *
 * Encryption is double, as AWS KMS does it: the plaintext is first encrypted with key material
 * that KMS keeps for this KMS key (AES-256-GCM), and that ciphertext is encrypted by the proxy
 * with the external key. Decrypt needs both: the proxy's layer first, then KMS's own.
 */
import { AwsError } from '../aws-error';
import type { JsonObject, OperationContext } from '../operation-registry';
import { gcmDecrypt, gcmEncrypt, packGcm, unpackGcm } from './aes-gcm';
import { newSymmetricMaterial, symmetricSecretOf } from './aws-kms-origin';
import { findStore, storeInvalidState } from './custom-key-store-operations';
import type { XksStoreFields } from './custom-key-store-record';
import type { KeyOriginProvider, SymmetricCryptoRequest } from './key-origins';
import { keysOf, type KmsKeyRecord } from './key-record';
import { storeOf } from './key-lookup';
import { kmsErrorForInvalidResponse, kmsErrorForXksFailure, XKS_NOT_CONNECTED_MESSAGE } from './xks-errors';

const XKS_KEY_ID = /^[a-zA-Z0-9-_.]+$/;

function connectedStoreOf(context: OperationContext, key: KmsKeyRecord): XksStoreFields {
  const store = storeOf(context, key);
  if (!store?.xks || store.connectionState !== 'CONNECTED') throw new AwsError('KMSInvalidStateException', XKS_NOT_CONNECTED_MESSAGE);
  return store.xks;
}

function requestMetadata(request: SymmetricCryptoRequest): JsonObject {
  return {
    awsPrincipalArn: request.context.caller.arn,
    kmsKeyArn: request.key.arn,
    kmsOperation: request.kmsOperation,
    kmsRequestId: request.context.requestId,
  };
}

const base64Field = (body: JsonObject, field: string): Buffer | undefined =>
  typeof body[field] === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(body[field] as string) ? Buffer.from(body[field] as string, 'base64') : undefined;

export const externalKeyStoreOrigin: KeyOriginProvider = {
  origin: 'EXTERNAL_KEY_STORE',
  keySpecs: ['SYMMETRIC_DEFAULT'],

  async create(request, context) {
    const xksKeyId = request.input.XksKeyId;
    if (typeof xksKeyId !== 'string' || !XKS_KEY_ID.test(xksKeyId)) throw new AwsError('ValidationException', 'XksKeyId is required when Origin is EXTERNAL_KEY_STORE.');
    const storeId = request.customKeyStoreId as string;
    const store = findStore(context, storeId);
    if (store.customKeyStoreType !== 'EXTERNAL_KEY_STORE' || !store.xks) {
      throw new AwsError('UnsupportedOperationException', `The custom key store ${storeId} is not an external key store; Origin EXTERNAL_KEY_STORE needs one.`);
    }
    if (store.connectionState !== 'CONNECTED') throw storeInvalidState(`The custom key store ${storeId} is not connected; its ConnectionState is ${store.connectionState}.`);
    const inUse = (): boolean => keysOf(context.state).values().some((key) => key.customKeyStoreId === storeId && key.xksKeyId === xksKeyId);
    if (inUse()) throw new AwsError('XksKeyAlreadyInUseException', `The external key ${xksKeyId} is already associated with another KMS key in the custom key store ${storeId}.`);

    const result = await context.runtime.xksProxy.call(store.xks, context.region, `keys/${encodeURIComponent(xksKeyId)}/metadata`, {
      requestMetadata: { awsPrincipalArn: context.caller.arn, kmsOperation: 'CreateKey', kmsRequestId: context.requestId },
    });
    if (!result.ok) throw kmsErrorForXksFailure(result.failure, 'createKey');
    const { keySpec, keyUsage, keyStatus } = result.body;
    if (typeof keySpec !== 'string' || !Array.isArray(keyUsage) || typeof keyStatus !== 'string') throw kmsErrorForInvalidResponse('createKey');
    if (keySpec !== 'AES_256') throw new AwsError('XksKeyInvalidConfigurationException', `The external key ${xksKeyId} has key spec ${keySpec}; an external key must be AES_256.`);
    if (!keyUsage.includes('ENCRYPT') || !keyUsage.includes('DECRYPT')) {
      throw new AwsError('XksKeyInvalidConfigurationException', `The external key ${xksKeyId} does not allow both ENCRYPT and DECRYPT.`);
    }
    if (keyStatus !== 'ENABLED') throw new AwsError('XksKeyInvalidConfigurationException', `The external key ${xksKeyId} is ${keyStatus}; it must be ENABLED.`);
    if (inUse()) throw new AwsError('XksKeyAlreadyInUseException', `The external key ${xksKeyId} is already associated with another KMS key in the custom key store ${storeId}.`);
    return { customKeyStoreId: storeId, xksKeyId, material: newSymmetricMaterial().material };
  },

  async encrypt(request, plaintext) {
    const store = connectedStoreOf(request.context, request.key);
    const inner = packGcm(gcmEncrypt(symmetricSecretOf(request.key), plaintext, request.aad));
    const result = await request.context.runtime.xksProxy.call(store, request.context.region, `keys/${encodeURIComponent(request.key.xksKeyId as string)}/encrypt`, {
      requestMetadata: requestMetadata(request),
      additionalAuthenticatedData: request.aad.toString('base64'),
      plaintext: inner.toString('base64'),
      encryptionAlgorithm: 'AES_GCM',
    });
    if (!result.ok) throw kmsErrorForXksFailure(result.failure, 'crypto');
    const ciphertext = base64Field(result.body, 'ciphertext');
    const iv = base64Field(result.body, 'initializationVector');
    const tag = base64Field(result.body, 'authenticationTag');
    const metadata = result.body.ciphertextMetadata === undefined ? Buffer.alloc(0) : base64Field(result.body, 'ciphertextMetadata');
    if (!ciphertext || !iv || !tag || !metadata) throw kmsErrorForInvalidResponse('crypto');
    return [iv, ciphertext, tag, metadata];
  },

  async decrypt(request, parts) {
    if (parts.length !== 4) throw new AwsError('InvalidCiphertextException', 'The ciphertext is invalid.');
    const store = connectedStoreOf(request.context, request.key);
    const [iv, ciphertext, tag, metadata] = parts;
    const result = await request.context.runtime.xksProxy.call(store, request.context.region, `keys/${encodeURIComponent(request.key.xksKeyId as string)}/decrypt`, {
      requestMetadata: requestMetadata(request),
      additionalAuthenticatedData: request.aad.toString('base64'),
      encryptionAlgorithm: 'AES_GCM',
      ciphertext: ciphertext.toString('base64'),
      initializationVector: iv.toString('base64'),
      authenticationTag: tag.toString('base64'),
      ...(metadata.length > 0 ? { ciphertextMetadata: metadata.toString('base64') } : {}),
    });
    if (!result.ok) throw kmsErrorForXksFailure(result.failure, 'crypto');
    const inner = base64Field(result.body, 'plaintext');
    if (!inner) throw kmsErrorForInvalidResponse('crypto');
    try {
      return gcmDecrypt(symmetricSecretOf(request.key), unpackGcm(inner), request.aad);
    } catch {
      throw new AwsError(
        'KMSInvalidStateException',
        'The ciphertext that the external key store proxy submitted for decryption, or the encryption context, is corrupted, missing, or otherwise invalid.',
      );
    }
  },
};
