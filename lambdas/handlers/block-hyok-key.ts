import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('BlockHyokKey', (req, deps) => deps.hyokKeys.block(req.access, req.params.id));
