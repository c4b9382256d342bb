/** The kinds of job (rows of the job table, ./jobs.ts), apart so that the route table can name them without importing the job table. Plain data. */
export type JobKind = 'AwsKeySynchronization' | 'KeyStoreSynchronization';
