import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('DeleteHsmKey', (req, deps) => deps.hsmKeys.delete(req.params.id));
