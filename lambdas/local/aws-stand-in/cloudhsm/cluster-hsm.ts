/**
 * AWS KMS's side of a CloudHSM cluster: logging in as the `kmsuser` crypto user and using AES keys
 * in the cluster, through the project's own PKCS#11 adapter (adapters/pkcs11) on the cluster's
 * SoftHSM2 token. The kmsuser password is the token's user PIN.
 *
 * One instance per process (`clusterHsms()`): PKCS#11 login state belongs to the process and the
 * token, and the adapter's session pools and key-handle cache are shared by every caller.
 * Passwords are held in memory only, under a name that changes with the password, so that a
 * password the token rejected is never presented again by a pool that cached it.
 */
import { createHash } from 'node:crypto';
import type { HsmKeyInfo, HsmKeyRef, PartitionConnection, PartitionTestResult } from '../../../contract/hsm';
import { HsmError } from '../../../core/ports/hsm';
import type { SecretStore, StoredSecret } from '../../../core/ports/secret-store';
import { AGENT_CALL_TIMEOUT_MS, pkcs11Config } from '../../../adapters/pkcs11/config';
import { Pkcs11KeyCrypto } from '../../../adapters/pkcs11/key-crypto';
import { Pkcs11HsmAgent } from '../../../adapters/pkcs11/hsm-agent';

/** KMS's kmsuser session on one cluster, for one custom key store. */
export interface KmsuserLogin {
  readonly customKeyStoreId: string;
  readonly tokenLabel: string;
  readonly password: string;
}

class InMemorySecrets implements SecretStore {
  private readonly values = new Map<string, string>();
  async put(name: string, value: string): Promise<void> {
    this.values.set(name, value);
  }
  async get(name: string): Promise<string | undefined> {
    return this.values.get(name);
  }
  async delete(name: string): Promise<void> {
    this.values.delete(name);
  }
  async list(): Promise<StoredSecret[]> {
    return []; // the stand-in's own login secrets, never swept
  }
}

export class ClusterHsms {
  private readonly secrets = new InMemorySecrets();
  private readonly agent: Pkcs11HsmAgent;
  private readonly crypto: Pkcs11KeyCrypto;

  constructor(softHsmLibraryPath?: string) {
    const config = pkcs11Config({
      libraries: softHsmLibraryPath ? { softhsm: softHsmLibraryPath } : {},
      callTimeoutMs: AGENT_CALL_TIMEOUT_MS,
      // A key deleted from the cluster stops working at once, as it does on AWS.
      keyCacheMaxAgeMs: 0,
      // A token made while the process runs (a new local cluster) is found by re-initialising the
      // library, which also drops the XKS proxy's sessions: the default interval bounds how often.
    });
    this.agent = new Pkcs11HsmAgent(config, this.secrets);
    this.crypto = new Pkcs11KeyCrypto(config, this.secrets);
  }

  /** Logs in with this password now: ready, or the PKCS#11 return code (`CKR_PIN_INCORRECT`, ...). */
  async login(login: KmsuserLogin): Promise<PartitionTestResult> {
    return this.agent.testPartition(await this.connection(login));
  }

  async generateAesKey(login: KmsuserLogin, objectId: string, label: string): Promise<HsmKeyInfo> {
    return this.agent.generateKey(await this.connection(login), {
      objectId,
      label,
      sizeBits: 256,
      attributes: {
        CKA_ENCRYPT: true, CKA_DECRYPT: true, CKA_SENSITIVE: true, CKA_TOKEN: true, CKA_PRIVATE: true,
        CKA_WRAP: false, CKA_UNWRAP: false, CKA_SIGN: false, CKA_VERIFY: false, CKA_DERIVE: false,
        CKA_EXTRACTABLE: false, CKA_MODIFIABLE: false,
      },
    });
  }

  /** AES-256-GCM in the token; the result is IV ‖ ciphertext ‖ tag. */
  async encrypt(login: KmsuserLogin, objectId: string, plaintext: Buffer, aad: Buffer): Promise<Buffer> {
    const sealed = await this.crypto.encrypt(await this.keyRef(login, objectId), plaintext, aad);
    return Buffer.concat([sealed.iv, sealed.ciphertext, sealed.tag]);
  }

  async decrypt(login: KmsuserLogin, objectId: string, blob: Buffer, aad: Buffer): Promise<Buffer> {
    const ivEnd = 12;
    const tagStart = blob.length - 16;
    if (tagStart < ivEnd) throw new HsmError('DECRYPT_FAILED', undefined, 'the ciphertext is too short for AES-GCM');
    return this.crypto.decrypt(await this.keyRef(login, objectId), { iv: blob.subarray(0, ivEnd), ciphertext: blob.subarray(ivEnd, tagStart), tag: blob.subarray(tagStart) }, aad);
  }

  async describeKey(login: KmsuserLogin, objectId: string): Promise<HsmKeyInfo | undefined> {
    return this.agent.describeKey(await this.keyRef(login, objectId));
  }

  /** What a cluster administrator does with the CloudHSM CLI (`key delete`); KMS itself never does it. */
  async destroyKey(login: KmsuserLogin, objectId: string): Promise<void> {
    await this.agent.destroyKey(await this.keyRef(login, objectId));
  }

  private async keyRef(login: KmsuserLogin, objectId: string): Promise<HsmKeyRef> {
    return { partition: await this.connection(login), objectId };
  }

  private async connection({ customKeyStoreId, tokenLabel, password }: KmsuserLogin): Promise<PartitionConnection> {
    const passwordVersion = createHash('sha256').update(password).digest('hex').slice(0, 16);
    const pinSecretName = `kmsuser/${customKeyStoreId}/${passwordVersion}`;
    await this.secrets.put(pinSecretName, password);
    return { partitionId: `${customKeyStoreId}@${tokenLabel}`, hsmType: 'softhsm', tokenLabel, pinSecretName };
  }
}

let shared: ClusterHsms | undefined;

/** The process's ClusterHsms. */
export function clusterHsms(): ClusterHsms {
  shared ??= new ClusterHsms();
  return shared;
}
