import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('CreateHsmPartition', (req, deps) => deps.hsmPartitions.create(req.body));
