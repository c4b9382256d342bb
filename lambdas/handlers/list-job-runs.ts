import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('ListJobRuns', (req, deps) => deps.jobRuns.list(req.query));
