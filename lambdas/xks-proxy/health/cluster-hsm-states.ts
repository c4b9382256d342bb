/**
 * The HSMs of the AWS CloudHSM cluster behind a `cloudhsm` partition, for the deep health check.
 * The CloudHSM client SDK shows a whole cluster as one PKCS#11 slot and spreads sessions over its
 * HSMs itself, so PKCS#11 cannot check them one by one; the cluster's own account of them is
 * CloudHSMv2 DescribeClusters (`Hsms[].State`), read here.
 *
 * Only the health refresh calls this (deep-health-check.ts, run by health-monitor.ts outside KMS's
 * requests), never an Encrypt or Decrypt. Per cluster:
 * - at most one DescribeClusters call per refresh period: a refresh less than `refreshAfterMs`
 *   after the last call started shares that call and its answer (every store on the cluster too);
 * - a refresh waits for the call at most `waitMs`, so that a GetHealthStatus that waits for a
 *   refresh within its own deadline is not held up by the AWS API; the call itself goes on for up to
 *   `timeoutMs` and then is aborted, and what it answers serves the next refreshes;
 * - while a newer call has not answered, the last answer is used for up to two refresh periods
 *   after its call started; older than that, or none yet, there is no answer (the check then
 *   reports the cluster as one member: deep-health-check.ts clusterMembers).
 */
import type { CloudHsmClusterHsms, CloudHsmHsm } from '../../core/ports/cloudhsm-clusters';
import { raceDeadline } from '../../core/race-deadline';

export interface ClusterHsmStatesOptions {
  /** The health monitor's refresh period: no more than one DescribeClusters call per cluster within it. */
  readonly refreshAfterMs: number;
  /** How long a refresh waits for a call in flight. @default 150 */
  readonly waitMs?: number;
  /** A call not answered by then is aborted (and counts as failed). @default 2_000 */
  readonly timeoutMs?: number;
  /**
   * Told of every call that failed, timed out or found no such cluster (once per call), and by
   * deep-health-check.ts of a listing with no HSM that serves while the PKCS#11 check passed: for the log.
   */
  readonly onLookupFailed?: (clusterId: string, error: Error) => void;
  readonly now?: () => number;
}

/** A cluster's HSMs as DescribeClusters listed them, and when that call started (epoch ms). */
export interface ClusterHsmList {
  readonly hsms: readonly CloudHsmHsm[];
  readonly startedAt: number;
}

interface ClusterEntry {
  /** The latest call: when it started, and its answer once it came (undefined: failed). */
  latest: { readonly startedAt: number; readonly answer: Promise<ClusterHsmList | undefined> };
  /** The latest answer that listed the cluster. */
  listed?: ClusterHsmList;
}

export class ClusterHsmStates {
  private readonly clusters = new Map<string, ClusterEntry>();
  private readonly waitMs: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(
    private readonly source: CloudHsmClusterHsms,
    private readonly options: ClusterHsmStatesOptions,
  ) {
    this.waitMs = options.waitMs ?? 150;
    this.timeoutMs = options.timeoutMs ?? 2_000;
    this.now = options.now ?? Date.now;
  }

  /** The cluster's HSMs as recently listed, or undefined when there is no answer young enough. Never rejects. */
  async hsmsOf(clusterId: string): Promise<ClusterHsmList | undefined> {
    const now = this.now();
    let entry = this.clusters.get(clusterId);
    if (entry === undefined || now - entry.latest.startedAt >= this.options.refreshAfterMs) {
      const latest = { startedAt: now, answer: this.call(clusterId, now) };
      if (entry === undefined) {
        entry = { latest };
        this.clusters.set(clusterId, entry);
      } else {
        entry.latest = latest;
      }
    }
    const answered = await raceDeadline(entry.latest.answer, Date.now() + this.waitMs, () => new Error('not yet')).catch(() => undefined);
    if (answered !== undefined) return answered;
    const { listed } = entry;
    return listed !== undefined && now - listed.startedAt < 2 * this.options.refreshAfterMs ? listed : undefined;
  }

  /** One DescribeClusters call, aborted after `timeoutMs`; resolves undefined when it failed (and says so). */
  private async call(clusterId: string, startedAt: number): Promise<ClusterHsmList | undefined> {
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        reject(new Error(`AWS CloudHSM DescribeClusters of ${clusterId} did not answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      // A call still out does not keep the process alive (the local runner and tests stopping).
      timer.unref();
    });
    try {
      const hsms = await Promise.race([this.source.hsmsOf(clusterId, { signal: abort.signal }), timedOut]);
      if (hsms === undefined) throw new Error(`AWS CloudHSM DescribeClusters lists no cluster ${clusterId} in the proxy's account and region`);
      const list = { hsms, startedAt };
      const entry = this.clusters.get(clusterId);
      if (entry !== undefined && (entry.listed === undefined || entry.listed.startedAt < startedAt)) entry.listed = list;
      return list;
    } catch (error) {
      this.options.onLookupFailed?.(clusterId, error instanceof Error ? error : new Error(String(error)));
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }
}
