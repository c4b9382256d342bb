import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('DeleteAccountContainer', (req, deps) => deps.accountContainers.delete(req.params.id));
