/** Job runs (`GET /v1/scheduler/jobs`, `/jobs/{id}`, admins only): newest first unless sorted otherwise. */
import { LISTS } from '../../contract/lists';
import { NotFoundError } from '../errors';
import { type ListPage, parseList } from '../listing';
import type { StateStore } from '../ports/state-store';
import { JOB_RUN_RESOURCE, type JobRunData, type JobRunResource, jobRunResource } from './job-run';


export class JobRunService {
  constructor(private readonly deps: { readonly state: StateStore }) {}

  async list(query: Readonly<Record<string, string | undefined>>): Promise<ListPage<JobRunResource>> {
    const listing = parseList({ sort: '-createdAt', ...query }, LISTS.jobRuns);
    return listing.page((await this.deps.state.list<JobRunData>('jobRun')).map((r) => jobRunResource(r.id, r.data)));
  }

  async get(id: string): Promise<JobRunResource> {
    const run = await this.deps.state.get<JobRunData>('jobRun', id);
    if (run === undefined) throw new NotFoundError(JOB_RUN_RESOURCE, id);
    return jobRunResource(run.id, run.data);
  }
}
