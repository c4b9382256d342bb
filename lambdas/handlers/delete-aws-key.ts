import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('DeleteAwsKey', (req, deps) => deps.awsKeys.delete(req.access, req.params.id));
