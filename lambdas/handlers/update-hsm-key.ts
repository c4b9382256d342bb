import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('UpdateHsmKey', (req, deps) => deps.hsmKeys.update(req.params.id, req.body));
