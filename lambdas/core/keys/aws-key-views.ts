/**
 * Showing AWS keys: the related records a response needs (the account container's name, for HYOK
 * keys the store's name and the virtual key's current source key), read once per key or once per
 * list; who may see a key (the view action of its kind); and the list filters of
 * `GET /v1/cckm/aws/keys`, each matched against the value the response shows.
 */
import type { AwsKeyKind } from '../../contract/acl';
import type { Access } from '../accounts/access';
import type { AccountData } from '../accounts/account';
import type { KeyStoreData } from '../key-stores/key-store';
import type { CloudHsmKeyStoreData } from '../key-stores/cloudhsm-key-store';
import { matchesFilter, parseBooleanFilter } from '../listing';
import type { EntityRecord, StateStore } from '../ports/state-store';
import { type AwsKeyData, awsKeyKind, isHyokKey } from './aws-key';
import { type AwsKeyContext, awsKeyResource, type AwsKeyResource } from './aws-key-resource';
import { currentVersion, type VirtualKeyData } from './virtual-key';

export type AwsKeyRecord = EntityRecord<AwsKeyData>;

/** The access for a key of `kind`: the route's action for that kind (routes.ts `byKeyKind`), else the route's action. */
export function accessForKind(access: Access, kind: AwsKeyKind): Access {
  const action = access.byKeyKind?.[kind] ?? access.action;
  return { principal: access.principal, ...(action === undefined ? {} : { action }) };
}

/** Related records already read, by id. */
export interface Related {
  readonly accounts: ReadonlyMap<string, EntityRecord<AccountData>>;
  readonly stores: ReadonlyMap<string, EntityRecord<KeyStoreData>>;
  readonly cloudHsmStores: ReadonlyMap<string, EntityRecord<CloudHsmKeyStoreData>>;
  readonly virtualKeys: ReadonlyMap<string, EntityRecord<VirtualKeyData>>;
}

/** What one key's response needs, read from the state. */
export async function relatedOf(state: StateStore, key: AwsKeyData): Promise<Related> {
  const cloudHsmStoreId = !isHyokKey(key) && key.kind === 'cloudhsm' ? key.customKeyStoreId : undefined;
  const [account, store, cloudHsmStore, virtualKey] = await Promise.all([
    state.get<AccountData>('account', key.accountId),
    isHyokKey(key) ? state.get<KeyStoreData>('keyStore', key.keyStoreId) : undefined,
    cloudHsmStoreId === undefined ? undefined : state.get<CloudHsmKeyStoreData>('cloudHsmKeyStore', cloudHsmStoreId),
    isHyokKey(key) ? state.get<VirtualKeyData>('virtualKey', key.virtualKeyId) : undefined,
  ]);
  return { accounts: byId([account]), stores: byId([store]), cloudHsmStores: byId([cloudHsmStore]), virtualKeys: byId([virtualKey]) };
}

/** What a list's responses need: every account, store (of both types) and virtual key, read once. */
export async function relatedOfAll(state: StateStore): Promise<Related> {
  const [accounts, stores, cloudHsmStores, virtualKeys] = await Promise.all([
    state.list<AccountData>('account'),
    state.list<KeyStoreData>('keyStore'),
    state.list<CloudHsmKeyStoreData>('cloudHsmKeyStore'),
    state.list<VirtualKeyData>('virtualKey'),
  ]);
  return { accounts: byId(accounts), stores: byId(stores), cloudHsmStores: byId(cloudHsmStores), virtualKeys: byId(virtualKeys) };
}

export function present(key: AwsKeyRecord, related: Related): AwsKeyResource {
  return awsKeyResource(key.id, key.data, contextOf(key.data, related));
}

function contextOf(key: AwsKeyData, related: Related): AwsKeyContext {
  const accountName = related.accounts.get(key.accountId)?.data.name ?? '';
  if (!isHyokKey(key)) {
    const cloudHsmStore = key.kind === 'cloudhsm' && key.customKeyStoreId !== undefined ? related.cloudHsmStores.get(key.customKeyStoreId) : undefined;
    return { accountName, ...(cloudHsmStore === undefined ? {} : { keyStoreName: cloudHsmStore.data.name }) };
  }
  const virtualKey = related.virtualKeys.get(key.virtualKeyId);
  const current = virtualKey === undefined ? undefined : currentVersion(virtualKey.data);
  return {
    accountName,
    hyok: {
      keyStoreName: related.stores.get(key.keyStoreId)?.data.name ?? '',
      localKeyId: current?.sourceKeyId ?? '',
      localKeyName: current?.sourceKeyLabel ?? '',
      currentVersion: current?.version ?? 0,
    },
  };
}

function byId<T>(records: ReadonlyArray<EntityRecord<T> | undefined>): Map<string, EntityRecord<T>> {
  return new Map(records.flatMap((r) => (r === undefined ? [] : [[r.id, r] as const])));
}

export const SORTABLE_FIELDS = ['createdAt', 'updatedAt', 'region', 'kms', 'kms_id', 'custom_key_store_id', 'id', 'version', 'synced_at', 'deletion_date', 'key_material_origin'];

type Query = Readonly<Record<string, string | undefined>>;
type FilterValue = string | boolean | undefined | readonly string[];

const param = (r: AwsKeyResource) => r.aws_param;

/**
 * Each list filter and the value of a key it matches. A key AWS KMS has not been read for
 * (an unlinked HYOK key) has no AWS-side values, so those filters never match it; HYOK keys are in
 * external key stores, whose keys AWS KMS gives the origin EXTERNAL_KEY_STORE.
 */
const STRING_FILTERS: Readonly<Record<string, (r: AwsKeyResource) => FilterValue>> = {
  id: (r) => r.id,
  keyid: (r) => param(r).KeyID,
  arn: (r) => param(r).Arn,
  alias: (r) => param(r).Alias?.flatMap((a) => [a, a.replace(/^alias\//, '')]),
  kms: (r) => [r.kms, r.kms_id],
  kms_id: (r) => r.kms_id,
  region: (r) => r.region,
  origin: (r) => param(r).Origin ?? (r.local_hosted_params === undefined ? undefined : 'EXTERNAL_KEY_STORE'),
  job_config_id: (r) => r.job_config_id,
  keystate: (r) => param(r).KeyState,
  keyusage: (r) => param(r).KeyUsage,
  key_material_origin: (r) => r.key_material_origin,
  key_source: (r) => r.key_source,
  custom_key_store_id: (r) => [r.custom_key_store_id, param(r).CustomKeyStoreId].filter((v): v is string => v !== undefined),
};

const BOOLEAN_FILTERS: Readonly<Record<string, (r: AwsKeyResource) => boolean | undefined>> = {
  enabled: (r) => param(r).Enabled,
  gone: (r) => r.gone,
  blocked: (r) => r.blocked,
  linked_state: (r) => r.linked_state,
};

/** The list's filters as one predicate; 400 naming a boolean filter that is not true or false. */
export function listFilter(query: Query): (r: AwsKeyResource) => boolean {
  const booleans = Object.entries(BOOLEAN_FILTERS).map(([name, value]) => [parseBooleanFilter(query, name), value] as const);
  const strings = Object.entries(STRING_FILTERS).map(([name, value]) => [query[name], value] as const);
  return (r) =>
    strings.every(([filter, value]) => {
      if (filter === undefined || filter === '') return true;
      const shown = value(r);
      return Array.isArray(shown) ? shown.includes(filter) : matchesFilter(filter, shown as string | undefined);
    }) && booleans.every(([filter, value]) => matchesFilter(filter, value(r)));
}

export function kindOf(key: AwsKeyRecord): AwsKeyKind {
  return awsKeyKind(key.data);
}
