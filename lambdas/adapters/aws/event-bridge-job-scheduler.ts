/**
 * The JobScheduler on AWS: one EventBridge Scheduler schedule per job configuration, named
 * `job-config-<id>` in the stack's schedule group. Its expression is `run_at` converted to
 * `cron(...)` (core/schedules/cron-expressions.ts), read in the configuration's time zone, between its start
 * and end dates, `DISABLED` while the configuration is; its target is the job-runner function,
 * invoked with the configuration's id and the time the run was due (EventBridge Scheduler fills
 * in `<aws.scheduler.scheduled-time>`), through the scheduler role (which may invoke that function
 * only), with a retry policy and the dead-letter queue for invocations that still fail.
 * Run-now is an asynchronous invoke of the same function.
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  type SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { toEventBridgeCron } from '../../core/schedules/cron-expressions';
import type { JobRunnerEvent, JobSchedule, JobScheduler } from '../../core/ports/job-scheduler';

export interface EventBridgeJobSchedulerConfig {
  /** The stack's schedule group. */
  readonly groupName: string;
  /** ARN of the job-runner function (the schedules' target). */
  readonly runnerFunctionArn: string;
  /** ARN of the role EventBridge Scheduler assumes to invoke the runner. */
  readonly schedulerRoleArn: string;
  /** ARN of the SQS queue that receives invocations that failed after every retry. */
  readonly deadLetterQueueArn: string;
}

/** Retries of a failed invocation, within an hour of the time the run was due. */
export const SCHEDULE_RETRY_POLICY = { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 } as const;

export const scheduleName = (jobConfigId: string): string => `job-config-${jobConfigId}`;

export class EventBridgeJobScheduler implements JobScheduler {
  constructor(
    private readonly config: EventBridgeJobSchedulerConfig,
    private readonly scheduler: SchedulerClient,
    private readonly lambda: LambdaClient,
  ) {}

  async create(schedule: JobSchedule): Promise<void> {
    await this.scheduler.send(new CreateScheduleCommand(this.input(schedule)));
  }

  async update(schedule: JobSchedule): Promise<void> {
    try {
      await this.scheduler.send(new UpdateScheduleCommand(this.input(schedule)));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
      await this.create(schedule);
    }
  }

  async remove(jobConfigId: string): Promise<void> {
    try {
      await this.scheduler.send(new DeleteScheduleCommand({ Name: scheduleName(jobConfigId), GroupName: this.config.groupName }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  }

  async runNow(event: Required<Pick<JobRunnerEvent, 'job_config_id' | 'job_run_id'>>): Promise<void> {
    const payload: JobRunnerEvent = { job_config_id: event.job_config_id, job_run_id: event.job_run_id };
    await this.lambda.send(
      new InvokeCommand({ FunctionName: this.config.runnerFunctionArn, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(payload)) }),
    );
  }

  private input(schedule: JobSchedule): CreateScheduleCommandInput {
    const target: JobRunnerEvent = { job_config_id: schedule.jobConfigId, scheduled_time: '<aws.scheduler.scheduled-time>' };
    return {
      Name: scheduleName(schedule.jobConfigId),
      GroupName: this.config.groupName,
      ScheduleExpression: toEventBridgeCron(schedule.runAt),
      ScheduleExpressionTimezone: schedule.timezone,
      ...(schedule.startDate === undefined ? {} : { StartDate: new Date(schedule.startDate) }),
      ...(schedule.endDate === undefined ? {} : { EndDate: new Date(schedule.endDate) }),
      State: schedule.enabled ? 'ENABLED' : 'DISABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: this.config.runnerFunctionArn,
        RoleArn: this.config.schedulerRoleArn,
        Input: JSON.stringify(target),
        RetryPolicy: { ...SCHEDULE_RETRY_POLICY },
        DeadLetterConfig: { Arn: this.config.deadLetterQueueArn },
      },
    };
  }
}
