import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('CreateHyokKey', (req, deps) => deps.hyokKeys.create(req.access, req.body));
