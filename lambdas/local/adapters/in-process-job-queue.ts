/**
 * The job queue of local mode (`npm start`, tests, the sync benchmark): units wait in this process
 * and are handed to the same worker code the SQS-driven Lambdas run (core/jobs/job-runner.ts),
 * with what SQS gives them on AWS: `delaySeconds`, at most `maxConcurrency` units of a kind at once
 * (the job table's), and redelivery of a unit whose worker threw (after `redeliveryDelayMs`, up to
 * `maxReceives` times; then it is dropped and logged, where SQS moves it to the dead-letter queue).
 *
 * It also keeps what the benchmark reports: invocations, the longest one, the peak heap.
 */
import { jobFor, type JobKind } from '../../contract/jobs';
import type { JobQueue, JobUnit } from '../../core/ports/job-queue';

export interface InProcessJobQueueProps {
  /** Runs one unit (the job runner). */
  readonly worker: (unit: JobUnit) => Promise<unknown>;
  /** Scales every delay (tests and the benchmark shorten backoffs). @default 1 */
  readonly delayScale?: number;
  /** @default 1000 (SQS: the visibility timeout) */
  readonly redeliveryDelayMs?: number;
  /** @default 5 (the dead-letter queue's maxReceiveCount on AWS) */
  readonly maxReceives?: number;
  /** @default console.warn */
  readonly log?: (message: string) => void;
}

export interface JobQueueStats {
  readonly invocations: number;
  readonly longestInvocationMs: number;
  readonly peakHeapBytes: number;
  readonly deadLettered: number;
}

interface Waiting {
  readonly unit: JobUnit;
  readonly receives: number;
}

export class InProcessJobQueue implements JobQueue {
  private readonly waiting = new Map<JobKind, Waiting[]>();
  private readonly running = new Map<JobKind, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private pending = 0;
  private idleWaiters: Array<() => void> = [];
  private counters = { invocations: 0, longestInvocationMs: 0, peakHeapBytes: 0, deadLettered: 0 };
  private stopped = false;

  constructor(private readonly props: InProcessJobQueueProps) {}

  async send(units: readonly JobUnit[], options: { readonly delaySeconds?: number } = {}): Promise<void> {
    const delayMs = (options.delaySeconds ?? 0) * 1000 * (this.props.delayScale ?? 1);
    for (const unit of units) this.enqueue({ unit: structuredClone(unit), receives: 0 }, delayMs);
  }

  get stats(): JobQueueStats {
    return { ...this.counters };
  }

  /** Resolves once no unit waits or runs (tests, the benchmark). */
  idle(): Promise<void> {
    return this.pending === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops what waits and takes no more (the runner's shutdown). */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.waiting.clear();
  }

  private enqueue(entry: Waiting, delayMs: number): void {
    if (this.stopped) return;
    this.pending += 1;
    const arrive = (): void => {
      const queue = this.waiting.get(entry.unit.kind) ?? [];
      queue.push(entry);
      this.waiting.set(entry.unit.kind, queue);
      this.pump(entry.unit.kind);
    };
    if (delayMs <= 0) {
      setImmediate(arrive);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      arrive();
    }, delayMs);
    this.timers.add(timer);
  }

  private pump(kind: JobKind): void {
    const limit = jobFor(kind).maxConcurrency;
    const queue = this.waiting.get(kind) ?? [];
    while (!this.stopped && (this.running.get(kind) ?? 0) < limit && queue.length > 0) {
      const entry = queue.shift() as Waiting;
      this.running.set(kind, (this.running.get(kind) ?? 0) + 1);
      void this.invoke(entry).finally(() => {
        this.running.set(kind, (this.running.get(kind) ?? 1) - 1);
        this.settle();
        this.pump(kind);
      });
    }
  }

  private async invoke(entry: Waiting): Promise<void> {
    const started = performance.now();
    this.counters.invocations += 1;
    try {
      await this.props.worker(entry.unit);
    } catch (error) {
      const receives = entry.receives + 1;
      const log = this.props.log ?? ((message: string) => console.warn(message));
      if (receives >= (this.props.maxReceives ?? 5)) {
        this.counters.deadLettered += 1;
        log(`[jobs] unit ${entry.unit.kind} ${entry.unit.jobId} ${entry.unit.accountId}/${entry.unit.region} failed ${receives} times, dropped (dead letter): ${String(error)}`);
      } else {
        this.enqueue({ unit: entry.unit, receives }, (this.props.redeliveryDelayMs ?? 1000) * (this.props.delayScale ?? 1));
      }
    } finally {
      this.counters.longestInvocationMs = Math.max(this.counters.longestInvocationMs, performance.now() - started);
      this.counters.peakHeapBytes = Math.max(this.counters.peakHeapBytes, process.memoryUsage().heapUsed);
    }
  }

  private settle(): void {
    this.pending -= 1;
    if (this.pending === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}
