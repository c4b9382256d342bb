/**
 * `CloudHsmClusters` on `@aws-sdk/client-cloudhsm-v2`. One client per account container and
 * region, signing with the container's assumed role (kms-credentials.ts, the same STS sessions as
 * the AWS KMS adapter would take) or, for a container without one, with the deployment's own
 * credentials. `CloudHsmClusterHsms` (the XKS proxy's deep health check: one cluster's HSMs, in
 * the deployment's own account) is `SdkCloudHsmClusterHsms` below.
 *
 * The client version this project can install (3.332.0) predates the SDK's
 * `AWS_ENDPOINT_URL_<SERVICE>` variables, so it needs an explicit `endpoint` to reach anything but
 * AWS: the adapter sets pass `AWS_ENDPOINT_URL_CLOUDHSM_V2` (config.ts `cloudHsmEndpoint`; the
 * local runner sets it to the AWS stand-in). STS clients (for assuming roles) read their own
 * variable, or take `stsEndpoint`.
 *
 * The SDK's own retries are off (`maxAttempts: 1`): throttling is retried in kms-errors.ts'
 * callKms, and every failure is translated here.
 */
import { CloudHSMV2Client, type Cluster, DescribeClustersCommand } from '@aws-sdk/client-cloudhsm-v2';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { DependencyError, ForbiddenError, KeyManagerError, ServiceUnavailableError, ValidationError, isError } from '../../core/errors';
import type { KmsLocation } from '../../core/ports/aws-kms';
import type { CloudHsmCluster, CloudHsmClusterHsms, CloudHsmClusters, CloudHsmHsm } from '../../core/ports/cloudhsm-clusters';
import { AccountCredentials, clientKey } from './kms-credentials';
import { actingAs, callKms, isThrottling, type RetryOptions } from './kms-errors';

/** DescribeClusters' largest page. */
const PAGE_SIZE = 25;
/** Pages read at most (2,500 clusters: far beyond CloudHSM's default quota of 4 clusters per region). */
const MAX_PAGES = 100;

export interface SdkCloudHsmClustersProps {
  /** CloudHSMv2 endpoint override (the local AWS stand-in). @default AWS's regional endpoints */
  readonly endpoint?: string;
  /** STS endpoint override for assuming roles. @default the SDK's (AWS_ENDPOINT_URL_STS, else AWS) */
  readonly stsEndpoint?: string;
  /** The deployment's own credentials. @default the SDK's default provider chain (the function's role) */
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Throttling retries (tests pass a sleep that does not wait). */
  readonly retry?: RetryOptions;
  /** @default Date.now */
  readonly now?: () => number;
}

export class SdkCloudHsmClusters implements CloudHsmClusters {
  private readonly clients = new Map<string, CloudHSMV2Client>();
  private readonly credentials: AccountCredentials;

  constructor(private readonly props: SdkCloudHsmClustersProps = {}) {
    this.credentials = new AccountCredentials({ stsEndpoint: props.stsEndpoint, credentials: props.credentials, now: props.now, retry: props.retry });
  }

  async describeClusters(at: KmsLocation): Promise<CloudHsmCluster[]> {
    const clusters: CloudHsmCluster[] = [];
    let nextToken: string | undefined;
    for (let pages = 0; pages < MAX_PAGES; pages += 1) {
      const answer = await this.call(at, () => this.client(at).send(new DescribeClustersCommand({ MaxResults: PAGE_SIZE, ...(nextToken === undefined ? {} : { NextToken: nextToken }) })));
      clusters.push(...(answer.Clusters ?? []).flatMap((cluster) => (cluster.ClusterId ? [clusterAsAwsReturnsIt(cluster)] : [])));
      nextToken = answer.NextToken || undefined;
      if (nextToken === undefined) break;
    }
    return clusters;
  }

  /** One call with throttling retries; every other failure translated (and never called "AWS KMS"'s). */
  private async call<T>(at: KmsLocation, send: () => Promise<T>): Promise<T> {
    try {
      return await callKms({ at, operation: 'cloudhsmv2:DescribeClusters' }, async () => {
        try {
          return await send();
        } catch (error) {
          if (isError(error, KeyManagerError) || isThrottling(error)) throw error;
          throw translateCloudHsmError(error, at);
        }
      }, this.props.retry);
    } catch (error) {
      if (isError(error, ServiceUnavailableError) && !isError(error.cause, KeyManagerError)) {
        throw new ServiceUnavailableError(`AWS CloudHSM is throttling DescribeClusters in ${where(at)}; try again in a few seconds`, { cause: error.cause });
      }
      throw error;
    }
  }

  private client(at: KmsLocation): CloudHSMV2Client {
    const key = clientKey(at);
    let client = this.clients.get(key);
    if (client === undefined) {
      const { endpoint } = this.props;
      const credentials = this.credentials.for(at);
      client = new CloudHSMV2Client({
        region: at.region,
        maxAttempts: 1,
        ...(endpoint === undefined ? {} : { endpoint }),
        ...(credentials === undefined ? {} : { credentials }),
      });
      this.clients.set(key, client);
    }
    return client;
  }
}

export interface SdkCloudHsmClusterHsmsProps {
  /**
   * CloudHSMv2 endpoint override (the local AWS stand-in); a function when the address is known
   * only after the proxy is built (the local runner starts the stand-in after the proxy), read at
   * the first call. @default AWS's regional endpoint
   */
  readonly endpoint?: string | (() => string);
  /** @default the SDK's (AWS_REGION: the function's own region) */
  readonly region?: string;
  /** @default the SDK's default provider chain (the function's role) */
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
}

/**
 * `CloudHsmClusterHsms` on `@aws-sdk/client-cloudhsm-v2`: one client, the deployment's own
 * account and credentials, no SDK retries (`maxAttempts: 1`: the health refresh that asked is
 * bounded by its own timeout, and the next refresh asks again).
 */
export class SdkCloudHsmClusterHsms implements CloudHsmClusterHsms {
  private sdkClient?: CloudHSMV2Client;

  constructor(private readonly props: SdkCloudHsmClusterHsmsProps = {}) {}

  async hsmsOf(clusterId: string, options: { readonly signal?: AbortSignal } = {}): Promise<readonly CloudHsmHsm[] | undefined> {
    let clusters: readonly Cluster[];
    try {
      const answer = await this.client().send(new DescribeClustersCommand({ Filters: { clusterIds: [clusterId] } }), { abortSignal: options.signal });
      clusters = answer.Clusters ?? [];
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      const message = error instanceof Error ? error.message : String(error);
      const hint = ACCESS_DENIED.has(name) ? ' (the XKS proxy\'s role needs cloudhsm:DescribeClusters: README, "Deploying to AWS")' : '';
      throw new DependencyError(`AWS CloudHSM DescribeClusters of ${clusterId}: ${name}: ${message}${hint}`, { cause: error });
    }
    const cluster = clusters.find((candidate) => candidate.ClusterId === clusterId);
    if (cluster === undefined) return undefined;
    return (cluster.Hsms ?? []).flatMap(({ HsmId, State, StateMessage, AvailabilityZone }) =>
      HsmId ? [{ HsmId, ...(State === undefined ? {} : { State }), ...(StateMessage === undefined ? {} : { StateMessage }), ...(AvailabilityZone === undefined ? {} : { AvailabilityZone }) }] : [],
    );
  }

  private client(): CloudHSMV2Client {
    if (this.sdkClient === undefined) {
      const { endpoint, region, credentials } = this.props;
      const resolved = typeof endpoint === 'function' ? endpoint() : endpoint;
      this.sdkClient = new CloudHSMV2Client({
        maxAttempts: 1,
        ...(region === undefined ? {} : { region }),
        ...(resolved === undefined ? {} : { endpoint: resolved }),
        ...(credentials === undefined ? {} : { credentials }),
      });
    }
    return this.sdkClient;
  }
}

function where(at: KmsLocation): string {
  return `account ${at.accountId} (${at.region})`;
}

const ACCESS_DENIED = new Set(['CloudHsmAccessDeniedException', 'AccessDeniedException', 'UnrecognizedClientException', 'InvalidClientTokenId', 'InvalidSignatureException']);

/** CloudHSMv2's refusals as the project's errors, each saying what AWS said, where and as whom. */
export function translateCloudHsmError(error: unknown, at: KmsLocation): KeyManagerError {
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  const said = `AWS CloudHSM DescribeClusters in ${where(at)}: ${name}: ${message}`;
  if (ACCESS_DENIED.has(name)) {
    return new ForbiddenError(
      `AWS denied cloudhsm:DescribeClusters in ${where(at)} to ${actingAs(at)}: ${message}. The role needs the permissions listed in README ("Deploying to AWS")`,
      { cause: error },
    );
  }
  if (name === 'CloudHsmInvalidRequestException' || name === 'ValidationException') return new ValidationError(said, 'region', { cause: error });
  return new DependencyError(said, { cause: error });
}

/** The cluster with AWS's field names and JSON values (dates as ISO strings), without PreCoPassword. */
function clusterAsAwsReturnsIt(cluster: Cluster): CloudHsmCluster {
  const { PreCoPassword: _secret, ...rest } = cluster;
  return JSON.parse(JSON.stringify(rest)) as CloudHsmCluster;
}
