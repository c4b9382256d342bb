/**
 * No work for strangers: a request that is not shaped like a signed KMS call is refused before any
 * state read, and a flood of made-up key store ids neither evicts the store in use nor costs more
 * state reads than the unknown-id budget allows.
 */
import { randomBytes } from 'node:crypto';
import type { XksRequest } from '../../../lambdas/xks-proxy/http';
import { healthBody } from '../../xks/support/bodies';
import { CREDENTIAL, HOST, operationPath, proxyFixture, REGION } from '../../xks/support/proxy-fixture';
import { signWithSmithy } from '../../xks/support/signing';

const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);

function withHeader(request: XksRequest, name: string, value: string | undefined): XksRequest {
  return { ...request, headers: { ...request.headers, [name]: value } };
}

describe('requests refused before any state read', () => {
  const replace = (pattern: RegExp, replacement: string) => (request: XksRequest) =>
    withHeader(request, 'authorization', String(request.headers.authorization).replace(pattern, replacement));

  it.each<[string, (request: XksRequest) => XksRequest]>([
    ['no Authorization header', (r) => withHeader(r, 'authorization', undefined)],
    ['another algorithm', replace(/^AWS4-HMAC-SHA256/, 'AWS4-ECDSA-P256-SHA256')],
    ['a credential scope for another service', replace(/kms-xks-proxy/, 'kms')],
    ['a malformed credential scope', replace(/\/aws4_request/, '')],
    ['SignedHeaders without host', replace(/SignedHeaders=[^,]*/, 'SignedHeaders=content-type;x-amz-date')],
    ['SignedHeaders without x-amz-date', replace(/SignedHeaders=[^,]*/, 'SignedHeaders=content-type;host')],
    ['no x-amz-date header', (r) => withHeader(r, 'x-amz-date', undefined)],
  ])('%s: 401 AuthenticationFailedException, no state read', async (_case, tamper) => {
    // Arrange
    const fixture = proxyFixture({ now: () => NOW });
    // Act
    const { status, json } = await fixture.call(operationPath('health'), healthBody(), { signingDate: new Date(NOW), tamper });
    // Assert
    expect([status, json.errorName]).toEqual([401, 'AuthenticationFailedException']);
    expect(fixture.state.reads).toEqual({ keyStore: 0, key: 0 });
  });

  it('x-amz-date more than 5 minutes away: 401, no state read', async () => {
    const fixture = proxyFixture({ now: () => NOW });
    for (const offset of [-5 * 60_000 - 1_000, 5 * 60_000 + 1_000]) {
      const { status } = await fixture.call(operationPath('health'), healthBody(), { signingDate: new Date(NOW + offset) });
      expect(status).toBe(401);
    }
    expect(fixture.state.reads).toEqual({ keyStore: 0, key: 0 });
  });

  it('an unknown URI: 404 InvalidUriPathException, no state read', async () => {
    const fixture = proxyFixture({ now: () => NOW });
    const { status } = await fixture.call('/kms/xks/v1/health', healthBody(), { signingDate: new Date(NOW) });
    expect(status).toBe(404);
    expect(fixture.state.reads).toEqual({ keyStore: 0, key: 0 });
  });
});

describe('a flood of made-up key store ids', () => {
  it('100,000 random ids: the store in use keeps being served from the cache and the reads stay within the budget', async () => {
    // Arrange: a clock that does not move (the budget never refills), one well-shaped signature
    // reused for every made-up id (its shape passes; no credential of any store matches it).
    // The request deadline is real time: a generous one, so that a pause of a loaded machine during
    // 100,000 requests is not taken for a slow state read (this test counts reads, not time).
    const fixture = proxyFixture({ now: () => NOW, stateMaxAgeMs: 4_000, requestTimeoutMs: 30_000 });
    const inUse = await fixture.call(operationPath('health'), healthBody(), { signingDate: new Date(NOW) });
    expect(inUse.status).toBe(200);
    const body = Buffer.from(JSON.stringify(healthBody()));
    const strangerHeaders = await signWithSmithy({ credential: CREDENTIAL, region: REGION, host: HOST, path: operationPath('health', 'x', 'stranger'), body, signingDate: new Date(NOW) });
    const statuses = new Map<string, number>();
    let inUseFailures = 0;

    // Act
    for (let i = 1; i <= 100_000; i += 1) {
      const storeId = randomBytes(15).toString('base64url');
      const response = await fixture.proxy.handle({ method: 'POST', path: operationPath('health', 'x', storeId), headers: strangerHeaders, rawBody: body });
      const errorName = JSON.parse(response.body).errorName as string;
      statuses.set(errorName, (statuses.get(errorName) ?? 0) + 1);
      if (i % 1_000 === 0) {
        const again = await fixture.call(operationPath('health'), healthBody(), { signingDate: new Date(NOW) });
        if (again.status !== 200) inUseFailures += 1;
      }
    }

    // Assert: 100 reads in all (the default budget of first reads, one of them the store in use's),
    // every other made-up id refused without one.
    expect(fixture.state.reads.keyStore).toBe(100);
    expect(Object.fromEntries(statuses)).toEqual({ InvalidUriPathException: 99, ThrottlingException: 99_901 });
    expect(inUseFailures).toBe(0);
  }, 60_000);

  it('an unknown id is remembered: asking again costs no read until its age limit', async () => {
    let now = NOW;
    const fixture = proxyFixture({ now: () => now, stateMaxAgeMs: 4_000 });
    const path = operationPath('health', 'x', 'no-such-store');
    for (let i = 0; i < 3; i += 1) expect((await fixture.call(path, healthBody(), { signingDate: new Date(NOW) })).status).toBe(404);
    expect(fixture.state.reads.keyStore).toBe(1);
    now += 4_000;
    expect((await fixture.call(path, healthBody(), { signingDate: new Date(NOW) })).status).toBe(404);
    expect(fixture.state.reads.keyStore).toBe(2);
  });
});
