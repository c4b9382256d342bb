import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('GetUnusedCloudHsmClusters', (req, deps) => deps.cloudHsmClusters.unused(req.access, req.body));
