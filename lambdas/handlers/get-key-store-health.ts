import { StateStoreXksStateSource } from '../adapters/state/xks-state-source';
import { KeyStoreHealthService } from '../core/services/key-store-health';
import { apiHandler, type ApiHandler } from '../runtime/api-handler';
import type { Dependencies } from '../runtime/dependencies';

/** One service per container (its rate limit is per instance), rebuilt if the dependencies change (tests). */
let built: { deps: Dependencies; service: KeyStoreHealthService } | undefined;

function service(deps: Dependencies): KeyStoreHealthService {
  if (built?.deps !== deps) {
    built = { deps, service: new KeyStoreHealthService(new StateStoreXksStateSource(deps.state), deps.hsmAgent, { now: () => deps.clock.now().getTime() }) };
  }
  return built.service;
}

const checked: ApiHandler = apiHandler('GetKeyStoreHealth', (req, deps) => service(deps).check(req.params.id));

/** Healthy: 200 with no body (seed 001), so the JSON `null` of an empty result is dropped. */
export const handler: ApiHandler = async (event, context) => {
  const result = await checked(event, context);
  if (result.statusCode !== 200) return result;
  const { 'content-type': _json, ...headers } = (result.headers ?? {}) as Record<string, string>;
  return { ...result, headers, body: '' };
};
