import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('UpdateKeyStore', (req, deps) => deps.keyStores.update(req.access, req.params.id, req.body));
