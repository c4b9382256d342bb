/**
 * The XKS proxy's side of credential last-use tracking: `note()` is called for every request a
 * credential authenticated, costs one Map lookup, and starts a write through the CredentialUsage
 * port at most once per `intervalMs` per credential. The write is never awaited by the request
 * (a failed one is reported to `onError` and tried again at the next interval), so the hot path
 * gains no I/O; and it starts only once the current event-loop turn is done (setImmediate), so
 * the request that triggers it is answered before the SDK's own work for the write runs (the
 * first write of a new instance costs milliseconds of it).
 */
import type { CredentialUsage } from '../ports/credential-usage';

export interface CredentialUseThrottleOptions {
  /** At most one write per credential per interval. @default 60_000 */
  readonly intervalMs?: number;
  /** Credentials remembered; the oldest entries go beyond it. @default 10_000 */
  readonly maxTracked?: number;
  readonly now?: () => number;
  /** A write that failed (never awaited by a request). */
  readonly onError?: (error: unknown) => void;
}

export class CredentialUseThrottle {
  private readonly lastWrite = new Map<string, number>();
  private readonly intervalMs: number;
  private readonly maxTracked: number;
  private readonly now: () => number;
  private readonly onError: (error: unknown) => void;

  constructor(
    private readonly usage: Pick<CredentialUsage, 'recordUse'>,
    options: CredentialUseThrottleOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 60_000;
    this.maxTracked = options.maxTracked ?? 10_000;
    this.now = options.now ?? Date.now;
    this.onError = options.onError ?? (() => undefined);
  }

  /** A request was authenticated with this credential. Returns the write it started, if any (tests await it). */
  note(keyStoreId: string, credentialId: string): Promise<void> | undefined {
    const key = `${keyStoreId}/${credentialId}`;
    const now = this.now();
    const last = this.lastWrite.get(key);
    if (last !== undefined && now - last < this.intervalMs) return undefined;
    this.lastWrite.delete(key); // re-inserted last: Map order is then least recently written first
    this.lastWrite.set(key, now);
    if (this.lastWrite.size > this.maxTracked) this.lastWrite.delete(this.lastWrite.keys().next().value as string);
    const afterThisTurn = new Promise<void>((resolve) => setImmediate(resolve));
    return afterThisTurn.then(() => this.usage.recordUse(keyStoreId, credentialId, new Date(now))).catch((error: unknown) => {
      // Let the next request try again instead of waiting a whole interval.
      if (this.lastWrite.get(key) === now) this.lastWrite.delete(key);
      this.onError(error);
    });
  }
}
