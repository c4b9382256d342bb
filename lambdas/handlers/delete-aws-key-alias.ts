import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('DeleteAwsKeyAlias', (req, deps) => deps.awsKeys.deleteAlias(req.access, req.params.id, req.body));
