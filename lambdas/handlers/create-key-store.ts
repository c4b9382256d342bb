import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('CreateKeyStore', (req, deps) => deps.customKeyStores.create(req.access, req.body));
