import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('GetKeyStoreSynchronization', (req, deps) => deps.jobs.get('KeyStoreSynchronization', req.access, req.params.id));
