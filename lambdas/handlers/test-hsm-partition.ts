import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('TestHsmPartition', (req, deps) => deps.hsmPartitions.test(req.params.id));
