/**
 * The shape of a key store's XKS proxy URI path: what AWS KMS is configured with
 * (`XksProxyUriPath`), what the control plane shows as `aws_param.xks_proxy_uri_path`, and what
 * the proxy's router matches; and the path of its deep health check. Plain data.
 */

export const XKS_PROXY_PATH_PREFIX = '/api/v1/cckm/aws/xks-proxy-endpoints/';
export const XKS_API_SUFFIX = '/kms/xks/v1';

/** The store's `xks_proxy_uri_path` (what AWS KMS is configured with). */
export function xksProxyUriPath(keyStoreId: string): string {
  return `${XKS_PROXY_PATH_PREFIX}${keyStoreId}${XKS_API_SUFFIX}`;
}

/**
 * The store's `health_check_uri_path`: its unauthenticated deep health check on the management API
 * (route GetKeyStoreHealth, under the API stage `/api`), what a load balancer or monitor polls.
 */
export function healthCheckUriPath(keyStoreId: string): string {
  return `/api/v1/cckm/aws/custom-key-stores/${keyStoreId}/health`;
}
