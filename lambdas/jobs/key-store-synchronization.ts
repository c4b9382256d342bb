import { jobWorker } from './job-worker';

export const handler = jobWorker('KeyStoreSynchronization');
