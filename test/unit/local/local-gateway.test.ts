import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { RouteDefinition } from '../../../lambdas/contract/routes';
import { UnauthorizedError } from '../../../lambdas/core/errors';
import type { Principal, TokenVerifier } from '../../../lambdas/core/ports/token-verifier';
import { type RunningGateway, RouteMatcher, startLocalGateway } from '../../../lambdas/local/local-gateway';

const route = (operation: string, method: RouteDefinition['method'], path: string, access: RouteDefinition['access'] = { kind: 'admin' }): RouteDefinition => ({
  operation,
  method,
  path,
  handler: `handlers/${operation}.js`,
  access,
  needs: { state: 'read' },
  summary: operation,
});

const ROUTES: RouteDefinition[] = [
  route('ListThings', 'GET', '/v1/things'),
  route('CreateThing', 'POST', '/v1/things'),
  route('GetThing', 'GET', '/v1/things/{id}'),
  route('GetNewThing', 'GET', '/v1/things/new'),
  route('GetPart', 'GET', '/v1/things/{id}/parts/{partId}'),
  route('Health', 'POST', '/v1/things/{id}/health', { kind: 'public' }),
  route('Missing', 'DELETE', '/v1/things/{id}'),
  route('Broken', 'POST', '/v1/broken'),
  route('Custom', 'GET', '/v1/custom'),
];

/** Every fixture handler echoes the event it got; Broken throws; Custom shapes its own response. */
const ECHO = `exports.handler = async (event, context) => ({ statusCode: 200, body: JSON.stringify({ event, functionName: context.functionName, remaining: context.getRemainingTimeInMillis() }) });`;
const BROKEN = `exports.handler = async () => { throw new Error('secret detail'); };`;
const CUSTOM = `exports.handler = async () => ({ statusCode: 201, headers: { 'Content-Type': 'text/plain', 'X-One': 1 }, multiValueHeaders: { 'X-Many': ['a', 'b'] }, body: Buffer.from('hello').toString('base64'), isBase64Encoded: true });`;

class FakeVerifier implements TokenVerifier {
  async verify(token: string): Promise<Principal> {
    if (token !== 'good') throw new UnauthorizedError('The bearer token is invalid or has expired');
    return { subject: 'sub-1', username: 'alice', groups: ['cckm-admins'], isAdmin: true };
  }
}

describe('local gateway', () => {
  let rootDir: string;
  let gateway: RunningGateway;
  const handlerErrors: Array<[string, unknown]> = [];

  beforeAll(async () => {
    rootDir = mkdtempSync(join(tmpdir(), 'local-gateway-'));
    mkdirSync(join(rootDir, 'handlers'));
    for (const r of ROUTES) {
      if (r.operation === 'Missing') continue;
      const source = r.operation === 'Broken' ? BROKEN : r.operation === 'Custom' ? CUSTOM : ECHO;
      writeFileSync(join(rootDir, r.handler), source);
    }
    gateway = await startLocalGateway(
      { port: 0 },
      { routes: ROUTES, rootDir, basePath: '/api', authorizer: new FakeVerifier(), onHandlerError: (op, e) => handlerErrors.push([op, e]) },
    );
  });

  afterAll(async () => {
    await gateway.close();
    rmSync(rootDir, { recursive: true, force: true });
  });

  const call = (path: string, init: RequestInit = {}, token: string | null = 'good'): Promise<Response> =>
    fetch(`${gateway.url}${path}`, { ...init, headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(init.headers ?? {}) } });
  const echoed = async (response: Response): Promise<{ event: APIGatewayProxyEvent; functionName: string; remaining: number }> => {
    expect(response.status).toBe(200);
    return (await response.json()) as { event: APIGatewayProxyEvent; functionName: string; remaining: number };
  };

  it('serves under the base path and reports it in the URL', () => {
    expect(gateway.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api$/);
  });

  it('builds the REST proxy event API Gateway would send', async () => {
    // Act
    const { event, functionName, remaining } = await echoed(
      await call('/v1/things/a%20b/parts/p1?limit=5&sort=name&sort=-createdAt', { headers: { 'X-Custom': 'yes' } }),
    );

    // Assert
    expect(event).toMatchObject({
      httpMethod: 'GET',
      path: '/v1/things/a%20b/parts/p1',
      resource: '/v1/things/{id}/parts/{partId}',
      pathParameters: { id: 'a b', partId: 'p1' },
      queryStringParameters: { limit: '5', sort: '-createdAt' },
      multiValueQueryStringParameters: { limit: ['5'], sort: ['name', '-createdAt'] },
      body: null,
      isBase64Encoded: false,
      stageVariables: null,
      requestContext: { stage: 'api', path: '/api/v1/things/a%20b/parts/p1', httpMethod: 'GET', resourcePath: '/v1/things/{id}/parts/{partId}' },
    });
    expect(event.headers['X-Custom']).toBe('yes');
    expect(event.multiValueHeaders['X-Custom']).toEqual(['yes']);
    expect(event.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(event.requestContext.authorizer).toEqual({ claims: { sub: 'sub-1', username: 'alice', 'cognito:groups': 'cckm-admins' } });
    expect(functionName).toBe('local-GetPart');
    expect(remaining).toBeGreaterThan(0);
  });

  it('passes the body as a string and null parameters when there are none', async () => {
    const { event } = await echoed(await call('/v1/things', { method: 'POST', body: '{"name":"x"}', headers: { 'Content-Type': 'application/json' } }));
    expect(event.body).toBe('{"name":"x"}');
    expect(event.pathParameters).toBeNull();
    expect(event.queryStringParameters).toBeNull();
  });

  it('prefers a literal path segment over a parameter', async () => {
    const { event } = await echoed(await call('/v1/things/new'));
    expect(event.resource).toBe('/v1/things/new');
  });

  it('answers 404 in the CCKM error shape for an unknown path', async () => {
    const response = await call('/v1/nothing');
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ code: 404, codeDesc: expect.stringMatching(/^NCERRResourceNotFound: /), message: expect.stringContaining('/v1/nothing') });
  });

  it('answers 404 outside the base path', async () => {
    const response = await fetch(gateway.url.replace(/\/api$/, '/v1/things'));
    expect(response.status).toBe(404);
  });

  it('answers 405 for a known path with another method', async () => {
    const response = await call('/v1/things', { method: 'PATCH' });
    expect(response.status).toBe(405);
    expect(((await response.json()) as { message: string }).message).toMatch(/allowed: GET, POST/);
  });

  it('answers 501 naming the operation when its handler file does not exist yet', async () => {
    const response = await call('/v1/things/abc', { method: 'DELETE' });
    expect(response.status).toBe(501);
    expect(((await response.json()) as { message: string }).message).toMatch(/Missing is not implemented yet/);
  });

  it.each([
    ['no Authorization header', null],
    ['a bad token', 'forged'],
  ])('answers 401 with %s on a protected route, before the handler runs', async (_name, token) => {
    const response = await call('/v1/things', {}, token);
    expect(response.status).toBe(401);
    expect(((await response.json()) as { codeDesc: string }).codeDesc).toMatch(/^NCERRUnauthorizedAccess/);
  });

  it('lets a public route through without a token', async () => {
    const { event } = await echoed(await call('/v1/things/s1/health', { method: 'POST' }, null));
    expect(event.requestContext.authorizer).toBeNull();
  });

  it('answers a bare 500 when the handler throws, reporting the error only to the log hook', async () => {
    const response = await call('/v1/broken', { method: 'POST' });
    const text = await response.text();
    expect(response.status).toBe(500);
    expect(text).not.toContain('secret detail');
    expect(handlerErrors.at(-1)?.[0]).toBe('Broken');
  });

  it('writes the handler result: status, headers, multi-value headers, base64 body', async () => {
    const response = await call('/v1/custom');
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toBe('text/plain');
    expect(response.headers.get('x-one')).toBe('1');
    expect(response.headers.get('x-many')).toBe('a, b');
    expect(await response.text()).toBe('hello');
  });

  it('serves a handler file that appears while the gateway runs', async () => {
    // Arrange
    expect((await call('/v1/things/late', { method: 'DELETE' })).status).toBe(501);
    writeFileSync(join(rootDir, 'handlers/Missing.js'), ECHO);

    // Act
    const { event } = await echoed(await call('/v1/things/late', { method: 'DELETE' }));

    // Assert
    expect(event.pathParameters).toEqual({ id: 'late' });
  });
});

describe('RouteMatcher over the real route table', () => {
  it('matches every route of lambdas/contract/routes.ts to itself', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { routes } = require('../../../lambdas/contract/routes') as { routes: RouteDefinition[] };
    const matcher = new RouteMatcher(routes);
    for (const r of routes) {
      const path = r.path.replace(/\{(\w+)\}/g, 'x-$1');
      expect(matcher.match(r.method, path).route.operation).toBe(r.operation);
    }
  });
});
