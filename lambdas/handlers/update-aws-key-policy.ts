import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('UpdateAwsKeyPolicy', (req, deps) => deps.awsKeys.updatePolicy(req.access, req.params.id, req.body));
