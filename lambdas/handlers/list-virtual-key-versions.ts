import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('ListVirtualKeyVersions', (req, deps) => deps.virtualKeys.listVersions(req.principal, req.params.id, req.query));
