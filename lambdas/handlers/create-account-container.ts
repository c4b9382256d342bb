import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('CreateAccountContainer', (req, deps) => deps.accountContainers.create(req.body));
