import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('EnableAwsKeyRotationJob', (req, deps) => deps.scheduleAssignments.enableKeyRotation(req.access, req.params.id, req.body.job_config_id));
