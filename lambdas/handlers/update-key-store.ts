import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('UpdateKeyStore', (req, deps) => deps.customKeyStores.update(req.access, req.params.id, req.body));
