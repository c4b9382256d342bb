import type { XksCredentialView, XksKeyStoreView } from '../../../lambdas/core/ports/xks-state-source';
import { XksError } from '../../../lambdas/xks-proxy/errors';
import type { XksRequest } from '../../../lambdas/xks-proxy/http';
import { SigV4Verifier } from '../../../lambdas/xks-proxy/auth/sigv4';
import { TEST_PARTITION } from '../../xks/support/fakes';
import { captureCurlRequest, signWithSmithy } from '../../xks/support/signing';

const CREDENTIAL = { accessKeyId: 'AKIDEXAMPLEAAAABBBBCC', secretAccessKey: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA==' };
const HOST = 'xks.example.com';
const PATH = '/api/v1/cckm/aws/xks-proxy-endpoints/ks-1/kms/xks/v1/health';
const BODY = '{"requestMetadata":{"kmsOperation":"KmsHealthCheck","kmsRequestId":"r1"}}';

const credentialView: XksCredentialView = { id: 'cred-1', accessKeyId: CREDENTIAL.accessKeyId, secretName: 'secret/cred-1' };

function store(overrides: Partial<XksKeyStoreView> = {}): XksKeyStoreView {
  return {
    id: 'ks-1', name: 'store', region: 'us-east-1', blocked: false, mtlsEnabled: false, enableSuccessAuditEvent: false,
    partition: TEST_PARTITION, healthCheckKey: { partition: TEST_PARTITION, objectId: 'hc' }, credentials: [credentialView], ...overrides,
  };
}

function verifier(now: number, secrets: Record<string, string> = { 'secret/cred-1': CREDENTIAL.secretAccessKey }) {
  return new SigV4Verifier({ resolveSecret: async (credential) => secrets[credential.secretName], now: () => now });
}

/**
 * A request signed at 2026-01-02T03:04:05Z by @smithy/signature-v4 without x-amz-content-sha256
 * (signed headers content-type;host;x-amz-date, as AWS KMS and curl sign). The signature was
 * also recomputed independently (Python hashlib/hmac) when the vector was recorded.
 */
const FIXED_TIME = Date.UTC(2026, 0, 2, 3, 4, 5);
const FIXED_VECTOR: XksRequest = {
  method: 'POST',
  path: PATH,
  headers: {
    host: HOST,
    'content-type': 'application/json',
    'x-amz-date': '20260102T030405Z',
    authorization: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLEAAAABBBBCC/20260102/us-east-1/kms-xks-proxy/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=51601f927cfc850a441e044f7122fba6a878824d032b6b11eddaad2c262f182b',
  },
  rawBody: Buffer.from(BODY),
};

async function expectAuthFailure(promise: Promise<unknown>, reason?: RegExp): Promise<void> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(XksError);
  expect((error as XksError).errorName).toBe('AuthenticationFailedException');
  expect((error as XksError).status).toBe(401);
  if (reason) expect(((error as XksError).cause as Error).message).toMatch(reason);
}

function withHeader(request: XksRequest, name: string, value: string | undefined): XksRequest {
  return { ...request, headers: { ...request.headers, [name]: value } };
}

describe('SigV4Verifier', () => {
  it('accepts the fixed vector and returns the signing credential', async () => {
    await expect(verifier(FIXED_TIME).verify(FIXED_VECTOR, store())).resolves.toBe(credentialView);
  });

  it('accepts a request 4 minutes old or 4 minutes early', async () => {
    await expect(verifier(FIXED_TIME + 4 * 60_000).verify(FIXED_VECTOR, store())).resolves.toBe(credentialView);
    await expect(verifier(FIXED_TIME - 4 * 60_000).verify(FIXED_VECTOR, store())).resolves.toBe(credentialView);
  });

  it('rejects a request more than 5 minutes away from the clock', async () => {
    await expectAuthFailure(verifier(FIXED_TIME + 5 * 60_000 + 1000).verify(FIXED_VECTOR, store()), /5 minutes/);
    await expectAuthFailure(verifier(FIXED_TIME - 5 * 60_000 - 1000).verify(FIXED_VECTOR, store()), /5 minutes/);
  });

  it('accepts @smithy/signature-v4 requests with and without x-amz-content-sha256', async () => {
    for (const applyChecksum of [true, false]) {
      const headers = await signWithSmithy({ credential: CREDENTIAL, region: 'us-east-1', host: HOST, path: PATH, body: BODY, applyChecksum });
      expect(headers['x-amz-content-sha256'] !== undefined).toBe(applyChecksum);
      await expect(verifier(Date.now()).verify({ method: 'POST', path: PATH, headers, rawBody: Buffer.from(BODY) }, store())).resolves.toBe(credentialView);
    }
  });

  it('accepts a request signed by curl --aws-sigv4 (signed headers as curl sends them)', async () => {
    // Arrange: curl signs and sends to a local listener; we verify exactly what arrived.
    const { request, host } = await captureCurlRequest({ path: PATH, body: BODY, region: 'us-east-1', credential: CREDENTIAL });
    expect(request.headers.host).toEqual([host]);
    expect(String(request.headers.authorization)).toContain('SignedHeaders=content-type;host;x-amz-date,');
    // Act / Assert
    await expect(verifier(Date.now()).verify(request, store())).resolves.toBe(credentialView);
    await expectAuthFailure(verifier(Date.now()).verify({ ...request, rawBody: Buffer.from(BODY.replace('r1', 'r2')) }, store()), /signature mismatch/);
  });

  it('selects the secret by access key id among several valid credentials', async () => {
    const other: XksCredentialView = { id: 'cred-2', accessKeyId: 'AKIDOTHERAAAABBBBCCDD', secretName: 'secret/cred-2' };
    const headers = await signWithSmithy({ credential: { accessKeyId: other.accessKeyId, secretAccessKey: 'other-secret' }, region: 'us-east-1', host: HOST, path: PATH, body: BODY });
    const v = verifier(Date.now(), { 'secret/cred-1': CREDENTIAL.secretAccessKey, 'secret/cred-2': 'other-secret' });
    await expect(v.verify({ method: 'POST', path: PATH, headers, rawBody: Buffer.from(BODY) }, store({ credentials: [credentialView, other] }))).resolves.toBe(other);
  });

  it.each<[string, (r: XksRequest) => XksRequest, RegExp]>([
    ['no Authorization header', (r) => withHeader(r, 'authorization', undefined), /missing or repeated Authorization/],
    ['two Authorization headers', (r) => withHeader(r, 'authorization', [String(r.headers.authorization), String(r.headers.authorization)] as unknown as string), /missing or repeated Authorization/],
    ['another algorithm', (r) => withHeader(r, 'authorization', String(r.headers.authorization).replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA512')), /not AWS4-HMAC-SHA256/],
    ['a flipped signature bit', (r) => withHeader(r, 'authorization', String(r.headers.authorization).replace(/Signature=5/, 'Signature=4')), /signature mismatch/],
    ['an upper-case signature', (r) => withHeader(r, 'authorization', String(r.headers.authorization).replace(/Signature=(\w+)/, (_m, s: string) => `Signature=${s.toUpperCase()}`)), /malformed signature/],
    ['a short signature', (r) => withHeader(r, 'authorization', String(r.headers.authorization).slice(0, -2)), /malformed signature/],
    ['an unknown access key id', (r) => withHeader(r, 'authorization', String(r.headers.authorization).replace('AKIDEXAMPLEAAAABBBBCC', 'AKIDEXAMPLEAAAABBBBCD')), /unknown access key id/],
    ['another region in the scope', (r) => withHeader(r, 'authorization', String(r.headers.authorization).replace('us-east-1', 'us-west-2')), /region/],
    ['another service in the scope', (r) => withHeader(r, 'authorization', String(r.headers.authorization).replace('kms-xks-proxy', 'kms')), /service/],
    ['a scope date other than x-amz-date', (r) => withHeader(r, 'authorization', String(r.headers.authorization).replace('/20260102/', '/20260103/')), /date/],
    ['no x-amz-date header', (r) => withHeader(r, 'x-amz-date', undefined), /x-amz-date/],
    ['a malformed x-amz-date', (r) => withHeader(r, 'x-amz-date', '2026-01-02T03:04:05Z'), /malformed x-amz-date/],
    ['an impossible x-amz-date', (r) => withHeader(r, 'x-amz-date', '20260231T030405Z'), /malformed x-amz-date/],
    ['host not signed', (r) => withHeader(r, 'authorization', String(r.headers.authorization).replace('content-type;host;x-amz-date', 'content-type;x-amz-date')), /host/],
    ['x-amz-date not signed', (r) => withHeader(r, 'authorization', String(r.headers.authorization).replace('content-type;host;x-amz-date', 'content-type;host')), /x-amz-date/],
    ['a signed header that is missing', (r) => withHeader(r, 'content-type', undefined), /content-type is missing/],
    ['a changed signed header', (r) => withHeader(r, 'content-type', 'text/plain'), /signature mismatch/],
    ['a changed Host', (r) => withHeader(r, 'host', 'evil.example.com'), /signature mismatch/],
    ['a changed body', (r) => ({ ...r, rawBody: Buffer.from(BODY.replace('r1', 'r2')) }), /signature mismatch/],
    ['a changed path', (r) => ({ ...r, path: PATH.replace('health', 'keys/k/metadata') }), /signature mismatch/],
    ['a changed method', (r) => ({ ...r, method: 'PUT' }), /signature mismatch/],
    ['an added query string', (r) => ({ ...r, query: 'a=b' }), /signature mismatch/],
    ['a duplicate Authorization field', (r) => withHeader(r, 'authorization', `${String(r.headers.authorization)}, Signature=00`), /malformed Authorization/],
    ['a malformed credential scope', (r) => withHeader(r, 'authorization', String(r.headers.authorization).replace('/aws4_request', '/aws4_req')), /credential scope/],
  ])('rejects %s with AuthenticationFailedException', async (_label, tamper, reason) => {
    await expectAuthFailure(verifier(FIXED_TIME).verify(tamper(FIXED_VECTOR), store()), reason);
  });

  it('rejects x-amz-content-sha256 that does not match the body, even when the signature covers it', async () => {
    const headers = await signWithSmithy({ credential: CREDENTIAL, region: 'us-east-1', host: HOST, path: PATH, body: BODY, extraHeaders: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
    await expectAuthFailure(verifier(Date.now()).verify({ method: 'POST', path: PATH, headers, rawBody: Buffer.from(BODY) }, store()), /x-amz-content-sha256/);
  });

  it('rejects a credential that the store no longer lists, or whose secret is gone', async () => {
    await expectAuthFailure(verifier(FIXED_TIME).verify(FIXED_VECTOR, store({ credentials: [] })), /unknown access key id/);
    await expectAuthFailure(verifier(FIXED_TIME, {}).verify(FIXED_VECTOR, store()), /no secret/);
  });

  it('rejects a request signed for another key store region', async () => {
    await expectAuthFailure(verifier(FIXED_TIME).verify(FIXED_VECTOR, store({ region: 'eu-west-1' })), /region/);
  });

  it('verifies repeated values of a signed header joined by commas', async () => {
    const headers = await signWithSmithy({ credential: CREDENTIAL, region: 'us-east-1', host: HOST, path: PATH, body: BODY, extraHeaders: { 'x-custom': 'a,b  c' } });
    // Sent as two header lines; the canonical form is the values trimmed, spaces collapsed, joined by ','.
    const request: XksRequest = { method: 'POST', path: PATH, headers: { ...headers, 'x-custom': [' a', 'b   c '] }, rawBody: Buffer.from(BODY) };
    await expect(verifier(Date.now()).verify(request, store())).resolves.toBe(credentialView);
  });
});
