import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('CreateHsmKey', (req, deps) => deps.hsmKeys.create(req.body));
