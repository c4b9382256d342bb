/** Test fixtures shared by the HSM agent unit tests: a scripted HsmAgent and sample arguments. */
import type { HsmAgent } from '../../../lambdas/core/ports/hsm';
import {
  KEY_ATTRIBUTE_NAMES,
  type GenerateKeyRequest,
  type HsmKeyInfo,
  type HsmKeyRef,
  type KeyAttributes,
  type PartitionConnection,
} from '../../../lambdas/contract/hsm';

export const partition: PartitionConnection = {
  partitionId: 'p-1',
  hsmType: 'softhsm',
  tokenLabel: 'token-1',
  pinSecretName: 'xks-key-manager/hsm-pin/p-1',
};

export const keyRef: HsmKeyRef = { partition, objectId: '0a0b0c' };

export const attributes = (...listed: string[]): KeyAttributes =>
  Object.fromEntries(KEY_ATTRIBUTE_NAMES.map((name) => [name, listed.includes(name)])) as unknown as KeyAttributes;

export const generateRequest: GenerateKeyRequest = {
  objectId: '0a0b0c',
  label: 'source-key',
  sizeBits: 256,
  attributes: attributes('CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_SENSITIVE'),
};

export const keyInfo: HsmKeyInfo = {
  objectId: '0a0b0c',
  label: 'source-key',
  keyType: 'AES',
  sizeBits: 256,
  attributes: attributes('CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_SENSITIVE', 'CKA_TOKEN'),
};

/** Every method a jest mock; tests script what they need. */
export function fakeHsmAgent(): jest.Mocked<HsmAgent> {
  return {
    testPartition: jest.fn(),
    generateKey: jest.fn(),
    describeKey: jest.fn(),
    destroyKey: jest.fn(),
    checkKey: jest.fn(),
    wrapKeyForImport: jest.fn(),
    signHmac: jest.fn(),
    encrypt: jest.fn(),
    decrypt: jest.fn(),
  };
}
