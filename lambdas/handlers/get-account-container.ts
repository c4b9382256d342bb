import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('GetAccountContainer', (req, deps) => deps.accountContainers.get(req.principal, req.params.id));
