import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
  ValidationException,
} from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { EventBridgeJobScheduler } from '../../../lambdas/adapters/aws/event-bridge-job-scheduler';
import { DependencyError } from '../../../lambdas/core/errors';
import { JobConfigService } from '../../../lambdas/core/schedules/job-config-service';
import { MemoryStateStore } from '../../helpers/memory-state-store';

const scheduler = mockClient(SchedulerClient);
const lambda = mockClient(LambdaClient);
const CONFIG = {
  groupName: 'KeyManager-jobs',
  runnerFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:KeyManager-JobRunner',
  schedulerRoleArn: 'arn:aws:iam::111122223333:role/KeyManager-SchedulerRole',
  deadLetterQueueArn: 'arn:aws:sqs:eu-west-1:111122223333:KeyManager-JobDlq',
};
const ID = '0b6f1f4e-2b1c-4c53-9a6e-0d9a1c1e5f00';
const meta = { $metadata: {} };

let adapter: EventBridgeJobScheduler;

beforeEach(() => {
  scheduler.reset();
  lambda.reset();
  adapter = new EventBridgeJobScheduler(CONFIG, new SchedulerClient({ region: 'eu-west-1' }), new LambdaClient({ region: 'eu-west-1' }));
});

/** The exact schedule every create and update writes for a weekday 09:00 Paris configuration. */
const EXPECTED_SCHEDULE = {
  Name: `job-config-${ID}`,
  GroupName: 'KeyManager-jobs',
  ScheduleExpression: 'cron(0 9 ? * 2-6 *)',
  ScheduleExpressionTimezone: 'Europe/Paris',
  StartDate: new Date('2027-01-01T00:00:00.000Z'),
  EndDate: new Date('2028-01-01T00:00:00.000Z'),
  State: 'ENABLED',
  FlexibleTimeWindow: { Mode: 'OFF' },
  Target: {
    Arn: CONFIG.runnerFunctionArn,
    RoleArn: CONFIG.schedulerRoleArn,
    Input: `{"job_config_id":"${ID}","scheduled_time":"<aws.scheduler.scheduled-time>"}`,
    RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
    DeadLetterConfig: { Arn: CONFIG.deadLetterQueueArn },
  },
};
const SCHEDULE = { jobConfigId: ID, runAt: '0 9 * * 1-5', timezone: 'Europe/Paris', startDate: '2027-01-01T00:00:00.000Z', endDate: '2028-01-01T00:00:00.000Z', enabled: true };

describe('EventBridgeJobScheduler', () => {
  it('creates one schedule per configuration: converted cron, time zone, dates, target with retry policy and DLQ', async () => {
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn', ...meta });
    await adapter.create(SCHEDULE);
    expect(scheduler).toHaveReceivedCommandTimes(CreateScheduleCommand, 1);
    expect(scheduler.commandCalls(CreateScheduleCommand)[0].args[0].input).toEqual(EXPECTED_SCHEDULE);
  });

  it('writes a disabled configuration as a DISABLED schedule without dates it does not have', async () => {
    scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn', ...meta });
    await adapter.update({ jobConfigId: ID, runAt: '*/5 * * * *', timezone: 'UTC', enabled: false });
    const { StartDate, EndDate, ...rest } = EXPECTED_SCHEDULE;
    expect(scheduler.commandCalls(UpdateScheduleCommand)[0].args[0].input).toEqual({
      ...rest, ScheduleExpression: 'cron(0,5,10,15,20,25,30,35,40,45,50,55 * * * ? *)', ScheduleExpressionTimezone: 'UTC', State: 'DISABLED',
    });
    expect([StartDate, EndDate]).toHaveLength(2);
  });

  it.each([
    ['0 9 ? * MON-FRI', 'cron(0 9 ? * 2-6 *)'],
    ['30 6 ? * mon#1', 'cron(30 6 ? * 2#1 *)'],
    ['0 0 L feb ?', 'cron(0 0 L 2 ? *)'],
    ['15 10 ? * 5L', 'cron(15 10 ? * 6L *)'],
    ['0 12 15W * ?', 'cron(0 12 15W * ? *)'],
  ])('sends run_at %s with names and day rules as %s', async (runAt, expression) => {
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn', ...meta });
    await adapter.create({ ...SCHEDULE, runAt });
    expect(scheduler.commandCalls(CreateScheduleCommand)[0].args[0].input).toEqual({ ...EXPECTED_SCHEDULE, ScheduleExpression: expression });
  });

  it('creates the schedule when an update finds none', async () => {
    scheduler.on(UpdateScheduleCommand).rejects(new ResourceNotFoundException({ Message: 'Schedule not found', message: 'Schedule not found', ...meta }));
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn', ...meta });
    await adapter.update(SCHEDULE);
    expect(scheduler.commandCalls(CreateScheduleCommand)[0].args[0].input).toEqual(EXPECTED_SCHEDULE);
  });

  it('deletes the schedule; one already gone is not an error', async () => {
    scheduler.on(DeleteScheduleCommand).rejectsOnce(new ResourceNotFoundException({ Message: 'gone', message: 'gone', ...meta })).resolves(meta);
    await adapter.remove(ID);
    await adapter.remove(ID);
    expect(scheduler).toHaveReceivedCommandWith(DeleteScheduleCommand, { Name: `job-config-${ID}`, GroupName: 'KeyManager-jobs' });
    expect(scheduler).toHaveReceivedCommandTimes(DeleteScheduleCommand, 2);
  });

  it('runs now by invoking the runner asynchronously with the job run id', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 202, ...meta });
    await adapter.runNow({ job_config_id: ID, job_run_id: 'run-1' });
    const input = lambda.commandCalls(InvokeCommand)[0].args[0].input;
    expect({ ...input, Payload: Buffer.from(input.Payload as Uint8Array).toString() }).toEqual({
      FunctionName: CONFIG.runnerFunctionArn, InvocationType: 'Event', Payload: `{"job_config_id":"${ID}","job_run_id":"run-1"}`,
    });
  });
});

describe('job configurations with EventBridge Scheduler: a refused schedule call rolls the record change back', () => {
  let state: MemoryStateStore;
  let service: JobConfigService;
  const now = new Date('2026-12-01T12:00:00Z');
  let n = 0;

  beforeEach(() => {
    state = new MemoryStateStore();
    n = 0;
    service = new JobConfigService({ state, clock: { now: () => now }, ids: { newId: () => `${ID.slice(0, -1)}${n++}` }, jobScheduler: adapter });
  });

  const create = { name: 'nightly', operation: 'cckm_xks_credential_rotation' as const, run_at: '0 3 * * *' };

  it('create: no record is left and the name is free again', async () => {
    scheduler.on(CreateScheduleCommand).rejectsOnce(new ValidationException({ Message: 'Invalid RoleArn', message: 'Invalid RoleArn', ...meta })).resolves({ ScheduleArn: 'arn', ...meta });
    const refused = await service.create(create).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DependencyError);
    expect((refused as Error).message).toMatch(/not created: Invalid RoleArn/);
    expect(await state.list('jobConfig')).toHaveLength(0);
    const made = await service.create(create);
    expect(made.name).toBe('nightly');
    expect(await state.list('jobConfig')).toHaveLength(1);
  });

  it('update: the record keeps its old values when the schedule cannot follow', async () => {
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn', ...meta });
    const made = await service.create(create);
    scheduler.on(UpdateScheduleCommand).rejects(new ValidationException({ Message: 'throttled', message: 'throttled', ...meta }));
    await expect(service.update(made.id, { run_at: '0 4 * * *', name: 'renamed', disabled: true })).rejects.toThrow(/not changed: throttled/);
    const kept = await service.get(made.id);
    expect({ name: kept.name, run_at: kept.run_at, disabled: kept.disabled }).toEqual({ name: 'nightly', run_at: '0 3 * * *', disabled: false });
    expect((await service.list({ name: 'nightly' })).total).toBe(1);
    // The name was released back: another configuration cannot take "nightly", and "renamed" is free.
    await expect(service.create(create)).rejects.toThrow(/already exists/);
    expect((await service.create({ ...create, name: 'renamed' })).name).toBe('renamed');
  });

  it('delete: the record comes back when the schedule cannot be deleted', async () => {
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn', ...meta });
    const made = await service.create(create);
    scheduler.on(DeleteScheduleCommand).rejects(new ValidationException({ Message: 'denied', message: 'denied', ...meta }));
    await expect(service.delete(made.id)).rejects.toThrow(/not deleted: denied/);
    expect((await service.get(made.id)).name).toBe('nightly');
  });

  it('run-now: no queued run is left when the runner cannot be invoked', async () => {
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn', ...meta });
    const made = await service.create(create);
    lambda.on(InvokeCommand).rejects(new Error('Rate exceeded'));
    await expect(service.runNow(made.id)).rejects.toThrow(/not started: Rate exceeded/);
    expect(await state.list('jobRun')).toHaveLength(0);
  });
});
