/**
 * The job runner with every job kind's step, from the ports they need: what the SQS worker
 * functions (lambdas/jobs/) and the local in-process queue both run.
 */
import type { AwsKms } from '../ports/aws-kms';
import type { AwsKmsKeys } from '../ports/aws-kms-keys';
import type { Clock } from '../ports/clock';
import type { JobQueue } from '../ports/job-queue';
import type { StateStore } from '../ports/state-store';
import { awsKeySyncStep } from './aws-key-sync';
import { JobRunner } from './job-runner';
import { keyStoreSyncStep } from './key-store-sync';

export interface JobWorkerPorts {
  readonly state: StateStore;
  readonly clock: Clock;
  readonly jobQueue: JobQueue;
  readonly awsKms: AwsKms;
  readonly awsKmsKeys: AwsKmsKeys;
}

export function jobRunnerFor(ports: JobWorkerPorts): JobRunner {
  return new JobRunner(ports, {
    AwsKeySynchronization: awsKeySyncStep(ports),
    KeyStoreSynchronization: keyStoreSyncStep(ports),
  });
}
