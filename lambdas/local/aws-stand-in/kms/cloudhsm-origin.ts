/**
 * Origin AWS_CLOUDHSM: KMS keys whose material is an AES-256 key in the store's CloudHSM cluster,
 * generated there by CreateKey as the kmsuser crypto user. The key object's label is the KMS key
 * id and its CKA_ID the key id's 16 bytes, so that the cluster's own tools find it by KMS key.
 * Encrypt and Decrypt run AES-256-GCM in the cluster's token: a disconnected store, a cluster
 * without active HSMs or a key deleted from the cluster really stop them.
 */
import { AwsError, invalidKeyState, validationError } from '../aws-error';
import type { OperationContext } from '../operation-registry';
import { activeHsms, clustersOf, type CloudHsmClusterRecord } from '../cloudhsm/cluster-record';
import { clusterHsms, type KmsuserLogin } from '../cloudhsm/cluster-hsm';
import { customKeyStoresOf, type CustomKeyStoreRecord } from './custom-key-store-record';
import type { KmsKeyRecord } from './key-record';
import type { KeyOriginProvider } from './key-origins';
import { HsmError } from '../../../core/ports/hsm';
import { isError } from '../../../core/errors';

/** CKA_ID of a KMS key's key object: its key id without dashes (16 bytes, hex). */
export const clusterObjectIdOf = (keyId: string): string => keyId.replace(/-/g, '');

interface StoreContext {
  readonly store: CustomKeyStoreRecord;
  readonly cluster: CloudHsmClusterRecord;
  readonly login: KmsuserLogin;
}

function connectedStore(context: OperationContext, customKeyStoreId: string, keyArn?: string): StoreContext {
  const store = customKeyStoresOf(context.state).get(customKeyStoreId);
  if (!store || store.customKeyStoreType !== 'AWS_CLOUDHSM' || !store.cloudHsm) {
    if (keyArn) throw invalidKeyState(`The custom key store of ${keyArn} does not exist.`);
    throw new AwsError('CustomKeyStoreNotFoundException', `Custom key store ${customKeyStoreId} does not exist or is not an AWS_CLOUDHSM key store.`);
  }
  if (store.connectionState !== 'CONNECTED') {
    const message = `Custom key store ${customKeyStoreId} is ${store.connectionState}; it must be CONNECTED.`;
    throw keyArn ? invalidKeyState(`${keyArn} is unavailable: ${message}`) : new AwsError('CustomKeyStoreInvalidStateException', message);
  }
  const cluster = clustersOf(context.state).get(store.cloudHsm.cloudHsmClusterId);
  if (!cluster || cluster.state === 'DELETED' || activeHsms(cluster).length === 0) {
    const message = `The CloudHSM cluster of custom key store ${customKeyStoreId} has no active HSM.`;
    throw keyArn ? invalidKeyState(`${keyArn} is unavailable: ${message}`) : new AwsError('CloudHsmClusterInvalidConfigurationException', message);
  }
  return { store, cluster, login: { customKeyStoreId, tokenLabel: cluster.tokenLabel, password: store.cloudHsm.keyStorePassword } };
}

/** The PKCS#11 failure of a key operation as KMS reports it for a key in a CloudHSM key store. */
function asKmsError(error: unknown, key: KmsKeyRecord): unknown {
  if (!isError(error, HsmError)) return error;
  if (error.reason === 'DECRYPT_FAILED') return new AwsError('InvalidCiphertextException', '');
  if (error.reason === 'KEY_NOT_FOUND') return invalidKeyState(`The key material of ${key.arn} is not in its CloudHSM cluster.`);
  if (error.reason === 'LOGIN_FAILED') return invalidKeyState(`KMS cannot log in to the CloudHSM cluster of ${key.arn} as kmsuser.`);
  return new AwsError('KMSInternalException', `The CloudHSM cluster of ${key.arn} failed the request.`, 500);
}

export const cloudHsmOrigin: KeyOriginProvider = {
  origin: 'AWS_CLOUDHSM',
  keySpecs: ['SYMMETRIC_DEFAULT'],

  async create(request, context) {
    if (request.customKeyStoreId === undefined) throw validationError('CustomKeyStoreId', undefined, 'CustomKeyStoreId is required when Origin is AWS_CLOUDHSM');
    const { cluster, login } = connectedStore(context, request.customKeyStoreId);
    if (new Set(activeHsms(cluster).map((hsm) => hsm.availabilityZone)).size < 2) {
      throw new AwsError(
        'CloudHsmClusterInvalidConfigurationException',
        `Cluster ${cluster.clusterId} must have at least two active HSMs, each in a different Availability Zone, to create a KMS key.`,
      );
    }
    try {
      await clusterHsms().generateAesKey(login, clusterObjectIdOf(request.keyId), request.keyId);
    } catch (error) {
      if (isError(error, HsmError)) throw new AwsError('KMSInternalException', `The CloudHSM cluster ${cluster.clusterId} could not generate the key material.`, 500);
      throw error;
    }
    return { customKeyStoreId: request.customKeyStoreId, cloudHsmClusterId: cluster.clusterId };
  },

  async encrypt({ key, aad, context }, plaintext) {
    const { login } = connectedStore(context, key.customKeyStoreId ?? '', key.arn);
    try {
      return [await clusterHsms().encrypt(login, clusterObjectIdOf(key.keyId), plaintext, aad)];
    } catch (error) {
      throw asKmsError(error, key);
    }
  },

  async decrypt({ key, aad, context }, parts) {
    const { login } = connectedStore(context, key.customKeyStoreId ?? '', key.arn);
    if (parts.length !== 1) throw new AwsError('InvalidCiphertextException', '');
    try {
      return await clusterHsms().decrypt(login, clusterObjectIdOf(key.keyId), parts[0], aad);
    } catch (error) {
      throw asKmsError(error, key);
    }
  },
};
