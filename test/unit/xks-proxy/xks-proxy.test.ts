import { randomBytes, createHash } from 'node:crypto';
import { HsmError } from '../../../lambdas/core/ports/hsm';
import { ciphertextDataIntegrityValue } from '../../../lambdas/xks-proxy/operations/ciphertext-format';
import { AUDIT_MESSAGE } from '../../../lambdas/xks-proxy/observability/audit';
import { decryptBody, encryptBody, healthBody, metadataBody, type EncryptOutput } from '../../xks/support/bodies';
import { CREDENTIAL, KEY_ID, operationPath, proxyFixture, REGION, SECOND_CREDENTIAL, STORE_ID } from '../../xks/support/proxy-fixture';
import { RecordingLogger } from '../../xks/support/fakes';
import { MemoryCredentialUsage } from '../../helpers/memory-credential-usage';

type Fixture = ReturnType<typeof proxyFixture>;

async function encryptWith(fixture: Fixture, plaintext: Buffer, options: { aad?: Buffer; cdiv?: boolean; keyId?: string } = {}): Promise<EncryptOutput> {
  const { status, json } = await fixture.call(operationPath('encrypt', options.keyId), encryptBody(plaintext, options));
  expect(status).toBe(200);
  return json as EncryptOutput;
}

describe('XksProxy routing', () => {
  it('answers GET /ping with 200 for load balancers, without a signature', async () => {
    const { proxy } = proxyFixture();
    const response = await proxy.handle({ method: 'GET', path: '/ping', headers: {}, rawBody: Buffer.alloc(0) });
    expect(response.status).toBe(200);
  });

  it.each(['health', 'metadata', 'encrypt', 'decrypt'] as const)('rejects GET on the %s URI with 405 Method Not Allowed', async (operation) => {
    const fixture = proxyFixture();
    const { response } = await fixture.call(operationPath(operation), {}, { method: 'GET' });
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe('POST');
  });

  it('answers an unknown path with 404 InvalidUriPathException, signed or not', async () => {
    const fixture = proxyFixture();
    for (const path of ['/kms/xks/v1/health', `${operationPath('health')}/extra`, operationPath('metadata').replace('metadata', 'sign')]) {
      for (const unsigned of [true, false]) {
        const { status, json } = await fixture.call(path, healthBody(), { unsigned });
        expect(status).toBe(404);
        expect(json).toEqual({ errorName: 'InvalidUriPathException', errorMessage: expect.any(String) });
      }
    }
  });

  it('answers a path prefix that belongs to no key store with InvalidUriPathException', async () => {
    const fixture = proxyFixture();
    const { status, json } = await fixture.call(operationPath('health', KEY_ID, 'no-such-store'), healthBody());
    expect(status).toBe(404);
    expect(json.errorName).toBe('InvalidUriPathException');
  });

  it('sends errors as application/json with errorName and a printable errorMessage under 512 characters', async () => {
    const fixture = proxyFixture();
    const { response, json } = await fixture.call(operationPath('health'), healthBody(), { unsigned: true });
    expect(response.headers['content-type']).toBe('application/json');
    expect(json.errorMessage.length).toBeLessThan(512);
    expect(json.errorMessage).toMatch(/^[\x20-\x7e]+$/);
  });
});

describe('XksProxy authentication', () => {
  it('rejects an unsigned request with 401 AuthenticationFailedException', async () => {
    const { status, json } = await proxyFixture().call(operationPath('health'), healthBody(), { unsigned: true });
    expect(status).toBe(401);
    expect(json.errorName).toBe('AuthenticationFailedException');
  });

  it('accepts either of two valid credentials and rejects one deleted from the store', async () => {
    const fixture = proxyFixture();
    expect((await fixture.call(operationPath('health'), healthBody(), { credential: SECOND_CREDENTIAL })).status).toBe(200);
    fixture.state.updateKeyStore(STORE_ID, { credentials: fixture.credentials.slice(0, 1) });
    expect((await fixture.call(operationPath('health'), healthBody(), { credential: SECOND_CREDENTIAL })).status).toBe(401);
    expect((await fixture.call(operationPath('health'), healthBody(), { credential: CREDENTIAL })).status).toBe(200);
  });

  it('rejects a request signed for another region or too long ago', async () => {
    const fixture = proxyFixture();
    expect((await fixture.call(operationPath('health'), healthBody(), { region: 'eu-west-1' })).json.errorName).toBe('AuthenticationFailedException');
    expect((await fixture.call(operationPath('health'), healthBody(), { signingDate: new Date(Date.now() - 6 * 60_000) })).status).toBe(401);
  });

  it('checks the signature before anything about the store or body', async () => {
    const fixture = proxyFixture();
    fixture.state.updateKeyStore(STORE_ID, { blocked: true });
    const { status } = await fixture.call(operationPath('encrypt'), {}, { unsigned: true });
    expect(status).toBe(401);
  });

  describe('mTLS', () => {
    const kmsCn = `cks.kms.${REGION}.amazonaws.com`;

    it('rejects requests without a verified client certificate when the store enables mTLS', async () => {
      const fixture = proxyFixture();
      fixture.state.updateKeyStore(STORE_ID, { mtlsEnabled: true });
      expect((await fixture.call(operationPath('health'), healthBody())).json.errorName).toBe('AuthenticationFailedException');
      expect((await fixture.call(operationPath('health'), healthBody(), { clientCertificateVerified: false, clientCertificateSubjectCn: kmsCn })).status).toBe(401);
      expect((await fixture.call(operationPath('health'), healthBody(), { clientCertificateVerified: true, clientCertificateSubjectCn: 'cks.kms.eu-west-1.amazonaws.com' })).status).toBe(401);
      expect((await fixture.call(operationPath('health'), healthBody(), { clientCertificateVerified: true, clientCertificateSubjectCn: kmsCn })).status).toBe(200);
    });

    it('requires the subject CN the store sets instead of AWS KMS\'s default', async () => {
      const fixture = proxyFixture();
      fixture.state.updateKeyStore(STORE_ID, { mtlsEnabled: true, mtlsClientSubjectCn: 'xks-client.example.com' });
      expect((await fixture.call(operationPath('health'), healthBody(), { clientCertificateVerified: true, clientCertificateSubjectCn: kmsCn })).status).toBe(401);
      expect((await fixture.call(operationPath('health'), healthBody(), { clientCertificateVerified: true, clientCertificateSubjectCn: 'xks-client.example.com' })).status).toBe(200);
    });

    it('does not ask for a certificate when the store does not enable mTLS', async () => {
      expect((await proxyFixture().call(operationPath('health'), healthBody())).status).toBe(200);
    });
  });
});

describe('GetHealthStatus', () => {
  it('answers the spec fields after a deep check with the health-check key', async () => {
    const fixture = proxyFixture();
    const { status, json } = await fixture.call(operationPath('health'), healthBody());
    expect(status).toBe(200);
    expect(json).toEqual({
      xksProxyFleetSize: 1,
      xksProxyVendor: 'xks-key-manager',
      xksProxyModel: expect.stringMatching(/^xks-key-manager XKS proxy \d+\.\d+\.\d+$/),
      ekmVendor: 'OpenDNSSEC',
      ekmFleetDetails: [{ id: 'partition-1', model: expect.any(String), healthStatus: 'ACTIVE' }],
    });
    expect(fixture.keyCrypto.calls).toMatchObject({ encrypt: 1, decrypt: 1 });
  });

  it('reuses a passing check within its age limit', async () => {
    const fixture = proxyFixture();
    await fixture.call(operationPath('health'), healthBody());
    await fixture.call(operationPath('health'), healthBody());
    expect(fixture.keyCrypto.calls.encrypt).toBe(1);
  });

  it('answers 200 with the HSM UNAVAILABLE when its check fails (the spec\'s status, not an error), and recovers', async () => {
    const fixture = proxyFixture({ health: { maxAgeMs: 0 } });
    const unavailable = [{ id: 'partition-1', model: expect.any(String), healthStatus: 'UNAVAILABLE' }];
    for (const failure of [new HsmError('TOKEN_NOT_FOUND', undefined, 'no token'), new HsmError('TIMEOUT', undefined, 'slow')]) {
      fixture.keyCrypto.failure = failure;
      const { status, json } = await fixture.call(operationPath('health'), healthBody());
      expect({ status, ekmFleetDetails: json.ekmFleetDetails }).toEqual({ status: 200, ekmFleetDetails: unavailable });
    }
    expect(fixture.logger.lines.filter((line) => line.message === 'deep health check failed').map((line) => line.attributes.errorName)).toEqual(['InternalException', 'DependencyTimeoutException']);
    fixture.keyCrypto.failure = undefined;
    expect((await fixture.call(operationPath('health'), healthBody())).json.ekmFleetDetails[0].healthStatus).toBe('ACTIVE');
  });

  it('a missing health-check key is never a key error for health: the HSM is UNAVAILABLE', async () => {
    const fixture = proxyFixture();
    fixture.state.updateKeyStore(STORE_ID, { healthCheckKey: { ...fixture.healthCheckKey, objectId: 'gone' } });
    const { status, json } = await fixture.call(operationPath('health'), healthBody());
    expect([status, json.ekmFleetDetails[0].healthStatus]).toEqual([200, 'UNAVAILABLE']);
  });

  it('lists one entry per HSM the partition reaches, each from its own check', async () => {
    const fixture = proxyFixture();
    const members = [{ id: 'hsm-a', tokenLabel: 'member-a' }, { id: 'hsm-b', tokenLabel: 'member-b' }];
    fixture.state.updateKeyStore(STORE_ID, { partitionMembers: members });
    const encrypt = fixture.keyCrypto.encrypt.bind(fixture.keyCrypto);
    fixture.keyCrypto.encrypt = async (key, plaintext, aad, options) => {
      if (key.partition.tokenLabel === 'member-b') throw new HsmError('DEVICE_ERROR', 'CKR_DEVICE_ERROR', 'member b is down');
      return encrypt(key, plaintext, aad, options);
    };
    const { json } = await fixture.call(operationPath('health'), healthBody());
    expect(json.ekmFleetDetails.map((entry: { id: string; healthStatus: string }) => [entry.id, entry.healthStatus])).toEqual([['hsm-a', 'ACTIVE'], ['hsm-b', 'UNAVAILABLE']]);
  });

  it('GET /ping refreshes a stale deep health result, so GetHealthStatus does no HSM work', async () => {
    let now = Date.now();
    const fixture = proxyFixture({ now: () => now });
    await fixture.proxy.warmUp();
    const afterWarmUp = fixture.keyCrypto.calls.encrypt;
    now += 20_000;
    await fixture.proxy.handle({ method: 'GET', path: '/ping', headers: {}, rawBody: Buffer.alloc(0) });
    expect(fixture.keyCrypto.calls.encrypt).toBe(afterWarmUp + 1);
    now += 10_000;
    expect((await fixture.call(operationPath('health'), healthBody(), { signingDate: new Date(now) })).status).toBe(200);
    expect(fixture.keyCrypto.calls.encrypt).toBe(afterWarmUp + 1);
  });

  it('accepts any kmsOperation, and answers a body without the metadata fields too (no ValidationException for this API)', async () => {
    const fixture = proxyFixture();
    expect((await fixture.call(operationPath('health'), { requestMetadata: { kmsOperation: 'NewKmsThing', kmsRequestId: 'x' } })).status).toBe(200);
    for (const body of [{ requestMetadata: { kmsOperation: 'KmsHealthCheck' } }, {}, []]) {
      expect((await fixture.call(operationPath('health'), body)).status).toBe(200);
    }
    expect((await fixture.call(operationPath('health'), undefined, { rawBody: Buffer.from('not json') })).status).toBe(200);
  });

  it('reports the configured fleet size', async () => {
    const fixture = proxyFixture({ fleetSize: 3 });
    expect((await fixture.call(operationPath('health'), healthBody())).json.xksProxyFleetSize).toBe(3);
  });
});

describe('GetKeyMetadata', () => {
  it('reports AES_256, the HSM key usage, and ENABLED', async () => {
    const { status, json } = await proxyFixture().call(operationPath('metadata'), metadataBody());
    expect(status).toBe(200);
    expect(json).toEqual({ keySpec: 'AES_256', keyUsage: ['ENCRYPT', 'DECRYPT', 'WRAP', 'UNWRAP'], keyStatus: 'ENABLED' });
  });

  it('reports DISABLED for a blocked HYOK key', async () => {
    const fixture = proxyFixture();
    fixture.state.updateKey(STORE_ID, KEY_ID, { blocked: true });
    expect((await fixture.call(operationPath('metadata'), metadataBody())).json.keyStatus).toBe('DISABLED');
  });

  it('reports exactly the usage of a decrypt-only key', async () => {
    const fixture = proxyFixture();
    const decryptOnly = fixture.keyCrypto.addKey('decrypt-only', ['CKA_DECRYPT', 'CKA_SENSITIVE']);
    fixture.state.putKey({ ...fixture.key, externalKeyId: 'retired', versions: [{ version: 0, key: decryptOnly }] });
    expect((await fixture.call(operationPath('metadata', 'retired'), metadataBody())).json.keyUsage).toEqual(['DECRYPT']);
  });

  it('answers KeyNotFoundException for an unknown key or a key missing from the HSM', async () => {
    const fixture = proxyFixture();
    expect((await fixture.call(operationPath('metadata', 'unknown'), metadataBody())).status).toBe(404);
    fixture.state.putKey({ ...fixture.key, externalKeyId: 'lost', versions: [{ version: 0, key: { ...fixture.sourceKey, objectId: 'gone' } }] });
    expect((await fixture.call(operationPath('metadata', 'lost'), metadataBody())).json.errorName).toBe('KeyNotFoundException');
  });

  it('answers ValidationException for an external key id outside the spec rules', async () => {
    const fixture = proxyFixture();
    for (const id of ['a'.repeat(129), 'bad%20id', 'a+b']) {
      const { status, json } = await fixture.call(operationPath('metadata', id), metadataBody());
      expect([status, json.errorName]).toEqual([400, 'ValidationException']);
    }
    expect((await fixture.call(operationPath('metadata', 'a'.repeat(128)), metadataBody())).json.errorName).toBe('KeyNotFoundException');
  });
});

describe('Encrypt and Decrypt', () => {
  it('round-trips with AAD; ciphertext length equals plaintext length; metadata ≤ 20 bytes', async () => {
    const fixture = proxyFixture();
    const plaintext = randomBytes(32);
    const aad = Buffer.from('project=nile,department=marketing');
    const sealed = await encryptWith(fixture, plaintext, { aad });
    expect(Buffer.from(sealed.ciphertext, 'base64')).toHaveLength(32);
    expect(Buffer.from(sealed.initializationVector, 'base64')).toHaveLength(12);
    expect(Buffer.from(sealed.authenticationTag, 'base64')).toHaveLength(16);
    expect(Buffer.from(sealed.ciphertextMetadata as string, 'base64').length).toBeLessThanOrEqual(20);
    expect(sealed.ciphertextDataIntegrityValue).toBeUndefined();
    const { status, json } = await fixture.call(operationPath('decrypt'), decryptBody(sealed, { aad }));
    expect(status).toBe(200);
    expect(json).toEqual({ plaintext: plaintext.toString('base64') });
  });

  it('handles 4,300 bytes of plaintext with 8,192 bytes of AAD', async () => {
    const fixture = proxyFixture();
    const plaintext = randomBytes(4300);
    const aad = randomBytes(8192);
    const sealed = await encryptWith(fixture, plaintext, { aad, cdiv: true });
    expect((await fixture.call(operationPath('decrypt'), decryptBody(sealed, { aad }))).json.plaintext).toBe(plaintext.toString('base64'));
  });

  it('returns the CDIV of Appendix C, computed over the response fields and the request AAD', async () => {
    const fixture = proxyFixture();
    const aad = randomBytes(40);
    const sealed = await encryptWith(fixture, randomBytes(16), { aad, cdiv: true });
    const expected = createHash('sha256')
      .update(Buffer.concat([aad, ...[sealed.ciphertextMetadata as string, sealed.initializationVector, sealed.ciphertext, sealed.authenticationTag].map((f) => Buffer.from(f, 'base64'))]))
      .digest('base64');
    expect(sealed.ciphertextDataIntegrityValue).toBe(expected);
    expect(fixture.keyCrypto.calls).toMatchObject({ encrypt: 1, decrypt: 1 });
  });

  it('returns the CDIV when there is no AAD', async () => {
    const fixture = proxyFixture();
    const sealed = await encryptWith(fixture, randomBytes(16), { cdiv: true });
    const fields = { ciphertextMetadata: sealed.ciphertextMetadata as string, initializationVector: sealed.initializationVector, ciphertext: sealed.ciphertext, authenticationTag: sealed.authenticationTag };
    expect(sealed.ciphertextDataIntegrityValue).toBe(
      ciphertextDataIntegrityValue(Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Buffer.from(v, 'base64')])) as never),
    );
  });

  it('encrypts again when the check decrypt fails once, and gives up after two failures', async () => {
    const fixture = proxyFixture();
    fixture.keyCrypto.corruptNextTags = 1;
    const sealed = await encryptWith(fixture, randomBytes(16), { cdiv: true });
    expect(fixture.keyCrypto.calls.encrypt).toBe(2);
    expect((await fixture.call(operationPath('decrypt'), decryptBody(sealed))).status).toBe(200);
    fixture.keyCrypto.corruptNextTags = 2;
    expect((await fixture.call(operationPath('encrypt'), encryptBody(randomBytes(16), { cdiv: true }))).json.errorName).toBe('InternalException');
  });

  it.each<[string, (sealed: EncryptOutput) => { sealed: EncryptOutput; aad?: Buffer }]>([
    ['a different AAD', (s) => ({ sealed: s, aad: Buffer.from('other') })],
    ['a missing AAD', (s) => ({ sealed: s })],
    ['a flipped tag bit', (s) => ({ sealed: { ...s, authenticationTag: flip(s.authenticationTag) }, aad: Buffer.from('aad') })],
    ['a flipped ciphertext bit', (s) => ({ sealed: { ...s, ciphertext: flip(s.ciphertext) }, aad: Buffer.from('aad') })],
    ['a flipped IV bit', (s) => ({ sealed: { ...s, initializationVector: flip(s.initializationVector) }, aad: Buffer.from('aad') })],
    ['a 16-byte IV', (s) => ({ sealed: { ...s, initializationVector: Buffer.alloc(16).toString('base64') }, aad: Buffer.from('aad') })],
    ['missing ciphertextMetadata', (s) => ({ sealed: { ...s, ciphertextMetadata: undefined }, aad: Buffer.from('aad') })],
    ['ciphertextMetadata of an unknown format', (s) => ({ sealed: { ...s, ciphertextMetadata: Buffer.from('key_version=1').toString('base64') }, aad: Buffer.from('aad') })],
    ['ciphertextMetadata naming a version the key does not have', (s) => ({ sealed: { ...s, ciphertextMetadata: Buffer.from([1, 0, 0, 0, 9]).toString('base64') }, aad: Buffer.from('aad') })],
  ])('answers InvalidCiphertextException for %s', async (_label, change) => {
    const fixture = proxyFixture();
    const sealed = await encryptWith(fixture, randomBytes(24), { aad: Buffer.from('aad') });
    const { sealed: altered, aad } = change(sealed);
    const { status, json } = await fixture.call(operationPath('decrypt'), decryptBody(altered, { aad }));
    expect([status, json.errorName]).toEqual([400, 'InvalidCiphertextException']);
  });

  it('detects ciphertextMetadata moved into the AAD (the spec example)', async () => {
    const fixture = proxyFixture();
    const sealed = await encryptWith(fixture, randomBytes(24));
    const metadata = Buffer.from(sealed.ciphertextMetadata as string, 'base64');
    const { json } = await fixture.call(operationPath('decrypt'), decryptBody({ ...sealed, ciphertextMetadata: undefined }, { aad: metadata }));
    expect(json.errorName).toBe('InvalidCiphertextException');
  });

  it('keeps old ciphertexts decryptable after a rotation (v0 → v1)', async () => {
    const fixture = proxyFixture();
    const first = randomBytes(32);
    const sealedV0 = await encryptWith(fixture, first);
    const sourceV1 = fixture.keyCrypto.addKey('source-v1');
    fixture.state.updateKey(STORE_ID, KEY_ID, { currentVersion: 1, versions: [...fixture.key.versions, { version: 1, key: sourceV1 }] });
    const second = randomBytes(32);
    const sealedV1 = await encryptWith(fixture, second);
    expect(sealedV1.ciphertextMetadata).not.toBe(sealedV0.ciphertextMetadata);
    expect((await fixture.call(operationPath('decrypt'), decryptBody(sealedV0))).json.plaintext).toBe(first.toString('base64'));
    expect((await fixture.call(operationPath('decrypt'), decryptBody(sealedV1))).json.plaintext).toBe(second.toString('base64'));
  });

  it('refuses to decrypt with a version past its expiry (InvalidStateException) and keeps decrypting with one not yet expired', async () => {
    // Arrange: v0 sealed, then a rotation to v1 that gives v0 an expiry.
    const fixture = proxyFixture();
    const first = randomBytes(32);
    const sealedV0 = await encryptWith(fixture, first);
    const sourceV1 = fixture.keyCrypto.addKey('source-v1');
    const [v0] = fixture.key.versions;
    const rotatedTo = (expiresAt: string) => fixture.state.updateKey(STORE_ID, KEY_ID, { currentVersion: 1, versions: [{ ...v0, expiresAt }, { version: 1, key: sourceV1 }] });
    // Act + Assert: not yet expired, it decrypts; once expired, it is refused, while v1 still works.
    rotatedTo(new Date(Date.now() + 3_600_000).toISOString());
    expect((await fixture.call(operationPath('decrypt'), decryptBody(sealedV0))).json.plaintext).toBe(first.toString('base64'));
    rotatedTo(new Date(Date.now() - 1_000).toISOString());
    const refused = await fixture.call(operationPath('decrypt'), decryptBody(sealedV0));
    expect(refused.status).toBe(400);
    expect(refused.json).toEqual({ errorName: 'InvalidStateException', errorMessage: 'The external key version of this ciphertext has expired' });
    const second = randomBytes(32);
    expect((await fixture.call(operationPath('decrypt'), decryptBody(await encryptWith(fixture, second)))).json.plaintext).toBe(second.toString('base64'));
  });

  it('answers InvalidKeyUsageException for encrypt with a key lacking CKA_ENCRYPT and decrypt lacking CKA_DECRYPT', async () => {
    const fixture = proxyFixture();
    const decryptOnly = fixture.keyCrypto.addKey('decrypt-only', ['CKA_DECRYPT']);
    const encryptOnly = fixture.keyCrypto.addKey('encrypt-only', ['CKA_ENCRYPT']);
    fixture.state.putKey({ ...fixture.key, externalKeyId: 'decrypt-only', versions: [{ version: 0, key: decryptOnly }] });
    fixture.state.putKey({ ...fixture.key, externalKeyId: 'encrypt-only', versions: [{ version: 0, key: encryptOnly }] });
    expect((await fixture.call(operationPath('encrypt', 'decrypt-only'), encryptBody(randomBytes(8)))).json.errorName).toBe('InvalidKeyUsageException');
    const sealed = await encryptWith(fixture, randomBytes(8), { keyId: 'encrypt-only' });
    expect((await fixture.call(operationPath('decrypt', 'encrypt-only'), decryptBody(sealed))).json.errorName).toBe('InvalidKeyUsageException');
    // With a CDIV the proxy must prove the ciphertext decrypts, which an encrypt-only key cannot.
    expect((await fixture.call(operationPath('encrypt', 'encrypt-only'), encryptBody(randomBytes(8), { cdiv: true }))).json.errorName).toBe('InvalidKeyUsageException');
  });

  it('answers InvalidStateException for a blocked HYOK key, and works again once unblocked', async () => {
    const fixture = proxyFixture();
    const sealed = await encryptWith(fixture, randomBytes(8));
    fixture.state.updateKey(STORE_ID, KEY_ID, { blocked: true });
    expect((await fixture.call(operationPath('encrypt'), encryptBody(randomBytes(8)))).json.errorName).toBe('InvalidStateException');
    expect((await fixture.call(operationPath('decrypt'), decryptBody(sealed))).json.errorName).toBe('InvalidStateException');
    fixture.state.updateKey(STORE_ID, KEY_ID, { blocked: false });
    expect((await fixture.call(operationPath('decrypt'), decryptBody(sealed))).status).toBe(200);
  });

  it('answers InvalidStateException on every operation of a blocked store', async () => {
    const fixture = proxyFixture();
    const sealed = await encryptWith(fixture, randomBytes(8));
    fixture.state.updateKeyStore(STORE_ID, { blocked: true });
    for (const [operation, body] of [['health', healthBody()], ['metadata', metadataBody()], ['encrypt', encryptBody(randomBytes(8))], ['decrypt', decryptBody(sealed)]] as const) {
      const { status, json } = await fixture.call(operationPath(operation), body);
      expect([operation, status, json.errorName]).toEqual([operation, 400, 'InvalidStateException']);
    }
  });

  it('maps HSM failures: timeout → 503, device error → 500, unknown key object → 404', async () => {
    const fixture = proxyFixture();
    fixture.keyCrypto.failure = new HsmError('TIMEOUT', undefined, 'slow');
    expect((await fixture.call(operationPath('encrypt'), encryptBody(randomBytes(8)))).status).toBe(503);
    fixture.keyCrypto.failure = new HsmError('DEVICE_ERROR', 'CKR_DEVICE_ERROR', 'C_Encrypt failed: CKR_DEVICE_ERROR');
    const { status, json } = await fixture.call(operationPath('encrypt'), encryptBody(randomBytes(8)));
    expect([status, json.errorName]).toEqual([500, 'InternalException']);
    expect(json.errorMessage).not.toContain('CKR_');
    fixture.keyCrypto.failure = undefined;
    fixture.state.putKey({ ...fixture.key, externalKeyId: 'lost', versions: [{ version: 0, key: { ...fixture.sourceKey, objectId: 'gone' } }] });
    expect((await fixture.call(operationPath('encrypt', 'lost'), encryptBody(randomBytes(8)))).json.errorName).toBe('KeyNotFoundException');
  });

  it('answers ValidationException (never 500) for malformed bodies', async () => {
    const fixture = proxyFixture();
    for (const rawBody of ['', '{', '[]', 'null', '{"requestMetadata":{}}', '{"plaintext":"@@"}'].map((s) => Buffer.from(s))) {
      const { status, json } = await fixture.call(operationPath('encrypt'), undefined, { rawBody });
      expect([status, json.errorName]).toEqual([400, 'ValidationException']);
    }
  });

  it('gives each request one deadline, 200 ms from arrival, that the encrypt and the CDIV check-decrypt both draw from', async () => {
    // Arrange
    const fixture = proxyFixture();
    const encrypt = jest.spyOn(fixture.keyCrypto, 'encrypt');
    const decrypt = jest.spyOn(fixture.keyCrypto, 'decrypt');
    const before = Date.now();
    // Act
    const { status } = await fixture.call(operationPath('encrypt'), encryptBody(randomBytes(8), { cdiv: true }));
    // Assert
    expect(status).toBe(200);
    const deadlineAt = (encrypt.mock.calls[0][3] as unknown as { deadlineAt: number }).deadlineAt;
    expect(decrypt.mock.calls[0][3]).toEqual({ deadlineAt });
    expect(deadlineAt).toBeGreaterThanOrEqual(before + 200);
    expect(deadlineAt).toBeLessThanOrEqual(Date.now() + 200);
  });

  it('answers DependencyTimeoutException once the deadline has passed, whichever step is waiting', async () => {
    const fixture = proxyFixture({ requestTimeoutMs: 30 });
    // The state answers after 20 ms, the HSM after another 20: each within 30 ms, both not.
    const getKey = fixture.state.getKey.bind(fixture.state);
    fixture.state.getKey = (storeId, keyId) => new Promise((resolve) => setTimeout(() => resolve(getKey(storeId, keyId)), 20));
    const encrypt = fixture.keyCrypto.encrypt.bind(fixture.keyCrypto);
    fixture.keyCrypto.encrypt = async (_key, _plaintext, _aad, options) => {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, (options?.deadlineAt ?? 0) - Date.now())));
      throw new HsmError('TIMEOUT', undefined, 'the fake HSM waited for the whole deadline');
    };
    const { status, json } = await fixture.call(operationPath('encrypt'), encryptBody(randomBytes(8)));
    expect([status, json.errorName]).toEqual([503, 'DependencyTimeoutException']);
    fixture.keyCrypto.encrypt = encrypt;
  });

  it('answers DependencyTimeoutException when the state source does not answer in time', async () => {
    const fixture = proxyFixture({ requestTimeoutMs: 20 });
    fixture.state.getKeyStore = () => new Promise(() => undefined);
    expect((await fixture.call(operationPath('health'), healthBody())).json.errorName).toBe('DependencyTimeoutException');
  });
});

describe('warm-up', () => {
  it('caches every store, its secrets, a deep health result and every key with its HSM key, so the first request reads nothing', async () => {
    // Arrange
    const fixture = proxyFixture({ stateMaxAgeMs: 4_000 });
    const secretReads = jest.spyOn(fixture.secrets, 'get');
    const describeKey = jest.spyOn(fixture.keyCrypto, 'describe');
    // Act
    const warm = await fixture.proxy.warmUp();
    const reads = { ...fixture.state.reads };
    const hsmCalls = { ...fixture.keyCrypto.calls };
    const secretsRead = secretReads.mock.calls.length;
    const described = describeKey.mock.calls.map(([key]) => key);
    await fixture.call(operationPath('health'), healthBody());
    await fixture.call(operationPath('metadata'), metadataBody());
    // Assert
    expect(warm).toEqual({ keyStores: 1, keys: 1, failures: [] });
    expect(described).toEqual([fixture.sourceKey]);
    expect(fixture.state.reads).toEqual(reads);
    expect(secretReads.mock.calls.length).toBe(secretsRead);
    expect(fixture.keyCrypto.calls.encrypt).toBe(hsmCalls.encrypt); // the health request used the warm-up's result
  });

  it('rehearses every operation without a trace: lines to the rehearsal logger only, the HSM with the health-check key only, the last use written again as it was', async () => {
    // Arrange
    const credentialUsage = new MemoryCredentialUsage();
    await credentialUsage.recordUse(STORE_ID, 'cred-1', new Date(1_000));
    const recordUse = jest.spyOn(credentialUsage, 'recordUse');
    const rehearsalLogger = new RecordingLogger();
    const fixture = proxyFixture({ stateMaxAgeMs: 4_000 }, { credentialUsage, rehearsalLogger });
    const encrypt = jest.spyOn(fixture.keyCrypto, 'encrypt');
    const decrypt = jest.spyOn(fixture.keyCrypto, 'decrypt');
    // Act
    await fixture.proxy.warmUp();
    await new Promise((resolve) => setImmediate(resolve));
    // Assert
    expect(fixture.logger.lines).toEqual([]);
    const rehearsed = rehearsalLogger.lines.map((line) => `${line.attributes.operation} ${line.attributes.result}`);
    expect(new Set(rehearsed)).toEqual(new Set(['GetHealthStatus Success', 'GetKeyMetadata Success', 'Encrypt Success', 'Decrypt Success']));
    expect(rehearsed.length).toBeGreaterThan(4); // several rounds
    const keysUsed = [...encrypt.mock.calls, ...decrypt.mock.calls].map(([key]) => key.objectId);
    expect(keysUsed.length).toBeGreaterThan(2); // the rehearsal's Encrypts and Decrypts, besides the deep health check's
    expect(new Set(keysUsed)).toEqual(new Set([fixture.healthCheckKey.objectId]));
    expect(recordUse.mock.calls).toEqual([[STORE_ID, 'cred-1', new Date(1_000)]]);
    expect((await credentialUsage.lastUses(STORE_ID)).get('cred-1')).toEqual(new Date(1_000));
  });

  it('writes no credential use at init for a credential that has none recorded', async () => {
    const credentialUsage = new MemoryCredentialUsage();
    const recordUse = jest.spyOn(credentialUsage, 'recordUse');
    const fixture = proxyFixture({ stateMaxAgeMs: 4_000 }, { credentialUsage });
    await fixture.proxy.warmUp();
    await new Promise((resolve) => setImmediate(resolve));
    expect(recordUse).not.toHaveBeenCalled();
    expect((await credentialUsage.lastUses(STORE_ID)).size).toBe(0);
  });

  it('reports a store whose HSM fails, and still warms the others', async () => {
    const fixture = proxyFixture();
    fixture.keyCrypto.failure = new HsmError('TOKEN_NOT_FOUND', undefined, 'gone');
    const warm = await fixture.proxy.warmUp();
    expect(warm.keyStores).toBe(0);
    expect(warm.failures.map((failure) => failure.id)).toEqual([STORE_ID, `${STORE_ID}/${KEY_ID}`]);
  });
});

describe('audit log', () => {
  it('writes one line per request with kmsRequestId, operation, store, key, result and latency', async () => {
    const fixture = proxyFixture();
    const body = encryptBody(randomBytes(8));
    await fixture.call(operationPath('encrypt'), body);
    expect(fixture.logger.lines).toHaveLength(1);
    expect(fixture.logger.lines[0]).toEqual({
      level: 'info',
      message: AUDIT_MESSAGE,
      attributes: expect.objectContaining({
        kmsRequestId: (body.requestMetadata as Record<string, string>).kmsRequestId,
        kmsOperation: 'Encrypt',
        operation: 'Encrypt',
        keyStoreId: STORE_ID,
        externalKeyId: KEY_ID,
        accessKeyId: CREDENTIAL.accessKeyId,
        result: 'Success',
        status: 200,
        latencyMs: expect.any(Number),
      }),
    });
  });

  it('writes a compact line for a success when the store has success audit off, the full one for failures', async () => {
    const fixture = proxyFixture();
    fixture.state.updateKeyStore(STORE_ID, { enableSuccessAuditEvent: false });
    const body = healthBody();
    await fixture.call(operationPath('health'), body);
    expect(fixture.logger.lines).toEqual([
      {
        level: 'info',
        message: AUDIT_MESSAGE,
        attributes: { operation: 'GetHealthStatus', keyStoreId: STORE_ID, externalKeyId: undefined, kmsRequestId: (body.requestMetadata as Record<string, string>).kmsRequestId, result: 'Success', latencyMs: expect.any(Number) },
      },
    ]);
    await fixture.call(operationPath('encrypt'), encryptBody(Buffer.from('x'), { extra: { encryptionAlgorithm: 'NOPE' } }));
    expect(fixture.logger.lines).toHaveLength(2);
    expect(fixture.logger.lines[1]).toMatchObject({ level: 'warn', attributes: { result: 'ValidationException', status: 400 } });
  });

  it('logs the cause of internal failures for the operator, without plaintext, AAD or secrets', async () => {
    const fixture = proxyFixture();
    const plaintext = Buffer.from('very secret plaintext value');
    const aad = Buffer.from('confidential aad value');
    await fixture.call(operationPath('encrypt'), encryptBody(plaintext, { aad }));
    fixture.keyCrypto.failure = new HsmError('DEVICE_ERROR', 'CKR_DEVICE_ERROR', 'C_Encrypt failed: CKR_DEVICE_ERROR');
    await fixture.call(operationPath('encrypt'), encryptBody(plaintext, { aad }));
    const logged = JSON.stringify(fixture.logger.lines);
    expect(fixture.logger.lines[1]).toMatchObject({ level: 'error', attributes: { result: 'InternalException', cause: { reason: 'DEVICE_ERROR', returnCode: 'CKR_DEVICE_ERROR' } } });
    for (const forbidden of [plaintext.toString('base64'), plaintext.toString(), aad.toString('base64'), aad.toString(), CREDENTIAL.secretAccessKey, 'Signature=']) {
      expect(logged).not.toContain(forbidden);
    }
  });
});

describe('state cache', () => {
  it('reads the store at most once per maxAge and sees a block within it', async () => {
    let now = 1_000_000;
    const fixture = proxyFixture({ stateMaxAgeMs: 4_000, now: () => now });
    // SigV4 checks the clock too: sign at the fake time.
    const signingDate = new Date(now);
    await fixture.call(operationPath('health'), healthBody(), { signingDate });
    await fixture.call(operationPath('health'), healthBody(), { signingDate });
    expect(fixture.state.reads.keyStore).toBe(1);
    fixture.state.updateKeyStore(STORE_ID, { blocked: true });
    expect((await fixture.call(operationPath('health'), healthBody(), { signingDate })).status).toBe(200);
    now += 4_001;
    expect((await fixture.call(operationPath('health'), healthBody(), { signingDate })).json.errorName).toBe('InvalidStateException');
    expect(fixture.state.reads.keyStore).toBe(2);
  });

  it('refuses a staleness above 5 seconds', () => {
    expect(() => proxyFixture({ stateMaxAgeMs: 5_001 })).toThrow(/exceeds/);
  });
});

function flip(base64: string): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[0] ^= 1;
  return bytes.toString('base64');
}
