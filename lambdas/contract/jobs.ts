/**
 * The job table: each kind of long work, the worker that does
 * it and what that worker needs. Like the route table it is plain data that the CDK reads (one
 * queue, dead-letter queue, alarm and worker function per row, granted exactly `needs`) and the
 * runtime reads (the local in-process queue runs the same workers; the SQS adapter finds a kind's
 * queue). README "Synchronization jobs" says how a job runs.
 *
 * Adding a kind of job = one row here + one worker file in lambdas/jobs/ exporting `handler`.
 */
import type { JobKind } from './job-kinds';
import type { RouteNeeds } from './routes';

export type { JobKind } from './job-kinds';

export interface JobDefinition {
  readonly kind: JobKind;
  /** Worker module, relative to the repository root; it exports `handler` (an SQS event handler). */
  readonly worker: string;
  /** What the worker needs at run time; the CDK grants exactly this (and its own queue). */
  readonly needs: Pick<RouteNeeds, 'state' | 'assumeAccountRole' | 'awsKms'>;
  /**
   * Most seconds one invocation may run. A unit does a bounded amount (one page) and hands the rest
   * on, so this does not grow with an account's size; it bounds a page of AWS KMS reads under throttling.
   */
  readonly timeoutSeconds: number;
  /** Most invocations of the worker at once (SQS event source `maxConcurrency`, 2-1000): keeps AWS KMS's shared quotas for the API. */
  readonly maxConcurrency: number;
  readonly summary: string;
}

const job = (file: string): string => `lambdas/jobs/${file}.ts`;

export const jobs: readonly JobDefinition[] = [
  {
    kind: 'AwsKeySynchronization',
    worker: job('aws-key-synchronization'),
    needs: {
      state: 'readwrite',
      assumeAccountRole: true,
      awsKms: ['ListKeys', 'DescribeKey', 'ListAliases', 'ListResourceTags', 'GetKeyPolicy', 'GetKeyRotationStatus'],
    },
    timeoutSeconds: 120,
    maxConcurrency: 10,
    summary: 'Downloads the KMS keys of an account container region into AWS key records, one ListKeys page per invocation',
  },
  {
    kind: 'KeyStoreSynchronization',
    worker: job('key-store-synchronization'),
    needs: { state: 'readwrite', assumeAccountRole: true, awsKms: ['DescribeCustomKeyStores', 'ListKeys', 'DescribeKey', 'ListAliases', 'ListResourceTags', 'GetKeyPolicy', 'GetKeyRotationStatus'] },
    timeoutSeconds: 120,
    maxConcurrency: 5,
    summary: 'Links our unlinked key stores found in AWS KMS, records foreign ones as REMOTE, links HYOK keys, one page per invocation',
  },
];

/** Look a job kind up (workers, the queue adapters, tests). */
export function jobFor(kind: JobKind): JobDefinition {
  const found = jobs.find((j) => j.kind === kind);
  if (!found) throw new Error(`No job kind ${kind} in lambdas/contract/jobs.ts`);
  return found;
}
