/** Job runs (`GET /v1/scheduler/jobs`, `/jobs/{id}`, admins only): newest first unless sorted otherwise. */
import { NotFoundError, ValidationError } from '../errors';
import { type ListPage, matchesFilter, page, parseListQuery } from '../listing';
import type { StateStore } from '../ports/state-store';
import { JOB_RUN_RESOURCE, type JobRunData, type JobRunResource, jobRunResource } from './job-run';

const SORTABLE = ['createdAt', 'updatedAt', 'started_at', 'finished_at', 'scheduled_time', 'status', 'job_config_name', 'id'];
const STATUSES = ['queued', 'running', 'completed', 'partially_completed', 'failed'];

export class JobRunService {
  constructor(private readonly deps: { readonly state: StateStore }) {}

  async list(query: Readonly<Record<string, string | undefined>>): Promise<ListPage<JobRunResource>> {
    const listQuery = parseListQuery({ sort: '-createdAt', ...query }, SORTABLE);
    if (query.status && !STATUSES.includes(query.status)) throw new ValidationError(`must be one of ${STATUSES.join(', ')}`, 'status');
    const runs = (await this.deps.state.list<JobRunData>('jobRun'))
      .map((r) => jobRunResource(r.id, r.data))
      .filter((r) => matchesFilter(query.job_config_id, r.job_config_id) && matchesFilter(query.status, r.status) && matchesFilter(query.operation, r.operation));
    return page(runs, listQuery);
  }

  async get(id: string): Promise<JobRunResource> {
    const run = await this.deps.state.get<JobRunData>('jobRun', id);
    if (run === undefined) throw new NotFoundError(JOB_RUN_RESOURCE, id);
    return jobRunResource(run.id, run.data);
  }
}
