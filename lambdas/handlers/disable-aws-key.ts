import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('DisableAwsKey', (req, deps) => deps.awsKeys.disable(req.access, req.params.id));
