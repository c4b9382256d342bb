/**
 * A StateBackend with the key store / key views in memory (MemoryXksState) and every key
 * generated inside the SoftHSM2 token by the HSM agent. Used where control-plane state is not the
 * subject (and before the control-plane services existed).
 */
import { randomBytes } from 'node:crypto';
import type { KeyAttributeName } from '../../../lambdas/core/hsm';
import type { XksCredentialView } from '../../../lambdas/core/xks-state';
import { secretNames } from '../../../lambdas/core/secrets';
import { AES_ATTRIBUTES, REGION, type BackendFactory, type StateBackend } from './conformance-env';
import { attributesWith, MemoryXksState } from './fakes';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function accessKeyId(): string {
  return Array.from(randomBytes(24), (b) => BASE32[b % 32]).join('');
}

export const memoryBackend: BackendFactory = async ({ token, agent }) => {
  const state = new MemoryXksState();
  const newHsmKey = async (attributes: readonly KeyAttributeName[]) => {
    const objectId = randomBytes(16).toString('hex');
    await agent.generateKey(token.partition, { objectId, label: `xks-${objectId.slice(0, 8)}`, sizeBits: 256, attributes: attributesWith(attributes) });
    return { partition: token.partition, objectId };
  };
  const newCredential = async (storeId: string) => {
    const id = randomBytes(8).toString('hex');
    const credential: XksCredentialView = { id, accessKeyId: accessKeyId(), secretName: secretNames.xksCredential(storeId, id) };
    const secretAccessKey = randomBytes(32).toString('base64');
    await token.secretStore.put(credential.secretName, secretAccessKey);
    return { view: credential, signing: { accessKeyId: credential.accessKeyId, secretAccessKey } };
  };
  let stores = 0;
  let keys = 0;

  const backend: StateBackend = {
    source: state,
    async createStore(options) {
      stores += 1;
      const storeId = `store-${stores}-${randomBytes(4).toString('hex')}`;
      const credential = await newCredential(storeId);
      state.putKeyStore({
        id: storeId,
        name: storeId,
        region: REGION,
        blocked: false,
        mtlsEnabled: options.mtlsEnabled ?? false,
        enableSuccessAuditEvent: options.enableSuccessAuditEvent ?? true,
        partition: token.partition,
        healthCheckKey: await newHsmKey(AES_ATTRIBUTES),
        credentials: [credential.view],
      });
      return { storeId, region: REGION, credentials: [credential.signing] };
    },
    async createKey(storeId, attributes = AES_ATTRIBUTES) {
      keys += 1;
      const externalKeyId = `hyok-${keys}-${randomBytes(6).toString('hex')}`;
      state.putKey({ externalKeyId, awsKeyId: externalKeyId, keyStoreId: storeId, blocked: false, currentVersion: 0, versions: [{ version: 0, key: await newHsmKey(attributes) }] });
      return externalKeyId;
    },
    async setStoreBlocked(storeId, blocked) {
      state.updateKeyStore(storeId, { blocked });
    },
    async setKeyBlocked(storeId, externalKeyId, blocked) {
      state.updateKey(storeId, externalKeyId, { blocked });
    },
    async rotateKey(storeId, externalKeyId) {
      const key = state.keys.get(`${storeId}/${externalKeyId}`);
      if (!key) throw new Error(`no key ${externalKeyId}`);
      const version = key.currentVersion + 1;
      state.updateKey(storeId, externalKeyId, { currentVersion: version, versions: [...key.versions, { version, key: await newHsmKey(AES_ATTRIBUTES) }] });
    },
    async addCredential(storeId) {
      const store = state.keyStores.get(storeId);
      if (!store) throw new Error(`no store ${storeId}`);
      const credential = await newCredential(storeId);
      state.updateKeyStore(storeId, { credentials: [...store.credentials, credential.view] });
      return credential.signing;
    },
    async deleteCredential(storeId, id) {
      const store = state.keyStores.get(storeId);
      if (!store) throw new Error(`no store ${storeId}`);
      state.updateKeyStore(storeId, { credentials: store.credentials.filter((c) => c.accessKeyId !== id) });
    },
    async dispose() {
      // Nothing outside memory; the token belongs to the env.
    },
  };
  return backend;
};
