/**
 * The daily sweep (lambdas/sweeps/daily-sweep.ts): a function that removes secrets no record
 * references and settles PENDING HSM keys, run once a day by a fixed EventBridge Scheduler
 * schedule of the stack (`rate(1 day)`, in the default schedule group). The schedule's own role may
 * invoke this function only; invocations the scheduler cannot deliver go to a dead-letter queue.
 *
 * The function's role, least privilege:
 *  - Secrets Manager: ListSecrets (which IAM grants on `*` only; the function filters by the
 *    deployment's name prefix) and DeleteSecret on the deployment's secret names; never
 *    GetSecretValue and no use of the secrets' KMS key;
 *  - the state table: read (which secrets are referenced) and write (settling PENDING HSM keys);
 *  - the HSM agent: invoke (asking the HSM whether a PENDING key exists).
 */
import * as path from 'node:path';
import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV, METRICS } from '../../lambdas/contract/env';
import { acknowledge, acknowledgeFinding } from '../private/nag';
import { PROJECT_ROOT } from '../private/project';
import type { HsmAgent } from './hsm-agent';
import { BUNDLING, NODE_RUNTIME } from './operation-function';
import type { SecretPrefixes } from './secret-prefixes';
import type { StateTable } from './state-table';

/** The sweep's entry, relative to the repository root. */
export const DAILY_SWEEP_ENTRY = 'lambdas/sweeps/daily-sweep.ts';
export const DAILY_SWEEP_DESCRIPTION = 'Daily sweep: unreferenced secrets (after 1 hour) and PENDING HSM keys';

export interface DailySweepProps {
  readonly stateTable: StateTable;
  readonly secrets: SecretPrefixes;
  readonly hsmAgent: HsmAgent;
  /** @default lambda.Architecture.ARM_64 */
  readonly architecture?: lambda.Architecture;
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
}

export class DailySweep extends Construct {
  public readonly function: lambda.Function;
  public readonly role: iam.Role;
  public readonly schedule: scheduler.Schedule;
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: DailySweepProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.RETAIN });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Daily sweep: removes unreferenced secrets, settles PENDING HSM keys',
      path: props.secrets.rolePath,
    });
    logGroup.grantWrite(this.role);
    props.stateTable.grantReadWrite(this.role);
    props.hsmAgent.grantInvoke(this.role);
    for (const kind of ['xks', 'hsmPin', 'cloudHsmPassword'] as const) props.secrets.grantDelete(this.role, kind);
    this.role.addToPolicy(new iam.PolicyStatement({ actions: ['secretsmanager:ListSecrets'], resources: ['*'] }));
    acknowledge(this.role, 'AwsSolutions-IAM5[Resource::*]', 'secretsmanager:ListSecrets supports no resource-level permission (IAM grants it on * only); it returns names and dates, never values, and the function lists by the deployment prefix only.');

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      runtime: NODE_RUNTIME,
      architecture: props.architecture ?? lambda.Architecture.ARM_64,
      memorySize: 512,
      timeout: Duration.minutes(5),
      role: this.role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      description: DAILY_SWEEP_DESCRIPTION,
      entry: path.join(PROJECT_ROOT, DAILY_SWEEP_ENTRY),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      bundling: BUNDLING,
      environment: {
        [ENV.serviceName]: 'daily-sweep',
        [ENV.logLevel]: 'INFO',
        [ENV.metricsNamespace]: METRICS.namespace,
        [ENV.stateTableName]: props.stateTable.table.tableName,
        [ENV.hsmAgentFunctionName]: props.hsmAgent.function.functionName,
        ...props.secrets.environmentFor('delete'),
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
    acknowledge(this.function, 'AwsSolutions-L1', 'The project targets the nodejs22.x runtime (toolchain pinned to Node 22; middy 6); newer runtimes are adopted deliberately, not by default.');

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(this.deadLetterQueue, 'AwsSolutions-SQS3', 'This queue is the dead-letter queue of the daily sweep schedule; a dead-letter queue has none of its own.');

    // The schedule's own role (not the stack-wide one the target would make): invoke this function, nothing else.
    const scheduleRole = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } } }),
      description: 'EventBridge Scheduler: invokes the daily sweep function only',
    });
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'Runs the daily sweep once a day',
      schedule: scheduler.ScheduleExpression.rate(Duration.days(1)),
      target: new targets.LambdaInvoke(this.function, { role: scheduleRole, deadLetterQueue: this.deadLetterQueue, retryAttempts: 3, maxEventAge: Duration.hours(6) }),
    });
    acknowledgeFinding(scheduleRole, 'AwsSolutions-IAM5', 'Resource', `${this.function.functionArn}:*`, 'The scheduler target grants invoke on the sweep function and its versions (`<arn>:*`): one function, no other.');
  }
}
