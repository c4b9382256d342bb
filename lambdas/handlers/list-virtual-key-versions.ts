import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('ListVirtualKeyVersions', (req, deps) => deps.virtualKeys.listVersions(req.params.id, req.query));
