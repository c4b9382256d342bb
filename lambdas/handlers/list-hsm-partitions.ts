import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('ListHsmPartitions', (req, deps) => deps.hsmPartitions.list(req.query));
