/**
 * Key store synchronization ("Refresh All", operator's guide), one step of a unit (account
 * container × region) at a time (README "Synchronization jobs"):
 *  - phase `start`/`stores`: one DescribeCustomKeyStores page. An external key store whose proxy
 *    URI path is one of our stores' (it names the store's id), with the same endpoint, in this
 *    container and region, links that store when it is unlinked (its `cks-` id and the credential
 *    AWS KMS signs with); any other store is recorded as a remote store (`type: REMOTE`);
 *  - phase `storesGone`: one page of remote store records; those of this container and region that
 *    this job did not find are marked gone (as AWS key synchronization marks keys);
 *  - phase `keys`: one ListKeys page; a key in an external key store whose external key id is one
 *    of our unlinked HYOK keys (in the store AWS KMS names) links that key (its record joins the
 *    KMS key, as AWS key synchronization does).
 * Records are written with conditions (versions, a create that fails when the id exists, ids
 * derived from the AWS store), so concurrent runs make no duplicates.
 */
import { XKS_API_SUFFIX, XKS_PROXY_PATH_PREFIX } from '../../contract/xks-proxy-uri';
import { ConflictError, isError } from '../errors';
import type { AwsKeyData } from '../keys/aws-key';
import { isHyokKey } from '../keys/aws-key';
import type { CloudHsmKeyStoreData } from '../key-stores/cloudhsm-key-store';
import type { KeyStoreData } from '../key-stores/key-store';
import type { RemoteKeyStoreData } from '../key-stores/remote-key-store';
import type { AwsKms, CustomKeyStoreStatus, KmsLocation } from '../ports/aws-kms';
import { CHANGED_CONCURRENTLY, retryOnChange } from '../retry-on-change';
import type { SyncOutcome } from '../sync-outcome';
import { type AwsKeySyncDeps, KEYS_PER_PAGE, RECORDS_PER_PAGE, stableJson, sumOutcomes, syncKey } from './aws-key-sync';
import { type JobCount, syncCounts } from './job';
import type { StepContext, StepResult } from './job-runner';
import { KnownStores, remoteKeyStoreId } from './known-stores';
import { mapBounded } from './map-bounded';

/** Stores per DescribeCustomKeyStores page (AWS allows 1-1000). */
export const STORES_PER_PAGE = 100;
const KEY_CONCURRENCY = 8;

export interface KeyStoreSyncDeps extends AwsKeySyncDeps {
  readonly awsKms: Pick<AwsKms, 'listKeys' | 'listCustomKeyStoresPage'>;
}

type Outcome = Partial<Record<JobCount, number>>;

export function keyStoreSyncStep(deps: KeyStoreSyncDeps): (context: StepContext) => Promise<StepResult> {
  return async (context) => {
    if (context.unit.phase === 'keys') return hyokKeysPage(deps, context);
    return context.unit.phase === 'storesGone' ? sweepGoneStores(deps, context) : storesPage(deps, context);
  };
}

async function storesPage(deps: KeyStoreSyncDeps, { job, unit, at }: StepContext): Promise<StepResult> {
  const page = await deps.awsKms.listCustomKeyStoresPage(at, { limit: STORES_PER_PAGE, ...(unit.phase === 'stores' && unit.cursor !== undefined ? { marker: unit.cursor } : {}) });
  // Our CloudHSM key stores are ours by their cks- id (AWS KMS allows only a few custom key stores a region).
  const ourCloudHsm = new Set((await deps.state.list<CloudHsmKeyStoreData>('cloudHsmKeyStore')).map((r) => r.data.customKeyStoreId));
  const outcomes: Outcome[] = [];
  for (const store of page.stores) outcomes.push(ourCloudHsm.has(store.customKeyStoreId) ? { found: 1 } : await syncStore(deps, at, job.id, store));
  return { counts: sumOutcomes(outcomes), next: page.nextMarker === undefined ? { phase: 'storesGone' } : { phase: 'stores', cursor: page.nextMarker } };
}

/** One page of remote store records: those of this container and region that this job did not see, and that nothing read since it started, are marked gone. */
async function sweepGoneStores(deps: KeyStoreSyncDeps, { job, unit, at }: StepContext): Promise<StepResult> {
  const { state, clock } = deps;
  const page = await state.listPage<RemoteKeyStoreData>('remoteKeyStore', { limit: RECORDS_PER_PAGE, ...(unit.cursor === undefined ? {} : { after: unit.cursor }) });
  const here = page.records.filter((r) => r.data.accountId === at.containerId && r.data.region === at.region);
  // Marked gone by this job already (its page was delivered again): counted as they were then.
  let gone = here.filter((r) => r.data.syncedBy === job.id && r.data.syncOutcome === 'gone').length;
  for (const record of here.filter((r) => r.data.gone !== true && r.data.syncedBy !== job.id && r.data.syncedAt <= job.data.createdAt)) {
    const data: RemoteKeyStoreData = { ...record.data, gone: true, syncedBy: job.id, syncOutcome: 'gone', updatedAt: clock.now().toISOString() };
    try {
      await state.transact([{ op: 'update', kind: 'remoteKeyStore', id: record.id, data, expectedVersion: record.version, conflictMessage: CHANGED_CONCURRENTLY }]);
      gone += 1;
    } catch (error) {
      // Changed since the page was read (renamed, or seen by another run): not ours to mark.
      if (!isError(error, ConflictError)) throw error;
    }
  }
  return { counts: { gone }, next: page.next === undefined ? { phase: 'keys' } : { phase: 'storesGone', cursor: page.next } };
}

/** Ours and unlinked: linked. Ours and linked: seen. Not ours: a remote store record. */
async function syncStore(deps: KeyStoreSyncDeps, at: KmsLocation, jobId: string, aws: CustomKeyStoreStatus): Promise<Outcome> {
  const { state, clock } = deps;
  const ourId = ourStoreIdIn(aws);
  const ours = ourId === undefined ? undefined : await state.get<KeyStoreData>('keyStore', ourId);
  if (ours !== undefined && ours.data.accountId === at.containerId && ours.data.region === at.region && ours.data.xksProxyUriEndpoint === aws.xksProxy?.uriEndpoint) {
    return retryOnChange(async () => {
      const store = (await state.get<KeyStoreData>('keyStore', ours.id)) ?? ours;
      // Linked by this job already (its page was delivered again): counted as it was then.
      if (store.data.linkedState) return syncCounts(store.data.linkedBy === jobId ? 'updated' : 'unchanged');
      const data: KeyStoreData = {
        ...store.data,
        linkedState: true,
        aws: { customKeyStoreId: aws.customKeyStoreId, accessKeyId: aws.xksProxy?.accessKeyId ?? '' },
        linkedBy: jobId,
        updatedAt: clock.now().toISOString(),
      };
      await state.transact([{ op: 'update', kind: 'keyStore', id: store.id, data, expectedVersion: store.version, conflictMessage: CHANGED_CONCURRENTLY }]);
      return syncCounts('updated');
    });
  }
  const id = remoteKeyStoreId(at, aws.customKeyStoreId);
  return retryOnChange(async () => {
    const existing = await state.get<RemoteKeyStoreData>('remoteKeyStore', id);
    const now = clock.now().toISOString();
    if (existing === undefined) {
      const data: RemoteKeyStoreData = { accountId: at.containerId, region: at.region, aws, syncedBy: jobId, syncOutcome: 'created', syncedAt: now, createdAt: now, updatedAt: now };
      try {
        await state.transact([{ op: 'create', kind: 'remoteKeyStore', id, data }]);
      } catch (error) {
        if (isError(error, ConflictError)) throw new ConflictError(CHANGED_CONCURRENTLY, { cause: error });
        throw error;
      }
      return syncCounts('created');
    }
    // This job wrote it already (its page was delivered again): counted as it was then.
    if (existing.data.syncedBy === jobId) return syncCounts(existing.data.syncOutcome ?? 'unchanged');
    const changed = existing.data.gone === true || stableJson(existing.data.aws) !== stableJson(aws);
    const syncOutcome: SyncOutcome = changed ? 'updated' : 'unchanged';
    const { gone: _gone, ...seen } = existing.data;
    const data: RemoteKeyStoreData = { ...seen, aws, syncedBy: jobId, syncOutcome, syncedAt: now, updatedAt: changed ? now : existing.data.updatedAt };
    await state.transact([{ op: 'update', kind: 'remoteKeyStore', id, data, expectedVersion: existing.version, conflictMessage: CHANGED_CONCURRENTLY }]);
    return syncCounts(syncOutcome);
  });
}

/** Our store's id when the AWS store's proxy URI path is the one we give our stores. */
function ourStoreIdIn(aws: CustomKeyStoreStatus): string | undefined {
  const path = aws.type === 'EXTERNAL_KEY_STORE' ? aws.xksProxy?.uriPath : undefined;
  if (path === undefined || !path.startsWith(XKS_PROXY_PATH_PREFIX) || !path.endsWith(XKS_API_SUFFIX)) return undefined;
  const id = path.slice(XKS_PROXY_PATH_PREFIX.length, path.length - XKS_API_SUFFIX.length);
  return id.length > 0 && !id.includes('/') ? id : undefined;
}

async function hyokKeysPage(deps: KeyStoreSyncDeps, { job, unit, at }: StepContext): Promise<StepResult> {
  const page = await deps.awsKms.listKeys(at, { limit: KEYS_PER_PAGE, ...(unit.cursor === undefined ? {} : { marker: unit.cursor }) });
  const stores = new KnownStores(deps.state, at);
  const outcomes = await mapBounded(page.keyIds, KEY_CONCURRENCY, async (keyId): Promise<Outcome> => {
    if (!(await namesUnlinkedHyokKey(deps, at, job.id, keyId))) return {};
    const outcome = await syncKey(deps, at, job.id, keyId, stores);
    // Linking an HYOK key is the change this job makes; finding it is counted as a key, not a store.
    return outcome.updated ? { updated: 1 } : {};
  });
  return { counts: sumOutcomes(outcomes), ...(page.nextMarker === undefined ? {} : { next: { phase: 'keys', cursor: page.nextMarker } }) };
}

/**
 * Whether the KMS key is an external key of one of our linked stores that names an unlinked HYOK
 * key of this container (or one this job linked: its page was delivered again).
 */
async function namesUnlinkedHyokKey(deps: KeyStoreSyncDeps, at: KmsLocation, jobId: string, keyId: string): Promise<boolean> {
  const metadata = await deps.awsKmsKeys.describeKeyMetadata(at, keyId).catch(() => undefined);
  const xksKeyId = metadata?.XksKeyConfiguration?.Id;
  if (metadata?.Origin !== 'EXTERNAL_KEY_STORE' || xksKeyId === undefined) return false;
  const hyok = await deps.state.get<AwsKeyData>('awsKey', xksKeyId);
  if (hyok === undefined || !isHyokKey(hyok.data) || (hyok.data.linkedState && hyok.data.syncedBy !== jobId) || hyok.data.accountId !== at.containerId || hyok.data.region !== at.region) return false;
  const store = await deps.state.get<KeyStoreData>('keyStore', hyok.data.keyStoreId);
  return store?.data.aws?.customKeyStoreId === metadata.CustomKeyStoreId;
}
