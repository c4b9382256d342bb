import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('DeleteKeyStoreCredential', (req, deps) => deps.keyStoreCredentials.delete(req.access, req.params.id, req.params.credentialId));
