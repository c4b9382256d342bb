import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('ListKeyStoreCredentials', (req, deps) => deps.keyStoreCredentials.list(req.access, req.params.id, req.query));
