import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('CreateKeyStoreCredential', (req, deps) => deps.keyStoreCredentials.create(req.access, req.params.id));
