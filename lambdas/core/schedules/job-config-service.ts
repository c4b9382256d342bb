/**
 * Job configurations (`/v1/scheduler/job-configs`, admins only): create, list, get, update,
 * delete, run-now. Each configuration has one schedule in the JobScheduler port, changed in the
 * same request: the record is written first (names unique by claim, updates guarded by version),
 * then the schedule; when the scheduler refuses, the record change is undone, so neither side is
 * left half-changed. A schedule written while another request changed the record is written
 * again from the newest record (`settleSchedule`), so concurrent updates lose nothing there
 * either. A configuration assigned to key stores or keys is not deleted (409 naming them).
 */
import { ConflictError, DependencyError, KeyManagerError, isError } from '../errors';
import { LISTS } from '../../contract/lists';
import { type ListPage, parseList } from '../listing';
import type { Clock } from '../ports/clock';
import type { IdGenerator } from '../ports/id-generator';
import type { JobScheduler } from '../ports/job-scheduler';
import type { EntityRecord, StateStore } from '../ports/state-store';
import { NotFoundError } from '../errors';
import { CHANGED_CONCURRENTLY, retryOnChange } from '../retry-on-change';
import { JOB_CONFIG_COUNTERS } from '../job-config-labels';
import { assignedTargets } from './schedule-assignments';
import {
  applyFields,
  type CreateJobConfigRequest,
  JOB_CONFIG_RESOURCE,
  type JobConfigData,
  type JobConfigFields,
  type JobConfigResource,
  jobConfigResource,
  scheduleOf,
} from './job-config';
import { type JobRunData, type JobRunResource, jobRunResource } from './job-run';

export type JobConfigRecord = EntityRecord<JobConfigData>;

export interface JobConfigServiceDeps {
  readonly state: StateStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly jobScheduler: JobScheduler;
}

/** Rewrites of a schedule that raced other updates of its record. */
const SETTLE_ATTEMPTS = 5;

export class JobConfigService {
  constructor(private readonly deps: JobConfigServiceDeps) {}

  async create(request: CreateJobConfigRequest): Promise<JobConfigResource> {
    const { state, clock, ids, jobScheduler } = this.deps;
    const id = ids.newId();
    const data = applyFields(request.operation, request, undefined, clock.now().toISOString());
    await state.transact([
      { op: 'create', kind: 'jobConfig', id, data, uniqueName: data.name, counters: { [JOB_CONFIG_COUNTERS.assigned]: 0 }, conflictMessage: nameTaken(data.name) },
    ]);
    await undoUnless(
      () => jobScheduler.create(scheduleOf(id, data)),
      () => state.transact([{ op: 'delete', kind: 'jobConfig', id, uniqueName: data.name }]),
      'created',
    );
    await this.settleSchedule(id, 1);
    return jobConfigResource(id, data, 0);
  }

  async list(query: Readonly<Record<string, string | undefined>>): Promise<ListPage<JobConfigResource>> {
    const listing = parseList(query, LISTS.jobConfigs);
    return listing.page((await this.deps.state.list<JobConfigData>('jobConfig')).map((r) => present(r)));
  }

  async get(id: string): Promise<JobConfigResource> {
    return present(await this.load(id));
  }

  /** PATCH: any field but `operation`; the schedule follows in the same request. */
  async update(id: string, fields: JobConfigFields): Promise<JobConfigResource> {
    const { state, clock, jobScheduler } = this.deps;
    const { before, after } = await retryOnChange(async () => {
      const record = await this.load(id);
      const data = applyFields(record.data.operation, fields, record.data, clock.now().toISOString());
      const rename = data.name === record.data.name ? {} : { rename: { from: record.data.name, to: data.name } };
      await state.transact([
        { op: 'update', kind: 'jobConfig', id, data, expectedVersion: record.version, ...rename, conflictMessage: CHANGED_CONCURRENTLY },
      ]).catch((error: unknown) => {
        if (isError(error, ConflictError) && error.message !== CHANGED_CONCURRENTLY) throw new ConflictError(nameTaken(data.name), { cause: error });
        throw error;
      });
      return { before: record, after: { ...record, data, version: record.version + 1 } };
    });
    await undoUnless(
      () => jobScheduler.update(scheduleOf(id, after.data)),
      async () => {
        const rename = after.data.name === before.data.name ? {} : { rename: { from: after.data.name, to: before.data.name } };
        await state.transact([{ op: 'update', kind: 'jobConfig', id, data: { ...before.data }, expectedVersion: after.version, ...rename }]);
      },
      'changed',
    );
    await this.settleSchedule(id, after.version);
    return present(after);
  }

  /** Refused while key stores or keys are assigned to it (409 naming them). */
  async delete(id: string): Promise<void> {
    const { state, jobScheduler } = this.deps;
    const removed = await retryOnChange(async () => {
      const record = await this.load(id);
      await this.refuseWhileAssigned(record);
      await state.transact([
        {
          op: 'delete', kind: 'jobConfig', id, expectedVersion: record.version, uniqueName: record.data.name,
          // An assignment that landed since the read: re-read, then refused with its name.
          requireZero: [JOB_CONFIG_COUNTERS.assigned], conflictMessage: CHANGED_CONCURRENTLY,
        },
      ]);
      return record;
    });
    await undoUnless(
      () => jobScheduler.remove(id),
      () => state.transact([{ op: 'create', kind: 'jobConfig', id, data: removed.data, uniqueName: removed.data.name, counters: { [JOB_CONFIG_COUNTERS.assigned]: 0 } }]),
      'deleted',
    );
  }

  /** Starts one run now, in the background; answers its job run record (queued). */
  async runNow(id: string): Promise<JobRunResource> {
    const { state, clock, ids, jobScheduler } = this.deps;
    const record = await this.load(id);
    const runId = ids.newId();
    const now = clock.now().toISOString();
    const run: JobRunData = {
      jobConfigId: id, jobConfigName: record.data.name, operation: record.data.operation, trigger: 'run-now',
      status: 'queued', createdAt: now, updatedAt: now, results: [],
    };
    await state.transact([{ op: 'create', kind: 'jobRun', id: runId, data: run }]);
    await undoUnless(
      () => jobScheduler.runNow({ job_config_id: id, job_run_id: runId }),
      () => state.transact([{ op: 'delete', kind: 'jobRun', id: runId }]),
      'started',
    );
    return jobRunResource(runId, run);
  }

  async load(id: string): Promise<JobConfigRecord> {
    const record = await this.deps.state.get<JobConfigData>('jobConfig', id);
    if (record === undefined) throw new NotFoundError(JOB_CONFIG_RESOURCE, id);
    return record;
  }


  private async refuseWhileAssigned(record: JobConfigRecord): Promise<void> {
    const targets = await assignedTargets(this.deps.state, record.id);
    const counted = record.counters[JOB_CONFIG_COUNTERS.assigned] ?? 0;
    if (targets.length === 0 && counted === 0) return;
    const where = targets.length === 0 ? `${counted} key store(s) or key(s)` : targets.map((t) => `${t.type} ${t.id} (${t.name})`).join(', ');
    throw new ConflictError(
      `Job configuration ${record.id} is assigned to ${where}; disable it there first (POST .../disable-credential-rotation-job or .../disable-rotation-job)`,
    );
  }

  /**
   * When the record changed after this request wrote `writtenVersion`, another request's schedule
   * call may have landed before this one's: write the schedule again from the newest record.
   */
  private async settleSchedule(id: string, writtenVersion: number): Promise<void> {
    let version = writtenVersion;
    for (let attempt = 0; attempt < SETTLE_ATTEMPTS; attempt += 1) {
      const latest = await this.deps.state.get<JobConfigData>('jobConfig', id);
      if (latest === undefined || latest.version === version) return;
      await this.deps.jobScheduler.update(scheduleOf(id, latest.data));
      version = latest.version;
    }
  }
}

function present(record: JobConfigRecord): JobConfigResource {
  return jobConfigResource(record.id, record.data, record.counters[JOB_CONFIG_COUNTERS.assigned] ?? 0);
}

function nameTaken(name: string): string {
  return `A job configuration named ${JSON.stringify(name)} already exists`;
}

/**
 * Runs the scheduler call; when it fails, undoes the record change and answers the failure (a
 * KeyManagerError as it is, anything else as a 502 saying the change was undone).
 */
async function undoUnless(call: () => Promise<void>, undo: () => Promise<unknown>, what: string): Promise<void> {
  try {
    await call();
  } catch (error) {
    await undo();
    if (isError(error, KeyManagerError)) throw error;
    throw new DependencyError(`The scheduler refused the change, so the job configuration was not ${what}: ${(error as Error).message}`, { cause: error });
  }
}
