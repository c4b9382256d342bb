/**
 * The job queue port: where a job's units of work wait for a worker (README "Synchronization
 * jobs"). On AWS one Amazon SQS queue per job kind (adapters/aws/sqs-job-queue.ts), whose worker
 * Lambda takes them; locally an in-process queue that runs the same worker code
 * (lambdas/local/adapters/in-process-job-queue.ts).
 *
 * Delivery is at least once: a unit may arrive twice, so every unit's work is idempotent (records
 * are written with conditions, counts move with the writes they count).
 */
import type { JobKind } from '../../contract/jobs';

/** One bounded unit of a job: one account container × region, from `cursor` on. */
export interface JobUnit {
  readonly jobId: string;
  readonly kind: JobKind;
  readonly accountId: string;
  readonly region: string;
  /** Which part of the unit comes next (each job kind names its own phases). */
  readonly phase: string;
  /** Where the phase goes on (an AWS paging marker or a state cursor); absent at its start. */
  readonly cursor?: string;
  /** Deliveries so far after transient failures (throttling, 5xx): drives the backoff. */
  readonly attempt: number;
}

export interface JobQueue {
  /** Queues units (any number; the adapter batches them). `delaySeconds` (0-900) holds them back first. */
  send(units: readonly JobUnit[], options?: { readonly delaySeconds?: number }): Promise<void>;
}
