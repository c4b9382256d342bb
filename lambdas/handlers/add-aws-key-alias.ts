import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('AddAwsKeyAlias', (req, deps) => deps.awsKeys.addAlias(req.access, req.params.id, req.body));
