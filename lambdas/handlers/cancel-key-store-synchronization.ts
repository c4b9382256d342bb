import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('CancelKeyStoreSynchronization', (req, deps) => deps.jobs.cancel('KeyStoreSynchronization', req.access, req.params.id));
