import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('DisableAwsKeyRotationJob', (req, deps) => deps.scheduleAssignments.disableKeyRotation(req.access, req.params.id));
