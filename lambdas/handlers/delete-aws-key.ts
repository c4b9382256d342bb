import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('DeleteAwsKey', (req, deps) => deps.hyokKeys.delete(req.access, req.params.id));
