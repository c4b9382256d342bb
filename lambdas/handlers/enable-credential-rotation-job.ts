import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('EnableCredentialRotationJob', (req, deps) =>
  deps.scheduleAssignments.enableCredentialRotation(req.access, req.params.id, req.body.job_config_id),
);
