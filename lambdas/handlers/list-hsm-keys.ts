import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('ListHsmKeys', (req, deps) => deps.hsmKeys.list(req.principal, req.query));
