import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('GetKeyStore', (req, deps) => deps.customKeyStores.get(req.access, req.params.id));
