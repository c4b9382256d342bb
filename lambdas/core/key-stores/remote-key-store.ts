/**
 * Remote key stores: custom key stores that key store synchronization ("Refresh All") found in an
 * account container's AWS KMS and that are not ours (another key manager's, another CCKM's). They
 * are shown among the key stores with `type: REMOTE`; only their name and XKS location may change
 * (remote-key-store-service.ts): their proxy is not this key manager, so they have no partition,
 * health-check key or credentials here (operator's guide: "You cannot edit health check key or max
 * credentials for a remote type external custom key store"). A store AWS KMS no longer has is
 * marked `gone` by the next key store synchronization.
 */
import type { CustomKeyStoreStatus } from '../ports/aws-kms';
import type { EntityRecord } from '../ports/state-store';
import type { Timestamps } from '../resource';
import type { SyncOutcome } from '../sync-outcome';
import { connectionFields, type CustomKeyStoreHeader, customKeyStoreHeader } from './custom-key-store-resource';

export interface RemoteKeyStoreData extends Timestamps {
  /** The account container (`kms_id`) and region it was found in. */
  readonly accountId: string;
  readonly region: string;
  /** DescribeCustomKeyStores as last read. */
  readonly aws: CustomKeyStoreStatus;
  /** The synchronization job that last read it, and what it did (core/sync-outcome.ts). */
  readonly syncedBy: string;
  readonly syncOutcome?: SyncOutcome;
  readonly syncedAt: string;
  /** Set once a key store synchronization no longer found it in AWS KMS. */
  readonly gone?: boolean;
}

export type RemoteKeyStoreRecord = EntityRecord<RemoteKeyStoreData>;

export interface RemoteKeyStoreResource extends CustomKeyStoreHeader {
  readonly type: 'REMOTE';
  readonly locally_hosted: false;
  readonly cloud_name: 'aws';
  readonly labels: Readonly<Record<string, string>>;
  readonly gone: boolean;
  readonly synced_at: string;
  readonly aws_param: {
    readonly custom_key_store_name: string;
    readonly custom_key_store_type: CustomKeyStoreStatus['type'];
    readonly custom_key_store_id: string;
    readonly connection_state: CustomKeyStoreStatus['connectionState'];
    readonly connection_error_code?: string;
    readonly xks_proxy_uri_endpoint?: string;
    readonly xks_proxy_uri_path?: string;
    readonly xks_proxy_connectivity?: string;
    readonly xks_proxy_vpc_endpoint_service_name?: string;
  };
}

export function remoteKeyStoreResource(record: RemoteKeyStoreRecord, accountName: string): RemoteKeyStoreResource {
  const { aws } = record.data;
  const proxy = aws.xksProxy;
  return {
    ...customKeyStoreHeader(record.id, record.data, { name: aws.name, accountId: record.data.accountId, accountName, region: record.data.region }),
    type: 'REMOTE',
    locally_hosted: false,
    cloud_name: 'aws',
    labels: {},
    gone: record.data.gone === true,
    synced_at: record.data.syncedAt,
    aws_param: {
      custom_key_store_name: aws.name,
      custom_key_store_type: aws.type,
      custom_key_store_id: aws.customKeyStoreId,
      ...connectionFields({ state: aws.connectionState, errorCode: aws.connectionErrorCode }),
      ...(proxy === undefined
        ? {}
        : {
            xks_proxy_uri_endpoint: proxy.uriEndpoint,
            xks_proxy_uri_path: proxy.uriPath,
            xks_proxy_connectivity: proxy.connectivity,
            ...(proxy.vpcEndpointServiceName === undefined ? {} : { xks_proxy_vpc_endpoint_service_name: proxy.vpcEndpointServiceName }),
          }),
    },
  };
}
