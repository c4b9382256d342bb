/**
 * The proxy's CloudWatch metrics (names and dimension sets in contract/env.ts `METRICS`, which the
 * CDK dashboard and alarms read). Each metric has its own dimension set, so each is emitted as a
 * single EMF metric (Powertools `singleMetric`), immediately, with no flush to forget.
 */
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS } from '../../contract/env';
import type { XksFailureName } from '../errors';
import type { XksOperation } from '../router';

export interface XksRequestOutcome {
  readonly operation?: XksOperation;
  /** Only when the request named a key store that exists. */
  readonly keyStoreId?: string;
  /** Undefined on success. */
  readonly errorName?: XksFailureName;
  readonly latencyMs: number;
}

/** What the core reports; tests record it, Lambda publishes it through Powertools. */
export interface XksMetrics {
  request(outcome: XksRequestOutcome): void;
  healthCheck(passed: boolean): void;
  /** The HSM failed a call and the partition's sessions were dropped (pkcs11 `onConnectionDropped`). */
  hsmConnectionDropped(): void;
}

export class PowertoolsXksMetrics implements XksMetrics {
  constructor(private readonly metrics: Metrics) {}

  request(outcome: XksRequestOutcome): void {
    if (outcome.operation) {
      this.metrics.singleMetric().addDimension(METRICS.dimensions.operation, outcome.operation).addMetric(METRICS.xksLatency, MetricUnit.Milliseconds, outcome.latencyMs);
    }
    if (outcome.keyStoreId) {
      this.metrics.singleMetric().addDimension(METRICS.dimensions.keyStoreId, outcome.keyStoreId).addMetric(METRICS.xksRequests, MetricUnit.Count, 1);
    }
    if (outcome.errorName) {
      this.metrics.singleMetric().addDimension(METRICS.dimensions.errorName, outcome.errorName).addMetric(METRICS.xksErrors, MetricUnit.Count, 1);
    }
  }

  healthCheck(passed: boolean): void {
    this.metrics.singleMetric().addMetric(passed ? METRICS.healthCheckPassed : METRICS.healthCheckFailed, MetricUnit.Count, 1);
  }

  hsmConnectionDropped(): void {
    this.metrics.singleMetric().addMetric(METRICS.hsmConnectionDropped, MetricUnit.Count, 1);
  }
}
