/**
 * Job runs (`GET /v1/scheduler/jobs`): one record per run of a job configuration, saying when it
 * ran, what started it (its schedule, or run-now), its status and, per target (a key store or a
 * key), whether it was done or the error.
 *
 * A scheduled run's id is derived from the configuration and the time it was due, so that a
 * schedule delivered twice (EventBridge Scheduler delivers at least once; the local scheduler
 * after a restart) makes one run, not two.
 */
import { createHash } from 'node:crypto';
import { envelope, type ResourceEnvelope } from '../resource';
import type { JobOperation } from './job-config';

export const JOB_RUN_RESOURCE = 'Job run';

export type JobRunTrigger = 'schedule' | 'run-now';
/** `queued` until the runner takes it; `completed` when every target was done, `failed` when none was. */
export type JobRunStatus = 'queued' | 'running' | 'completed' | 'partially_completed' | 'failed';

export interface JobRunResult {
  readonly target_type: 'key_store' | 'aws_key' | 'synchronization_job';
  readonly target_id: string;
  readonly status: 'done' | 'failed' | 'skipped';
  /** What went wrong (failed), or why nothing was needed (skipped). */
  readonly message?: string;
}

export interface JobRunData {
  readonly jobConfigId: string;
  readonly jobConfigName: string;
  readonly operation: JobOperation;
  readonly trigger: JobRunTrigger;
  /** Scheduled runs: when the run was due. */
  readonly scheduledTime?: string;
  readonly status: JobRunStatus;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly results: readonly JobRunResult[];
  /** Why the run as a whole failed (e.g. its configuration was deleted). */
  readonly message?: string;
}

export interface JobRunResource extends ResourceEnvelope {
  readonly job_config_id: string;
  readonly job_config_name: string;
  readonly operation: JobOperation;
  readonly trigger: JobRunTrigger;
  readonly scheduled_time?: string;
  readonly status: JobRunStatus;
  readonly started_at?: string;
  readonly finished_at?: string;
  readonly results: readonly JobRunResult[];
  readonly done_count: number;
  readonly failed_count: number;
  readonly message?: string;
}

export function jobRunResource(id: string, run: JobRunData): JobRunResource {
  return {
    ...envelope('scheduler_job', id, run),
    job_config_id: run.jobConfigId,
    job_config_name: run.jobConfigName,
    operation: run.operation,
    trigger: run.trigger,
    ...(run.scheduledTime === undefined ? {} : { scheduled_time: run.scheduledTime }),
    status: run.status,
    ...(run.startedAt === undefined ? {} : { started_at: run.startedAt }),
    ...(run.finishedAt === undefined ? {} : { finished_at: run.finishedAt }),
    results: run.results,
    done_count: run.results.filter((r) => r.status === 'done').length,
    failed_count: run.results.filter((r) => r.status === 'failed').length,
    ...(run.message === undefined ? {} : { message: run.message }),
  };
}

/** The status a finished run's results make. */
export function finalStatus(results: readonly JobRunResult[]): JobRunStatus {
  const failed = results.filter((r) => r.status === 'failed').length;
  if (failed === 0) return 'completed';
  return failed === results.length ? 'failed' : 'partially_completed';
}

/** The id of the run of `jobConfigId` due at `scheduledTime` (UUID-shaped, the same for every delivery). */
export function scheduledRunId(jobConfigId: string, scheduledTime: string): string {
  const hex = createHash('sha256').update(`${jobConfigId}\n${new Date(scheduledTime).toISOString()}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
