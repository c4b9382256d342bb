import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('UploadAwsKey', (req, deps) => deps.keyUploads.upload(req.access, req.body));
