/**
 * An HsmAgent for service tests: AES-256-GCM in memory (MemoryKeyCrypto), one key per partition
 * and CKA_ID made on first use, as if every referenced HSM key existed. Key management calls are
 * not part of it (the HSM key tests script those).
 */
import type { GcmCiphertext, HsmAgent } from '../../lambdas/core/ports/hsm';
import type { HsmKeyInfo, HsmKeyRef, PartitionTestResult } from '../../lambdas/contract/hsm';
import { AES_KEY_ATTRIBUTES, MemoryKeyCrypto } from '../xks/support/fakes';

const notHere = (): never => {
  throw new Error('MemoryHsmAgent does not manage keys; script an HsmAgent for that');
};

export class MemoryHsmAgent implements HsmAgent {
  readonly crypto = new MemoryKeyCrypto();
  private readonly known = new Set<string>();

  /** Puts new key material under the key's CKA_ID (another key than the one that was set). */
  replaceKey(key: HsmKeyRef): void {
    this.crypto.addKey(key.objectId, AES_KEY_ATTRIBUTES, key.partition);
    this.known.add(this.id(key));
  }

  encrypt(key: HsmKeyRef, plaintext: Buffer, aad: Buffer): Promise<GcmCiphertext> {
    return this.crypto.encrypt(this.ensure(key), plaintext, aad);
  }

  decrypt(key: HsmKeyRef, input: GcmCiphertext, aad: Buffer): Promise<Buffer> {
    return this.crypto.decrypt(this.ensure(key), input, aad);
  }

  async checkKey(key: HsmKeyRef): Promise<PartitionTestResult> {
    const sealed = await this.encrypt(key, Buffer.from('check'), Buffer.alloc(0));
    await this.decrypt(key, sealed, Buffer.alloc(0));
    return { ready: true, message: 'ready' };
  }

  testPartition = notHere;
  generateKey = notHere;
  describeKey = notHere as (key: HsmKeyRef) => Promise<HsmKeyInfo | undefined>;
  destroyKey = notHere;
  wrapKeyForImport = notHere;
  signHmac = notHere;

  private ensure(key: HsmKeyRef): HsmKeyRef {
    if (!this.known.has(this.id(key))) this.replaceKey(key);
    return key;
  }

  private id(key: HsmKeyRef): string {
    return `${key.partition.partitionId}/${key.objectId}`;
  }
}
