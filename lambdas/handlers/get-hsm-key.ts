import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('GetHsmKey', (req, deps) => deps.hsmKeys.get(req.principal, req.params.id));
