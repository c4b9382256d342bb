import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('ListAwsKeyVersions', (req, deps) => deps.hyokKeys.listVersions(req.access, req.params.id, req.query));
