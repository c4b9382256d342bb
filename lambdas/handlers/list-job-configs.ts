import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('ListJobConfigs', (req, deps) => deps.jobConfigs.list(req.query));
