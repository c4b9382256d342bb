/**
 * The HSM agent service: the control plane's only way to PKCS#11. Runs behind the
 * agent Lambda (handler.ts) on AWS and in-process locally. Construct once per container:
 * `new Pkcs11HsmAgent(config, secretStore)` with an agent-sized budget (AGENT_CALL_TIMEOUT_MS).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { HsmError, type GcmCiphertext, type HsmAgent } from '../../core/ports/hsm';
import type { GenerateKeyRequest, HsmKeyInfo, HsmKeyRef, PartitionConnection, PartitionTestResult } from '../../contract/hsm';
import type { SecretStore } from '../../core/ports/secret-store';
import type { Pkcs11Config } from './config';
import { Pkcs11KeyCrypto } from './key-crypto';
import type { HmacResult, SignHmacRequest, WrapForImportRequest, WrappedKeyMaterial } from '../../contract/hsm-key-types';
import { describeKeyObject, destroyKeyObjects, findKeyObject, generateKeyObject } from './typed-key-objects';
import { signHmac, wrapKeyForImport } from './key-wrapping';
import { Deadline } from './deadline';
import { pkcs11ModuleFor } from './module';
import { Pkcs11Partitions } from './partitions';
import { isError } from '../../core/errors';

const READY: PartitionTestResult = { ready: true, message: 'ready' };
const CHECK_AAD = Buffer.from('hsm-agent key check');

export class Pkcs11HsmAgent implements HsmAgent {
  private readonly crypto: Pkcs11KeyCrypto;

  constructor(
    private readonly config: Pkcs11Config,
    secretStore: SecretStore,
    /** The session pools; tests pass ones over a scripted library. @default - pools on the process's modules */
    private readonly partitions = new Pkcs11Partitions(config, secretStore),
  ) {
    this.crypto = new Pkcs11KeyCrypto(config, secretStore, partitions);
  }

  /**
   * Init-phase warm-up of the agent's entry: loads and initialises each PKCS#11 library of the
   * config that is installed (the image holds one vendor's), so the first call does not pay for it.
   */
  async warmUp(): Promise<readonly string[]> {
    const installed = [...new Set(Object.values(this.config.libraries))].filter((path) => existsSync(path));
    for (const path of installed) {
      const module = pkcs11ModuleFor(path);
      await module.enter(new Deadline(this.config.callTimeoutMs));
      module.leave();
    }
    return installed;
  }

  /** Logs in with the PIN stored now (not a cached one): ready, or the PKCS#11 failure name. */
  async testPartition(partition: PartitionConnection): Promise<PartitionTestResult> {
    try {
      await this.partitions.run(partition, (lease) => lease.relogin(), { freshPin: true });
      return READY;
    } catch (error) {
      if (isError(error, HsmError)) return { ready: false, message: error.returnCode ?? error.message };
      throw error;
    }
  }

  generateKey(partition: PartitionConnection, request: GenerateKeyRequest): Promise<HsmKeyInfo> {
    // No retry: a generation that failed late may still have created the key.
    return this.partitions.run(partition, (lease) => generateKeyObject(lease, request), { retry: false });
  }

  /** Read from the HSM on every call (the control plane shows what the HSM reports now). */
  describeKey(key: HsmKeyRef): Promise<HsmKeyInfo | undefined> {
    return this.partitions.run(key.partition, async (lease) => {
      const found = await findKeyObject(lease, key.objectId);
      return found && describeKeyObject(lease, found);
    });
  }

  /** Destroys the secret key, or both halves of the key pair. */
  destroyKey(key: HsmKeyRef): Promise<void> {
    return this.partitions.run(key.partition, (lease) => destroyKeyObjects(lease, key.objectId));
  }

  wrapKeyForImport(key: HsmKeyRef, request: WrapForImportRequest): Promise<WrappedKeyMaterial> {
    return this.partitions.run(key.partition, (lease) => wrapKeyForImport(lease, key.objectId, request));
  }

  signHmac(key: HsmKeyRef, request: SignHmacRequest): Promise<HmacResult> {
    return this.partitions.run(key.partition, (lease) => signHmac(lease, key.objectId, request));
  }

  encrypt(key: HsmKeyRef, plaintext: Buffer, aad: Buffer): Promise<GcmCiphertext> {
    return this.crypto.encrypt(key, plaintext, aad);
  }

  decrypt(key: HsmKeyRef, input: GcmCiphertext, aad: Buffer): Promise<Buffer> {
    return this.crypto.decrypt(key, input, aad);
  }

  /** An AES-GCM encrypt and decrypt of random bytes with the key, inside the HSM. */
  async checkKey(key: HsmKeyRef): Promise<PartitionTestResult> {
    const plaintext = randomBytes(32);
    try {
      const sealed = await this.crypto.encrypt(key, plaintext, CHECK_AAD);
      const opened = await this.crypto.decrypt(key, sealed, CHECK_AAD);
      return opened.equals(plaintext) ? READY : { ready: false, message: 'DECRYPT_FAILED: the round trip returned other bytes' };
    } catch (error) {
      if (isError(error, HsmError)) return { ready: false, message: `${error.reason}: ${error.message}` };
      throw error;
    }
  }
}
