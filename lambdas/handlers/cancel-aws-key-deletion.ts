import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('CancelAwsKeyDeletion', (req, deps) => deps.awsKeys.cancelDeletion(req.access, req.params.id));
