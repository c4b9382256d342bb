/** Polls `check` until it holds; resolves to the time it took in ms (fails after `limitMs`). */
export async function timeUntil(check: () => Promise<boolean>, limitMs = 10_000, intervalMs = 50): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > limitMs) throw new Error(`condition not met within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return Date.now() - started;
}

/** The bound on how long a block, unblock, rotation or credential change may take to show. */
export const STALENESS_LIMIT_MS = 5_000;

/** Waits out the staleness bound: the next request must see any change made before the call. */
export function afterStalenessLimit(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, STALENESS_LIMIT_MS));
}
