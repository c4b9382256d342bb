/**
 * Custom key stores: CreateCustomKeyStore, DescribeCustomKeyStores, UpdateCustomKeyStore,
 * ConnectCustomKeyStore, DisconnectCustomKeyStore, DeleteCustomKeyStore. What every store type
 * shares lives here (names unique in the account and region, `cks-` ids, paging, the connection
 * state machine, refusing to delete a store that is connected or still has keys); the type's
 * provider (custom-key-store-types.ts) does the rest.
 *
 * Connecting is asynchronous, as on AWS: ConnectCustomKeyStore answers at once with the store
 * CONNECTING; the provider's attempt then sets CONNECTED, or FAILED with a ConnectionErrorCode.
 * Disconnecting passes through DISCONNECTING the same way.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { AwsError } from '../aws-error';
import { CredentialStore } from '../credentials';
import { optionalEnum, optionalString, requiredString } from '../input';
import { KMS, type JsonObject, type OperationContext, type StandInModule, type StandInRuntime } from '../operation-registry';
import { customKeyStoresOf, type CustomKeyStoreRecord, type CustomKeyStoreType } from './custom-key-store-record';
import type { CustomKeyStoreTypeProvider } from './custom-key-store-types';
import { CUSTOM_KEY_STORES, keysOf } from './key-record';
import { pageFields, pageOf } from './paging';

const STORE_ID = { min: 1, max: 64 };
const STORE_NAME = { min: 1, max: 256 };
/** AWS's quota: custom key stores per account and region. */
export const MAX_CUSTOM_KEY_STORES = 10;

export const storeNotFound = (): AwsError =>
  new AwsError('CustomKeyStoreNotFoundException', 'The request was rejected because AWS KMS cannot find a custom key store with the specified key store name or ID.');

export const storeInvalidState = (message: string): AwsError => new AwsError('CustomKeyStoreInvalidStateException', message);

export function findStore(context: OperationContext, id: string): CustomKeyStoreRecord {
  const store = customKeyStoresOf(context.state).get(id);
  if (!store) throw storeNotFound();
  return store;
}

function providerOf(context: OperationContext, type: string): CustomKeyStoreTypeProvider {
  const provider = context.runtime.registry.findCustomKeyStoreType(type);
  if (!provider) throw new AwsError('UnsupportedOperationException', `CustomKeyStoreType ${type} is not supported by the local AWS stand-in.`);
  return provider;
}

function requireUniqueName(context: OperationContext, name: string, exceptId?: string): void {
  if (customKeyStoresOf(context.state).values().some((store) => store.customKeyStoreName === name && store.customKeyStoreId !== exceptId)) {
    throw new AwsError(
      'CustomKeyStoreNameInUseException',
      'The specified custom key store name is already assigned to another custom key store in the account. Try again with a custom key store name that is unique in the account.',
    );
  }
}

/** `cks-` and 17 hexadecimal digits, as AWS's ids look. */
const newStoreId = (): string => `cks-${randomBytes(9).toString('hex').slice(0, 17)}`;

async function createCustomKeyStore(input: JsonObject, context: OperationContext): Promise<JsonObject> {
  const name = requiredString(input, 'CustomKeyStoreName', STORE_NAME);
  const type = optionalEnum<CustomKeyStoreType>(input, 'CustomKeyStoreType', ['AWS_CLOUDHSM', 'EXTERNAL_KEY_STORE']) ?? 'AWS_CLOUDHSM';
  const provider = providerOf(context, type);
  requireUniqueName(context, name);
  if (customKeyStoresOf(context.state).size >= MAX_CUSTOM_KEY_STORES) {
    throw new AwsError('LimitExceededException', `An account can have at most ${MAX_CUSTOM_KEY_STORES} custom key stores in a Region.`);
  }
  const typeFields = await provider.create(input, context);
  // The provider may have awaited the backing store: check the name again before writing.
  requireUniqueName(context, name);
  const store: CustomKeyStoreRecord = {
    ...typeFields,
    customKeyStoreId: newStoreId(),
    customKeyStoreName: name,
    customKeyStoreType: type,
    creationDate: context.runtime.now().getTime() / 1000,
    connectionState: 'DISCONNECTED',
  };
  customKeyStoresOf(context.state).put(store.customKeyStoreId, store);
  return { CustomKeyStoreId: store.customKeyStoreId };
}

export function customKeyStoreEntry(context: OperationContext, store: CustomKeyStoreRecord): JsonObject {
  return {
    CustomKeyStoreId: store.customKeyStoreId,
    CustomKeyStoreName: store.customKeyStoreName,
    ...providerOf(context, store.customKeyStoreType).describe(store),
    ConnectionState: store.connectionState,
    ...(store.connectionState === 'FAILED' && store.connectionErrorCode !== undefined ? { ConnectionErrorCode: store.connectionErrorCode } : {}),
    CreationDate: store.creationDate,
    CustomKeyStoreType: store.customKeyStoreType,
  };
}

function describeCustomKeyStores(input: JsonObject, context: OperationContext): JsonObject {
  const id = optionalString(input, 'CustomKeyStoreId', STORE_ID);
  const name = optionalString(input, 'CustomKeyStoreName', STORE_NAME);
  let stores = customKeyStoresOf(context.state).values();
  if (id !== undefined) stores = stores.filter((store) => store.customKeyStoreId === id);
  if (name !== undefined) stores = stores.filter((store) => store.customKeyStoreName === name);
  if ((id !== undefined || name !== undefined) && stores.length === 0) throw storeNotFound();
  const page = pageOf(input, stores, (store) => `${store.creationDate.toFixed(6).padStart(20, '0')}/${store.customKeyStoreId}`, { max: 1000, default: 1000 });
  return pageFields('CustomKeyStores', page, page.items.map((store) => customKeyStoreEntry(context, store)));
}

async function updateCustomKeyStore(input: JsonObject, context: OperationContext): Promise<JsonObject> {
  const id = requiredString(input, 'CustomKeyStoreId', STORE_ID);
  const newName = optionalString(input, 'NewCustomKeyStoreName', STORE_NAME);
  const store = findStore(context, id);
  if (newName !== undefined) requireUniqueName(context, newName, id);
  const updated = await providerOf(context, store.customKeyStoreType).update(input, store, context);
  const current = findStore(context, id);
  if (current.connectionState !== store.connectionState) throw storeInvalidState(`The custom key store ${id} changed its connection state during the update; try again.`);
  if (newName !== undefined) requireUniqueName(context, newName, id);
  customKeyStoresOf(context.state).put(id, { ...updated, connectionState: current.connectionState, ...(newName !== undefined ? { customKeyStoreName: newName } : {}) });
  return {};
}

function connectCustomKeyStore(input: JsonObject, context: OperationContext): JsonObject {
  const id = requiredString(input, 'CustomKeyStoreId', STORE_ID);
  const store = findStore(context, id);
  if (store.connectionState === 'CONNECTED' || store.connectionState === 'CONNECTING') return {};
  if (store.connectionState !== 'DISCONNECTED') {
    throw storeInvalidState(`The custom key store ${id} is ${store.connectionState}. To connect a custom key store in the FAILED state, disconnect it first.`);
  }
  providerOf(context, store.customKeyStoreType).checkConnect?.(store, context);
  const { connectionErrorCode: _previous, ...rest } = store;
  const connecting: CustomKeyStoreRecord = { ...rest, connectionState: 'CONNECTING' };
  customKeyStoresOf(context.state).put(id, connecting);
  attemptConnection(context, connecting);
  return {};
}

/** The connection attempt, once CONNECTING is written: CONNECTED, or FAILED with the provider's code. */
function attemptConnection(context: OperationContext, connecting: CustomKeyStoreRecord): void {
  const id = connecting.customKeyStoreId;
  const provider = providerOf(context, connecting.customKeyStoreType);
  context.runtime.runInBackground(`ConnectCustomKeyStore ${id}`, async () => {
    let outcome;
    try {
      outcome = await provider.connect(connecting, context);
    } catch (error) {
      context.runtime.log(`connecting ${id} failed: ${error instanceof Error ? error.message : String(error)}`);
      outcome = { connectionState: 'FAILED' as const, connectionErrorCode: 'INTERNAL_ERROR' };
    }
    const latest = customKeyStoresOf(context.state).get(id);
    if (!latest || latest.connectionState !== 'CONNECTING') return; // disconnected or deleted meanwhile
    customKeyStoresOf(context.state).put(id, { ...latest, ...outcome });
  });
}

function disconnectCustomKeyStore(input: JsonObject, context: OperationContext): JsonObject {
  const id = requiredString(input, 'CustomKeyStoreId', STORE_ID);
  const store = findStore(context, id);
  if (store.connectionState === 'DISCONNECTED' || store.connectionState === 'DISCONNECTING') {
    throw storeInvalidState(`The custom key store ${id} is already ${store.connectionState}.`);
  }
  const { connectionErrorCode: _previous, ...rest } = store;
  customKeyStoresOf(context.state).put(id, { ...rest, connectionState: 'DISCONNECTING' });
  const provider = providerOf(context, store.customKeyStoreType);
  context.runtime.runInBackground(`DisconnectCustomKeyStore ${id}`, async () => {
    await provider.disconnected?.(store, context);
    const latest = customKeyStoresOf(context.state).get(id);
    if (latest && latest.connectionState === 'DISCONNECTING') customKeyStoresOf(context.state).put(id, { ...latest, connectionState: 'DISCONNECTED' });
  });
  return {};
}

function deleteCustomKeyStore(input: JsonObject, context: OperationContext): JsonObject {
  const id = requiredString(input, 'CustomKeyStoreId', STORE_ID);
  const store = findStore(context, id);
  if (store.connectionState !== 'DISCONNECTED') throw storeInvalidState(`The custom key store ${id} must be disconnected before it can be deleted; it is ${store.connectionState}.`);
  const keyCount = keysOf(context.state)
    .values()
    .filter((key) => key.customKeyStoreId === id).length;
  if (keyCount > 0) {
    throw new AwsError(
      'CustomKeyStoreHasCMKsException',
      `The custom key store ${id} contains ${keyCount} KMS key(s). Schedule their deletion and wait until they are deleted before deleting the custom key store.`,
    );
  }
  customKeyStoresOf(context.state).delete(id);
  return {};
}

/**
 * A context for work that no request started (periodic health checks after a restart): the
 * account's root principal in the store's region.
 */
export function backgroundContext(runtime: StandInRuntime, scopeKey: string, operation: string): OperationContext {
  const [accountId, region] = scopeKey.split('/');
  const key = { accessKeyId: 'background', secretAccessKey: '', accountId };
  return { operation, requestId: randomUUID(), caller: CredentialStore.callerOf(key), region, state: runtime.state.scope(accountId, region), runtime };
}

export const customKeyStoreOperations: StandInModule = {
  name: 'kms-custom-key-stores',
  register(registry) {
    registry
      .json(KMS, 'CreateCustomKeyStore', createCustomKeyStore)
      .json(KMS, 'DescribeCustomKeyStores', describeCustomKeyStores)
      .json(KMS, 'UpdateCustomKeyStore', updateCustomKeyStore)
      .json(KMS, 'ConnectCustomKeyStore', connectCustomKeyStore)
      .json(KMS, 'DisconnectCustomKeyStore', disconnectCustomKeyStore)
      .json(KMS, 'DeleteCustomKeyStore', deleteCustomKeyStore);
  },
  /** A stop while CONNECTING or DISCONNECTING left the transition unfinished: finish it. */
  start(runtime) {
    for (const scopeKey of runtime.state.scopesWith(CUSTOM_KEY_STORES)) {
      const context = backgroundContext(runtime, scopeKey, 'ConnectCustomKeyStore');
      for (const store of customKeyStoresOf(context.state).values()) {
        if (store.connectionState === 'CONNECTING') attemptConnection(context, store);
        if (store.connectionState === 'DISCONNECTING') customKeyStoresOf(context.state).put(store.customKeyStoreId, { ...store, connectionState: 'DISCONNECTED' });
      }
    }
  },
};
