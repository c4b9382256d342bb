import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('GetKeyStore', (req, deps) => deps.keyStores.get(req.access, req.params.id));
