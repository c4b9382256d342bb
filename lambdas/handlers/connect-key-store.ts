import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('ConnectKeyStore', (req, deps) => deps.keyStores.connect(req.access, req.params.id));
