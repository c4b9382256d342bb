import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('UpdateAwsKeyDescription', (req, deps) => deps.awsKeys.updateDescription(req.access, req.params.id, req.body));
