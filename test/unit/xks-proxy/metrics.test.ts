import { Metrics } from '@aws-lambda-powertools/metrics';
import { randomBytes } from 'node:crypto';
import { METRICS } from '../../../lambdas/contract/env';
import { HsmError } from '../../../lambdas/core/ports/hsm';
import { PowertoolsXksMetrics, type XksMetrics, type XksRequestOutcome } from '../../../lambdas/xks-proxy/observability/metrics';
import { encryptBody, healthBody } from '../../xks/support/bodies';
import { operationPath, proxyFixture, STORE_ID } from '../../xks/support/proxy-fixture';

class RecordingMetrics implements XksMetrics {
  readonly requests: XksRequestOutcome[] = [];
  readonly healthChecks: boolean[] = [];
  request(outcome: XksRequestOutcome): void {
    this.requests.push(outcome);
  }
  healthCheck(passed: boolean): void {
    this.healthChecks.push(passed);
  }
  hsmConnectionDropped(): void {
    throw new Error('not expected here');
  }
}

describe('XKS metrics', () => {
  it('reports operation, key store, error and latency per request, and each deep check run', async () => {
    // Arrange
    const metrics = new RecordingMetrics();
    const fixture = proxyFixture({ health: { maxAgeMs: 0 } }, { metrics });
    const call = fixture.call;
    // Act
    await call(operationPath('encrypt'), encryptBody(randomBytes(8)));
    await call(operationPath('encrypt'), encryptBody(randomBytes(8), { extra: { encryptionAlgorithm: 'X' } }));
    await call(operationPath('health'), healthBody());
    fixture.keyCrypto.failure = new HsmError('TOKEN_NOT_FOUND', undefined, 'gone');
    await call(operationPath('health'), healthBody());
    await call('/nowhere', {});
    // Assert
    expect(metrics.requests).toEqual([
      { operation: 'Encrypt', keyStoreId: STORE_ID, latencyMs: expect.any(Number) },
      { operation: 'Encrypt', keyStoreId: STORE_ID, errorName: 'ValidationException', latencyMs: expect.any(Number) },
      { operation: 'GetHealthStatus', keyStoreId: STORE_ID, latencyMs: expect.any(Number) },
      // Every HSM UNAVAILABLE is a 200 (the spec's status); the failed check counts in its own metric.
      { operation: 'GetHealthStatus', keyStoreId: STORE_ID, latencyMs: expect.any(Number) },
      { operation: undefined, keyStoreId: undefined, errorName: 'InvalidUriPathException', latencyMs: expect.any(Number) },
    ]);
    expect(metrics.healthChecks).toEqual([true, false]);
  });

  it('publishes EMF with the dimension sets of contract/env.ts METRICS', () => {
    // Arrange
    const written: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const metrics = new PowertoolsXksMetrics(new Metrics({ namespace: METRICS.namespace, serviceName: METRICS.service }));
      // Act
      metrics.request({ operation: 'Decrypt', keyStoreId: 'ks-9', errorName: 'InvalidCiphertextException', latencyMs: 1.5 });
      metrics.healthCheck(false);
      metrics.hsmConnectionDropped();
    } finally {
      spy.mockRestore();
    }
    // Assert
    const blobs = written.map((line) => JSON.parse(line) as { _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] } } & Record<string, unknown>);
    const summary = blobs.map((blob) => {
      const directive = blob._aws.CloudWatchMetrics[0];
      return { namespace: directive.Namespace, dimensions: [...directive.Dimensions[0]].sort(), metric: directive.Metrics[0].Name };
    });
    expect(summary).toEqual([
      { namespace: 'XksKeyManager', dimensions: ['operation', 'service'], metric: 'XksLatency' },
      { namespace: 'XksKeyManager', dimensions: ['keyStoreId', 'service'], metric: 'XksRequests' },
      { namespace: 'XksKeyManager', dimensions: ['errorName', 'service'], metric: 'XksErrors' },
      { namespace: 'XksKeyManager', dimensions: ['service'], metric: 'HealthCheckFailed' },
      { namespace: 'XksKeyManager', dimensions: ['service'], metric: 'HsmConnectionDropped' },
    ]);
    expect(blobs[0]).toMatchObject({ service: 'xks-proxy', operation: 'Decrypt', XksLatency: 1.5 });
  });
});
