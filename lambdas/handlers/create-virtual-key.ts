import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('CreateVirtualKey', (req, deps) => deps.virtualKeys.create(req.body));
