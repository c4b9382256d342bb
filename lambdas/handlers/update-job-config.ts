import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('UpdateJobConfig', (req, deps) => deps.jobConfigs.update(req.params.id, req.body));
