/**
 * In-memory stand-ins for the proxy's ports: a KeyCrypto doing AES-256-GCM with node:crypto and
 * honouring CKA_ENCRYPT / CKA_DECRYPT like an HSM, a mutable XksStateSource, and a logger that
 * records every line. Real SoftHSM2 / DynamoDB Local versions are used by the conformance suite.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { HsmError, type GcmCiphertext, type KeyCrypto, type KeyCryptoCallOptions } from '../../../lambdas/core/ports/hsm';
import {
  KEY_ATTRIBUTE_NAMES,
  type HsmKeyInfo,
  type HsmKeyRef,
  type KeyAttributeName,
  type PartitionConnection,
} from '../../../lambdas/contract/hsm';
import type { XksKeyStoreView, XksKeyView, XksStateIds, XksStateSource } from '../../../lambdas/core/ports/xks-state-source';
import type { XksLogger } from '../../../lambdas/xks-proxy/observability/audit';

export const TEST_PARTITION: PartitionConnection = {
  partitionId: 'partition-1',
  hsmType: 'softhsm',
  tokenLabel: 'token-1',
  pinSecretName: 'xks-key-manager/hsm-pin/partition-1',
};

export function attributesWith(enabled: readonly KeyAttributeName[]): Record<KeyAttributeName, boolean> {
  return Object.fromEntries(KEY_ATTRIBUTE_NAMES.map((name) => [name, enabled.includes(name)])) as Record<KeyAttributeName, boolean>;
}

export const AES_KEY_ATTRIBUTES: readonly KeyAttributeName[] = ['CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_WRAP', 'CKA_UNWRAP', 'CKA_SENSITIVE', 'CKA_TOKEN', 'CKA_PRIVATE'];

interface MemoryKey {
  readonly material: Buffer;
  readonly info: HsmKeyInfo;
}

export class MemoryKeyCrypto implements KeyCrypto {
  private readonly keys = new Map<string, MemoryKey>();
  /** When set, every call fails with it (an HSM that is gone). */
  failure: HsmError | undefined;
  /** Calls so far, by operation. */
  readonly calls = { encrypt: 0, decrypt: 0, describe: 0 };
  /** Set to corrupt the next N encrypt results' tags (to exercise the CDIV retry). */
  corruptNextTags = 0;

  addKey(objectId: string, attributes: readonly KeyAttributeName[] = AES_KEY_ATTRIBUTES, partition = TEST_PARTITION): HsmKeyRef {
    const ref: HsmKeyRef = { partition, objectId };
    this.keys.set(this.id(ref), {
      material: randomBytes(32),
      info: { objectId, label: objectId, keyType: 'AES', sizeBits: 256, attributes: attributesWith(attributes) },
    });
    return ref;
  }

  private id(ref: HsmKeyRef): string {
    return `${ref.partition.partitionId}/${ref.objectId}`;
  }

  private key(ref: HsmKeyRef, attribute: KeyAttributeName): MemoryKey {
    if (this.failure) throw this.failure;
    const key = this.keys.get(this.id(ref));
    if (!key) throw new HsmError('KEY_NOT_FOUND', undefined, `no key ${ref.objectId}`);
    if (!key.info.attributes[attribute]) throw new HsmError('KEY_FUNCTION_NOT_PERMITTED', 'CKR_KEY_FUNCTION_NOT_PERMITTED', 'not permitted');
    return key;
  }

  async encrypt(ref: HsmKeyRef, plaintext: Buffer, aad: Buffer, _options?: KeyCryptoCallOptions): Promise<GcmCiphertext> {
    this.calls.encrypt += 1;
    const key = this.key(ref, 'CKA_ENCRYPT');
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.material, iv);
    cipher.setAAD(aad);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const tag = cipher.getAuthTag();
    if (this.corruptNextTags > 0) {
      this.corruptNextTags -= 1;
      tag[0] ^= 1;
    }
    return { iv, ciphertext, tag };
  }

  async decrypt(ref: HsmKeyRef, input: GcmCiphertext, aad: Buffer, _options?: KeyCryptoCallOptions): Promise<Buffer> {
    this.calls.decrypt += 1;
    const key = this.key(ref, 'CKA_DECRYPT');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.material, input.iv);
      decipher.setAAD(aad);
      decipher.setAuthTag(input.tag);
      return Buffer.concat([decipher.update(input.ciphertext), decipher.final()]);
    } catch (error) {
      throw new HsmError('DECRYPT_FAILED', 'CKR_GENERAL_ERROR', 'C_Decrypt failed: CKR_GENERAL_ERROR', { cause: error });
    }
  }

  async describe(ref: HsmKeyRef, _options?: KeyCryptoCallOptions): Promise<HsmKeyInfo | undefined> {
    this.calls.describe += 1;
    if (this.failure) throw this.failure;
    return this.keys.get(this.id(ref))?.info;
  }
}

export class MemoryXksState implements XksStateSource {
  readonly keyStores = new Map<string, XksKeyStoreView>();
  readonly keys = new Map<string, XksKeyView>();
  readonly reads = { keyStore: 0, key: 0 };

  putKeyStore(store: XksKeyStoreView): void {
    this.keyStores.set(store.id, store);
  }

  updateKeyStore(id: string, change: Partial<XksKeyStoreView>): void {
    const store = this.keyStores.get(id);
    if (!store) throw new Error(`no store ${id}`);
    this.keyStores.set(id, { ...store, ...change });
  }

  putKey(key: XksKeyView): void {
    this.keys.set(`${key.keyStoreId}/${key.externalKeyId}`, key);
  }

  updateKey(keyStoreId: string, externalKeyId: string, change: Partial<XksKeyView>): void {
    const id = `${keyStoreId}/${externalKeyId}`;
    const key = this.keys.get(id);
    if (!key) throw new Error(`no key ${id}`);
    this.keys.set(id, { ...key, ...change });
  }

  async listIds(): Promise<XksStateIds> {
    return { keyStoreIds: [...this.keyStores.keys()], keys: [...this.keys.values()].map(({ keyStoreId, externalKeyId }) => ({ keyStoreId, externalKeyId })) };
  }

  async getKeyStore(keyStoreId: string): Promise<XksKeyStoreView | undefined> {
    this.reads.keyStore += 1;
    return this.keyStores.get(keyStoreId);
  }

  async getKey(keyStoreId: string, externalKeyId: string): Promise<XksKeyView | undefined> {
    this.reads.key += 1;
    return this.keys.get(`${keyStoreId}/${externalKeyId}`);
  }
}

export interface LogLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly attributes: Record<string, unknown>;
}

export class RecordingLogger implements XksLogger {
  readonly lines: LogLine[] = [];

  info(message: string, attributes: Record<string, unknown>): void {
    this.lines.push({ level: 'info', message, attributes });
  }

  warn(message: string, attributes: Record<string, unknown>): void {
    this.lines.push({ level: 'warn', message, attributes });
  }

  error(message: string, attributes: Record<string, unknown>): void {
    this.lines.push({ level: 'error', message, attributes });
  }
}
