import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('GetJobRun', (req, deps) => deps.jobRuns.get(req.params.id));
