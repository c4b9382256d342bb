/**
 * The health monitor's refresh period (health-monitor.ts), worked out in one place: the deep
 * health check needs it too, to read a CloudHSM cluster's HSM states once per period
 * (cluster-hsm-states.ts). Both take it from the same options object (XksProxyOptions.health).
 */

/** Oldest result GetHealthStatus answers without waiting, unless set. */
export const DEFAULT_HEALTH_MAX_AGE_MS = 30_000;

/** Age from which a result is refreshed: `refreshAfterMs`, else half of `maxAgeMs`; never above `maxAgeMs`. */
export function healthRefreshAfterMs(options: { readonly maxAgeMs?: number; readonly refreshAfterMs?: number }): number {
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_HEALTH_MAX_AGE_MS;
  return Math.min(options.refreshAfterMs ?? maxAgeMs / 2, maxAgeMs);
}
