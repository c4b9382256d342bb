/**
 * The XKS proxy's KeyCrypto over PKCS#11: AES-256-GCM with the partition's key found by CKA_ID.
 * Construct once per container: `new Pkcs11KeyCrypto(config, secretStore)`.
 */
import type * as pkcs11js from 'pkcs11js';
import { HsmError, type GcmCiphertext, type KeyCrypto, type KeyCryptoCallOptions } from '../../core/ports/hsm';
import { DEFAULT_GCM_IV_CONVENTION, type HsmKeyInfo, type HsmKeyRef, type PartitionConnection } from '../../contract/hsm';
import type { SecretStore } from '../../core/ports/secret-store';
import { cipherCallMode, type Pkcs11Config } from './config';
import { gcmDecrypt, gcmEncrypt, type GcmDevice } from './gcm';
import { Pkcs11Partitions } from './partitions';
import type { SessionLease } from './session-lease';

export class Pkcs11KeyCrypto implements KeyCrypto {
  constructor(
    private readonly config: Pkcs11Config,
    secretStore: SecretStore,
    /** Shared with another adapter of the same process (the HSM agent's deep check) when given. */
    private readonly partitions = new Pkcs11Partitions(config, secretStore),
  ) {}

  encrypt(key: HsmKeyRef, plaintext: Buffer, aad: Buffer, options?: KeyCryptoCallOptions): Promise<GcmCiphertext> {
    const device = this.device(key.partition);
    return this.partitions.run(key.partition, async (lease) => gcmEncrypt(lease, device, await keyHandle(lease, key), plaintext, aad), options);
  }

  decrypt(key: HsmKeyRef, input: GcmCiphertext, aad: Buffer, options?: KeyCryptoCallOptions): Promise<Buffer> {
    const device = this.device(key.partition);
    return this.partitions.run(key.partition, async (lease) => gcmDecrypt(lease, device, await keyHandle(lease, key), input, aad), options);
  }

  describe(key: HsmKeyRef, options?: KeyCryptoCallOptions): Promise<HsmKeyInfo | undefined> {
    return this.partitions.run(key.partition, async (lease) => (await lease.key(key.objectId))?.info, options);
  }

  private device(partition: PartitionConnection): GcmDevice {
    const { hsmType, gcmIvConvention } = partition;
    return { hsmType, cipherCallMode: cipherCallMode(partition, this.config), ivConvention: gcmIvConvention ?? DEFAULT_GCM_IV_CONVENTION[hsmType] };
  }
}

async function keyHandle(lease: SessionLease, key: HsmKeyRef): Promise<pkcs11js.Handle> {
  const found = await lease.key(key.objectId);
  if (!found) {
    throw new HsmError(
      'KEY_NOT_FOUND',
      undefined,
      `no secret key with CKA_ID ${key.objectId} in partition ${JSON.stringify(key.partition.partitionId)}`,
    );
  }
  return found.handle;
}
