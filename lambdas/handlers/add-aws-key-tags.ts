import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('AddAwsKeyTags', (req, deps) => deps.awsKeys.addTags(req.access, req.params.id, req.body));
