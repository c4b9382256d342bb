import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('ListKeyStores', (req, deps) => deps.customKeyStores.list(req.access, req.query));
