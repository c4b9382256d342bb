import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('StartAwsKeySynchronization', (req, deps) => deps.jobs.start('AwsKeySynchronization', req.access, req.body));
