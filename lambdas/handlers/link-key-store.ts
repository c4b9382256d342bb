import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('LinkKeyStore', (req, deps) => deps.keyStores.link(req.access, req.params.id, req.body));
