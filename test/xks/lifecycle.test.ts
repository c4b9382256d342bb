/**
 * Key and key store life cycle as the proxy sees it, with the proxy's default state cache: HYOK
 * rotation keeps old ciphertexts decryptable, and block / unblock of a key or a store take effect
 * within 5 seconds. Each change is checked by the first request made 5 seconds after it (the
 * requirement itself), not by measuring how fast it showed.
 */
import { decryptBody, encryptBody, healthBody, metadataBody, type EncryptOutput } from './support/bodies';
import { conformanceBackend } from './support/backends';
import { SensitiveValues, startConformanceEnv, type ConformanceEnv, type ProvisionedStore } from './support/conformance-env';
import { afterStalenessLimit } from './support/poll';

let env: ConformanceEnv;
let store: ProvisionedStore;
const sensitive = new SensitiveValues();

beforeAll(async () => {
  env = await startConformanceEnv(conformanceBackend());
  store = await env.backend.createStore({});
  env.defaultCredential = store.credentials[0];
});

afterAll(async () => {
  const logged = env.output.join('');
  for (const form of sensitive.forms()) expect(logged).not.toContain(form);
  await env.close();
});

const path = (operation: 'health' | 'metadata' | 'encrypt' | 'decrypt', keyId?: string) => env.path(store.storeId, operation, keyId);

describe('HYOK key rotation', () => {
  it('encrypts under v0, rotates, encrypts under v1, and both ciphertexts decrypt', async () => {
    const keyId = await env.backend.createKey(store.storeId);
    const first = sensitive.random(32);
    const sealedV0 = (await env.call(path('encrypt', keyId), encryptBody(first))).json as EncryptOutput;

    await env.backend.rotateKey(store.storeId, keyId);
    await afterStalenessLimit();
    const second = sensitive.random(32);
    const sealedV1 = (await env.call(path('encrypt', keyId), encryptBody(second))).json as EncryptOutput;
    expect(sealedV1.ciphertextMetadata).not.toBe(sealedV0.ciphertextMetadata);

    const openedV0 = await env.call(path('decrypt', keyId), decryptBody(sealedV0));
    const openedV1 = await env.call(path('decrypt', keyId), decryptBody(sealedV1));
    expect(openedV0.json).toEqual({ plaintext: first.toString('base64') });
    expect(openedV1.json).toEqual({ plaintext: second.toString('base64') });
  });
});

describe('blocking', () => {
  it('a blocked HYOK key answers InvalidStateException within 5 s, reports DISABLED, and serves again within 5 s of unblocking', async () => {
    const keyId = await env.backend.createKey(store.storeId);
    const sealed = (await env.call(path('encrypt', keyId), encryptBody(sensitive.random(16)))).json as EncryptOutput;

    await env.backend.setKeyBlocked(store.storeId, keyId, true);
    await afterStalenessLimit();
    expect((await env.call(path('encrypt', keyId), encryptBody(sensitive.random(8)))).json.errorName).toBe('InvalidStateException');
    expect((await env.call(path('decrypt', keyId), decryptBody(sealed))).json.errorName).toBe('InvalidStateException');
    expect((await env.call(path('metadata', keyId), metadataBody())).json.keyStatus).toBe('DISABLED');

    await env.backend.setKeyBlocked(store.storeId, keyId, false);
    await afterStalenessLimit();
    expect((await env.call(path('decrypt', keyId), decryptBody(sealed))).status).toBe(200);
  });

  it('a blocked key store answers InvalidStateException on every operation within 5 s, and serves again after unblocking', async () => {
    const keyId = await env.backend.createKey(store.storeId);
    const sealed = (await env.call(path('encrypt', keyId), encryptBody(sensitive.random(16)))).json as EncryptOutput;

    await env.backend.setStoreBlocked(store.storeId, true);
    await afterStalenessLimit();
    for (const [operation, body] of [['health', healthBody()], ['metadata', metadataBody()], ['encrypt', encryptBody(sensitive.random(8))], ['decrypt', decryptBody(sealed)]] as const) {
      const { status, json } = await env.call(path(operation, keyId), body);
      expect([operation, status, json.errorName]).toEqual([operation, 400, 'InvalidStateException']);
    }

    await env.backend.setStoreBlocked(store.storeId, false);
    await afterStalenessLimit();
    expect((await env.call(path('decrypt', keyId), decryptBody(sealed))).status).toBe(200);
  });
});
