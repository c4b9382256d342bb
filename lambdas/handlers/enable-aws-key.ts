import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('EnableAwsKey', (req, deps) => deps.awsKeys.enable(req.access, req.params.id));
