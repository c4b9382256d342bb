/**
 * `JobQueue` on Amazon SQS: one queue per job kind (the job table's; the CDK passes their URLs in
 * JOB_QUEUE_URLS), SendMessageBatch in batches of 10 (SQS's limit), the unit as the JSON body.
 * Entries SQS refuses in a batch are sent again once; then the call fails (the API answers 503,
 * a worker's unit is redelivered by SQS).
 */
import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import type { JobKind } from '../../contract/jobs';
import { ServiceUnavailableError } from '../../core/errors';
import type { JobQueue, JobUnit } from '../../core/ports/job-queue';

const BATCH = 10;
const MAX_DELAY_SECONDS = 900;

export interface SqsJobQueueProps {
  readonly client: SQSClient;
  /** Queue URL per job kind. */
  readonly queueUrls: Readonly<Partial<Record<JobKind, string>>>;
}

export class SqsJobQueue implements JobQueue {
  constructor(private readonly props: SqsJobQueueProps) {}

  async send(units: readonly JobUnit[], options: { readonly delaySeconds?: number } = {}): Promise<void> {
    const delay = Math.min(Math.max(Math.round(options.delaySeconds ?? 0), 0), MAX_DELAY_SECONDS);
    for (const [kind, ofKind] of groupByKind(units)) {
      const queueUrl = this.props.queueUrls[kind];
      if (queueUrl === undefined) throw new Error(`No queue for ${kind} jobs: JOB_QUEUE_URLS does not name one (the route or job table row must declare it)`);
      for (let i = 0; i < ofKind.length; i += BATCH) {
        const entries = ofKind.slice(i, i + BATCH).map((unit, n): SendMessageBatchRequestEntry => ({ Id: String(n), MessageBody: JSON.stringify(unit), ...(delay > 0 ? { DelaySeconds: delay } : {}) }));
        await this.sendBatch(queueUrl, entries);
      }
    }
  }

  private async sendBatch(queueUrl: string, entries: SendMessageBatchRequestEntry[], retry = true): Promise<void> {
    let failed: SendMessageBatchRequestEntry[];
    try {
      const answer = await this.props.client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
      const ids = new Set((answer.Failed ?? []).map((f) => f.Id));
      failed = entries.filter((e) => ids.has(e.Id));
    } catch (error) {
      throw new ServiceUnavailableError(`Amazon SQS did not take the job's units: ${error instanceof Error ? error.message : String(error)}`, { cause: error, outcomeUnknown: true });
    }
    if (failed.length === 0) return;
    if (retry) return this.sendBatch(queueUrl, failed, false);
    throw new ServiceUnavailableError(`Amazon SQS refused ${failed.length} of the job's units; try again`, { outcomeUnknown: true });
  }
}

function groupByKind(units: readonly JobUnit[]): Map<JobKind, JobUnit[]> {
  const byKind = new Map<JobKind, JobUnit[]>();
  for (const unit of units) byKind.set(unit.kind, [...(byKind.get(unit.kind) ?? []), unit]);
  return byKind;
}

/** JOB_QUEUE_URLS (`{"<JobKind>": "<queue URL>"}`), as the CDK writes it. */
export function parseQueueUrls(text: string | undefined): Partial<Record<JobKind, string>> {
  if (text === undefined || text.trim() === '') return {};
  const parsed: unknown = JSON.parse(text);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('JOB_QUEUE_URLS must be a JSON object of queue URLs by job kind');
  return parsed as Partial<Record<JobKind, string>>;
}
