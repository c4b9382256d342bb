import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('ConnectKeyStore', (req, deps) => deps.customKeyStores.connect(req.access, req.params.id, req.body ?? {}));
