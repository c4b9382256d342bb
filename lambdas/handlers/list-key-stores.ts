import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('ListKeyStores', (req, deps) => deps.keyStores.list(req.access, req.query));
