/**
 * Schedules on AWS (README "Schedules"): the EventBridge Scheduler schedule group that holds one
 * schedule per job configuration, the job-runner function they invoke (lambdas/jobs/job-runner.ts),
 * the role EventBridge Scheduler assumes (it may invoke that function only, and put what still
 * fails after the retries in the dead-letter queue), and the dead-letter queue with an alarm.
 *
 * The job configuration routes (`needs.jobScheduler`) are granted `grantScheduling`: writing and
 * deleting schedules in this group, passing the scheduler role to EventBridge Scheduler, and
 * invoking the runner (run-now).
 */
import { Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ACCOUNT_ROLE_NAME_PREFIX, ENV } from '../../lambdas/contract/env';
import type { JobKind } from '../../lambdas/contract/job-kinds';
import type { AwsKmsAction } from '../../lambdas/contract/routes';
import { grantAwsKms } from '../private/kms-grants';
import { functionLogGroup, functionRole, nodeFunction } from '../private/lambda-functions';
import { acknowledge, acknowledgeWildcardGrant } from '../private/nag';
import type { HsmAgent } from './hsm-agent';
import { type JobWorkers, jobQueueUrls } from './job-workers';
import type { SecretPrefixes } from './secret-prefixes';
import type { StateTable } from './state-table';

/** The job kind the synchronization operation starts. */
const SYNC_JOB_KIND: JobKind = 'AwsKeySynchronization';

/** What a run calls in AWS KMS: credential rotation pushes the new credential; key rotation re-reads the KMS key. */
const RUNNER_KMS_ACTIONS: readonly AwsKmsAction[] = ['UpdateCustomKeyStore', 'DescribeCustomKeyStores', 'DescribeKey', 'ListAliases', 'ListResourceTags', 'GetKeyPolicy'];

/** The runner function's description (what tells it apart from the route functions in a template). */
export const JOB_RUNNER_DESCRIPTION = 'Runs job configurations (EventBridge Scheduler schedules and run-now)';

export interface JobSchedulingProps {
  readonly stateTable: StateTable;
  readonly secrets: SecretPrefixes;
  /** Key rotation generates source keys in the HSM. */
  readonly hsmAgent: HsmAgent;
  /**
   * The synchronization operation starts AWS key synchronization jobs: the runner writes the job and
   * sends its units to that kind's queue (and nothing else of the workers). Without it the
   * operation's runs fail, saying the queue is not configured.
   */
  readonly jobWorkers?: JobWorkers;
  /** @default lambda.Architecture.ARM_64 */
  readonly architecture?: lambda.Architecture;
  /** @default `arn:<partition>:iam::*:role/xks-key-manager-*` */
  readonly accountRoleArnPattern?: string;
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /**
   * One run handles at most 50 targets (core/schedules/job-config.ts), each an AWS KMS update or an
   * HSM key generation with its retries.
   * @default Duration.minutes(15)
   */
  readonly runnerTimeout?: Duration;
}

export class JobScheduling extends Construct {
  public readonly scheduleGroup: scheduler.ScheduleGroup;
  public readonly runner: lambda.Function;
  /** The role EventBridge Scheduler assumes to invoke the runner. */
  public readonly schedulerRole: iam.Role;
  public readonly deadLetterQueue: sqs.Queue;
  /** In alarm as soon as an invocation lands in the dead-letter queue. */
  public readonly deadLetterAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: JobSchedulingProps) {
    super(scope, id);
    this.scheduleGroup = new scheduler.ScheduleGroup(this, 'Group', { removalPolicy: RemovalPolicy.DESTROY });

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(this.deadLetterQueue, 'AwsSolutions-SQS3', 'This queue is the dead-letter queue of the job schedules; its messages are read by an operator after the alarm.');
    this.deadLetterAlarm = new cloudwatch.Alarm(this, 'DeadLettersAlarm', {
      alarmDescription: 'A scheduled job could not be started after every retry: see the job schedules\' dead-letter queue',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    const syncQueue = props.jobWorkers?.queue(SYNC_JOB_KIND);
    const logGroup = functionLogGroup(this, 'RunnerLogs', props.logRetention);
    const role = functionRole(this, 'RunnerRole', logGroup, 'Job runner: scheduled credential and key rotation', props.secrets.rolePathFor('write'));
    this.runner = nodeFunction(this, 'Runner', {
      code: { entry: 'lambdas/jobs/job-runner.ts' },
      description: JOB_RUNNER_DESCRIPTION,
      serviceName: 'job-runner',
      role,
      logGroup,
      timeout: props.runnerTimeout ?? Duration.minutes(15),
      architecture: props.architecture,
      environment: {
        [ENV.stateTableName]: props.stateTable.table.tableName,
        [ENV.hsmAgentFunctionName]: props.hsmAgent.function.functionName,
        ...props.secrets.environmentFor('write'),
        ...(syncQueue ? { [ENV.jobQueueUrls]: jobQueueUrls(this, [[SYNC_JOB_KIND, syncQueue]]) } : {}),
      },
    });
    syncQueue?.grantSendMessages(role);
    props.stateTable.grantReadWrite(role);
    props.secrets.grant(role, 'xks', 'write');
    props.hsmAgent.grantInvoke(role);
    const accountRoles = props.accountRoleArnPattern ?? `arn:${Aws.PARTITION}:iam::*:role/${ACCOUNT_ROLE_NAME_PREFIX}*`;
    iam.Grant.addToPrincipal({ grantee: role, actions: ['sts:AssumeRole'], resourceArns: [accountRoles] });
    acknowledgeWildcardGrant(role, accountRoles, `Registered AWS accounts are run-time data; the runner may assume only roles named ${ACCOUNT_ROLE_NAME_PREFIX}*, as the management functions do.`);
    grantAwsKms(role, RUNNER_KMS_ACTIONS);

    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } } }),
      description: 'EventBridge Scheduler: invokes the job runner, nothing else',
    });
    // The unqualified ARN only (Function.grantInvoke adds `:*` for every version and alias).
    iam.Grant.addToPrincipal({ grantee: this.schedulerRole, actions: ['lambda:InvokeFunction'], resourceArns: [this.runner.functionArn] });
    this.deadLetterQueue.grantSendMessages(this.schedulerRole);
  }

  /** The settings the job configuration routes read (contract/env.ts). */
  public get environment(): Record<string, string> {
    return {
      [ENV.jobScheduleGroup]: this.scheduleGroup.scheduleGroupName,
      [ENV.jobRunnerFunctionArn]: this.runner.functionArn,
      [ENV.jobSchedulerRoleArn]: this.schedulerRole.roleArn,
      [ENV.jobDeadLetterQueueArn]: this.deadLetterQueue.queueArn,
    };
  }

  /** Lets `grantee` change this group's schedules (passing them the scheduler role) and start runs now. */
  public grantScheduling(grantee: iam.IGrantable): void {
    this.scheduleGroup.grants.writeSchedules(grantee);
    this.scheduleGroup.grants.deleteSchedules(grantee);
    const schedules = `arn:${Aws.PARTITION}:scheduler:${Stack.of(this).region}:${Aws.ACCOUNT_ID}:schedule/${this.scheduleGroup.scheduleGroupName}/*`;
    acknowledgeWildcardGrant(grantee, schedules, 'Schedules are run-time data (one per job configuration); the grant is limited to the schedules of this stack\'s group.');
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['iam:PassRole'],
      resourceArns: [this.schedulerRole.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    });
    iam.Grant.addToPrincipal({ grantee, actions: ['lambda:InvokeFunction'], resourceArns: [this.runner.functionArn] });
  }
}
