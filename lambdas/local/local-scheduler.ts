/**
 * The in-process scheduler of `npm start`: it runs job configurations' schedules
 * (`<state>/scheduler/schedules.json`, written by LocalJobScheduler) through the same job runner
 * that EventBridge Scheduler invokes on AWS, reading each 5-field `run_at` with croner in the
 * configuration's time zone, as the pattern core/schedules/cron-expressions.ts writes from it
 * (the same reading that EventBridge Scheduler's expression is written from).
 *
 * Each tick runs, per enabled schedule, the latest run due since the last one it made (or since
 * the schedule was written), within the start and end dates: after a stop, a run that fell due
 * meanwhile is made once, however many fell due, and never again after the next restart (the
 * last due time made is kept in `<state>/scheduler/last-runs.json` before the run starts; the
 * runner's run id, derived from it, turns a repeat into nothing). Run-now requests queued in the
 * schedules file are taken at every tick.
 *
 * Ticks come from a one-second timer, or, with `manualClock`, only from `tick(now)` (tests drive
 * the clock: the local runner takes ticks over its IPC channel).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cron } from 'croner';
import type { JobRunnerEvent } from '../core/ports/job-scheduler';
import type { JobRunResource } from '../core/schedules/job-run';
import { toCronerPattern } from '../core/schedules/cron-expressions';
import { changeSchedulerFile, type LocalSchedule, readSchedulerFile, schedulerDir } from './adapters/local-job-scheduler';

export interface LocalSchedulerOptions {
  readonly stateDir: string;
  /** Runs one job (the JobRunner of this process). */
  readonly run: (event: JobRunnerEvent) => Promise<JobRunResource | undefined>;
  readonly log: (message: string) => void;
  /** Only `tick(now)` advances the scheduler's clock (no timer). @default false */
  readonly manualClock?: boolean;
  /** @default 1000 ms */
  readonly intervalMs?: number;
}

/** The latest time `schedule` was due in (after, now], within its dates; undefined when none was. */
export function latestDue(schedule: LocalSchedule, after: Date, now: Date): Date | undefined {
  const cron = new Cron(toCronerPattern(schedule.runAt), { timezone: schedule.timezone, mode: '5-part', paused: true });
  const until = schedule.endDate !== undefined && Date.parse(schedule.endDate) < now.getTime() ? new Date(schedule.endDate) : now;
  const [due] = cron.previousRuns(1, new Date(until.getTime() + 1000));
  if (due === undefined || due > until || due <= after) return undefined;
  if (schedule.startDate !== undefined && due.getTime() < Date.parse(schedule.startDate)) return undefined;
  return due;
}

export class LocalScheduler {
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<JobRunResource[]>;

  constructor(private readonly options: LocalSchedulerOptions) {}

  start(): void {
    if (this.options.manualClock) {
      this.options.log('scheduler: manual clock (ticks come over IPC)');
      return;
    }
    this.timer = setInterval(() => void this.tick(new Date()).catch((error: unknown) => this.options.log(`scheduler: tick failed: ${String(error)}`)), this.options.intervalMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.ticking?.catch(() => undefined);
  }

  /** Makes every run due at `now` (and the queued run-nows); answers the runs made. Ticks never overlap. */
  tick(now: Date): Promise<JobRunResource[]> {
    const previous = this.ticking ?? Promise.resolve([]);
    const next = previous.catch(() => []).then(() => this.runDue(now));
    this.ticking = next;
    return next;
  }

  private async runDue(now: Date): Promise<JobRunResource[]> {
    const { stateDir } = this.options;
    const file = readSchedulerFile(stateDir);
    const events: JobRunnerEvent[] = [...file.runNow];
    if (file.runNow.length > 0) changeSchedulerFile(stateDir, (f) => ({ ...f, runNow: f.runNow.filter((r) => !file.runNow.some((taken) => taken.job_run_id === r.job_run_id)) }));
    const lastRuns = readLastRuns(stateDir);
    for (const schedule of Object.values(file.schedules)) {
      if (!schedule.enabled) continue;
      const last = lastRuns[schedule.jobConfigId];
      const after = new Date(Math.max(Date.parse(schedule.since), last === undefined ? 0 : Date.parse(last)));
      const due = latestDue(schedule, after, now);
      if (due === undefined) continue;
      lastRuns[schedule.jobConfigId] = due.toISOString();
      events.push({ job_config_id: schedule.jobConfigId, scheduled_time: due.toISOString() });
    }
    writeLastRuns(stateDir, lastRuns);
    const made: JobRunResource[] = [];
    for (const event of events) {
      try {
        const run = await this.options.run(event);
        if (run !== undefined) {
          made.push(run);
          this.options.log(`scheduler: ${run.operation} of ${run.job_config_name} (${run.trigger}): ${run.status}, ${run.done_count} done, ${run.failed_count} failed`);
        }
      } catch (error) {
        this.options.log(`scheduler: run of job configuration ${event.job_config_id} failed: ${String(error)}`);
      }
    }
    return made;
  }
}

const lastRunsFile = (stateDir: string): string => join(schedulerDir(stateDir), 'last-runs.json');

function readLastRuns(stateDir: string): Record<string, string> {
  try {
    return JSON.parse(readFileSync(lastRunsFile(stateDir), 'utf8')) as Record<string, string>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
}

function writeLastRuns(stateDir: string, lastRuns: Record<string, string>): void {
  mkdirSync(schedulerDir(stateDir), { recursive: true, mode: 0o700 });
  const path = lastRunsFile(stateDir);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(lastRuns, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}
