/**
 * The stand-in's record of one custom key store, kept in the `customKeyStores` collection of its
 * account and region. Field names follow CustomKeyStoresListEntry in @aws-sdk/client-kms's
 * models; each store type (custom-key-store-types.ts) adds the fields it needs under its own
 * optional member (`xks` for EXTERNAL_KEY_STORE, `cloudHsm` for AWS_CLOUDHSM).
 */
import type { ScopedState } from '../state';
import { CUSTOM_KEY_STORES } from './key-record';

export type CustomKeyStoreType = 'AWS_CLOUDHSM' | 'EXTERNAL_KEY_STORE';
export type ConnectionState = 'CONNECTED' | 'CONNECTING' | 'FAILED' | 'DISCONNECTED' | 'DISCONNECTING';

export interface XksProxyAuthenticationCredential {
  readonly accessKeyId: string;
  readonly rawSecretAccessKey: string;
}

export interface XksStoreFields {
  connectivity: 'PUBLIC_ENDPOINT' | 'VPC_ENDPOINT_SERVICE';
  uriEndpoint: string;
  uriPath: string;
  vpcEndpointServiceName?: string;
  vpcEndpointServiceOwner?: string;
  credential: XksProxyAuthenticationCredential;
}

export interface CloudHsmStoreFields {
  cloudHsmClusterId: string;
  trustAnchorCertificate: string;
  keyStorePassword: string;
}

export interface CustomKeyStoreRecord {
  readonly customKeyStoreId: string;
  customKeyStoreName: string;
  readonly customKeyStoreType: CustomKeyStoreType;
  readonly creationDate: number;
  connectionState: ConnectionState;
  /** Present only while FAILED. */
  connectionErrorCode?: string;
  xks?: XksStoreFields;
  cloudHsm?: CloudHsmStoreFields;
}

export const customKeyStoresOf = (state: ScopedState) => state.collection<CustomKeyStoreRecord>(CUSTOM_KEY_STORES);
