/**
 * Synchronization jobs as stored and shown (README "Synchronization jobs"). A job is one `job`
 * record: what was asked (`kms`, `regions`), its units (one account container × region each),
 * `detailed_status` per `<AWS account id>/<region>`, the `abort` flag, and counters that move
 * atomically with the work they count (`found`, `created`, `updated`, `gone`) plus `unitsLeft`,
 * which the last unit to finish brings to 0 and so completes the job.
 */
import type { JobKind } from '../../contract/jobs';
import type { EntityRecord } from '../ports/state-store';
import { envelope, type ResourceEnvelope, type Timestamps } from '../resource';
import type { SyncOutcome } from '../sync-outcome';

/**
 * `overall_status`. The seeds spell the running state both `in_progress` (the list filter's values,
 * the key synchronization example) and `in progress` (the key store examples); we answer
 * `in_progress` and accept either spelling in the `overall_status` filter.
 */
export type JobStatus = 'in_progress' | 'completed' | 'failed' | 'cancelled';
export const JOB_STATUSES: readonly JobStatus[] = ['in_progress', 'completed', 'failed', 'cancelled'];

/** `detailed_status` values of one unit. */
export const UNIT_STATUS = {
  inProgress: 'in progress',
  done: 'region synchronized successfully',
  cancelled: 'cancelled',
  failed: (reason: string): string => `failed: ${reason}`,
} as const;

export const JOB_COUNTERS = { unitsLeft: 'unitsLeft', found: 'found', created: 'created', updated: 'updated', gone: 'gone' } as const;
export type JobCount = Exclude<keyof typeof JOB_COUNTERS, 'unitsLeft'>;

/** The counts one record adds to its job, from what the job did to it. */
export function syncCounts(outcome: SyncOutcome): Partial<Record<JobCount, number>> {
  switch (outcome) {
    case 'created':
      return { found: 1, created: 1 };
    case 'updated':
      return { found: 1, updated: 1 };
    case 'unchanged':
      return { found: 1 };
    case 'gone':
      return { gone: 1 };
  }
}

/** One unit: an account container and region. */
export interface JobUnitRef {
  readonly accountId: string;
  /** The container's 12-digit AWS account id (`detailed_status` keys). */
  readonly awsAccountId: string;
  readonly region: string;
}

export interface JobData extends Timestamps {
  readonly jobKind: JobKind;
  readonly status: JobStatus;
  /** As asked: the containers' names or ids (every container's id with `synchronize_all`). */
  readonly kms: readonly string[];
  /** As asked (empty: every region of each container). */
  readonly regions: readonly string[];
  readonly synchronizeAll: boolean;
  readonly units: readonly JobUnitRef[];
  /** `<awsAccountId>/<region>` → UNIT_STATUS. */
  readonly detailedStatus: Readonly<Record<string, string>>;
  readonly abort: boolean;
  /** Who started it (the principal's user name, or the schedule). */
  readonly startedBy: string;
  readonly completedAt?: string;
}

export type JobRecord = EntityRecord<JobData>;

export interface JobResource extends ResourceEnvelope {
  readonly overall_status: JobStatus;
  readonly detailed_status: Readonly<Record<string, string>>;
  readonly cloud: 'aws';
  readonly kms: readonly string[];
  readonly regions: readonly string[];
  readonly abort: boolean;
  /** Keys (or stores) found in AWS KMS, records created, records changed, records marked gone. */
  readonly found: number;
  readonly created: number;
  readonly updated: number;
  readonly gone: number;
  readonly completedAt?: string;
}

export const unitKey = (unit: Pick<JobUnitRef, 'awsAccountId' | 'region'>): string => `${unit.awsAccountId}/${unit.region}`;

export function jobResource(job: JobRecord): JobResource {
  const count = (name: string): number => job.counters[name] ?? 0;
  return {
    ...envelope('synchronize', job.id, job.data),
    overall_status: job.data.status,
    detailed_status: job.data.detailedStatus,
    cloud: 'aws',
    kms: job.data.kms,
    regions: job.data.regions,
    abort: job.data.abort,
    found: count(JOB_COUNTERS.found),
    created: count(JOB_COUNTERS.created),
    updated: count(JOB_COUNTERS.updated),
    gone: count(JOB_COUNTERS.gone),
    ...(job.data.completedAt === undefined ? {} : { completedAt: job.data.completedAt }),
  };
}

/** How a job ends once its last unit has: cancelled when aborted, failed when a unit failed, else completed. */
export function finalStatus(data: Pick<JobData, 'abort' | 'detailedStatus'>): JobStatus {
  if (data.abort) return 'cancelled';
  return Object.values(data.detailedStatus).some((s) => s.startsWith('failed')) ? 'failed' : 'completed';
}
