/**
 * The ALB entry's init: the runtime is built and warmed once, the handler awaits it, and a failed
 * init answers that request with InternalException and is tried again at the next invocation.
 */
import type { ALBEvent } from 'aws-lambda';

const createRuntime = jest.fn();
jest.mock('../../../lambdas/xks-proxy/entry/composition-root', () => ({
  ...jest.requireActual('../../../lambdas/xks-proxy/entry/composition-root'),
  createXksProxyRuntime: (...args: unknown[]) => createRuntime(...args),
}));

const PING: ALBEvent = { requestContext: { elb: { targetGroupArn: 'arn' } }, httpMethod: 'GET', path: '/ping', headers: {}, body: '', isBase64Encoded: false };

function fakeRuntime() {
  const warmUp = jest.fn(async () => ({ keyStores: 1, keys: 2, failures: [] }));
  const handle = jest.fn(async () => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: 'OK' }));
  return { runtime: { proxy: { warmUp, handle }, settings: { albMtlsVerify: false, fleetSize: 1 } }, warmUp, handle };
}

describe('ALB handler init', () => {
  beforeEach(() => {
    jest.resetModules();
    createRuntime.mockReset();
  });

  it('builds and warms the runtime once, before the first request, and reuses it', async () => {
    const { runtime, warmUp, handle } = fakeRuntime();
    createRuntime.mockReturnValue(runtime);
    const { handler } = await import('../../../lambdas/xks-proxy/entry/alb-handler');

    expect((await handler(PING)).statusCode).toBe(200);
    expect((await handler(PING)).statusCode).toBe(200);

    expect(createRuntime).toHaveBeenCalledTimes(1);
    expect(warmUp).toHaveBeenCalledTimes(1);
    expect(warmUp.mock.invocationCallOrder[0]).toBeLessThan(handle.mock.invocationCallOrder[0]);
  });

  it('a failed init answers InternalException, and the next invocation tries again', async () => {
    const { runtime } = fakeRuntime();
    createRuntime.mockImplementationOnce(() => {
      throw new Error('DynamoDB not reachable');
    });
    createRuntime.mockReturnValue(runtime);
    const { handler } = await import('../../../lambdas/xks-proxy/entry/alb-handler');

    const first = await handler(PING);
    const second = await handler(PING);

    expect([first.statusCode, JSON.parse(first.body ?? '{}').errorName]).toEqual([500, 'InternalException']);
    expect(second.statusCode).toBe(200);
    expect(createRuntime).toHaveBeenCalledTimes(2);
  });
});
