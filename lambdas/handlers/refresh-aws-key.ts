import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('RefreshAwsKey', (req, deps) => deps.awsKeys.refresh(req.access, req.params.id));
