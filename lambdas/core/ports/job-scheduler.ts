/**
 * The scheduler that runs job configurations (README "Schedules"): EventBridge Scheduler on AWS
 * (one schedule per configuration, its target the job runner), an in-process scheduler locally.
 * Both call the job runner with a `JobRunnerEvent`.
 */

/** One job configuration's schedule. */
export interface JobSchedule {
  readonly jobConfigId: string;
  /** 5-field cron expression, already validated (core/schedules/cron.ts). */
  readonly runAt: string;
  /** IANA time zone the expression is read in. */
  readonly timezone: string;
  /** RFC 3339; no run before it. */
  readonly startDate?: string;
  /** RFC 3339; no run after it. */
  readonly endDate?: string;
  /** A disabled configuration keeps its schedule, switched off. */
  readonly enabled: boolean;
}

/** What the job runner is invoked with. */
export interface JobRunnerEvent {
  readonly job_config_id: string;
  /** Scheduled runs: the time the run was due (RFC 3339), which makes the run's id. */
  readonly scheduled_time?: string;
  /** Run-now: the job run record the API already wrote. */
  readonly job_run_id?: string;
}

export interface JobScheduler {
  /** Creates the configuration's schedule. Fails (and leaves none) when the scheduler refuses it. */
  create(schedule: JobSchedule): Promise<void>;
  /** Replaces the configuration's schedule (creating it when it is missing). */
  update(schedule: JobSchedule): Promise<void>;
  /** Removes the configuration's schedule; a schedule that is already gone is not an error. */
  remove(jobConfigId: string): Promise<void>;
  /** Starts one run now, in the background (run-now): the runner gets `job_run_id`. */
  runNow(event: Required<Pick<JobRunnerEvent, 'job_config_id' | 'job_run_id'>>): Promise<void>;
}
