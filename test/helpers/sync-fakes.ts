/**
 * Fakes for synchronization job tests: a job queue that keeps units until the test delivers them,
 * ListKeys over FakeAwsKmsKeys (the fake AWS KMS of the key operations), paged by key id, and a
 * worker stopping between a page's writes and its counts.
 */
import type { KmsKeyPage, KmsLocation } from '../../lambdas/core/ports/aws-kms';
import type { JobQueue, JobUnit } from '../../lambdas/core/ports/job-queue';
import type { FakeAwsKmsKeys } from './fake-aws-kms-keys';
import type { MemoryStateStore } from './memory-state-store';

export class RecordingJobQueue implements JobQueue {
  readonly waiting: Array<{ unit: JobUnit; delaySeconds: number }> = [];

  async send(units: readonly JobUnit[], options: { readonly delaySeconds?: number } = {}): Promise<void> {
    for (const unit of units) this.waiting.push({ unit: structuredClone(unit), delaySeconds: options.delaySeconds ?? 0 });
  }

  /** Delivers waiting units (in order) to `worker` until none is left or `max` were delivered. */
  async drain(worker: (unit: JobUnit) => Promise<unknown>, max = 10_000): Promise<number> {
    let delivered = 0;
    while (this.waiting.length > 0 && delivered < max) {
      const { unit } = this.waiting.shift()!;
      await worker(unit);
      delivered += 1;
    }
    return delivered;
  }
}

/** ListKeys of the keys FakeAwsKmsKeys holds in `at`'s account and region, by key id. */
export function fakeListKeys(keys: FakeAwsKmsKeys): { listKeys(at: KmsLocation, options?: { marker?: string; limit?: number }): Promise<KmsKeyPage> } {
  return {
    async listKeys(at, options = {}) {
      const all = [...keys.keys.values()]
        .filter((k) => k.at.accountId === at.accountId && k.at.region === at.region)
        .map((k) => k.metadata)
        .sort((a, b) => (a.KeyId < b.KeyId ? -1 : 1))
        .filter((k) => options.marker === undefined || k.KeyId > options.marker);
      const page = all.slice(0, options.limit ?? 100);
      const ids = { keyIds: page.map((k) => k.KeyId), keyArns: page.map((k) => k.Arn) };
      return all.length > page.length ? { ...ids, nextMarker: page[page.length - 1].KeyId } : ids;
    },
  };
}

/** The next transaction that counts a page fails, as a worker stopping after the page's writes would. */
export function stopOnceBeforeCount(state: MemoryStateStore): void {
  const transact = state.transact.bind(state);
  let stop = true;
  state.transact = async (ops) => {
    if (stop && ops.some((o) => o.kind === 'jobPage')) {
      stop = false;
      throw new Error('worker stopped');
    }
    return transact(ops);
  };
}
