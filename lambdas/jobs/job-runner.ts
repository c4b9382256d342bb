/**
 * Lambda entry of the job runner: the target of every job configuration's EventBridge Scheduler
 * schedule (`{job_config_id, scheduled_time}`) and of run-now's asynchronous invoke
 * (`{job_config_id, job_run_id}`). It runs the job (core/schedules/job-runner.ts) and answers the
 * run's id and status. A malformed event is a function error, so that EventBridge Scheduler's
 * retries end in the dead-letter queue (and its alarm) rather than vanishing.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import type { JobRunnerEvent } from '../core/ports/job-scheduler';
import { dependencies } from '../runtime/dependencies';

const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'xks-key-manager-jobs' });

export async function handler(event: unknown, context?: Context): Promise<{ job_run_id?: string; status: string }> {
  if (context) logger.addContext(context);
  const job = parseEvent(event);
  logger.appendKeys({ jobConfigId: job.job_config_id });
  const run = await dependencies().jobRunner.run(job);
  if (run === undefined) {
    logger.info('nothing to run (a repeated delivery, a disabled or deleted configuration)', { scheduledTime: job.scheduled_time, jobRunId: job.job_run_id });
    return { status: 'skipped' };
  }
  logger.info('job run finished', { jobRunId: run.id, status: run.status, done: run.done_count, failed: run.failed_count });
  return { job_run_id: run.id, status: run.status };
}

function parseEvent(event: unknown): JobRunnerEvent {
  const e = (event ?? {}) as Record<string, unknown>;
  const text = (name: string): string | undefined => {
    const value = e[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.length === 0 || value.length > 256) throw new Error(`job runner event: ${name} must be a non-empty string`);
    return value;
  };
  const job_config_id = text('job_config_id');
  if (job_config_id === undefined) throw new Error('job runner event: job_config_id is required');
  const scheduled_time = text('scheduled_time');
  if (scheduled_time !== undefined && Number.isNaN(Date.parse(scheduled_time))) throw new Error('job runner event: scheduled_time must be an RFC 3339 time');
  const job_run_id = text('job_run_id');
  if ((scheduled_time === undefined) === (job_run_id === undefined)) throw new Error('job runner event: exactly one of scheduled_time and job_run_id is required');
  return { job_config_id, ...(scheduled_time === undefined ? {} : { scheduled_time }), ...(job_run_id === undefined ? {} : { job_run_id }) };
}
