import { isValidExternalKeyId, matchRoute } from '../../../lambdas/xks-proxy/router';
import { xksProxyUriPath } from '../../../lambdas/contract/xks-proxy-uri';

const base = xksProxyUriPath('0b5a3c1e-2f4d-4e6a-9b8c-7d6e5f4a3b2c');

describe('matchRoute', () => {
  it('builds the store path of the issue', () => {
    expect(xksProxyUriPath('abc')).toBe('/api/v1/cckm/aws/xks-proxy-endpoints/abc/kms/xks/v1');
  });

  it.each([
    [`${base}/health`, { kind: 'operation', operation: 'GetHealthStatus', keyStoreId: '0b5a3c1e-2f4d-4e6a-9b8c-7d6e5f4a3b2c' }],
    [`${base}/keys/k.1_-A/metadata`, { kind: 'operation', operation: 'GetKeyMetadata', keyStoreId: '0b5a3c1e-2f4d-4e6a-9b8c-7d6e5f4a3b2c', externalKeyId: 'k.1_-A' }],
    [`${base}/keys/k/encrypt`, { kind: 'operation', operation: 'Encrypt', keyStoreId: '0b5a3c1e-2f4d-4e6a-9b8c-7d6e5f4a3b2c', externalKeyId: 'k' }],
    [`${base}/keys/k/decrypt`, { kind: 'operation', operation: 'Decrypt', keyStoreId: '0b5a3c1e-2f4d-4e6a-9b8c-7d6e5f4a3b2c', externalKeyId: 'k' }],
    ['/ping', { kind: 'ping' }],
  ])('routes %s', (path, route) => {
    expect(matchRoute(path)).toEqual(route);
  });

  it.each([
    '/', '/kms/xks/v1/health', `${base}`, `${base}/health/`, `${base}/keys/k/sign`, `${base}/keys/k/constructor`,
    `${base}/keys/k/__proto__`, `${base}/keys//encrypt`, `${base}/keys/k/encrypt/extra`, `/api/v1/cckm/aws/xks-proxy-endpoints/a.b/kms/xks/v1/health`,
    `/api/v1/cckm/aws/xks-proxy-endpoints/${'a'.repeat(80)}/kms/xks/v1/health`, `${base}/Health`, '/ping/',
  ])('does not route %s', (path) => {
    expect(matchRoute(path)).toBeUndefined();
  });
});

describe('isValidExternalKeyId', () => {
  it('accepts up to 128 of [A-Za-z0-9._-]', () => {
    expect(isValidExternalKeyId('a'.repeat(128))).toBe(true);
    expect(isValidExternalKeyId('Az09._-')).toBe(true);
  });

  it.each(['', 'a'.repeat(129), 'a b', 'a%20b', 'a/b', 'ä', 'a+b'])('rejects %j', (id) => {
    expect(isValidExternalKeyId(id)).toBe(false);
  });
});
