/**
 * The operator's view of the deployment: a CloudWatch dashboard of the XKS data plane
 * against AWS KMS's budgets (250 ms per call, 1,800 requests per second per key store) and of the
 * management API, and alarms on what makes KMS calls fail. Metric names come from `METRICS`
 * (lambdas/contract/env.ts), which the proxy emits.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { METRICS } from '../../lambdas/contract/env';

/** AWS KMS's time budget for one XKS call. */
export const KMS_LATENCY_BUDGET_MS = 250;
/** AWS KMS's default request quota per external key store. */
export const KMS_RPS_PER_KEY_STORE = 1_800;
/** Errors that mean the proxy or the HSM failed (the others are the caller's or the key's state). */
export const ALARMED_ERROR_NAMES = ['InternalException', 'DependencyTimeoutException'] as const;

export interface MonitoringProps {
  /** The proxy's alias (it carries provisioned concurrency). */
  readonly proxyAlias: lambda.IAlias;
  /** The ALB target group of the proxy (`GET /ping` health). */
  readonly proxyTargetGroup: elbv2.ApplicationTargetGroup;
  readonly api: apigateway.RestApi;
  /** @default 150 */
  readonly p99LatencyThresholdMs?: number;
  /** @default 0.8 */
  readonly provisionedConcurrencyUtilizationThreshold?: number;
  /** @default 'XksKeyManager' */
  readonly dashboardName?: string;
}

export class Monitoring extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;
  /** Every alarm notifies this topic; subscribe your on-call address to it. */
  public readonly alarmTopic: sns.Topic;
  public readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const p99Threshold = props.p99LatencyThresholdMs ?? 150;
    const pcThreshold = props.provisionedConcurrencyUtilizationThreshold ?? 0.8;
    if (p99Threshold <= 0 || p99Threshold >= KMS_LATENCY_BUDGET_MS) {
      throw new Error(`Monitoring ${this.node.path}: p99LatencyThresholdMs must be between 0 and KMS's ${KMS_LATENCY_BUDGET_MS} ms budget (an alarm at the budget fires too late); got ${p99Threshold}.`);
    }
    if (!(pcThreshold > 0 && pcThreshold < 1)) {
      throw new Error(`Monitoring ${this.node.path}: provisionedConcurrencyUtilizationThreshold is a fraction between 0 and 1; got ${pcThreshold}.`);
    }

    // A customer-managed key: CloudWatch alarms cannot publish to a topic under the AWS managed aws/sns key.
    const topicKey = new kms.Key(this, 'AlarmTopicKey', { enableKeyRotation: true, description: 'XKS key manager alarm topic', removalPolicy: RemovalPolicy.DESTROY });
    topicKey.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.alarmTopic = new sns.Topic(this, 'Alarms', { displayName: 'XKS key manager alarms', enforceSSL: true, masterKey: topicKey });
    const service = { service: METRICS.service };
    const xks = (metricName: string, dimensionsMap: Record<string, string>, statistic: string, label?: string): cloudwatch.Metric =>
      new cloudwatch.Metric({ namespace: METRICS.namespace, metricName, dimensionsMap: { ...service, ...dimensionsMap }, statistic, period: Duration.minutes(1), label });
    const search = (metricName: string, dimension: string, statistic: string, perSecond: boolean, label: string): cloudwatch.MathExpression => {
      const query = `SEARCH('{${METRICS.namespace},${dimension},service} MetricName="${metricName}" service="${METRICS.service}"', '${statistic}', 60)`;
      return new cloudwatch.MathExpression({ expression: perSecond ? `${query} / 60` : query, label, period: Duration.minutes(1), usingMetrics: {} });
    };
    // Labels only on graphs: an alarm on a labelled metric renders as metric math.
    const latency = (operation: string, statistic: 'p50' | 'p99', labelled = true): cloudwatch.Metric =>
      xks(METRICS.xksLatency, { [METRICS.dimensions.operation]: operation }, statistic, labelled ? `${operation} ${statistic}` : undefined);

    // Alarms
    const alarm = (id: string, metric: cloudwatch.IMetric, threshold: number, description: string, evaluationPeriods = 5, datapointsToAlarm = 3): cloudwatch.Alarm => {
      const created = new cloudwatch.Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods,
        datapointsToAlarm,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      created.addAlarmAction(new actions.SnsAction(this.alarmTopic));
      this.alarms.push(created);
      return created;
    };
    for (const operation of METRICS.operations) {
      alarm(`P99-${operation}`, latency(operation, 'p99', false), p99Threshold, `XKS ${operation} p99 latency above ${p99Threshold} ms (AWS KMS gives up at ${KMS_LATENCY_BUDGET_MS} ms).`);
    }
    for (const errorName of ALARMED_ERROR_NAMES) {
      alarm(`Errors-${errorName}`, xks(METRICS.xksErrors, { [METRICS.dimensions.errorName]: errorName }, 'Sum'), 0, `The XKS proxy answered ${errorName}: the proxy or the HSM is failing AWS KMS calls.`, 3, 2);
    }
    alarm('HsmConnectionDropped', xks(METRICS.hsmConnectionDropped, {}, 'Sum'), 0, 'The HSM failed a PKCS#11 call (device error, token gone): the proxy dropped the partition\'s sessions and logged in again.', 3, 2);
    alarm('HealthCheckFailed', xks(METRICS.healthCheckFailed, {}, 'Sum'), 0, 'A deep health check (encrypt + decrypt with a key store\'s health-check key in the HSM) failed.', 3, 2);
    alarm('PingUnhealthy', props.proxyTargetGroup.metrics.unhealthyHostCount({ period: Duration.minutes(1), statistic: 'Maximum' }), 0, 'The ALB\'s GET /ping health check of the proxy function fails.', 3, 2);
    const pcUtilization = props.proxyAlias.metric('ProvisionedConcurrencyUtilization', { statistic: 'Maximum', period: Duration.minutes(1) });
    alarm('ProvisionedConcurrencyUtilization', pcUtilization, pcThreshold, `Provisioned concurrency of the proxy above ${pcThreshold * 100}% utilization: requests are about to hit cold starts. Raise provisionedConcurrencyMax.`);

    // Dashboard
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: props.dashboardName ?? 'XksKeyManager', defaultInterval: Duration.hours(3) });
    const budget = { value: KMS_LATENCY_BUDGET_MS, label: `KMS budget ${KMS_LATENCY_BUDGET_MS} ms`, color: cloudwatch.Color.RED };
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'XKS latency p50 by operation (ms)',
        left: METRICS.operations.map((op) => latency(op, 'p50')),
        leftAnnotations: [budget],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'XKS latency p99 by operation (ms)',
        left: METRICS.operations.map((op) => latency(op, 'p99')),
        leftAnnotations: [budget, { value: p99Threshold, label: `alarm ${p99Threshold} ms`, color: cloudwatch.Color.ORANGE }],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'XKS requests per second per key store',
        left: [search(METRICS.xksRequests, METRICS.dimensions.keyStoreId, 'Sum', true, '')],
        leftAnnotations: [{ value: KMS_RPS_PER_KEY_STORE, label: `KMS quota ${KMS_RPS_PER_KEY_STORE}/s per store`, color: cloudwatch.Color.RED }],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'XKS errors by errorName (per minute)',
        left: [search(METRICS.xksErrors, METRICS.dimensions.errorName, 'Sum', false, '')],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Provisioned concurrency utilization',
        left: [pcUtilization],
        leftYAxis: { min: 0, max: 1 },
        leftAnnotations: [{ value: pcThreshold, label: `alarm ${pcThreshold * 100}%`, color: cloudwatch.Color.ORANGE }],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Health checks',
        left: [
          xks(METRICS.healthCheckPassed, {}, 'Sum', 'deep checks passed'),
          xks(METRICS.healthCheckFailed, {}, 'Sum', 'deep checks failed'),
        ],
        right: [
          props.proxyTargetGroup.metrics.healthyHostCount({ period: Duration.minutes(1), label: 'ALB /ping healthy' }),
          props.proxyTargetGroup.metrics.unhealthyHostCount({ period: Duration.minutes(1), label: 'ALB /ping unhealthy' }),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Management API 4xx / 5xx',
        left: [
          props.api.metricClientError({ period: Duration.minutes(1), statistic: 'Sum', label: '4xx' }),
          props.api.metricServerError({ period: Duration.minutes(1), statistic: 'Sum', label: '5xx' }),
        ],
        width: 8,
      }),
    );
  }
}
