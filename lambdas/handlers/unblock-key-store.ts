import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('UnblockKeyStore', (req, deps) => deps.keyStores.unblock(req.access, req.params.id));
