/**
 * How key stores and keys name the job configuration assigned to them (`labels.job_config_id`), and
 * the count the configuration keeps of them (README "Schedules"). Here, outside core/schedules, so
 * that the key store and AWS key services release an assignment in their delete transactions
 * without depending on the schedules area (which depends on them).
 */
import type { StateOp } from './ports/state-store';

export const JOB_CONFIG_LABEL = 'job_config_id';

/** Counters on a job configuration record. */
export const JOB_CONFIG_COUNTERS = {
  /** Key stores and keys assigned to it: it is not deleted while any are. */
  assigned: 'assigned',
} as const;

/** Ops that release a deleted target's assignment (in the target's delete transaction). */
export function releaseAssignment(labels: Readonly<Record<string, string>> | undefined): StateOp[] {
  const jobConfigId = labels?.[JOB_CONFIG_LABEL];
  return jobConfigId === undefined ? [] : [{ op: 'count', kind: 'jobConfig', id: jobConfigId, counter: JOB_CONFIG_COUNTERS.assigned, delta: -1, min: 0 }];
}
