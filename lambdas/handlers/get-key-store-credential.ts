import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('GetKeyStoreCredential', (req, deps) => deps.keyStoreCredentials.get(req.access, req.params.id, req.params.credentialId));
