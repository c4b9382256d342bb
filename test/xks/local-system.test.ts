/**
 * The product path end to end: the local system as `npm start` runs it (bin/local.ts), a key store
 * and an HYOK key provisioned through the management API, and the XKS proxy's HTTPS endpoint
 * answering requests signed by `curl --aws-sigv4` (trusting the runner's certificate), plus the
 * unauthenticated management health check.
 */
import { randomBytes } from 'node:crypto';
import { startLocalSystem, type LocalSystem } from '../helpers/local-system';
import { decryptBody, encryptBody, healthBody, metadataBody } from './support/bodies';
import { provisionThroughApi, type ApiProvisionedStore } from './support/api-provisioning';
import { curlSigV4Args, runCurl } from './support/signing';

let system: LocalSystem;
let store: ApiProvisionedStore;

beforeAll(async () => {
  system = await startLocalSystem();
  store = await provisionThroughApi(system);
}, 180_000);

afterAll(async () => {
  await system?.stop();
});

async function curl(operation: string, body: unknown) {
  const result = await runCurl(
    curlSigV4Args({
      url: `${system.xksUrl}${store.uriPath}/${operation}`,
      region: store.region,
      credential: { accessKeyId: store.accessKeyId, secretAccessKey: store.secretAccessKey },
      body: JSON.stringify(body),
      caCertPath: system.xksCaCert,
    }),
  );
  return { status: result.status, json: result.body ? JSON.parse(result.body) : undefined };
}

it('serves health, metadata, encrypt and decrypt over HTTPS to curl --aws-sigv4 for a store provisioned through the API', async () => {
  expect(store.uriPath).toBe(`/api/v1/cckm/aws/xks-proxy-endpoints/${store.storeId}/kms/xks/v1`);
  const health = await curl('health', healthBody());
  expect(health).toMatchObject({ status: 200, json: { ekmFleetDetails: [{ healthStatus: 'ACTIVE' }] } });
  const metadata = await curl(`keys/${store.externalKeyId}/metadata`, metadataBody());
  expect(metadata).toMatchObject({ status: 200, json: { keySpec: 'AES_256', keyStatus: 'ENABLED' } });
  const plaintext = randomBytes(32);
  const sealed = await curl(`keys/${store.externalKeyId}/encrypt`, encryptBody(plaintext, { cdiv: true }));
  expect(sealed.status).toBe(200);
  const opened = await curl(`keys/${store.externalKeyId}/decrypt`, decryptBody(sealed.json));
  expect(opened).toEqual({ status: 200, json: { plaintext: plaintext.toString('base64') } });
});

it('answers the unauthenticated management health check with 200 and no body, and 429 beyond 2 per second', async () => {
  const check = () => fetch(`${system.apiUrl}/v1/cckm/aws/custom-key-stores/${store.storeId}/health`, { method: 'POST' });
  const first = await check();
  expect(first.status).toBe(200);
  expect(await first.text()).toBe('');
  const burst = await Promise.all([check(), check(), check()]);
  expect(burst.map((r) => r.status)).toContain(429);
});
