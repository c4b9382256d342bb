import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('UpdateHsmPartition', (req, deps) => deps.hsmPartitions.update(req.params.id, req.body));
