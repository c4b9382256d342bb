/**
 * The shape of a key store's XKS proxy URI path: what AWS KMS is configured with
 * (`XksProxyUriPath`), what the control plane shows as `aws_param.xks_proxy_uri_path`, and what
 * the proxy's router matches. Plain data.
 */

export const XKS_PROXY_PATH_PREFIX = '/api/v1/cckm/aws/xks-proxy-endpoints/';
export const XKS_API_SUFFIX = '/kms/xks/v1';

/** The store's `xks_proxy_uri_path` (what AWS KMS is configured with). */
export function xksProxyUriPath(keyStoreId: string): string {
  return `${XKS_PROXY_PATH_PREFIX}${keyStoreId}${XKS_API_SUFFIX}`;
}
