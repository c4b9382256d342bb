import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('ScheduleAwsKeyDeletion', (req, deps) => deps.awsKeys.scheduleDeletion(req.access, req.params.id, req.body ?? {}));
