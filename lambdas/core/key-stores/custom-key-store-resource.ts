/**
 * What every custom key store shows, whatever its kind (external, CloudHSM, or a remote one key
 * store synchronization found): the envelope, its name, its account container and region first,
 * and in `aws_param` AWS KMS's connection state. The kinds' mappers (key-store.ts,
 * cloudhsm-key-store.ts, remote-key-store.ts) add what is theirs.
 */
import type { CustomKeyStoreConnectionState } from '../ports/aws-kms';
import { envelope, type ResourceEnvelope, type Timestamps } from '../resource';

export interface CustomKeyStoreHeader extends ResourceEnvelope {
  readonly name: string;
  /** Name of the account container. */
  readonly kms: string;
  /** Id of the account container. */
  readonly kms_id: string;
  readonly region: string;
}

/** The header of a store named `name` in account container `account` (its id and name), in `region`. */
export function customKeyStoreHeader(
  id: string,
  timestamps: Timestamps,
  store: { readonly name: string; readonly accountId: string; readonly accountName: string; readonly region: string },
): CustomKeyStoreHeader {
  return { ...envelope('aws_cks', id, timestamps), name: store.name, kms: store.accountName, kms_id: store.accountId, region: store.region };
}

/** AWS KMS's connection state of a store, as last read: the state, and the reason with FAILED. */
export interface ConnectionView {
  readonly state: CustomKeyStoreConnectionState;
  /** Why connecting failed (AWS KMS's `ConnectionErrorCode`); only with FAILED. */
  readonly errorCode?: string;
}

/** `connection_state` (DISCONNECTED when unknown: an unlinked store) and `connection_error_code` when there is one. */
export function connectionFields(connection: ConnectionView | undefined): { connection_state: CustomKeyStoreConnectionState; connection_error_code?: string } {
  return {
    connection_state: connection?.state ?? 'DISCONNECTED',
    ...(connection?.errorCode === undefined ? {} : { connection_error_code: connection.errorCode }),
  };
}
