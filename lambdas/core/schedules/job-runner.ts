/**
 * The job runner: one run of a job configuration, started by its schedule (EventBridge Scheduler
 * on AWS, the in-process scheduler locally) or by run-now. It takes the run (a scheduled run's
 * record is created under an id derived from the time it was due, so a second delivery finds it
 * and does nothing; a run-now record is taken from `queued` under its version), applies the
 * operation to each assigned target in turn and records, per target, done or the error. A
 * target that fails is reported, not retried in a loop: the next run tries again. One run
 * handles at most `MAX_ASSIGNED_PER_CONFIG` targets, so an invocation stays bounded.
 *
 * Operations:
 *  - `cckm_xks_credential_rotation`: rotates the credential of each assigned key store, which
 *    pushes it to AWS KMS (the credential service's in-use guard may refuse: reported as failed);
 *  - `cckm_key_rotation`: generates a new AES-256 key in the HSM partition of each assigned HYOK
 *    key's store and rotates the key to it (a new version; older ciphertexts still decrypt);
 *    with `rotation_after` (days), keys whose current version is younger are skipped; with
 *    `expire_in` (days) or `expiration` (a time), the version a rotation replaces stops
 *    decrypting then (the XKS proxy refuses it), whichever comes first;
 *  - `cckm_synchronization`: starts an AWS key synchronization job (its units run on the job
 *    engine, not in this invocation) for the configured containers; the run lists the job.
 */
import { GROUPS } from '../../contract/env';
import type { Access } from '../accounts/access';
import { ConflictError, KeyManagerError, isError } from '../errors';
import type { HsmKeyService } from '../hsm/hsm-key-service';
import type { KeyStoreData } from '../key-stores/key-store';
import type { KeyStoreCredentialService } from '../key-stores/key-store-credential-service';
import type { AwsKeyData, HyokKeyData } from '../keys/aws-key';
import { isHyokKey } from '../keys/aws-key';
import type { HyokKeyService } from '../keys/hyok-key-service';
import type { Clock } from '../ports/clock';
import type { IdGenerator } from '../ports/id-generator';
import type { JobRunnerEvent } from '../ports/job-scheduler';
import type { EntityRecord, StateStore } from '../ports/state-store';
import { DAY_MS, type JobConfigData, type KeyRotationParams, MAX_ASSIGNED_PER_CONFIG, replacedVersionExpiry, type SynchronizationParams } from './job-config';
import type { JobService } from '../jobs/job-service';
import { finalStatus, type JobRunData, type JobRunResource, type JobRunResult, jobRunResource, scheduledRunId } from './job-run';
import { JOB_CONFIG_LABEL } from '../job-config-labels';

/** Who the runner acts as: the key manager itself, with an administrator's reach. */
export const SCHEDULER_ACCESS: Access = {
  principal: { subject: 'scheduler', username: 'scheduler', groups: [GROUPS.admins], isAdmin: true },
};

/** Attributes of the AES-256 keys a rotation generates (those of an HYOK key's source key). */
const SOURCE_KEY_ATTRIBUTES = ['CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_SENSITIVE'] as const;

export interface JobRunnerDeps {
  readonly state: StateStore;
  readonly clock: Clock;
  readonly keyStoreCredentials: Pick<KeyStoreCredentialService, 'rotate'>;
  readonly hyokKeys: Pick<HyokKeyService, 'rotate'>;
  readonly hsmKeys: Pick<HsmKeyService, 'create' | 'delete'>;
  readonly jobs: Pick<JobService, 'start'>;
  readonly ids: IdGenerator;
}

type RunRecord = EntityRecord<JobRunData>;

export class JobRunner {
  constructor(private readonly deps: JobRunnerDeps) {}

  /** Runs the event's job; answers the run, or undefined when there was nothing to run (a repeated delivery, a deleted configuration). */
  async run(event: JobRunnerEvent): Promise<JobRunResource | undefined> {
    const { state } = this.deps;
    const config = await state.get<JobConfigData>('jobConfig', event.job_config_id);
    const taken = await this.take(event, config);
    if (taken === undefined) return undefined;
    if (config === undefined) return this.finish(taken, [], 'failed', `job configuration ${event.job_config_id} no longer exists`);
    const results = await this.apply(config);
    return this.finish(taken, results, finalStatus(results));
  }

  /** The run record, now `running`; undefined when another delivery has it (or nothing should run). */
  private async take(event: JobRunnerEvent, config: EntityRecord<JobConfigData> | undefined): Promise<RunRecord | undefined> {
    const { state, clock } = this.deps;
    const now = clock.now().toISOString();
    try {
      if (event.job_run_id !== undefined) {
        const queued = await state.get<JobRunData>('jobRun', event.job_run_id);
        if (queued === undefined || queued.data.status !== 'queued') return undefined;
        const data: JobRunData = { ...queued.data, status: 'running', startedAt: now, updatedAt: now };
        await state.transact([{ op: 'update', kind: 'jobRun', id: queued.id, data, expectedVersion: queued.version }]);
        return { ...queued, data, version: queued.version + 1 };
      }
      if (config === undefined || config.data.disabled || event.scheduled_time === undefined) return undefined;
      const id = scheduledRunId(config.id, event.scheduled_time);
      const data: JobRunData = {
        jobConfigId: config.id, jobConfigName: config.data.name, operation: config.data.operation, trigger: 'schedule',
        scheduledTime: new Date(event.scheduled_time).toISOString(), status: 'running', createdAt: now, updatedAt: now, startedAt: now, results: [],
      };
      await state.transact([{ op: 'create', kind: 'jobRun', id, data }]);
      return { kind: 'jobRun', id, data, version: 1, counters: {} };
    } catch (error) {
      if (isError(error, ConflictError)) return undefined; // another delivery of the same run took it
      throw error;
    }
  }

  private async apply(config: EntityRecord<JobConfigData>): Promise<JobRunResult[]> {
    switch (config.data.operation) {
      case 'cckm_xks_credential_rotation':
        return this.rotateCredentials(config.id);
      case 'cckm_key_rotation':
        return this.rotateKeys(config.id, config.data.params as unknown as KeyRotationParams);
      case 'cckm_synchronization':
        return [await this.startSynchronization(config.data.params as unknown as SynchronizationParams)];
    }
  }

  private async startSynchronization(params: SynchronizationParams): Promise<JobRunResult> {
    try {
      const job = await this.deps.jobs.start('AwsKeySynchronization', SCHEDULER_ACCESS, { kms: params.kms, synchronize_all: params.synchronize_all });
      return { target_type: 'synchronization_job', target_id: job.id, status: 'done', message: `started synchronization job ${job.id}` };
    } catch (error) {
      return failedResult('synchronization_job', '', error);
    }
  }

  private async rotateCredentials(jobConfigId: string): Promise<JobRunResult[]> {
    const stores = (await this.deps.state.list<KeyStoreData>('keyStore')).filter((s) => s.data.labels?.[JOB_CONFIG_LABEL] === jobConfigId);
    const results: JobRunResult[] = [];
    for (const store of stores.slice(0, MAX_ASSIGNED_PER_CONFIG)) {
      results.push(await attempt('key_store', store.id, async () => {
        const rotated = await this.deps.keyStoreCredentials.rotate(SCHEDULER_ACCESS, store.id);
        return `new credential ${rotated.access_key_id}`;
      }));
    }
    return results;
  }

  private async rotateKeys(jobConfigId: string, params: KeyRotationParams): Promise<JobRunResult[]> {
    const { state, clock } = this.deps;
    const keys = (await state.list<AwsKeyData>('awsKey'))
      .filter((k): k is EntityRecord<HyokKeyData> => k.data.labels?.[JOB_CONFIG_LABEL] === jobConfigId && isHyokKey(k.data));
    const minAgeMs = (params.rotation_after ?? 0) * DAY_MS;
    const results: JobRunResult[] = [];
    for (const key of keys.slice(0, MAX_ASSIGNED_PER_CONFIG)) {
      const since = key.data.rotatedAt ?? key.data.createdAt;
      if (clock.now().getTime() - Date.parse(since) < minAgeMs) {
        results.push({ target_type: 'aws_key', target_id: key.id, status: 'skipped', message: `current version from ${since} is younger than rotation_after (${params.rotation_after} days)` });
        continue;
      }
      results.push(await attempt('aws_key', key.id, () => this.rotateKey(key, params)));
    }
    return results;
  }

  /** A new AES-256 key in the store's partition, then the HYOK key rotated to it (the key is destroyed again when the rotation fails). */
  private async rotateKey(key: EntityRecord<HyokKeyData>, params: KeyRotationParams): Promise<string> {
    const { state, clock, ids, hsmKeys, hyokKeys } = this.deps;
    const store = await state.get<KeyStoreData>('keyStore', key.data.keyStoreId);
    if (store === undefined) throw new ConflictError(`its key store ${key.data.keyStoreId} no longer exists`);
    // Unique even for two runs in one second (a scheduled run and a run-now): labels are claimed per partition.
    const label = `rotation-${key.id}-${clock.now().toISOString().replace(/[^0-9]/g, '').slice(0, 14)}-${ids.newId().slice(0, 8)}`;
    const source = await hsmKeys.create({ partition_id: store.data.partitionId, label, attributes: [...SOURCE_KEY_ATTRIBUTES] });
    try {
      const replacedVersionExpiresAt = replacedVersionExpiry(params, clock.now());
      const rotated = await hyokKeys.rotate(SCHEDULER_ACCESS, key.id, { source_key_id: source.id }, { replacedVersionExpiresAt });
      const expiry = replacedVersionExpiresAt === undefined ? '' : `; the version it replaced stops decrypting at ${replacedVersionExpiresAt}`;
      return `version ${rotated.version} over HSM key ${source.id}${expiry}`;
    } catch (error) {
      await hsmKeys.delete(source.id).catch(() => undefined);
      throw error;
    }
  }

  private async finish(run: RunRecord, results: readonly JobRunResult[], status: JobRunData['status'], message?: string): Promise<JobRunResource> {
    const now = this.deps.clock.now().toISOString();
    const data: JobRunData = { ...run.data, status, results, finishedAt: now, updatedAt: now, ...(message === undefined ? {} : { message }) };
    await this.deps.state.transact([{ op: 'update', kind: 'jobRun', id: run.id, data, expectedVersion: run.version }]);
    return jobRunResource(run.id, data);
  }
}

/** One target's result: done with what it made, or failed with what went wrong (never a secret: messages of the key manager's own errors only). */
async function attempt(type: JobRunResult['target_type'], id: string, work: () => Promise<string>): Promise<JobRunResult> {
  try {
    return { target_type: type, target_id: id, status: 'done', message: await work() };
  } catch (error) {
    return failedResult(type, id, error);
  }
}

function failedResult(type: JobRunResult['target_type'], id: string, error: unknown): JobRunResult {
  const message = isError(error, KeyManagerError) ? error.message : `internal error (${(error as Error).name ?? 'Error'})`;
  return { target_type: type, target_id: id, status: 'failed', message };
}
