import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('GetJobConfig', (req, deps) => deps.jobConfigs.get(req.params.id));
