/**
 * AWS key synchronization, one step of a unit (account container × region) at a time (README
 * "Synchronization jobs"):
 *  - phase `start`/`keys`: one ListKeys page (KEYS_PER_PAGE), then for each key DescribeKey,
 *    ListAliases, ListResourceTags, GetKeyPolicy and GetKeyRotationStatus (the refresh operation's
 *    reads, kms-key-reads.ts) into its AWS key record;
 *  - phase `gone`: one page of AWS key records (RECORDS_PER_PAGE); those of this container and
 *    region that this job did not see, and that nothing read since the job started, are marked gone.
 *
 * Never a duplicate: a key's record id is derived from its ARN (syncedKeyId), and records are
 * created with a condition (a concurrent run's create makes ours an update); a key in one of our
 * external key stores joins its HYOK key's record (the external key id is that record's id).
 * A record is rewritten only with its version unchanged since it was read.
 */
import { ConflictError, isError } from '../errors';
import { type AwsKeyData, awsKeyRecordId, isHyokKey, type KmsKeySnapshot, type OtherAwsKeyData } from '../keys/aws-key';
import { readKmsKey } from '../keys/kms-key-reads';
import type { AwsKms, KmsLocation } from '../ports/aws-kms';
import type { AwsKmsKeys, KmsKeyMetadata } from '../ports/aws-kms-keys';
import type { Clock } from '../ports/clock';
import { CLOUDHSM_KEY_STORE_COUNTERS } from '../key-stores/cloudhsm-key-store';
import type { EntityRecord, StateOp, StateStore } from '../ports/state-store';
import { CHANGED_CONCURRENTLY, retryOnChange } from '../retry-on-change';
import type { SyncOutcome } from '../sync-outcome';
import { type JobCount, syncCounts } from './job';
import { FIRST_PHASE } from './job-service';
import { isTransient, type StepContext, type StepResult } from './job-runner';
import { type KnownStore, KnownStores } from './known-stores';
import { mapBounded } from './map-bounded';

/** Keys per ListKeys page: each costs five reads, so a page stays far below the worker's time limit. */
export const KEYS_PER_PAGE = 100;
/** Records per page of the gone sweep. */
export const RECORDS_PER_PAGE = 500;
/** Keys of one page read at a time (AWS KMS's per-operation quotas are per account and region). */
const KEY_CONCURRENCY = 8;

export interface AwsKeySyncDeps {
  readonly state: StateStore;
  readonly clock: Clock;
  readonly awsKms: Pick<AwsKms, 'listKeys'>;
  readonly awsKmsKeys: AwsKmsKeys;
}

type Outcome = Partial<Record<JobCount, number>>;

/** One key of a page: its counts (`fresh`: read from AWS KMS in this run, not done before), or why it failed. */
type KeyResult = { readonly outcome: Outcome; readonly fresh: boolean } | { readonly error: unknown };

export function awsKeySyncStep(deps: AwsKeySyncDeps): (context: StepContext) => Promise<StepResult> {
  return async (context) => (context.unit.phase === 'gone' ? sweepGone(deps, context) : keysPage(deps, context));
}

async function keysPage(deps: AwsKeySyncDeps, { job, unit, at }: StepContext): Promise<StepResult> {
  const page = await deps.awsKms.listKeys(at, { limit: KEYS_PER_PAGE, ...(unit.phase === FIRST_PHASE || unit.cursor === undefined ? {} : { marker: unit.cursor }) });
  const stores = new KnownStores(deps.state, at);
  const keys = page.keyIds.map((keyId, i) => ({ keyId, arn: page.keyArns?.[i] }));
  // Every key is tried, whatever others do: a throttled key does not stop the rest of the page.
  const results = await mapBounded(keys, KEY_CONCURRENCY, async (key): Promise<KeyResult> => {
    // Done by this job already (the page is being run again, after a throttled key or a stop): counted as it was then, without reading AWS KMS again.
    const done = key.arn === undefined ? undefined : await deps.state.get<AwsKeyData>('awsKey', syncedKeyId(key.arn));
    if (done !== undefined && done.data.syncedBy === job.id) return { outcome: syncCounts(done.data.syncOutcome ?? 'unchanged'), fresh: false };
    try {
      return { outcome: await syncKey(deps, at, job.id, key.keyId, stores), fresh: true };
    } catch (error) {
      return { error };
    }
  });
  const failures = results.flatMap((r) => ('error' in r ? [r.error] : []));
  if (failures.length > 0) {
    // Only transient failures and some keys done in this run: the page goes again after a backoff without using up an attempt
    // (a page has at most KEYS_PER_PAGE keys, so this ends); its counts are added by the run that does all of it.
    if (failures.every(isTransient) && results.some((r) => 'fresh' in r && r.fresh)) return { counts: {}, again: true };
    throw failures[0];
  }
  return {
    counts: sumOutcomes(results.map((r) => ('outcome' in r ? r.outcome : {}))),
    next: page.nextMarker === undefined ? { phase: 'gone' } : { phase: 'keys', cursor: page.nextMarker },
  };
}

/**
 * One key into its record: created, updated when AWS KMS's side changed, else only stamped as seen.
 * A key in a custom key store the key manager knows (`stores`) is tied to that store's record; a
 * CloudHSM key store of ours counts it among its keys, as it counts the keys it made.
 */
export async function syncKey(deps: AwsKeySyncDeps, at: KmsLocation, jobId: string, keyId: string, stores: KnownStores): Promise<Outcome> {
  const { state, clock, awsKmsKeys } = deps;
  const read = await readKmsKey(awsKmsKeys, at, keyId, clock.now());
  if (read === 'gone') return {}; // deleted between ListKeys and DescribeKey
  // An imported key without material yet: an upload may be making it (it records the key itself, under the same id).
  if (read.metadata.Origin === 'EXTERNAL' && read.metadata.KeyState === 'PendingImport') return {};
  // Keys that have no rotation status (asymmetric, HMAC, imported, custom key store) answer an error; throttling is retried like the other reads.
  const rotationEnabled = await awsKmsKeys.getKeyRotationStatus(at, keyId).catch((error: unknown) => {
    if (isTransient(error)) throw error;
    return undefined;
  });
  const snapshot: KmsKeySnapshot = rotationEnabled === undefined ? read : { ...read, rotationEnabled };
  const store = snapshot.metadata.CustomKeyStoreId === undefined ? undefined : await stores.find(snapshot.metadata.CustomKeyStoreId);
  return retryOnChange(async () => {
    const existing = await recordFor(state, at, snapshot.metadata);
    const now = clock.now().toISOString();
    if (existing === undefined) {
      const id = syncedKeyId(snapshot.metadata.Arn);
      const data: OtherAwsKeyData = {
        ...kindOf(snapshot.metadata),
        accountId: at.containerId,
        region: at.region,
        linkedState: true,
        blocked: false,
        kms: snapshot,
        ...(store === undefined ? {} : { customKeyStoreId: store.id }),
        syncedBy: jobId,
        syncOutcome: 'created',
        createdAt: now,
        updatedAt: now,
      };
      try {
        await state.transact([{ op: 'create', kind: 'awsKey', id, data }, ...countedBy(store, data)]);
      } catch (error) {
        // A concurrent run created it first: read it again and update it instead.
        if (isError(error, ConflictError)) throw new ConflictError(CHANGED_CONCURRENTLY, { cause: error });
        throw error;
      }
      return syncCounts('created');
    }
    // This job wrote it already (its page was delivered again): counted as it was then.
    if (existing.data.syncedBy === jobId) return syncCounts(existing.data.syncOutcome ?? 'unchanged');
    // A record synchronized before its store was known (a remote store found since) is tied to it now.
    const tie = store !== undefined && !isHyokKey(existing.data) && existing.data.customKeyStoreId === undefined ? store : undefined;
    const changed = existing.data.gone === true || !existing.data.linkedState || tie !== undefined || !sameKmsSide(existing.data.kms, snapshot);
    const syncOutcome: SyncOutcome = changed ? 'updated' : 'unchanged';
    const data: AwsKeyData = {
      ...existing.data,
      ...(tie === undefined ? {} : { customKeyStoreId: tie.id }),
      kms: snapshot,
      gone: false,
      linkedState: true,
      syncedBy: jobId,
      syncOutcome,
      updatedAt: changed ? now : existing.data.updatedAt,
    };
    await state.transact([{ op: 'update', kind: 'awsKey', id: existing.id, data, expectedVersion: existing.version, conflictMessage: CHANGED_CONCURRENTLY }, ...countedBy(tie, data)]);
    return syncCounts(syncOutcome);
  });
}

/** A CloudHSM key store of ours counts the CloudHSM keys tied to it (it cannot be deleted while it has any; deleting the key's record takes it off). */
function countedBy(store: KnownStore | undefined, data: AwsKeyData): StateOp[] {
  if (store?.kind !== 'cloudHsmKeyStore' || isHyokKey(data) || data.kind !== 'cloudhsm') return [];
  return [{ op: 'count', kind: 'cloudHsmKeyStore', id: store.id, counter: CLOUDHSM_KEY_STORE_COUNTERS.awsKeys, delta: 1 }];
}

/** The record a key joins: the HYOK key an external key names (same container), else the one derived from its ARN. */
async function recordFor(state: StateStore, at: KmsLocation, metadata: KmsKeyMetadata): Promise<EntityRecord<AwsKeyData> | undefined> {
  const xksKeyId = metadata.XksKeyConfiguration?.Id;
  if (metadata.Origin === 'EXTERNAL_KEY_STORE' && xksKeyId !== undefined) {
    const hyok = await state.get<AwsKeyData>('awsKey', xksKeyId);
    if (hyok !== undefined && isHyokKey(hyok.data) && hyok.data.accountId === at.containerId && hyok.data.region === at.region) return hyok;
  }
  return state.get<AwsKeyData>('awsKey', syncedKeyId(metadata.Arn));
}

async function sweepGone(deps: AwsKeySyncDeps, { job, unit, at }: StepContext): Promise<StepResult> {
  const { state, clock } = deps;
  const page = await state.listPage<AwsKeyData>('awsKey', { limit: RECORDS_PER_PAGE, ...(unit.cursor === undefined ? {} : { after: unit.cursor }) });
  const here = page.records.filter((r) => r.data.accountId === at.containerId && r.data.region === at.region);
  // Marked gone by this job already (its page was delivered again): counted as they were then.
  let gone = here.filter((r) => r.data.syncedBy === job.id && r.data.syncOutcome === 'gone').length;
  const stale = here.filter((r) => r.data.linkedState && r.data.gone !== true && r.data.kms !== undefined && r.data.syncedBy !== job.id && r.data.kms.syncedAt <= job.data.createdAt);
  for (const record of stale) {
    const now = clock.now().toISOString();
    try {
      const data: AwsKeyData = { ...record.data, gone: true, syncedBy: job.id, syncOutcome: 'gone', updatedAt: now };
      await state.transact([{ op: 'update', kind: 'awsKey', id: record.id, data, expectedVersion: record.version, conflictMessage: CHANGED_CONCURRENTLY }]);
      gone += 1;
    } catch (error) {
      // Changed since the page was read (a refresh or another run saw it): not ours to mark.
      if (!isError(error, ConflictError)) throw error;
    }
  }
  return { counts: { gone }, ...(page.next === undefined ? {} : { next: { phase: 'gone', cursor: page.next } }) };
}

/** The record id of a synchronized key (the one BYOK upload gives it too). */
export const syncedKeyId = awsKeyRecordId;

/** The record kind and `key_material_origin` of a key found in AWS KMS, from its Origin. */
function kindOf(metadata: KmsKeyMetadata): Pick<OtherAwsKeyData, 'kind' | 'keyMaterialOrigin'> {
  switch (metadata.Origin) {
    case 'EXTERNAL':
      return { kind: 'byok', keyMaterialOrigin: 'external' };
    case 'AWS_CLOUDHSM':
      return { kind: 'cloudhsm', keyMaterialOrigin: 'CloudHSM' };
    case 'EXTERNAL_KEY_STORE':
      // A key of a store that is not ours (or of an external key we do not hold): AWS KMS's key, shown as native.
      return { kind: 'native', keyMaterialOrigin: 'external_key_store' };
    default:
      return { kind: 'native', keyMaterialOrigin: 'native' };
  }
}

/** Whether AWS KMS's side is the same as last read (the read time aside). */
function sameKmsSide(before: KmsKeySnapshot | undefined, now: KmsKeySnapshot): boolean {
  if (before === undefined) return false;
  const { syncedAt: _a, ...a } = before;
  const { syncedAt: _b, ...b } = now;
  return stableJson(a) === stableJson(b);
}

/** JSON with object keys sorted: records read back from DynamoDB may list a map's keys in another order. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : 1))) : v));
}

export function sumOutcomes(outcomes: readonly Outcome[]): Outcome {
  const total: Record<JobCount, number> = { found: 0, created: 0, updated: 0, gone: 0 };
  for (const o of outcomes) for (const [name, n] of Object.entries(o)) total[name as JobCount] += n ?? 0;
  return total;
}
