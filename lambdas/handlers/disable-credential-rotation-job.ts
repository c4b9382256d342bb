import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('DisableCredentialRotationJob', (req, deps) => deps.scheduleAssignments.disableCredentialRotation(req.access, req.params.id));
