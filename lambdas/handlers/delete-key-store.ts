import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('DeleteKeyStore', (req, deps) => deps.customKeyStores.delete(req.access, req.params.id));
