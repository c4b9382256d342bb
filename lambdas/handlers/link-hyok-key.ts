import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('LinkHyokKey', (req, deps) => deps.hyokKeys.link(req.access, req.params.id, req.body ?? {}));
