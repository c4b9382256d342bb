/**
 * The HSM goes away and comes back: with the SoftHSM2 token made unavailable the proxy answers
 * spec errors (never hangs, never a non-JSON answer), and once the token is back it serves again
 * without a restart.
 */
import { decryptBody, encryptBody, healthBody, type EncryptOutput } from './support/bodies';
import { conformanceBackend } from './support/backends';
import { timeUntil } from './support/poll';
import { SensitiveValues, startConformanceEnv, type ConformanceEnv, type ProvisionedStore } from './support/conformance-env';
import { makeTokenUnavailable } from '../helpers/softhsm';

let env: ConformanceEnv;
let store: ProvisionedStore;
let keyId: string;
const sensitive = new SensitiveValues();

beforeAll(async () => {
  // Health results are not reused, so health reflects the token at once.
  env = await startConformanceEnv(conformanceBackend(), { health: { maxAgeMs: 0 } });
  store = await env.backend.createStore({});
  env.defaultCredential = store.credentials[0];
  keyId = await env.backend.createKey(store.storeId);
});

afterAll(async () => {
  await env.close();
});

const path = (operation: 'health' | 'encrypt' | 'decrypt') => env.path(store.storeId, operation, keyId);

it('answers InternalException or DependencyTimeoutException while the token is away (GetHealthStatus: 200 with the HSM UNAVAILABLE), then recovers', async () => {
  // Arrange: a working proxy with open sessions and cached key handles.
  const plaintext = sensitive.random(24);
  const sealed = (await env.call(path('encrypt'), encryptBody(plaintext))).json as EncryptOutput;
  const healthStatus = async () => (await env.call(path('health'), healthBody())).json.ekmFleetDetails?.[0]?.healthStatus as string | undefined;
  expect(await healthStatus()).toBe('ACTIVE');

  // Act: the token disappears.
  const restore = makeTokenUnavailable(env.token.partition.tokenLabel);
  try {
    await timeUntil(async () => (await healthStatus()) === 'UNAVAILABLE', 15_000, 100);
    for (const [operation, body] of [['encrypt', encryptBody(sensitive.random(8))], ['decrypt', decryptBody(sealed)]] as const) {
      const { status, json } = await env.call(path(operation), body);
      expect([500, 503]).toContain(status);
      expect(['InternalException', 'DependencyTimeoutException']).toContain(json.errorName);
    }
  } finally {
    restore();
  }

  // Assert: back without restarting anything.
  await timeUntil(async () => (await healthStatus()) === 'ACTIVE', 15_000, 100);
  expect((await env.call(path('decrypt'), decryptBody(sealed))).json).toEqual({ plaintext: plaintext.toString('base64') });
  expect((await env.call(path('encrypt'), encryptBody(sensitive.random(8)))).status).toBe(200);
});
