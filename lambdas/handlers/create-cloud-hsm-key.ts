import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('CreateCloudHsmKey', (req, deps) => deps.cloudHsmKeys.create(req.access, req.params.id, req.body));
