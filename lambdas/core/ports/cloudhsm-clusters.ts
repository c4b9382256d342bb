/**
 * The port through which the control plane reads AWS CloudHSM clusters in an account container's
 * account (CloudHSMv2 DescribeClusters), for the CloudHSM key stores of AWS KMS.
 *
 * On AWS and locally the adapter is adapters/aws/cloudhsm-sdk.ts (`@aws-sdk/client-cloudhsm-v2`;
 * locally pointed at the local AWS stand-in). It reaches the account as the AWS KMS port does
 * (ports/aws-kms.ts): through the container's role, or with the deployment's own credentials for a
 * container without one, and translates AWS's refusals the same way (403 naming account and role,
 * throttling retried and then a 503).
 */
import type { KmsLocation } from './aws-kms';

/**
 * A cluster as DescribeClusters returns it, with AWS's field names (`ClusterId`, `State`, `Hsms`,
 * `Certificates`, `SubnetMapping`, ...), dates as ISO 8601 strings. `PreCoPassword` (the initial
 * crypto officer password of an uninitialized cluster) is never included.
 */
export type CloudHsmCluster = Readonly<Record<string, unknown>> & {
  readonly ClusterId: string;
  readonly State?: string;
};

export interface CloudHsmClusters {
  /** DescribeClusters, every page: the account's clusters in the region. */
  describeClusters(at: KmsLocation): Promise<CloudHsmCluster[]>;
}

/** One HSM of a cluster as DescribeClusters lists it (`Hsm`, AWS's field names). */
export interface CloudHsmHsm {
  readonly HsmId: string;
  /** `ACTIVE`, `DEGRADED`, `CREATE_IN_PROGRESS`, `DELETE_IN_PROGRESS`, `DELETED` (HsmState). */
  readonly State?: string;
  readonly StateMessage?: string;
  readonly AvailabilityZone?: string;
}

/**
 * The HSMs of one cluster in the deployment's own account and region, with the function's own
 * credentials: what the XKS proxy's deep health check reads for a `cloudhsm` partition that names
 * its cluster (xks-proxy/health/cluster-hsm-states.ts). Same adapter file and client as above.
 */
export interface CloudHsmClusterHsms {
  /**
   * DescribeClusters filtered to the cluster: its HSMs, or undefined when there is no such cluster.
   * Rejects on any failure (nothing retried: the next health refresh asks again), and when `signal` aborts.
   */
  hsmsOf(clusterId: string, options?: { readonly signal?: AbortSignal }): Promise<readonly CloudHsmHsm[] | undefined>;
}
