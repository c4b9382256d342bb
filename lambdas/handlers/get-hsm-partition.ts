import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('GetHsmPartition', (req, deps) => deps.hsmPartitions.get(req.params.id));
