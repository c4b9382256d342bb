/**
 * The proxy's URI space. Every key store answers under its own `xks_proxy_uri_path`
 * (`/api/v1/cckm/aws/xks-proxy-endpoints/{keyStoreId}/kms/xks/v1`), like the reference proxy's
 * per-prefix routes; anything else is InvalidUriPathException (the core's fallback).
 */

export type XksOperation = 'GetHealthStatus' | 'GetKeyMetadata' | 'Encrypt' | 'Decrypt';

export type XksRoute =
  /** Load balancer health check (`GET /ping`): no store, no signature. */
  | { readonly kind: 'ping' }
  | {
      readonly kind: 'operation';
      readonly operation: XksOperation;
      readonly keyStoreId: string;
      /** The raw path segment; validated (≤ 128 of `[A-Za-z0-9._-]`) after authentication. */
      readonly externalKeyId?: string;
    };

const KEY_OPERATIONS: ReadonlyMap<string, XksOperation> = new Map([
  ['metadata', 'GetKeyMetadata'],
  ['encrypt', 'Encrypt'],
  ['decrypt', 'Decrypt'],
]);

/**
 * The key store id is limited by the spec's XksProxyUriPath rules (≤ 128 characters in all, of
 * `[A-Za-z0-9/_-]`): 128 minus the fixed 49 characters around it.
 */
const OPERATION_PATH = /^\/api\/v1\/cckm\/aws\/xks-proxy-endpoints\/([A-Za-z0-9_-]{1,79})\/kms\/xks\/v1\/(?:(health)|keys\/([^/]+)\/([a-z]+))$/;

/**
 * Routes of paths seen before (a store's traffic repeats a few paths), emptied when full so that
 * made-up paths cannot grow it; paths that match no route are not kept.
 */
const ROUTE_CACHE_LIMIT = 1024;
const routes = new Map<string, XksRoute>();
const PING: XksRoute = { kind: 'ping' };

export function matchRoute(path: string): XksRoute | undefined {
  let route = routes.get(path);
  if (route === undefined) {
    route = parseRoute(path);
    if (route === undefined) return undefined;
    if (routes.size >= ROUTE_CACHE_LIMIT) routes.clear();
    routes.set(path, route);
  }
  return route;
}

function parseRoute(path: string): XksRoute | undefined {
  if (path === '/ping') return PING;
  const match = OPERATION_PATH.exec(path);
  if (!match) return undefined;
  const [, keyStoreId, health, externalKeyId, indicator] = match;
  if (health) return { kind: 'operation', operation: 'GetHealthStatus', keyStoreId };
  const operation = KEY_OPERATIONS.get(indicator);
  return operation ? { kind: 'operation', operation, keyStoreId, externalKeyId } : undefined;
}

const EXTERNAL_KEY_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** The spec's externalKeyId rule: at most 128 of letters, digits, `-`, `.` and `_`. */
export function isValidExternalKeyId(value: string): boolean {
  return EXTERNAL_KEY_ID.test(value);
}
