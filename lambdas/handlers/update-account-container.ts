import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('UpdateAccountContainer', (req, deps) => deps.accountContainers.update(req.params.id, req.body));
