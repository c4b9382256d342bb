import type { ALBEvent } from 'aws-lambda';
import { albEventToXksRequest, commonNameOf, createAlbHandler, xksResponseToAlbResult } from '../../../lambdas/xks-proxy/entry/alb-handler';
import { loadXksProxySettings } from '../../../lambdas/xks-proxy/entry/composition-root';
import { encryptBody, healthBody } from '../../xks/support/bodies';
import { signWithSmithy } from '../../xks/support/signing';
import { CREDENTIAL, HOST, operationPath, proxyFixture, REGION, STORE_ID } from '../../xks/support/proxy-fixture';

function albEvent(overrides: Partial<ALBEvent> = {}): ALBEvent {
  return {
    requestContext: { elb: { targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/xks/abc' } },
    httpMethod: 'POST',
    path: '/ping',
    headers: {},
    body: null,
    isBase64Encoded: false,
    ...overrides,
  };
}

async function signedEvent(path: string, body: unknown, options: { base64?: boolean; multiValue?: boolean } = {}): Promise<ALBEvent> {
  const raw = JSON.stringify(body);
  const headers = await signWithSmithy({ credential: CREDENTIAL, region: REGION, host: HOST, path, body: raw });
  const upperCased = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.replace(/^./, (c) => c.toUpperCase()), value]));
  return albEvent({
    path,
    ...(options.multiValue ? { multiValueHeaders: Object.fromEntries(Object.entries(upperCased).map(([n, v]) => [n, [v]])), headers: undefined } : { headers: upperCased }),
    body: options.base64 ? Buffer.from(raw).toString('base64') : raw,
    isBase64Encoded: options.base64 ?? false,
  });
}

describe('ALB front door', () => {
  it('serves a signed request end to end (text body, single-value headers)', async () => {
    const fixture = proxyFixture();
    const handler = createAlbHandler(fixture.proxy, { trustMtlsHeaders: false });
    const result = await handler(await signedEvent(operationPath('health'), healthBody()));
    expect(result.statusCode).toBe(200);
    expect(result.statusDescription).toBe('200 OK');
    expect(result.headers).toEqual({ 'content-type': 'application/json' });
    expect(JSON.parse(result.body as string).ekmFleetDetails).toHaveLength(1);
  });

  it('decodes a base64 body byte for byte, so the signature still verifies', async () => {
    const fixture = proxyFixture();
    const handler = createAlbHandler(fixture.proxy, { trustMtlsHeaders: false });
    const result = await handler(await signedEvent(operationPath('encrypt'), encryptBody(Buffer.from('x')), { base64: true }));
    expect(result.statusCode).toBe(200);
  });

  it('answers multi-value header events with multiValueHeaders', async () => {
    const fixture = proxyFixture();
    const handler = createAlbHandler(fixture.proxy, { trustMtlsHeaders: false });
    const result = await handler(await signedEvent(operationPath('health'), healthBody(), { multiValue: true }));
    expect(result.statusCode).toBe(200);
    expect(result.multiValueHeaders).toEqual({ 'content-type': ['application/json'] });
    expect(result.headers).toBeUndefined();
  });

  it('answers GET /ping with 200 and unknown paths with 404', async () => {
    const handler = createAlbHandler(proxyFixture().proxy, { trustMtlsHeaders: false });
    expect((await handler(albEvent({ httpMethod: 'GET', path: '/ping' }))).statusCode).toBe(200);
    const notFound = await handler(albEvent({ path: '/other' }));
    expect([notFound.statusCode, JSON.parse(notFound.body as string).errorName]).toEqual([404, 'InvalidUriPathException']);
  });

  it('rebuilds the raw query string and lower-cases header names', () => {
    const request = albEventToXksRequest(albEvent({ headers: { 'X-Amz-Date': 'd' }, queryStringParameters: { a: '1', b: '%20' } }), { trustMtlsHeaders: false });
    expect(request.query).toBe('a=1&b=%20');
    expect(request.headers['x-amz-date']).toEqual(['d']);
  });

  describe('mutual authentication headers', () => {
    const mtlsHeaders = { 'x-amzn-mtls-clientcert-subject': 'CN=cks.kms.us-east-1.amazonaws.com,O=Amazon', 'x-amzn-mtls-clientcert-leaf': '-----BEGIN%20CERTIFICATE-----' };

    it('are trusted only when the ALB verifies client certificates', () => {
      expect(albEventToXksRequest(albEvent({ headers: mtlsHeaders }), { trustMtlsHeaders: true })).toMatchObject({ clientCertificateVerified: true, clientCertificateSubjectCn: 'cks.kms.us-east-1.amazonaws.com' });
      expect(albEventToXksRequest(albEvent({ headers: mtlsHeaders }), { trustMtlsHeaders: false })).toMatchObject({ clientCertificateVerified: false, clientCertificateSubjectCn: undefined });
      expect(albEventToXksRequest(albEvent({ headers: { 'x-amzn-mtls-clientcert': 'passthrough' } }), { trustMtlsHeaders: true }).clientCertificateVerified).toBe(false);
    });

    it('let a store with mTLS serve a verified KMS client and refuse others', async () => {
      const fixture = proxyFixture();
      fixture.state.updateKeyStore(STORE_ID, { mtlsEnabled: true });
      const handler = createAlbHandler(fixture.proxy, { trustMtlsHeaders: true });
      const event = await signedEvent(operationPath('health'), healthBody());
      expect((await handler(event)).statusCode).toBe(401);
      expect((await handler({ ...event, headers: { ...event.headers, ...mtlsHeaders } })).statusCode).toBe(200);
    });
  });

  it('reads the CN of an RFC 2253 subject', () => {
    expect(commonNameOf('O=Amazon\\, Inc.,CN=cks.kms.eu-west-1.amazonaws.com')).toBe('cks.kms.eu-west-1.amazonaws.com');
    expect(commonNameOf('O=Amazon')).toBeUndefined();
  });

  it('maps responses without a body', () => {
    expect(xksResponseToAlbResult({ status: 405, headers: { allow: 'POST' }, body: '' }, false)).toEqual({ statusCode: 405, statusDescription: '405 Method Not Allowed', headers: { allow: 'POST' }, body: '', isBase64Encoded: false });
  });
});

describe('loadXksProxySettings', () => {
  it('reads the fleet size and the ALB verify-mode flag, with their defaults', () => {
    expect(loadXksProxySettings({})).toEqual({ fleetSize: 1, albMtlsVerify: false });
    expect(loadXksProxySettings({ XKS_PROXY_FLEET_SIZE: '4', XKS_ALB_MTLS_VERIFY: 'true' })).toEqual({ fleetSize: 4, albMtlsVerify: true });
  });

  it('names the variable when a value is wrong', () => {
    expect(() => loadXksProxySettings({ XKS_PROXY_FLEET_SIZE: '0' })).toThrow(/XKS_PROXY_FLEET_SIZE/);
    expect(() => loadXksProxySettings({ XKS_PROXY_FLEET_SIZE: '1.5' })).toThrow(/XKS_PROXY_FLEET_SIZE/);
    expect(() => loadXksProxySettings({ XKS_ALB_MTLS_VERIFY: 'yes' })).toThrow(/XKS_ALB_MTLS_VERIFY/);
  });
});
