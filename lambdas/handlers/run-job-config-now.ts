import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('RunJobConfigNow', (req, deps) => deps.jobConfigs.runNow(req.params.id));
