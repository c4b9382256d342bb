import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('DisconnectKeyStore', (req, deps) => deps.keyStores.disconnect(req.access, req.params.id));
