import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('GetAwsKeySynchronization', (req, deps) => deps.jobs.get('AwsKeySynchronization', req.access, req.params.id));
