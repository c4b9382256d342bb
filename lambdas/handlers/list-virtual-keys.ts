import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('ListVirtualKeys', (req, deps) => deps.virtualKeys.list(req.principal, req.query));
