/**
 * What a synchronization job did to a record, kept on the record beside the job's id (`syncedBy`)
 * so that a page delivered again counts the record as its first delivery did (core/jobs/job.ts
 * `syncCounts`).
 */
export type SyncOutcome = 'created' | 'updated' | 'unchanged' | 'gone';
