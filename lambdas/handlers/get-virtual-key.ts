import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('GetVirtualKey', (req, deps) => deps.virtualKeys.get(req.principal, req.params.id));
