/**
 * The job engine on AWS (README "Synchronization jobs"): for each row of the job table
 * (lambdas/contract/jobs.ts) an SQS queue of the kind's units, its dead-letter queue with an alarm,
 * and the worker function the queue drives, granted exactly the row's `needs` plus its own queue.
 *
 * A unit whose step throws is reported back as a batch item failure; SQS delivers it again after
 * the visibility timeout (six times the worker's timeout, as AWS advises for Lambda event sources)
 * and after MAX_RECEIVES deliveries moves it to the dead-letter queue. Throttling does not count
 * there: the runner queues the unit again itself, with its own backoff.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ACCOUNT_ROLE_NAME_PREFIX, ENV } from '../../lambdas/contract/env';
import { type JobDefinition, type JobKind, jobs as allJobs } from '../../lambdas/contract/jobs';
import { grantAssumeAccountRoles, grantAwsKms } from '../private/kms-grants';
import { functionLogGroup, functionRole, nodeFunction } from '../private/lambda-functions';
import { acknowledge } from '../private/nag';
import { PROJECT_ROOT } from '../private/project';
import type { StateTable } from './state-table';

/** Deliveries of a unit whose worker threw before it goes to the dead-letter queue. */
export const MAX_RECEIVES = 5;

export interface JobWorkersProps {
  readonly stateTable: StateTable;
  /** @default - every row of lambdas/contract/jobs.ts */
  readonly jobs?: readonly JobDefinition[];
  /** @default `arn:<partition>:iam::*:role/xks-key-manager-*` */
  readonly accountRoleArnPattern?: string;
  /** @default lambda.Architecture.ARM_64 */
  readonly architecture?: lambda.Architecture;
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /** @default 14 days (SQS's longest retention), time to look at a failed unit and redrive it */
  readonly deadLetterRetention?: Duration;
}

/** One kind's queue, dead-letter queue, alarm and worker. */
export interface JobWorker {
  readonly job: JobDefinition;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly deadLetterAlarm: cloudwatch.Alarm;
  readonly function: lambda.Function;
  readonly role: iam.Role;
}

export class JobWorkers extends Construct {
  public readonly workers: ReadonlyMap<JobKind, JobWorker>;

  constructor(scope: Construct, id: string, props: JobWorkersProps) {
    super(scope, id);
    const jobs = props.jobs ?? allJobs;
    if (new Set(jobs.map((j) => j.kind)).size !== jobs.length) throw new Error('JobWorkers: a job kind appears twice; each kind is one row of lambdas/contract/jobs.ts.');
    const pattern = props.accountRoleArnPattern ?? `arn:${Aws.PARTITION}:iam::*:role/${ACCOUNT_ROLE_NAME_PREFIX}*`;
    this.workers = new Map(jobs.map((job) => [job.kind, this.worker(job, props, pattern)]));
  }

  /** The queue of a kind, for the API functions that start its jobs. */
  public queue(kind: JobKind): sqs.IQueue | undefined {
    return this.workers.get(kind)?.queue;
  }

  /** Every dead-letter alarm (the stack sends them to the alarm topic). */
  public get alarms(): cloudwatch.Alarm[] {
    return [...this.workers.values()].map((w) => w.deadLetterAlarm);
  }

  private worker(job: JobDefinition, props: JobWorkersProps, accountRoleArnPattern: string): JobWorker {
    if (job.timeoutSeconds > 900) throw new Error(`JobWorkers: ${job.kind} timeoutSeconds ${job.timeoutSeconds} exceeds Lambda's 900 s; make its step smaller.`);
    if (job.maxConcurrency < 2 || job.maxConcurrency > 1000) throw new Error(`JobWorkers: ${job.kind} maxConcurrency must be 2-1000 (SQS event source limits), not ${job.maxConcurrency}.`);
    const scope = new Construct(this, job.kind);
    const timeout = Duration.seconds(job.timeoutSeconds);
    const deadLetterQueue = new sqs.Queue(scope, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: props.deadLetterRetention ?? Duration.days(14),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledge(deadLetterQueue, 'AwsSolutions-SQS3', 'This is the dead-letter queue of the job queue; what lands here is alarmed on and redriven by the operator.');
    const queue = new sqs.Queue(scope, 'Units', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(job.timeoutSeconds * 6),
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: MAX_RECEIVES },
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const logGroup = functionLogGroup(scope, 'Logs', props.logRetention);
    const role = functionRole(scope, 'Role', logGroup, `${job.kind} job worker`);
    const fn = this.workerFunction(scope, job, { role, logGroup, timeout, architecture: props.architecture, queue, stateTable: props.stateTable });
    fn.addEventSource(new SqsEventSource(queue, { batchSize: 1, reportBatchItemFailures: true, maxConcurrency: job.maxConcurrency }));
    // The worker queues a unit's continuation (and its retries) on its own queue.
    queue.grantSendMessages(role);
    if (job.needs.state === 'readwrite') props.stateTable.grantReadWrite(role);
    else if (job.needs.state === 'read') props.stateTable.grantRead(role);
    if (job.needs.assumeAccountRole) grantAssumeAccountRoles(role, accountRoleArnPattern);
    if (job.needs.awsKms && job.needs.awsKms.length > 0) grantAwsKms(role, job.needs.awsKms);

    const deadLetterAlarm = new cloudwatch.Alarm(scope, 'DeadLettersAlarm', {
      alarmDescription: `${job.kind} job units failed ${MAX_RECEIVES} times and wait in the dead-letter queue (their jobs stay in progress until they are redriven): read the worker's log for the unit's jobId, fix the cause, then redrive the queue`,
      metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    return { job, queue, deadLetterQueue, deadLetterAlarm, function: fn, role };
  }

  private workerFunction(
    scope: Construct,
    job: JobDefinition,
    parts: { role: iam.Role; logGroup: logs.LogGroup; timeout: Duration; architecture?: lambda.Architecture; queue: sqs.Queue; stateTable: StateTable },
  ): lambda.Function {
    const exists = fs.existsSync(path.join(PROJECT_ROOT, job.worker));
    if (!exists && Stack.of(this).bundlingRequired) throw new Error(`Worker file ${job.worker} of job kind ${job.kind} does not exist. Create it (exporting \`handler\`) or fix the row in lambdas/contract/jobs.ts.`);
    const fn = nodeFunction(scope, 'Function', {
      code: exists ? { entry: job.worker } : { placeholder: `${job.worker} was missing at synth` },
      description: job.summary.slice(0, 256),
      serviceName: 'job-worker',
      role: parts.role,
      logGroup: parts.logGroup,
      timeout: parts.timeout,
      architecture: parts.architecture,
      environment: {
        [ENV.stateTableName]: parts.stateTable.table.tableName,
        [ENV.jobQueueUrls]: jobQueueUrls(scope, [[job.kind, parts.queue]]),
      },
    });
    return fn;
  }
}

/** JOB_QUEUE_URLS: the queue URL of each kind, as the SQS adapter reads it. */
export function jobQueueUrls(scope: Construct, queues: ReadonlyArray<readonly [JobKind, sqs.IQueue]>): string {
  return Stack.of(scope).toJsonString(Object.fromEntries(queues.map(([kind, queue]) => [kind, queue.queueUrl])));
}
