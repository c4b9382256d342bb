import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('RotateKeyStoreCredential', (req, deps) => deps.keyStoreCredentials.rotate(req.access, req.params.id));
