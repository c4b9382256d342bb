/**
 * Keeps each store's deep health result (deep-health-check.ts) fresh outside KMS's requests, so
 * that GetHealthStatus answers from the latest result instead of doing HSM work on KMS's request.
 *
 * A Lambda instance runs nothing between invocations, so a refresh is started by what does reach
 * the instance (README, "GetHealthStatus"):
 * - the init-phase warm-up checks every store (XksProxy.warmUp);
 * - any request for a store whose result is older than `refreshAfterMs` starts a refresh and does
 *   not wait for it (it completes during the following invocations while traffic flows);
 *   a store without a result yet gets its first check from the warm-up or from GetHealthStatus;
 * - the ALB's `GET /ping` (every 30 s from each load balancer node) refreshes every store seen in
 *   the last `idleAfterMs` whose result is older than `refreshAfterMs`, and waits for that (up to
 *   `pingBudgetMs`): the load balancer's own invocation carries the HSM work.
 *
 * GetHealthStatus answers a result up to `maxAgeMs` old as it is (one older than `refreshAfterMs`
 * also starts a refresh). With no result that young (a store this instance never checked, or an
 * instance that saw neither traffic nor a ping for `maxAgeMs`), the request waits for the refresh
 * it starts, within its own deadline; a member whose check has not finished by then is reported
 * UNAVAILABLE, and the refresh goes on for the next call.
 */
import { raceDeadline } from '../../core/race-deadline';
import { XksError } from '../errors';
import { membersOf, type DeepHealthCheck, type FleetHealth, type HealthCheckedStore } from './deep-health-check';
import { DEFAULT_HEALTH_MAX_AGE_MS, healthRefreshAfterMs } from './health-timing';

/** The spec: a cached result MUST NOT be older than one minute. */
export const MAX_HEALTH_AGE_MS = 60_000;

export interface HealthMonitorOptions {
  /** Oldest result GetHealthStatus answers without waiting (at most MAX_HEALTH_AGE_MS). @default 30_000 */
  readonly maxAgeMs?: number;
  /** Age from which traffic and pings start a refresh. @default half of maxAgeMs */
  readonly refreshAfterMs?: number;
  /** Stores not seen in a request for this long are no longer refreshed by pings. @default 600_000 */
  readonly idleAfterMs?: number;
  /** How long a ping waits for the refreshes it started. @default 2_000 */
  readonly pingBudgetMs?: number;
  /** Stores kept; beyond, the one first seen goes (it is checked again when it comes back). @default 1_000 */
  readonly maxStores?: number;
  readonly now?: () => number;
  /** Told of every check run (not of answers from a result): whether any member could serve, and the fleet. */
  readonly onResult?: (store: HealthCheckedStore, fleet: FleetHealth) => void;
}

interface Entry {
  readonly fingerprint: string;
  store: HealthCheckedStore;
  lastSeenAt: number;
  result?: FleetHealth;
  running?: Promise<FleetHealth>;
}

export class HealthMonitor {
  private readonly entries = new Map<string, Entry>();
  private readonly maxAgeMs: number;
  private readonly refreshAfterMs: number;
  private readonly idleAfterMs: number;
  private readonly pingBudgetMs: number;
  private readonly maxStores: number;
  private readonly now: () => number;

  constructor(
    private readonly check: DeepHealthCheck,
    private readonly options: HealthMonitorOptions = {},
  ) {
    this.maxAgeMs = options.maxAgeMs ?? DEFAULT_HEALTH_MAX_AGE_MS;
    if (this.maxAgeMs > MAX_HEALTH_AGE_MS) throw new Error(`health maxAgeMs ${this.maxAgeMs} exceeds ${MAX_HEALTH_AGE_MS} ms`);
    this.refreshAfterMs = healthRefreshAfterMs(options);
    this.idleAfterMs = options.idleAfterMs ?? 600_000;
    this.pingBudgetMs = options.pingBudgetMs ?? 2_000;
    this.maxStores = options.maxStores ?? 1_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * A request for the store arrived: start a refresh if its result is getting old; never waits.
   * A store without a result yet gets its first check from the warm-up or its first GetHealthStatus.
   */
  noteTraffic(store: HealthCheckedStore): void {
    const entry = this.entryFor(store);
    if (entry.result && this.age(entry) >= this.refreshAfterMs) void this.start(entry);
  }

  /** GetHealthStatus's answer: the latest result, or (none young enough) the refresh within the deadline. */
  async current(store: HealthCheckedStore, deadlineAt: number): Promise<FleetHealth> {
    const entry = this.entryFor(store);
    const age = this.age(entry);
    if (entry.result && age <= this.maxAgeMs) {
      if (age >= this.refreshAfterMs) void this.start(entry);
      return entry.result;
    }
    const timeout = () => new XksError('DependencyTimeoutException', 'The deep health check did not finish before the request deadline');
    try {
      return await raceDeadline(this.start(entry), deadlineAt, timeout);
    } catch (error) {
      const reason = error instanceof XksError ? error : timeout();
      return { checkedAt: this.now(), members: membersOf(store).map((member) => ({ id: member.id, status: 'UNAVAILABLE', latencyMs: 0, error: reason })) };
    }
  }

  /** Checks the store now (the warm-up), or joins the check already running. */
  refresh(store: HealthCheckedStore): Promise<FleetHealth> {
    return this.start(this.entryFor(store));
  }

  /** The ALB's ping: refreshes the stale results of the stores in use, waiting up to `pingBudgetMs`. */
  async refreshStale(): Promise<void> {
    const now = this.now();
    const running = [...this.entries.values()]
      .filter((entry) => now - entry.lastSeenAt < this.idleAfterMs && this.age(entry) >= this.refreshAfterMs)
      .map((entry) => this.start(entry));
    if (running.length === 0) return;
    await raceDeadline(Promise.all(running), Date.now() + this.pingBudgetMs, () => new Error('ping budget spent')).catch(() => undefined);
  }

  private age(entry: Entry): number {
    return entry.result ? this.now() - entry.result.checkedAt : Number.POSITIVE_INFINITY;
  }

  private start(entry: Entry): Promise<FleetHealth> {
    entry.running ??= this.check.checkFleet(entry.store).then((fleet) => {
      entry.result = fleet;
      entry.running = undefined;
      this.options.onResult?.(entry.store, fleet);
      return fleet;
    });
    return entry.running;
  }

  /** The store's entry; a store whose health-check key, ciphertext or members changed starts afresh. */
  private entryFor(store: HealthCheckedStore): Entry {
    const fingerprint = fingerprintOf(store);
    let entry = this.entries.get(store.id);
    if (entry?.fingerprint !== fingerprint) {
      entry = { fingerprint, store, lastSeenAt: this.now() };
      this.entries.delete(store.id);
      this.entries.set(store.id, entry);
      if (this.entries.size > this.maxStores) this.entries.delete(this.entries.keys().next().value as string);
    } else {
      entry.store = store;
      entry.lastSeenAt = this.now();
    }
    return entry;
  }
}

/**
 * Fingerprints of the store views seen: a view object is the state cache's, kept until its next
 * refresh, so each request of a busy store finds its fingerprint here instead of serialising it.
 */
const fingerprints = new WeakMap<HealthCheckedStore, string>();

function fingerprintOf(store: HealthCheckedStore): string {
  let fingerprint = fingerprints.get(store);
  if (fingerprint === undefined) {
    const { partition, objectId } = store.healthCheckKey;
    fingerprint = JSON.stringify([partition.partitionId, partition.hsmType, partition.tokenLabel, partition.pinSecretName, objectId, store.healthCheckCiphertext ?? '', membersOf(store)]);
    fingerprints.set(store, fingerprint);
  }
  return fingerprint;
}

