import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('UpdateAccountContainerAcls', (req, deps) => deps.accountContainers.updateAcls(req.params.id, req.body));
