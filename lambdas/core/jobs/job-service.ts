/**
 * Synchronization jobs through the API (README "Synchronization jobs"): start one (write the job
 * record, then queue one unit per account container × region), list, get and cancel. The work
 * itself is done by workers (job-runner.ts) that take the units from the queue.
 *
 * ACL: starting and cancelling take the route's action on every container the job covers; a job
 * is visible to a caller who may do the route's action on all of its containers.
 *
 * Schedules start a job the same way (`start` with a principal of their own):
 *   deps.jobs.start('AwsKeySynchronization', access, { synchronize_all: true })
 */
import type { JobKind } from '../../contract/jobs';
import type { Access } from '../accounts/access';
import { notFoundFor } from '../accounts/access';
import type { AccountData } from '../accounts/account';
import { ConflictError, ValidationError } from '../errors';
import { mayDo, resolveAccount, type AccountRecord } from '../key-references';
import { LISTS } from '../../contract/lists';
import { type ListPage, parseList } from '../listing';
import type { Clock } from '../ports/clock';
import type { IdGenerator } from '../ports/id-generator';
import type { JobQueue, JobUnit } from '../ports/job-queue';
import type { StateStore } from '../ports/state-store';
import { CHANGED_CONCURRENTLY, retryOnChange } from '../retry-on-change';
import { JOB_COUNTERS, type JobData, type JobRecord, type JobResource, jobResource, type JobUnitRef, UNIT_STATUS, unitKey } from './job';
import type { StartSynchronizationJobRequest as StartJobRequest } from '../../contract/job-schemas';

export const JOB_RESOURCE = 'Synchronization job';

/** The seeds' request: `{kms, regions}` or `{synchronize_all: true}` (the route schema's type). */
export type { StartJobRequest };

export interface JobServiceDeps {
  readonly state: StateStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly jobQueue: JobQueue;
}

/** The first phase of every unit (job kinds name their later phases). */
export const FIRST_PHASE = 'start';

export class JobService {
  constructor(private readonly deps: JobServiceDeps) {}

  /**
   * Writes the job (in progress, one unit per container × region) and queues its units. With
   * `synchronize_all` every container the caller may act on, each with all its regions; otherwise
   * the named containers, each with the given regions (or all of its own when none are given).
   */
  async start(kind: JobKind, access: Access, request: StartJobRequest): Promise<JobResource> {
    const { state, clock, ids, jobQueue } = this.deps;
    const all = request.synchronize_all === true;
    if (all && ((request.kms?.length ?? 0) > 0 || (request.regions?.length ?? 0) > 0)) {
      throw new ValidationError('synchronize_all and kms, regions are mutually exclusive: give either synchronize_all or kms and regions', 'synchronize_all');
    }
    if (!all && (request.kms?.length ?? 0) === 0) throw new ValidationError('give the account containers to synchronize (names or ids), or synchronize_all: true', 'kms');
    const accounts = all ? (await state.list<AccountData>('account')).filter((a) => mayDo(access, a)) : await this.named(access, request.kms ?? []);
    const units = accounts.flatMap((account) => unitsOf(account, request.regions ?? []));
    if (units.length === 0) throw new ValidationError('no account container region to synchronize', all ? 'synchronize_all' : 'regions');

    const now = clock.now().toISOString();
    const id = ids.newId();
    const data: JobData = {
      jobKind: kind,
      status: 'in_progress',
      kms: all ? accounts.map((a) => a.id) : [...(request.kms ?? [])],
      regions: [...(request.regions ?? [])],
      synchronizeAll: all,
      units,
      detailedStatus: Object.fromEntries(units.map((u) => [unitKey(u), UNIT_STATUS.inProgress])),
      abort: false,
      startedBy: access.principal.username,
      createdAt: now,
      updatedAt: now,
    };
    await state.transact([{ op: 'create', kind: 'job', id, data, counters: { [JOB_COUNTERS.unitsLeft]: units.length } }]);
    const queued: JobUnit[] = units.map((u) => ({ jobId: id, kind, accountId: u.accountId, region: u.region, phase: FIRST_PHASE, attempt: 0 }));
    try {
      await jobQueue.send(queued);
    } catch (error) {
      // Units that may not all be queued would leave the job in progress for ever: it ends failed (the caller sees the 503).
      const failed: JobData = { ...data, status: 'failed', detailedStatus: Object.fromEntries(units.map((u) => [unitKey(u), UNIT_STATUS.failed('its units could not be queued')])), completedAt: now };
      await state.transact([{ op: 'update', kind: 'job', id, data: failed, expectedVersion: 1 }]).catch(() => undefined);
      throw error;
    }
    return jobResource({ kind: 'job', id, data, version: 1, counters: { [JOB_COUNTERS.unitsLeft]: units.length } });
  }

  async list(kind: JobKind, access: Access, query: Readonly<Record<string, string | undefined>>): Promise<ListPage<JobResource>> {
    const { kms, ...rest } = query;
    const listing = parseList(rest, LISTS.synchronizationJobs);
    const [jobs, accounts] = await Promise.all([this.deps.state.list<JobData>('job'), this.deps.state.list<AccountData>('account')]);
    const byId = new Map(accounts.map((a) => [a.id, a]));
    const resources = jobs
      .filter((j) => j.data.jobKind === kind && this.visible(access, j, byId))
      .filter((j) => kms === undefined || kms === '' || j.data.kms.includes(kms) || j.data.units.some((u) => u.accountId === kms))
      .map(jobResource);
    return listing.page(resources);
  }

  async get(kind: JobKind, access: Access, id: string): Promise<JobResource> {
    return jobResource(await this.load(kind, access, id));
  }

  /** Sets `abort`: every unit checks it before its next page and ends `cancelled`. 409 for a job that has ended. */
  async cancel(kind: JobKind, access: Access, id: string): Promise<JobResource> {
    return retryOnChange(async () => {
      const job = await this.load(kind, access, id);
      if (job.data.status !== 'in_progress') throw new ConflictError(`${JOB_RESOURCE} ${id} has already ended (${job.data.status})`);
      if (job.data.abort) return jobResource(job);
      const data: JobData = { ...job.data, abort: true, updatedAt: this.deps.clock.now().toISOString() };
      await this.deps.state.transact([{ op: 'update', kind: 'job', id, data, expectedVersion: job.version, conflictMessage: CHANGED_CONCURRENTLY }]);
      return jobResource({ ...job, data, version: job.version + 1 });
    });
  }

  private async load(kind: JobKind, access: Access, id: string): Promise<JobRecord> {
    const job = await this.deps.state.get<JobData>('job', id);
    if (job === undefined || job.data.jobKind !== kind) throw notFoundFor(access.principal, JOB_RESOURCE, id);
    const accounts = await Promise.all([...new Set(job.data.units.map((u) => u.accountId))].map((a) => this.deps.state.get<AccountData>('account', a)));
    if (!accounts.every((a) => mayDo(access, a))) throw notFoundFor(access.principal, JOB_RESOURCE, id);
    return job;
  }

  private visible(access: Access, job: JobRecord, accounts: ReadonlyMap<string, AccountRecord>): boolean {
    return job.data.units.every((u) => mayDo(access, accounts.get(u.accountId)));
  }

  private async named(access: Access, names: readonly string[]): Promise<AccountRecord[]> {
    const found = await Promise.all([...new Set(names)].map((name) => resolveAccount(this.deps.state, access, name, 'kms')));
    return [...new Map(found.map((a) => [a.id, a])).values()];
  }
}

/** One unit per region of the container that was asked for (all of its regions when none were); 400 for a region it does not have. */
function unitsOf(account: AccountRecord, regions: readonly string[]): JobUnitRef[] {
  const own = account.data.regions;
  const unknown = regions.filter((r) => !own.includes(r));
  if (regions.length > 0 && unknown.length === regions.length) {
    throw new ValidationError(`AWS account container ${account.data.name} has none of the regions ${unknown.join(', ')} (its regions: ${own.join(', ')})`, 'regions');
  }
  const chosen = regions.length === 0 ? own : regions.filter((r) => own.includes(r));
  return [...new Set(chosen)].map((region) => ({ accountId: account.id, awsAccountId: account.data.accountId, region }));
}
