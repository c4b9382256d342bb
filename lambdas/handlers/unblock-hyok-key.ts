import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('UnblockHyokKey', (req, deps) => deps.hyokKeys.unblock(req.access, req.params.id));
