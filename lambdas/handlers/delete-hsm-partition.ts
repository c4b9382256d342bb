import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('DeleteHsmPartition', (req, deps) => deps.hsmPartitions.delete(req.params.id));
