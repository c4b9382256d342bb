import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('DisconnectKeyStore', (req, deps) => deps.customKeyStores.disconnect(req.access, req.params.id));
