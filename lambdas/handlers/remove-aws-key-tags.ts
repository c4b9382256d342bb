import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('RemoveAwsKeyTags', (req, deps) => deps.awsKeys.removeTags(req.access, req.params.id, req.body));
