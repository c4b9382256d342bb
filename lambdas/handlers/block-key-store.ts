import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('BlockKeyStore', (req, deps) => deps.keyStores.block(req.access, req.params.id));
