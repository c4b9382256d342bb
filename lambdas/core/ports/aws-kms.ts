/**
 * The port through which the control plane drives AWS KMS in an account container's account:
 * the external custom key stores that linked key stores are (create, describe, update, connect,
 * disconnect, delete) and the KMS keys that live in them.
 *
 * On AWS and locally the adapter is adapters/aws/kms-sdk.ts (`@aws-sdk/client-kms`; locally pointed
 * at the local AWS stand-in). It reaches the account through the container's role, assumed with
 * STS and cached per container and region, or with the deployment's own credentials when the
 * container has no role. It translates every AWS failure into the project's error classes, saying
 * what AWS said: AccessDeniedException is a 403 naming the account and the role; throttling is
 * retried with backoff and then a 503; a KMS validation error is a 400 naming the API field it
 * concerns; custom key store errors are a 400 (bad settings, proxy unreachable or answering
 * wrongly) or a 409 (name or endpoint in use, wrong connection state, keys left in the store).
 */

/** Where to act: the AWS KMS of one account container's account in one region. */
export interface KmsLocation {
  /** The account container's id: assumed-role credentials are cached per container and region. */
  readonly containerId: string;
  /** The container's 12-digit AWS account id (named in error messages). */
  readonly accountId: string;
  readonly region: string;
  /** The role to act through; absent = the deployment's own credentials. */
  readonly assumeRoleArn?: string;
  readonly assumeRoleExternalId?: string;
}

export type XksProxyConnectivity = 'PUBLIC_ENDPOINT' | 'VPC_ENDPOINT_SERVICE';

/** What AWS KMS signs its XKS requests with (its `XksProxyAuthenticationCredential`). */
export interface XksProxyCredential {
  readonly accessKeyId: string;
  readonly rawSecretAccessKey: string;
}

/** An external key store's settings in AWS KMS, all of them (CreateCustomKeyStore). */
export interface ExternalKeyStoreSettings {
  readonly name: string;
  /** `https://<DNS name>`. */
  readonly uriEndpoint: string;
  readonly uriPath: string;
  readonly connectivity: XksProxyConnectivity;
  /** Required with `VPC_ENDPOINT_SERVICE`, absent with `PUBLIC_ENDPOINT`. */
  readonly vpcEndpointServiceName?: string;
  readonly credential: XksProxyCredential;
}

/** The settings UpdateCustomKeyStore changes: only those given. */
export type ExternalKeyStoreChanges = Partial<ExternalKeyStoreSettings>;

/** A CloudHSM key store's settings in AWS KMS (CreateCustomKeyStore with `AWS_CLOUDHSM`). */
export interface CloudHsmKeyStoreSettings {
  readonly name: string;
  readonly cloudHsmClusterId: string;
  /** PEM of the certificate that issued the cluster's certificate. */
  readonly trustAnchorCertificate: string;
  /** The `kmsuser` crypto user's password (AWS KMS keeps it; it does not change it in the cluster). */
  readonly keyStorePassword: string;
}

/** What UpdateCustomKeyStore may change in a CloudHSM key store: only those given. */
export type CloudHsmKeyStoreChanges = Partial<Omit<CloudHsmKeyStoreSettings, 'trustAnchorCertificate'>>;

/** AWS KMS's `ConnectionState` of a custom key store. */
export type CustomKeyStoreConnectionState = 'CONNECTED' | 'CONNECTING' | 'DISCONNECTED' | 'DISCONNECTING' | 'FAILED';
export const CONNECTION_STATES: readonly CustomKeyStoreConnectionState[] = ['CONNECTED', 'CONNECTING', 'DISCONNECTED', 'DISCONNECTING', 'FAILED'];

/** A custom key store as AWS KMS describes it (DescribeCustomKeyStores); never a secret. */
export interface CustomKeyStoreStatus {
  /** `cks-` followed by 17 hex digits. */
  readonly customKeyStoreId: string;
  readonly name: string;
  readonly type: 'EXTERNAL_KEY_STORE' | 'AWS_CLOUDHSM';
  readonly connectionState: CustomKeyStoreConnectionState;
  /** Why the last connection attempt failed (`INVALID_CREDENTIALS`, `XKS_PROXY_NOT_REACHABLE`, ...); only with FAILED. */
  readonly connectionErrorCode?: string;
  /** CloudHSM key stores: the cluster AWS KMS uses. */
  readonly cloudHsmClusterId?: string;
  /** External key stores: the proxy settings AWS KMS uses, including the access key id of the credential it signs with. */
  readonly xksProxy?: {
    readonly accessKeyId: string;
    readonly uriEndpoint: string;
    readonly uriPath: string;
    readonly connectivity: XksProxyConnectivity;
    readonly vpcEndpointServiceName?: string;
  };
}

/** A KMS key as AWS KMS describes it (DescribeKey's KeyMetadata), the parts the key manager reads. */
export interface KmsKeyDescription {
  readonly keyId: string;
  readonly arn: string;
  /** `Enabled`, `Disabled`, `PendingDeletion`, `Unavailable`, ... (KMS's KeyState). */
  readonly keyState: string;
  /** `AWS_KMS`, `EXTERNAL`, `AWS_CLOUDHSM`, `EXTERNAL_KEY_STORE`. */
  readonly origin: string;
  readonly customKeyStoreId?: string;
  /** Keys in an external key store: the external key id the proxy knows. */
  readonly xksKeyId?: string;
  readonly description?: string;
}

/** One page of ListKeys. */
export interface KmsKeyPage {
  readonly keyIds: readonly string[];
  /** The keys' ARNs, in the same order (ListKeys answers both). */
  readonly keyArns?: readonly string[];
  /** Pass back to get the next page; absent on the last one. */
  readonly nextMarker?: string;
}

export interface AwsKms {
  /**
   * CreateCustomKeyStore (`EXTERNAL_KEY_STORE`). AWS KMS calls the proxy's GetHealthStatus before
   * it answers; when that fails nothing is created and the error says what AWS KMS reported.
   * @returns the new store's id (`cks-...`)
   */
  createExternalKeyStore(at: KmsLocation, settings: ExternalKeyStoreSettings): Promise<string>;

  /**
   * CreateCustomKeyStore (`AWS_CLOUDHSM`). AWS KMS checks the cluster (exists, ACTIVE, HSMs in two
   * availability zones, not used by another store) and the trust anchor before it answers; the
   * password is not checked until the store is connected.
   * @returns the new store's id (`cks-...`)
   */
  createCloudHsmKeyStore(at: KmsLocation, settings: CloudHsmKeyStoreSettings): Promise<string>;

  /** UpdateCustomKeyStore of a CloudHSM key store; AWS KMS changes the cluster and password only while it is DISCONNECTED (409). */
  updateCloudHsmKeyStore(at: KmsLocation, customKeyStoreId: string, changes: CloudHsmKeyStoreChanges): Promise<void>;

  /** DescribeCustomKeyStores, every page: all custom key stores of the account in the region. */
  listCustomKeyStores(at: KmsLocation): Promise<CustomKeyStoreStatus[]>;
  /** DescribeCustomKeyStores without an id: one page (at most `limit`, 1-1000) of every custom key store of the account and region. */
  listCustomKeyStoresPage(at: KmsLocation, options?: { readonly marker?: string; readonly limit?: number }): Promise<{ readonly stores: readonly CustomKeyStoreStatus[]; readonly nextMarker?: string }>;

  /** DescribeCustomKeyStores by id; undefined when AWS KMS has no such store (deleted outside the key manager). */
  describeCustomKeyStore(at: KmsLocation, customKeyStoreId: string): Promise<CustomKeyStoreStatus | undefined>;

  /**
   * UpdateCustomKeyStore with the given settings. AWS KMS refuses endpoint, path and connectivity
   * changes unless the store is DISCONNECTED (409), and calls the proxy to check new settings.
   * A proxy learns of a new credential only when its state cache next refreshes, so with
   * `credentialPropagationMs` a refusal of the new credential is retried for that long.
   */
  updateExternalKeyStore(
    at: KmsLocation,
    customKeyStoreId: string,
    changes: ExternalKeyStoreChanges,
    options?: { readonly credentialPropagationMs?: number },
  ): Promise<void>;

  /** ConnectCustomKeyStore: starts connecting (CONNECTING, then CONNECTED or FAILED); 409 unless DISCONNECTED (or already connected). */
  connectCustomKeyStore(at: KmsLocation, customKeyStoreId: string): Promise<void>;

  /** DisconnectCustomKeyStore: starts disconnecting (DISCONNECTING, then DISCONNECTED). */
  disconnectCustomKeyStore(at: KmsLocation, customKeyStoreId: string): Promise<void>;

  /**
   * DeleteCustomKeyStore. 409 while connected, and while AWS KMS still has KMS keys in the store
   * (the message says how many, also those pending deletion). A store AWS KMS no longer has counts
   * as deleted.
   */
  deleteCustomKeyStore(at: KmsLocation, customKeyStoreId: string): Promise<void>;

  /** ListKeys, one page of at most `limit` (1-1000) key ids. */
  listKeys(at: KmsLocation, options?: { readonly marker?: string; readonly limit?: number }): Promise<KmsKeyPage>;

  /** DescribeKey by key id or ARN. NotFoundError when AWS KMS has no such key. */
  describeKey(at: KmsLocation, keyId: string): Promise<KmsKeyDescription>;
}
