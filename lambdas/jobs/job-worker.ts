/**
 * `jobWorker(kind)`: the Lambda handler of one job kind's worker (contract/jobs.ts), driven by its
 * SQS queue. Each record is one unit (core/ports/job-queue.ts), run by the job runner: one bounded
 * step, the continuation queued before the message is deleted. A unit whose run threw (the state
 * store unavailable, the queue refusing the continuation) is reported as a batch item failure, so
 * SQS delivers it again after the visibility timeout and, after maxReceiveCount, moves it to the
 * dead-letter queue, whose alarm tells the operator.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { JobKind } from '../contract/jobs';
import type { JobUnit } from '../core/ports/job-queue';
import { dependencies } from '../runtime/dependencies';

const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'xks-key-manager-jobs' });

export function jobWorker(kind: JobKind): (event: SQSEvent) => Promise<SQSBatchResponse> {
  return async (event) => {
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      let unit: JobUnit;
      try {
        unit = JSON.parse(record.body) as JobUnit;
      } catch {
        logger.error('unit is not JSON; dropped', { messageId: record.messageId });
        continue;
      }
      if (unit.kind !== kind) {
        logger.error('unit of another job kind; dropped', { messageId: record.messageId, kind: unit.kind });
        continue;
      }
      try {
        const outcome = await dependencies().syncRunner.run(unit);
        logger.info('unit step', { jobId: unit.jobId, accountId: unit.accountId, region: unit.region, phase: unit.phase, attempt: unit.attempt, outcome });
      } catch (error) {
        logger.error('unit step failed; SQS will deliver it again', { jobId: unit.jobId, accountId: unit.accountId, region: unit.region, phase: unit.phase, error: error as Error });
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures: failures };
  };
}
