/**
 * Extension point for custom key store types. The custom key store operations
 * (custom-key-store-operations.ts) do what every type shares (names, ids, paging, connection
 * states, refusing to delete a store that has keys or is connected) and call the provider
 * registered for `CustomKeyStoreType` (`registry.customKeyStoreType(provider)`) for the rest:
 *
 *  - EXTERNAL_KEY_STORE: external-key-store-type.ts (XKS proxy settings, health checks);
 *  - AWS_CLOUDHSM plugs in the same way.
 */
import type { JsonObject, OperationContext } from '../operation-registry';
import type { CustomKeyStoreRecord } from './custom-key-store-record';

export type ConnectOutcome = { readonly connectionState: 'CONNECTED' } | { readonly connectionState: 'FAILED'; readonly connectionErrorCode: string };

export interface CustomKeyStoreTypeProvider {
  readonly type: string;
  /**
   * Checks CreateCustomKeyStore's type-specific fields (and refuses fields of other types),
   * checks uniqueness within the account and region, calls the backing store if AWS does, and
   * returns the type's part of the record (`xks`, `cloudHsm`).
   */
  create(input: JsonObject, context: OperationContext): Promise<Partial<CustomKeyStoreRecord>>;
  /**
   * Applies UpdateCustomKeyStore's type-specific fields to a copy of the store and returns it
   * (the caller writes it, and applies NewCustomKeyStoreName after checking it is unique).
   * The provider refuses (CustomKeyStoreInvalidStateException) every field, NewCustomKeyStoreName
   * included, that the store's `connectionState` does not allow to change.
   */
  update(input: JsonObject, store: CustomKeyStoreRecord, context: OperationContext): Promise<CustomKeyStoreRecord>;
  /**
   * What ConnectCustomKeyStore refuses at once, before CONNECTING (AWS_CLOUDHSM: a cluster that is
   * not ACTIVE is CloudHsmClusterNotActiveException). Throws an AwsError; absent when nothing is.
   */
  checkConnect?(store: CustomKeyStoreRecord, context: OperationContext): void;
  /** The connection attempt ConnectCustomKeyStore starts; runs after CONNECTING was answered. */
  connect(store: CustomKeyStoreRecord, context: OperationContext): Promise<ConnectOutcome>;
  /** Called once DISCONNECTED (stop periodic checks, log out of the cluster, ...). */
  disconnected?(store: CustomKeyStoreRecord, context: OperationContext): Promise<void>;
  /** The type's fields of CustomKeyStoresListEntry (e.g. XksProxyConfiguration). */
  describe(store: CustomKeyStoreRecord): JsonObject;
}
