/**
 * XKS Proxy API spec conformance, through the HTTPS server, against a real SoftHSM2 token, with
 * requests signed by @smithy/signature-v4. Each `describe` follows a section of
 * the XKS proxy API spec; every MUST is checked both ways (what must work, and what must fail).
 * curl --aws-sigv4 requests are in curl.test.ts.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect as connectTls } from 'node:tls';
import { decryptBody, encryptBody, healthBody, metadataBody, type EncryptOutput } from './support/bodies';
import { SensitiveValues, startConformanceEnv, type ConformanceEnv, type ProvisionedStore } from './support/conformance-env';
import { conformanceBackend } from './support/backends';
import { afterStalenessLimit } from './support/poll';

let env: ConformanceEnv;
let store: ProvisionedStore;
let keyId: string;
const sensitive = new SensitiveValues();

beforeAll(async () => {
  env = await startConformanceEnv(conformanceBackend());
  store = await env.backend.createStore({ enableSuccessAuditEvent: true });
  env.defaultCredential = store.credentials[0];
  keyId = await env.backend.createKey(store.storeId);
});

afterAll(async () => {
  // Logging (spec): plaintext MUST NOT be logged; nor AAD or secrets (README, "Tests").
  const logged = env.output.join('');
  for (const form of [...sensitive.forms(), ...store.credentials.map((c) => c.secretAccessKey)]) {
    expect(logged).not.toContain(form);
  }
  await env.close();
});

const path = (operation: 'health' | 'metadata' | 'encrypt' | 'decrypt', id = keyId, storeId = store.storeId) => env.path(storeId, operation, id);

async function encrypt(plaintext: Buffer, options: { aad?: Buffer; cdiv?: boolean; id?: string } = {}): Promise<EncryptOutput> {
  const { status, json } = await env.call(path('encrypt', options.id), encryptBody(plaintext, options));
  expect(status).toBe(200);
  return json as EncryptOutput;
}

function flip(base64: string, index = 0): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[index] ^= 0x01;
  return bytes.toString('base64');
}

describe('API content type and transport', () => {
  it('answers JSON with Content-Type application/json over TLS 1.2+ and HTTP/1.1', async () => {
    const response = await env.call(path('health'), healthBody());
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    expect(env.url).toMatch(/^https:\/\//);
  });

  it('keeps connections alive between requests', async () => {
    await env.call(path('health'), healthBody());
    expect((await env.call(path('health'), healthBody())).reusedSocket).toBe(true);
  });

  it.each([
    ['TLS 1.3 TLS_AES_256_GCM_SHA384', { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ciphers: 'TLS_AES_256_GCM_SHA384' }, 'TLS_AES_256_GCM_SHA384'],
    ['TLS 1.2 ECDHE AES-256-GCM SHA-384', { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384' }, /^TLS_ECDHE_(ECDSA|RSA)_WITH_AES_256_GCM_SHA384$/],
  ] as const)('negotiates %s with HTTP/1.1', async (_label, options, expected) => {
    const url = new URL(env.url);
    const { cipher, protocol } = await new Promise<{ cipher: string; protocol: string | false | null }>((resolve, reject) => {
      const socket = connectTls({ host: url.hostname, port: Number(url.port), servername: 'localhost', ca: readFileSync(env.caCertPath), ALPNProtocols: ['http/1.1'], ...options }, () => {
        resolve({ cipher: socket.getCipher().standardName, protocol: socket.alpnProtocol });
        socket.end();
      });
      socket.on('error', reject);
    });
    expect(cipher).toMatch(expected);
    expect([false, 'http/1.1']).toContain(protocol);
  });

  it('refuses TLS 1.1', async () => {
    const url = new URL(env.url);
    await expect(
      new Promise((resolve, reject) => {
        const socket = connectTls({ host: url.hostname, port: Number(url.port), servername: 'localhost', ca: readFileSync(env.caCertPath), minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }, () => resolve(socket.getProtocol()));
        socket.on('error', reject);
      }),
    ).rejects.toThrow();
  });

  it('answers a GET on each operation URI with 405 Method Not Allowed', async () => {
    for (const operation of ['health', 'metadata', 'encrypt', 'decrypt'] as const) {
      const response = await env.call(path(operation), undefined, { method: 'GET', rawBody: Buffer.alloc(0) });
      expect([operation, response.status]).toEqual([operation, 405]);
    }
  });

  it('answers GET /ping with 200 for load balancer health checks', async () => {
    const response = await env.call('/ping', undefined, { method: 'GET', rawBody: Buffer.alloc(0), unsigned: true });
    expect(response.status).toBe(200);
  });

  it('answers an invalid URI path with 404 InvalidUriPathException, also when validly signed', async () => {
    for (const bad of ['/kms/xks/v1/health', `${path('health')}x`, path('metadata').replace('/metadata', '/describe'), path('health', keyId, 'unknown-store')]) {
      const response = await env.call(bad, healthBody());
      expect([bad, response.status, response.json?.errorName]).toEqual([bad, 404, 'InvalidUriPathException']);
    }
    for (const bad of ['/kms/xks/v1/health', `${path('health')}x`, path('metadata').replace('/metadata', '/describe')]) {
      const response = await env.call(bad, healthBody(), { unsigned: true });
      expect([bad, response.status, response.json?.errorName]).toEqual([bad, 404, 'InvalidUriPathException']);
    }
  });

  it('answers an unsigned request for a store id it does not know with 401, without looking the store up', async () => {
    const response = await env.call(path('health', keyId, 'unknown-store'), healthBody(), { unsigned: true });
    expect([response.status, response.json?.errorName]).toEqual([401, 'AuthenticationFailedException']);
  });
});

describe('GetKeyMetadata', () => {
  it('returns keySpec AES_256, keyUsage with ENCRYPT and DECRYPT, keyStatus ENABLED', async () => {
    const { status, json } = await env.call(path('metadata'), metadataBody());
    expect(status).toBe(200);
    expect(json.keySpec).toBe('AES_256');
    expect(json.keyUsage.slice(0, 2)).toEqual(['ENCRYPT', 'DECRYPT']);
    expect(json.keyUsage.length).toBeLessThanOrEqual(10);
    expect(json.keyStatus).toBe('ENABLED');
  });

  it('reports the usage the HSM key really has (decrypt-only key)', async () => {
    const decryptOnly = await env.backend.createKey(store.storeId, ['CKA_DECRYPT', 'CKA_SENSITIVE']);
    expect((await env.call(path('metadata', decryptOnly), metadataBody())).json.keyUsage).toEqual(['DECRYPT']);
  });

  it('does not require kmsKeyArn (CreateKey sends none)', async () => {
    const body = metadataBody();
    expect((body.requestMetadata as Record<string, unknown>).kmsKeyArn).toBeUndefined();
    expect((await env.call(path('metadata'), body)).status).toBe(200);
  });

  it('answers KeyNotFoundException for an unknown external key id', async () => {
    const { status, json } = await env.call(path('metadata', 'no-such-key'), metadataBody());
    expect([status, json.errorName]).toEqual([404, 'KeyNotFoundException']);
  });

  it('answers ValidationException for an external key id longer than 128 characters or with other characters', async () => {
    for (const id of ['k'.repeat(129), 'key~1', 'key%2F1']) {
      const { status, json } = await env.call(path('metadata', id), metadataBody());
      expect([id, status, json.errorName]).toEqual([id, 400, 'ValidationException']);
    }
  });
});

describe('Encrypt', () => {
  it('returns ciphertext (same length as plaintext), ciphertextMetadata ≤ 20 bytes, a 12-byte IV and a 16-byte tag', async () => {
    const plaintext = sensitive.random(32);
    const sealed = await encrypt(plaintext, { aad: sensitive.random(33) });
    expect(Buffer.from(sealed.ciphertext, 'base64')).toHaveLength(32);
    expect(Buffer.from(sealed.ciphertextMetadata as string, 'base64').length).toBeLessThanOrEqual(20);
    expect([12, 16]).toContain(Buffer.from(sealed.initializationVector, 'base64').length);
    expect(Buffer.from(sealed.authenticationTag, 'base64')).toHaveLength(16);
    expect(sealed.ciphertextDataIntegrityValue).toBeUndefined();
  });

  it('processes 4,300 bytes of plaintext and 8,192 bytes of AAD', async () => {
    const plaintext = sensitive.random(4300);
    const aad = sensitive.random(8192);
    const sealed = await encrypt(plaintext, { aad, cdiv: true });
    const opened = await env.call(path('decrypt'), decryptBody(sealed, { aad }));
    expect(opened.json.plaintext).toBe(plaintext.toString('base64'));
  });

  it('returns the CDIV (Appendix C) when ciphertextDataIntegrityValueAlgorithm is SHA_256', async () => {
    const aad = sensitive.random(40);
    const sealed = await encrypt(sensitive.random(32), { aad, cdiv: true });
    const concatenated = Buffer.concat([aad, ...[sealed.ciphertextMetadata as string, sealed.initializationVector, sealed.ciphertext, sealed.authenticationTag].map((f) => Buffer.from(f, 'base64'))]);
    expect(sealed.ciphertextDataIntegrityValue).toBe(createHash('sha256').update(concatenated).digest('base64'));
  });

  it('uses a fresh IV per encryption', async () => {
    const plaintext = sensitive.random(16);
    const ivs = new Set<string>();
    for (let i = 0; i < 10; i += 1) ivs.add((await encrypt(plaintext)).initializationVector);
    expect(ivs.size).toBe(10);
  });

  it.each([
    ['no plaintext', { plaintext: undefined }],
    ['URL-safe Base64 plaintext', { plaintext: 'ab-_' }],
    ['encryptionAlgorithm other than AES_GCM', { encryptionAlgorithm: 'AES_CBC' }],
    ['no encryptionAlgorithm', { encryptionAlgorithm: undefined }],
    ['a CDIV algorithm other than SHA_256', { ciphertextDataIntegrityValueAlgorithm: 'MD5' }],
    ['AAD that is not Base64', { additionalAuthenticatedData: 'not base64!' }],
    ['no requestMetadata', { requestMetadata: undefined }],
    ['no kmsKeyArn', { requestMetadata: { awsPrincipalArn: 'arn:aws:iam::1:user/a', kmsOperation: 'Encrypt', kmsRequestId: 'r' } }],
    ['no awsPrincipalArn', { requestMetadata: { kmsKeyArn: 'arn:aws:kms:us-east-1:1:key/k', kmsOperation: 'Encrypt', kmsRequestId: 'r' } }],
    ['no kmsRequestId', { requestMetadata: { awsPrincipalArn: 'a', kmsKeyArn: 'k', kmsOperation: 'Encrypt' } }],
    ['no kmsOperation', { requestMetadata: { awsPrincipalArn: 'a', kmsKeyArn: 'k', kmsRequestId: 'r' } }],
  ])('answers ValidationException for %s', async (_label, change) => {
    const body: Record<string, unknown> = { ...encryptBody(sensitive.random(8)), ...change };
    for (const [field, value] of Object.entries(change)) if (value === undefined) delete body[field];
    const { status, json } = await env.call(path('encrypt'), body);
    expect([status, json.errorName]).toEqual([400, 'ValidationException']);
  });

  it('never rejects an unknown kmsOperation, treats kmsRequestId as opaque, and accepts 2,048-character ARNs', async () => {
    const arn = `arn:aws:iam::123456789012:role/${'x'.repeat(2048 - 31)}`;
    const body = encryptBody(sensitive.random(8), {
      extra: { requestMetadata: { awsPrincipalArn: arn, kmsKeyArn: arn, kmsOperation: 'BulkEncrypt', kmsRequestId: '!not-a-uuid!', kmsViaService: 'ebs', awsSourceVpc: 'vpc-1', awsSourceVpce: 'vpce-1', newField: 1 } },
    });
    expect((await env.call(path('encrypt'), body)).status).toBe(200);
  });

  it('answers InvalidKeyUsageException for a key without CKA_ENCRYPT, and for CDIV on a key without CKA_DECRYPT', async () => {
    const decryptOnly = await env.backend.createKey(store.storeId, ['CKA_DECRYPT']);
    const encryptOnly = await env.backend.createKey(store.storeId, ['CKA_ENCRYPT']);
    expect((await env.call(path('encrypt', decryptOnly), encryptBody(sensitive.random(8)))).json.errorName).toBe('InvalidKeyUsageException');
    expect((await env.call(path('encrypt', encryptOnly), encryptBody(sensitive.random(8)))).status).toBe(200);
    const { status, json } = await env.call(path('encrypt', encryptOnly), encryptBody(sensitive.random(8), { cdiv: true }));
    expect([status, json.errorName]).toEqual([400, 'InvalidKeyUsageException']);
  });

  it('answers KeyNotFoundException for an unknown key', async () => {
    expect((await env.call(path('encrypt', 'missing'), encryptBody(sensitive.random(8)))).json.errorName).toBe('KeyNotFoundException');
  });
});

describe('Decrypt', () => {
  it('returns the plaintext (same size as the ciphertext)', async () => {
    const plaintext = sensitive.random(48);
    const aad = sensitive.random(20);
    const sealed = await encrypt(plaintext, { aad });
    const { status, json } = await env.call(path('decrypt'), decryptBody(sealed, { aad }));
    expect(status).toBe(200);
    expect(json).toEqual({ plaintext: plaintext.toString('base64') });
  });

  it('decrypts without AAD when none was used', async () => {
    const plaintext = sensitive.random(16);
    const sealed = await encrypt(plaintext);
    expect((await env.call(path('decrypt'), decryptBody(sealed))).json.plaintext).toBe(plaintext.toString('base64'));
  });

  it.each<[string, (s: EncryptOutput) => EncryptOutput, 'same' | 'other' | 'none']>([
    ['a different AAD', (s) => s, 'other'],
    ['no AAD where one was used', (s) => s, 'none'],
    ['a modified ciphertext', (s) => ({ ...s, ciphertext: flip(s.ciphertext) }), 'same'],
    ['a modified tag', (s) => ({ ...s, authenticationTag: flip(s.authenticationTag, 15) }), 'same'],
    ['a modified IV', (s) => ({ ...s, initializationVector: flip(s.initializationVector, 11) }), 'same'],
    ['a modified ciphertextMetadata', (s) => ({ ...s, ciphertextMetadata: flip(s.ciphertextMetadata as string, 4) }), 'same'],
    ['a removed ciphertextMetadata', (s) => ({ ...s, ciphertextMetadata: undefined }), 'same'],
    ['a 16-byte IV', (s) => ({ ...s, initializationVector: Buffer.alloc(16, 7).toString('base64') }), 'same'],
  ])('answers InvalidCiphertextException for %s', async (_label, change, aadChoice) => {
    const aad = sensitive.random(24);
    const sealed = await encrypt(sensitive.random(24), { aad });
    const sentAad = aadChoice === 'same' ? aad : aadChoice === 'other' ? sensitive.random(24) : undefined;
    const { status, json } = await env.call(path('decrypt'), decryptBody(change(sealed), { aad: sentAad }));
    expect([status, json.errorName]).toEqual([400, 'InvalidCiphertextException']);
  });

  it('detects ciphertextMetadata passed as AAD instead (the lengths in the HSM AAD)', async () => {
    const sealed = await encrypt(sensitive.random(24));
    const { json } = await env.call(path('decrypt'), decryptBody({ ...sealed, ciphertextMetadata: undefined }, { aad: Buffer.from(sealed.ciphertextMetadata as string, 'base64') }));
    expect(json.errorName).toBe('InvalidCiphertextException');
  });

  it.each([
    ['a 13-byte IV', { initializationVector: Buffer.alloc(13).toString('base64') }],
    ['a 12-byte tag', { authenticationTag: Buffer.alloc(12).toString('base64') }],
    ['21 bytes of ciphertextMetadata', { ciphertextMetadata: Buffer.alloc(21).toString('base64') }],
    ['no ciphertext', { ciphertext: undefined }],
    ['no tag', { authenticationTag: undefined }],
    ['no IV', { initializationVector: undefined }],
    ['no encryptionAlgorithm', { encryptionAlgorithm: undefined }],
  ])('answers ValidationException for %s', async (_label, change) => {
    const sealed = await encrypt(sensitive.random(8));
    const body: Record<string, unknown> = { ...decryptBody(sealed), ...change };
    for (const [field, value] of Object.entries(change)) if (value === undefined) delete body[field];
    const { status, json } = await env.call(path('decrypt'), body);
    expect([status, json.errorName]).toEqual([400, 'ValidationException']);
  });

  it('answers InvalidKeyUsageException for a key without CKA_DECRYPT', async () => {
    const encryptOnly = await env.backend.createKey(store.storeId, ['CKA_ENCRYPT']);
    const sealed = await encrypt(sensitive.random(8), { id: encryptOnly });
    expect((await env.call(path('decrypt', encryptOnly), decryptBody(sealed))).json.errorName).toBe('InvalidKeyUsageException');
  });

  it('cannot decrypt a ciphertext of one key with another key', async () => {
    const other = await env.backend.createKey(store.storeId);
    const sealed = await encrypt(sensitive.random(8));
    expect((await env.call(path('decrypt', other), decryptBody(sealed))).json.errorName).toBe('InvalidCiphertextException');
  });
});

describe('GetHealthStatus', () => {
  it('returns every field of the spec after a deep check', async () => {
    const { status, json } = await env.call(path('health'), healthBody());
    expect(status).toBe(200);
    expect(Number.isInteger(json.xksProxyFleetSize) && json.xksProxyFleetSize > 0).toBe(true);
    expect(typeof json.xksProxyVendor).toBe('string');
    expect(typeof json.xksProxyModel).toBe('string');
    expect(typeof json.ekmVendor).toBe('string');
    expect(json.ekmFleetDetails.length).toBeGreaterThanOrEqual(1);
    expect(json.ekmFleetDetails.length).toBeLessThanOrEqual(10);
    for (const detail of json.ekmFleetDetails) {
      expect(detail).toEqual({ id: expect.any(String), model: expect.any(String), healthStatus: expect.stringMatching(/^(ACTIVE|DEGRADED|UNAVAILABLE)$/) });
    }
  });

  it('answers without requestMetadata.kmsRequestId or kmsOperation (no ValidationException for this API) and accepts any kmsOperation value', async () => {
    // The spec's error table lists ValidationException for every API but this one.
    expect((await env.call(path('health'), { requestMetadata: { kmsRequestId: 'r' } })).status).toBe(200);
    expect((await env.call(path('health'), { requestMetadata: { kmsOperation: 'KmsHealthCheck' } })).status).toBe(200);
    for (const kmsOperation of ['CreateCustomKeyStore', 'ConnectCustomKeyStore', 'UpdateCustomKeyStore', 'KmsHealthCheck', 'SomethingNew']) {
      expect((await env.call(path('health'), { requestMetadata: { kmsOperation, kmsRequestId: 'r' } })).status).toBe(200);
    }
  });
});

describe('Error codes', () => {
  it('sends {errorName, errorMessage} with an errorMessage under 512 printable ASCII characters', async () => {
    const responses = await Promise.all([
      env.call(path('encrypt'), { requestMetadata: 'x'.repeat(3000) }),
      env.call(path('health'), healthBody(), { unsigned: true }),
      env.call('/nothing', {}, { unsigned: true }),
      env.call(path('decrypt', 'missing'), decryptBody({ ciphertext: 'AAAA', ciphertextMetadata: 'AQAAAAA=', initializationVector: Buffer.alloc(12).toString('base64'), authenticationTag: Buffer.alloc(16).toString('base64') })),
    ]);
    for (const response of responses) {
      expect(Object.keys(response.json).sort()).toEqual(['errorMessage', 'errorName']);
      expect(response.json.errorMessage.length).toBeLessThan(512);
      expect(response.json.errorMessage).toMatch(/^[\x20-\x7e]*$/);
    }
  });
});

describe('Authentication (SigV4)', () => {
  it('rejects unsigned requests and wrong signatures with 401 AuthenticationFailedException', async () => {
    const unsigned = await env.call(path('health'), healthBody(), { unsigned: true });
    expect([unsigned.status, unsigned.json.errorName]).toEqual([401, 'AuthenticationFailedException']);
    const wrongSecret = await env.call(path('health'), healthBody(), { credential: { ...store.credentials[0], secretAccessKey: 'wrong-secret-wrong-secret-wrong-secret-wrong' } });
    expect(wrongSecret.status).toBe(401);
  });

  it('rejects a signature for another region or service, and one older than 5 minutes', async () => {
    expect((await env.call(path('health'), healthBody(), { region: 'eu-west-1' })).status).toBe(401);
    expect((await env.call(path('health'), healthBody(), { signingDate: new Date(Date.now() - 5 * 60_000 - 30_000) })).status).toBe(401);
    expect((await env.call(path('health'), healthBody(), { signingDate: new Date(Date.now() + 5 * 60_000 + 30_000) })).status).toBe(401);
    expect((await env.call(path('health'), healthBody(), { signingDate: new Date(Date.now() - 4 * 60_000) })).status).toBe(200);
  });

  it('rejects a request whose body was changed after signing', async () => {
    // The signer hashes one body, the server receives another.
    const body = Buffer.from(JSON.stringify(healthBody()));
    const signedFor = Buffer.from(JSON.stringify(healthBody()));
    const { signWithSmithy } = await import('./support/signing');
    const headers = await signWithSmithy({ credential: store.credentials[0], region: 'us-east-1', host: env.host, path: path('health'), body: signedFor });
    const response = await env.call(path('health'), undefined, { unsigned: true, rawBody: body, extraHeaders: { authorization: headers.authorization, 'x-amz-date': headers['x-amz-date'], 'x-amz-content-sha256': headers['x-amz-content-sha256'] } });
    expect(response.status).toBe(401);
  });

  it('supports two credentials at once and stops accepting one that is deleted within 5 s (rotation)', async () => {
    const second = await env.backend.addCredential(store.storeId);
    await afterStalenessLimit();
    expect((await env.call(path('health'), healthBody(), { credential: second })).status).toBe(200);
    expect((await env.call(path('health'), healthBody(), { credential: store.credentials[0] })).status).toBe(200);
    await env.backend.deleteCredential(store.storeId, second.accessKeyId);
    await afterStalenessLimit();
    const revoked = await env.call(path('health'), healthBody(), { credential: second });
    expect([revoked.status, revoked.json.errorName]).toEqual([401, 'AuthenticationFailedException']);
    expect((await env.call(path('health'), healthBody(), { credential: store.credentials[0] })).status).toBe(200);
  });
});

describe('mTLS', () => {
  let mtlsStore: ProvisionedStore;
  let mtlsKey: string;

  beforeAll(async () => {
    mtlsStore = await env.backend.createStore({ mtlsEnabled: true });
    mtlsKey = await env.backend.createKey(mtlsStore.storeId);
  });

  it('serves a store with mTLS to a client certificate from the trusted CA with the KMS subject', async () => {
    const response = await env.call(path('metadata', mtlsKey, mtlsStore.storeId), metadataBody(), { credential: mtlsStore.credentials[0], clientCert: env.pki.kms });
    expect(response.status).toBe(200);
  });

  it('refuses a store with mTLS to clients without a certificate or with another subject', async () => {
    const none = await env.call(path('metadata', mtlsKey, mtlsStore.storeId), metadataBody(), { credential: mtlsStore.credentials[0] });
    expect([none.status, none.json.errorName]).toEqual([401, 'AuthenticationFailedException']);
    const other = await env.call(path('metadata', mtlsKey, mtlsStore.storeId), metadataBody(), { credential: mtlsStore.credentials[0], clientCert: env.pki.otherSubject });
    expect(other.status).toBe(401);
  });

  it('ends the connection of a client whose certificate chains to another CA', async () => {
    await expect(env.call(path('health', undefined, mtlsStore.storeId), healthBody(), { credential: mtlsStore.credentials[0], clientCert: env.pki.untrusted })).rejects.toThrow();
  });

  it('still serves stores without mTLS to clients without a certificate', async () => {
    expect((await env.call(path('health'), healthBody())).status).toBe(200);
  });
});

describe('Logging', () => {
  it('writes one structured line per request with kmsRequestId, operation, store, key, result and latency', async () => {
    const body = encryptBody(sensitive.random(8));
    const kmsRequestId = (body.requestMetadata as Record<string, string>).kmsRequestId;
    await env.call(path('encrypt'), body);
    const lines = env.output.join('').split('\n').filter((line) => line.includes(kmsRequestId));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ kmsRequestId, operation: 'Encrypt', keyStoreId: store.storeId, externalKeyId: keyId, result: 'Success', latencyMs: expect.any(Number) });
  });

  it('with success audit events off, writes the compact line for a success and the full one for a failure', async () => {
    const quiet = await env.backend.createStore({ enableSuccessAuditEvent: false });
    const quietKey = await env.backend.createKey(quiet.storeId);
    const ok = encryptBody(sensitive.random(8));
    const bad = encryptBody(sensitive.random(8), { extra: { encryptionAlgorithm: 'NOPE' } });
    await env.call(path('encrypt', quietKey, quiet.storeId), ok, { credential: quiet.credentials[0] });
    await env.call(path('encrypt', quietKey, quiet.storeId), bad, { credential: quiet.credentials[0] });
    const lines = env.output.join('').split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
    const okLine = lines.find((line) => line.kmsRequestId === (ok.requestMetadata as Record<string, string>).kmsRequestId);
    const badLine = lines.find((line) => line.kmsRequestId === (bad.requestMetadata as Record<string, string>).kmsRequestId);
    expect(okLine).toMatchObject({ operation: 'Encrypt', keyStoreId: quiet.storeId, externalKeyId: quietKey, result: 'Success', latencyMs: expect.any(Number) });
    expect(okLine).not.toHaveProperty('awsPrincipalArn');
    expect(okLine).not.toHaveProperty('kmsKeyArn');
    expect(badLine).toMatchObject({ result: 'ValidationException', awsPrincipalArn: expect.any(String), kmsKeyArn: expect.any(String) });
  });
});
