/**
 * What the XKS proxy reads from the control plane's state, flattened for the hot path.
 * Implemented over the StateStore + SecretStore by the control plane (adapters), and cached in
 * the proxy container with a bounded staleness (≤ 5 s).
 */
import type { HsmKeyRef, PartitionConnection, PartitionMember } from '../../contract/hsm';

export interface XksCredentialView {
  readonly id: string;
  readonly accessKeyId: string;
  /** SecretStore name of the secret access key. */
  readonly secretName: string;
}

export interface XksKeyStoreView {
  readonly id: string;
  readonly name: string;
  /** The AWS region whose name the SigV4 credential scope must carry. */
  readonly region: string;
  readonly blocked: boolean;
  readonly mtlsEnabled: boolean;
  /** The subject CN a client certificate must carry with mTLS, when the store sets one. */
  readonly mtlsClientSubjectCn?: string;
  readonly enableSuccessAuditEvent: boolean;
  readonly partition: PartitionConnection;
  /**
   * The HSMs the partition reaches, each checked on its own by the deep health check.
   * @default - one: the partition itself (id `partition.partitionId`)
   */
  readonly partitionMembers?: readonly PartitionMember[];
  /**
   * The AWS CloudHSM cluster behind a `cloudhsm` partition that names one: the deep health check
   * then lists the cluster's HSMs (DescribeClusters) instead of `partitionMembers`.
   */
  readonly cloudHsmClusterId?: string;
  readonly healthCheckKey: HsmKeyRef;
  /** What the health-check key made of the store's id when it was set (Base64); absent on older stores. */
  readonly healthCheckCiphertext?: string;
  /** Every currently valid credential. */
  readonly credentials: readonly XksCredentialView[];
}

export interface XksKeyVersionView {
  readonly version: number;
  readonly key: HsmKeyRef;
  /** From this time (RFC 3339) the version no longer decrypts (a key rotation job's `expire_in`/`expiration`). */
  readonly expiresAt?: string;
}

export interface XksKeyView {
  /** The id AWS KMS uses in the URI (`aws_param.XksKeyConfiguration.Id`). */
  readonly externalKeyId: string;
  readonly awsKeyId: string;
  readonly keyStoreId: string;
  readonly blocked: boolean;
  /** Version used for new encryptions. */
  readonly currentVersion: number;
  /** Every version, so that older ciphertexts still decrypt. */
  readonly versions: readonly XksKeyVersionView[];
}

export interface XksStateSource {
  getKeyStore(keyStoreId: string): Promise<XksKeyStoreView | undefined>;
  getKey(keyStoreId: string, externalKeyId: string): Promise<XksKeyView | undefined>;
  /** Every key store and HYOK key there is, by id: what the proxy warms up in its init phase. */
  listIds(): Promise<XksStateIds>;
}

export interface XksStateIds {
  readonly keyStoreIds: readonly string[];
  readonly keys: readonly { readonly keyStoreId: string; readonly externalKeyId: string }[];
}
