import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('ListKeyStoreSynchronizations', (req, deps) => deps.jobs.list('KeyStoreSynchronization', req.access, req.query));
