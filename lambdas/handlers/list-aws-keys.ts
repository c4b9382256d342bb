import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('ListAwsKeys', (req, deps) => deps.awsKeys.list(req.access, req.query));
