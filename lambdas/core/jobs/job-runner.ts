/**
 * The job engine's worker side (README "Synchronization jobs"): runs one unit of a job, one
 * bounded step at a time. For each unit it is handed:
 *  1. reads the job; a unit of a job that has ended, or that already finished, is dropped (the
 *     queue delivers at least once);
 *  2. `abort` set: the unit ends `cancelled` (checked before every page, so a job stops within one);
 *  3. runs one step of the job kind (one page of AWS KMS), adds the step's counts to the job's
 *     counters once per page (a page record, created in the same transaction, makes the counts of a
 *     page delivered again a no-op), and queues the unit's continuation, or ends the unit when
 *     there is none;
 *  4. throttling and other transient failures: the same unit is queued again with exponential
 *     backoff (SQS delay), up to MAX_ATTEMPTS; then, like any other failure, the unit ends failed
 *     with the reason in `detailed_status`. A step that did part of its page before it was
 *     throttled (`again`) goes again without using up an attempt: it has less left each time.
 * A unit ends by one conditional write that marks it in `detailed_status` and takes 1 off
 * `unitsLeft`; the unit that brings it to 0 also sets the job's final status. No scan of units.
 */
import type { JobKind } from '../../contract/jobs';
import type { AccountData } from '../accounts/account';
import { ConflictError, DependencyError, KeyManagerError, ServiceUnavailableError, TooManyRequestsError, isError } from '../errors';
import { derivedId } from '../keys/aws-key';
import type { AccountRecord } from '../key-references';
import { kmsLocation } from '../key-stores/aws-kms-links';
import type { KmsLocation } from '../ports/aws-kms';
import type { Clock } from '../ports/clock';
import type { JobQueue, JobUnit } from '../ports/job-queue';
import type { StateOp, StateStore } from '../ports/state-store';
import { CHANGED_CONCURRENTLY, retryOnChange } from '../retry-on-change';
import { finalStatus, JOB_COUNTERS, type JobCount, type JobData, type JobRecord, UNIT_STATUS, unitKey } from './job';

/** What one step of a unit gets. */
export interface StepContext {
  readonly job: JobRecord;
  readonly unit: JobUnit;
  readonly account: AccountRecord;
  readonly at: KmsLocation;
}

/** What one step did: its counts, and where the unit goes on (absent: the unit is done). */
export interface StepResult {
  readonly counts: Partial<Record<JobCount, number>>;
  readonly next?: { readonly phase: string; readonly cursor?: string };
  /**
   * The step did part of its page and was throttled on the rest: the same step runs again after a
   * backoff, without using up an attempt (`counts` are not added; the run that does all of it counts).
   */
  readonly again?: true;
}

/** One job kind's work: a bounded step of a unit. */
export type JobStep = (context: StepContext) => Promise<StepResult>;

export interface JobRunnerDeps {
  readonly state: StateStore;
  readonly clock: Clock;
  readonly jobQueue: JobQueue;
}

/** Deliveries of a unit after transient failures before it is given up as failed. */
export const MAX_ATTEMPTS = 8;
/** Backoff before attempt n: min(2^n, 900) seconds, with jitter (SQS delays go up to 900 s). */
export function backoffSeconds(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(2 ** attempt, 900);
  return Math.max(1, Math.round(ceiling / 2 + (random() * ceiling) / 2));
}

export type UnitOutcome = 'dropped' | 'continued' | 'retried' | 'done' | 'cancelled' | 'failed';

export class JobRunner {
  constructor(
    private readonly deps: JobRunnerDeps,
    private readonly steps: Readonly<Partial<Record<JobKind, JobStep>>>,
  ) {}

  async run(unit: JobUnit): Promise<UnitOutcome> {
    const { state, jobQueue } = this.deps;
    const job = await state.get<JobData>('job', unit.jobId);
    const ref = job?.data.units.find((u) => u.accountId === unit.accountId && u.region === unit.region);
    if (job === undefined || ref === undefined || job.data.status !== 'in_progress') return 'dropped';
    if (job.data.detailedStatus[unitKey(ref)] !== UNIT_STATUS.inProgress) return 'dropped';
    if (job.data.abort) return this.end(job.id, unitKey(ref), UNIT_STATUS.cancelled, 'cancelled');

    const account = await state.get<AccountData>('account', unit.accountId);
    if (account === undefined) return this.end(job.id, unitKey(ref), UNIT_STATUS.failed('the AWS account container no longer exists'), 'failed');
    const step = this.steps[unit.kind];
    if (step === undefined) return this.end(job.id, unitKey(ref), UNIT_STATUS.failed(`this worker does not run ${unit.kind} jobs`), 'failed');

    let result: StepResult;
    try {
      result = await step({ job, unit, account, at: kmsLocation(account, unit.region) });
    } catch (error) {
      if (isTransient(error) && unit.attempt + 1 < MAX_ATTEMPTS) {
        await jobQueue.send([{ ...unit, attempt: unit.attempt + 1 }], { delaySeconds: backoffSeconds(unit.attempt + 1) });
        return 'retried';
      }
      return this.end(job.id, unitKey(ref), UNIT_STATUS.failed(reasonOf(error)), 'failed');
    }
    if (result.again === true) {
      const attempt = Math.max(unit.attempt, 1);
      await jobQueue.send([{ ...unit, attempt }], { delaySeconds: backoffSeconds(attempt) });
      return 'retried';
    }
    await this.count(unit, result.counts);
    if (result.next === undefined) return this.end(job.id, unitKey(ref), UNIT_STATUS.done, 'done');
    await jobQueue.send([{ ...unit, phase: result.next.phase, ...(result.next.cursor === undefined ? { cursor: undefined } : { cursor: result.next.cursor }), attempt: 0 }]);
    return 'continued';
  }

  /**
   * Adds a page's counts to the job, once: with them a `jobPage` record named for the page (job,
   * unit, phase, cursor) is created, so that a page delivered again (SQS delivers at least once; a
   * worker may have stopped after its writes, before the message was deleted) finds it and adds
   * nothing. Steps give the same counts for a page when it is run again (records remember what
   * the job did to them), so the first delivery to count is right.
   */
  private async count(unit: JobUnit, counts: StepResult['counts']): Promise<void> {
    const { state, clock } = this.deps;
    const ops: StateOp[] = Object.entries(counts)
      .filter(([, n]) => n !== undefined && n > 0)
      .map(([name, n]) => ({ op: 'count', kind: 'job', id: unit.jobId, counter: JOB_COUNTERS[name as JobCount], delta: n as number }));
    if (ops.length === 0) return;
    const id = jobPageId(unit);
    const page: JobPageData = { jobId: unit.jobId, accountId: unit.accountId, region: unit.region, phase: unit.phase, counts, countedAt: clock.now().toISOString() };
    try {
      await state.transact([{ op: 'create', kind: 'jobPage', id, data: page, conflictMessage: PAGE_COUNTED }, ...ops]);
    } catch (error) {
      if (isError(error, ConflictError) && (await state.get('jobPage', id)) !== undefined) return;
      throw error;
    }
  }

  /** Marks the unit and takes it off `unitsLeft`, in one conditional write; the last unit ends the job. */
  private async end(jobId: string, key: string, status: string, outcome: UnitOutcome): Promise<UnitOutcome> {
    const { state, clock } = this.deps;
    return retryOnChange(async () => {
      const job = await state.get<JobData>('job', jobId);
      if (job === undefined || job.data.detailedStatus[key] !== UNIT_STATUS.inProgress) return 'dropped';
      const now = clock.now().toISOString();
      const detailedStatus = { ...job.data.detailedStatus, [key]: status };
      const last = (job.counters[JOB_COUNTERS.unitsLeft] ?? 0) <= 1;
      const ended = { ...job.data, detailedStatus };
      const data: JobData = last ? { ...ended, status: finalStatus(ended), completedAt: now, updatedAt: now } : { ...ended, updatedAt: now };
      await state.transact([
        { op: 'update', kind: 'job', id: jobId, data, expectedVersion: job.version, conflictMessage: CHANGED_CONCURRENTLY },
        { op: 'count', kind: 'job', id: jobId, counter: JOB_COUNTERS.unitsLeft, delta: -1, min: 0 },
      ]);
      return outcome;
    });
  }
}

/** A page of a unit whose counts were added to its job (job-runner.ts `count`). */
export interface JobPageData {
  readonly jobId: string;
  readonly accountId: string;
  readonly region: string;
  readonly phase: string;
  readonly counts: StepResult['counts'];
  readonly countedAt: string;
}

const PAGE_COUNTED = 'this page of the unit has been counted already';

/** The `jobPage` id of the page a unit is at: the same for every delivery of that unit and page. */
export function jobPageId(unit: Pick<JobUnit, 'jobId' | 'accountId' | 'region' | 'phase' | 'cursor'>): string {
  return derivedId(`job-page:${JSON.stringify([unit.jobId, unit.accountId, unit.region, unit.phase, unit.cursor ?? null])}`);
}

/** Throttling, 5xx and a dependency that failed: worth another try later. */
export function isTransient(error: unknown): boolean {
  return isError(error, ServiceUnavailableError) || isError(error, TooManyRequestsError) || isError(error, DependencyError) || !isError(error, KeyManagerError);
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
