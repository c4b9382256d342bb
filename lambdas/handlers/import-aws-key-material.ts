import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('ImportAwsKeyMaterial', (req, deps) => deps.keyUploads.importMaterial(req.access, req.params.id, req.body ?? {}));
