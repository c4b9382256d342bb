import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('StartKeyStoreSynchronization', (req, deps) => deps.jobs.start('KeyStoreSynchronization', req.access, req.body));
