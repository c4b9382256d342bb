import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('CancelAwsKeySynchronization', (req, deps) => deps.jobs.cancel('AwsKeySynchronization', req.access, req.params.id));
