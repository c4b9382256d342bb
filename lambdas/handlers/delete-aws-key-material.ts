import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('DeleteAwsKeyMaterial', (req, deps) => deps.keyUploads.deleteMaterial(req.access, req.params.id));
