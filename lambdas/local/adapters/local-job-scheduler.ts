/**
 * The JobScheduler of local mode: schedules kept in `<state>/scheduler/schedules.json` (so they
 * survive a restart, as DynamoDB Local's data does), read by the in-process scheduler that the
 * local runner starts (lambdas/local/local-scheduler.ts). Run-now requests are queued in the same
 * file and taken by that scheduler's next tick. Every write replaces the file whole (written
 * aside, then renamed), so a reader never sees half of one.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JobRunnerEvent, JobSchedule, JobScheduler } from '../../core/ports/job-scheduler';
import { parseCron } from '../../core/schedules/cron';

/** A schedule as kept locally: `since` is when it was (re)written; no run due before it is made up. */
export type LocalSchedule = JobSchedule & { readonly since: string };

export interface LocalSchedulerFile {
  readonly schedules: Readonly<Record<string, LocalSchedule>>;
  readonly runNow: readonly Required<Pick<JobRunnerEvent, 'job_config_id' | 'job_run_id'>>[];
}

export const schedulerDir = (stateDir: string): string => join(stateDir, 'scheduler');
const schedulesFile = (stateDir: string): string => join(schedulerDir(stateDir), 'schedules.json');

export function readSchedulerFile(stateDir: string): LocalSchedulerFile {
  try {
    return JSON.parse(readFileSync(schedulesFile(stateDir), 'utf8')) as LocalSchedulerFile;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { schedules: {}, runNow: [] };
    throw error;
  }
}

/** Changes the file under `change` (synchronous: one process serves every handler locally, so no other write interleaves). */
export function changeSchedulerFile(stateDir: string, change: (file: LocalSchedulerFile) => LocalSchedulerFile): void {
  const next = change(readSchedulerFile(stateDir));
  mkdirSync(schedulerDir(stateDir), { recursive: true, mode: 0o700 });
  const path = schedulesFile(stateDir);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

export class LocalJobScheduler implements JobScheduler {
  constructor(private readonly options: { readonly stateDir: string; readonly now?: () => Date }) {}

  async create(schedule: JobSchedule): Promise<void> {
    this.put(schedule);
  }

  async update(schedule: JobSchedule): Promise<void> {
    this.put(schedule);
  }

  async remove(jobConfigId: string): Promise<void> {
    changeSchedulerFile(this.options.stateDir, (file) => {
      const { [jobConfigId]: _removed, ...schedules } = file.schedules;
      return { ...file, schedules };
    });
  }

  async runNow(event: Required<Pick<JobRunnerEvent, 'job_config_id' | 'job_run_id'>>): Promise<void> {
    changeSchedulerFile(this.options.stateDir, (file) => ({ ...file, runNow: [...file.runNow, event] }));
  }

  private put(schedule: JobSchedule): void {
    parseCron(schedule.runAt); // what EventBridge Scheduler would refuse, refused here too
    const since = (this.options.now?.() ?? new Date()).toISOString();
    changeSchedulerFile(this.options.stateDir, (file) => ({ ...file, schedules: { ...file.schedules, [schedule.jobConfigId]: { ...schedule, since } } }));
  }
}
