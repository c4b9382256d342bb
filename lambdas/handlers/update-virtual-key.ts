import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('UpdateVirtualKey', (req, deps) => deps.virtualKeys.update(req.params.id, req.body));
