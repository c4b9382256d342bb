import { apiHandler, type ApiHandler } from '../runtime/api-handler';

const checked: ApiHandler = apiHandler('GetKeyStoreHealth', (req, deps) => deps.keyStoreHealth.check(req.params.id));

/** Healthy: 200 with no body (as CCKM documents it), so the JSON `null` of an empty result is dropped. */
export const handler: ApiHandler = async (event, context) => {
  const result = await checked(event, context);
  if (result.statusCode !== 200) return result;
  const { 'content-type': _json, ...headers } = (result.headers ?? {}) as Record<string, string>;
  return { ...result, headers, body: '' };
};
