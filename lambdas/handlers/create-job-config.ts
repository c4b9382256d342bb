import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('CreateJobConfig', (req, deps) => deps.jobConfigs.create(req.body));
