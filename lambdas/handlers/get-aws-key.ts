import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('GetAwsKey', (req, deps) => deps.hyokKeys.get(req.access, req.params.id));
