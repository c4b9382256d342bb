/**
 * Which key stores and keys a job configuration runs on: a credential rotation configuration is
 * assigned to linked external key stores (`POST .../custom-key-stores/{id}/enable-credential-rotation-job`),
 * a key rotation configuration to HYOK keys (`POST .../aws/keys/{id}/enable-rotation-job`). The
 * target's `labels.job_config_id` names its configuration, and the configuration counts its
 * targets (`JOB_CONFIG_COUNTERS.assigned`) in the same transaction, so that it cannot be deleted
 * under them and holds at most `MAX_ASSIGNED_PER_CONFIG`.
 */
import type { Access } from '../accounts/access';
import { ValidationError } from '../errors';
import { loadKeyStore } from '../key-references';
import type { KeyStoreData, KeyStoreResource } from '../key-stores/key-store';
import type { KeyStoreService } from '../key-stores/key-store-service';
import type { AwsKeyData } from '../keys/aws-key';
import { isHyokKey } from '../keys/aws-key';
import type { AwsKeyResource } from '../keys/aws-key-resource';
import type { AwsKeyService } from '../keys/aws-key-service';
import type { EntityRecord, StateOp, StateStore } from '../ports/state-store';
import { CHANGED_CONCURRENTLY, retryOnChange } from '../retry-on-change';
import { JOB_CONFIG_COUNTERS, JOB_CONFIG_LABEL, releaseAssignment } from '../job-config-labels';
import { type JobConfigData, type JobOperation, MAX_ASSIGNED_PER_CONFIG } from './job-config';

export interface AssignedTarget {
  readonly type: 'key store' | 'AWS key';
  readonly id: string;
  readonly name: string;
}

export interface ScheduleAssignmentDeps {
  readonly state: StateStore;
  readonly clock: { now(): Date };
  readonly keyStores: Pick<KeyStoreService, 'present'>;
  readonly awsKeys: Pick<AwsKeyService, 'load' | 'show'>;
}

/** The key stores and AWS keys whose `labels.job_config_id` is `jobConfigId`. */
export async function assignedTargets(state: StateStore, jobConfigId: string): Promise<AssignedTarget[]> {
  const stores = (await state.list<KeyStoreData>('keyStore')).filter((s) => s.data.labels?.[JOB_CONFIG_LABEL] === jobConfigId);
  const keys = (await state.list<AwsKeyData>('awsKey')).filter((k) => k.data.labels?.[JOB_CONFIG_LABEL] === jobConfigId);
  return [
    ...stores.map((s) => ({ type: 'key store' as const, id: s.id, name: s.data.name })),
    ...keys.map((k) => ({ type: 'AWS key' as const, id: k.id, name: k.data.kms?.aliases[0] ?? k.id })),
  ];
}

export class ScheduleAssignmentService {
  constructor(private readonly deps: ScheduleAssignmentDeps) {}

  /** Assigns a credential rotation configuration to a linked external key store. */
  async enableCredentialRotation(access: Access, storeId: string, jobConfigId: string): Promise<KeyStoreResource> {
    const store = await retryOnChange(async () => {
      const { store } = await loadKeyStore(this.deps.state, access, storeId);
      if (!store.data.linkedState || store.data.aws === undefined) {
        throw new ValidationError(`key store ${storeId} is not linked: credential rotation pushes each new credential to AWS KMS, so it needs a linked store (POST .../link first)`, 'id');
      }
      await this.requireConfig(jobConfigId, 'cckm_xks_credential_rotation');
      return this.relabel('keyStore', store, jobConfigId);
    });
    return this.deps.keyStores.present(store);
  }

  async disableCredentialRotation(access: Access, storeId: string): Promise<KeyStoreResource> {
    const store = await retryOnChange(async () => this.relabel('keyStore', (await loadKeyStore(this.deps.state, access, storeId)).store, undefined));
    return this.deps.keyStores.present(store);
  }

  /** Assigns a key rotation configuration to an HYOK key. */
  async enableKeyRotation(access: Access, keyId: string, jobConfigId: string): Promise<AwsKeyResource> {
    const key = await retryOnChange(async () => {
      const { key } = await this.deps.awsKeys.load(access, keyId);
      if (!isHyokKey(key.data)) throw new ValidationError(`AWS key ${keyId} is not an HYOK key: scheduled rotation rotates HYOK keys only`, 'id');
      await this.requireConfig(jobConfigId, 'cckm_key_rotation');
      return this.relabel('awsKey', key, jobConfigId);
    });
    return this.deps.awsKeys.show(key);
  }

  async disableKeyRotation(access: Access, keyId: string): Promise<AwsKeyResource> {
    const key = await retryOnChange(async () => this.relabel('awsKey', (await this.deps.awsKeys.load(access, keyId)).key, undefined));
    return this.deps.awsKeys.show(key);
  }

  private async requireConfig(jobConfigId: string, operation: JobOperation): Promise<void> {
    const config = await this.deps.state.get<JobConfigData>('jobConfig', jobConfigId);
    if (config === undefined) throw new ValidationError(`no job configuration has the id ${JSON.stringify(jobConfigId)}`, 'job_config_id');
    if (config.data.operation !== operation) {
      throw new ValidationError(`job configuration ${jobConfigId} runs ${config.data.operation}, not ${operation}`, 'job_config_id');
    }
  }

  /** One transaction: the target's label set (or removed) and the configurations' counts moved. */
  private async relabel<T extends KeyStoreData | AwsKeyData>(kind: 'keyStore' | 'awsKey', record: EntityRecord<T>, jobConfigId: string | undefined): Promise<EntityRecord<T>> {
    const current = record.data.labels?.[JOB_CONFIG_LABEL];
    if (current === jobConfigId) return record;
    const { [JOB_CONFIG_LABEL]: _dropped, ...otherLabels } = record.data.labels ?? {};
    const labels = jobConfigId === undefined ? otherLabels : { ...otherLabels, [JOB_CONFIG_LABEL]: jobConfigId };
    const data = { ...record.data, labels, updatedAt: this.deps.clock.now().toISOString() };
    const ops: StateOp[] = [
      { op: 'update', kind, id: record.id, data, expectedVersion: record.version, conflictMessage: CHANGED_CONCURRENTLY },
      ...releaseAssignment(record.data.labels),
    ];
    if (jobConfigId !== undefined) {
      ops.push({
        op: 'count', kind: 'jobConfig', id: jobConfigId, counter: JOB_CONFIG_COUNTERS.assigned, delta: 1, max: MAX_ASSIGNED_PER_CONFIG,
        conflictMessage: `job configuration ${jobConfigId} was deleted, or already has ${MAX_ASSIGNED_PER_CONFIG} key stores or keys (the most one run handles)`,
      });
    }
    await this.deps.state.transact(ops);
    return { ...record, data, version: record.version + 1 };
  }
}
