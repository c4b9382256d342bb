import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('ListAccountContainers', (req, deps) => deps.accountContainers.list(req.principal, req.query));
