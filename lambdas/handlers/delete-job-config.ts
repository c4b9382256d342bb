import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('DeleteJobConfig', (req, deps) => deps.jobConfigs.delete(req.params.id));
