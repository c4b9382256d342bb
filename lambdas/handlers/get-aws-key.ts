import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('GetAwsKey', (req, deps) => deps.awsKeys.get(req.access, req.params.id));
