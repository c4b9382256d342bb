import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('ListAwsKeySynchronizations', (req, deps) => deps.jobs.list('AwsKeySynchronization', req.access, req.query));
