import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('DeleteVirtualKey', (req, deps) => deps.virtualKeys.delete(req.params.id));
