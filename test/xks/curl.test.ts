/**
 * The second, independent signer: `curl --aws-sigv4` (spec Appendix D) against the HTTPS server
 * (trusting its certificate with --cacert), for every operation, and the failures a wrong
 * credential or region must produce.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { healthBody, metadataBody, encryptBody, decryptBody, type EncryptOutput } from './support/bodies';
import { conformanceBackend } from './support/backends';
import { SensitiveValues, startConformanceEnv, type ConformanceEnv, type ProvisionedStore } from './support/conformance-env';
import { curlSigV4Args, runCurl, type XksSigningCredential } from './support/signing';

let env: ConformanceEnv;
let store: ProvisionedStore;
let keyId: string;
const sensitive = new SensitiveValues();
let files = 0;

beforeAll(async () => {
  env = await startConformanceEnv(conformanceBackend());
  store = await env.backend.createStore({ enableSuccessAuditEvent: true });
  keyId = await env.backend.createKey(store.storeId);
});

afterAll(async () => {
  const logged = env.output.join('');
  for (const form of [...sensitive.forms(), store.credentials[0].secretAccessKey]) expect(logged).not.toContain(form);
  await env.close();
});

/** POSTs the body with curl, as Appendix D does (body from a file, Content-Type application/json). */
async function curl(operation: 'health' | 'metadata' | 'encrypt' | 'decrypt', body: unknown, options: { credential?: XksSigningCredential; region?: string; method?: string } = {}) {
  files += 1;
  const bodyFile = join(env.workDir, `request-${files}.json`);
  writeFileSync(bodyFile, JSON.stringify(body, null, 4));
  const result = await runCurl(
    curlSigV4Args({
      url: `${env.url}${env.path(store.storeId, operation, keyId)}`,
      region: options.region ?? store.region,
      credential: options.credential ?? store.credentials[0],
      bodyFile,
      caCertPath: env.caCertPath,
      method: options.method,
    }),
  );
  return { status: result.status, json: result.body ? JSON.parse(result.body) : undefined };
}

describe('requests signed by curl --aws-sigv4', () => {
  it('GetHealthStatus answers 200 with the spec fields', async () => {
    const { status, json } = await curl('health', healthBody());
    expect(status).toBe(200);
    expect(json).toMatchObject({ xksProxyFleetSize: expect.any(Number), ekmFleetDetails: [expect.objectContaining({ healthStatus: 'ACTIVE' })] });
  });

  it('GetKeyMetadata answers AES_256 / ENCRYPT, DECRYPT / ENABLED', async () => {
    const { status, json } = await curl('metadata', metadataBody());
    expect(status).toBe(200);
    expect(json).toMatchObject({ keySpec: 'AES_256', keyStatus: 'ENABLED' });
    expect(json.keyUsage.slice(0, 2)).toEqual(['ENCRYPT', 'DECRYPT']);
  });

  it('Encrypt then Decrypt round-trip, with AAD and CDIV', async () => {
    const plaintext = sensitive.random(32);
    const aad = sensitive.random(33);
    const sealed = await curl('encrypt', encryptBody(plaintext, { aad, cdiv: true }));
    expect(sealed.status).toBe(200);
    expect(sealed.json.ciphertextDataIntegrityValue).toEqual(expect.any(String));
    const opened = await curl('decrypt', decryptBody(sealed.json as EncryptOutput, { aad }));
    expect(opened).toEqual({ status: 200, json: { plaintext: plaintext.toString('base64') } });
  });

  it('a wrong secret or region answers 401 AuthenticationFailedException', async () => {
    const wrongSecret = await curl('health', healthBody(), { credential: { ...store.credentials[0], secretAccessKey: 'x'.repeat(44) } });
    expect([wrongSecret.status, wrongSecret.json.errorName]).toEqual([401, 'AuthenticationFailedException']);
    const wrongRegion = await curl('health', healthBody(), { region: 'ap-south-1' });
    expect(wrongRegion.status).toBe(401);
  });

  it('a GET answers 405', async () => {
    const result = await curl('metadata', metadataBody(), { method: 'GET' });
    expect(result.status).toBe(405);
  });
});
