import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('RotateHyokKey', (req, deps) => deps.hyokKeys.rotate(req.access, req.params.id, req.body));
