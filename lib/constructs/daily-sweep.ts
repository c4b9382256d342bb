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
import { Aws, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../../lambdas/contract/env';
import { functionLogGroup, functionRole, nodeFunction } from '../private/lambda-functions';
import { acknowledge, acknowledgeFinding } from '../private/nag';
import type { HsmAgent } from './hsm-agent';
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
    const logGroup = functionLogGroup(this, 'Logs', props.logRetention);
    this.role = functionRole(this, 'Role', logGroup, 'Daily sweep: removes unreferenced secrets, settles PENDING HSM keys', props.secrets.rolePath);
    props.stateTable.grantReadWrite(this.role);
    props.hsmAgent.grantInvoke(this.role);
    for (const kind of ['xks', 'hsmPin', 'cloudHsmPassword'] as const) props.secrets.grantDelete(this.role, kind);
    this.role.addToPolicy(new iam.PolicyStatement({ actions: ['secretsmanager:ListSecrets'], resources: ['*'] }));
    acknowledge(this.role, 'AwsSolutions-IAM5[Resource::*]', 'secretsmanager:ListSecrets supports no resource-level permission (IAM grants it on * only); it returns names and dates, never values, and the function lists by the deployment prefix only.');

    this.function = nodeFunction(this, 'Function', {
      code: { entry: DAILY_SWEEP_ENTRY },
      description: DAILY_SWEEP_DESCRIPTION,
      serviceName: 'daily-sweep',
      role: this.role,
      logGroup,
      timeout: Duration.minutes(5),
      architecture: props.architecture,
      environment: {
        [ENV.stateTableName]: props.stateTable.table.tableName,
        [ENV.hsmAgentFunctionName]: props.hsmAgent.function.functionName,
        ...props.secrets.environmentFor('delete'),
      },
    });

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
