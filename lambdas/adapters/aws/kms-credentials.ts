/**
 * Credentials for acting in an account container's account: the container's role, assumed with
 * STS in the region being acted in, cached per container and region until shortly before the
 * session expires. Concurrent calls for one container and region share one AssumeRole; a failed
 * AssumeRole is not cached. The role and external id are part of the cache key, so changing a
 * container's role takes effect on its next call.
 *
 * The session is an hour (the default maximum session of an IAM role) and is replaced five minutes
 * before it ends, the margin the SDK itself uses before it refreshes credentials.
 */
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { DependencyError } from '../../core/errors';
import type { KmsLocation } from '../../core/ports/aws-kms';
import { callKms, type RetryOptions } from './kms-errors';
import { ROLE_SESSION_NAME } from './sts-account-access';

export const KMS_SESSION_SECONDS = 3600;
export const REFRESH_MARGIN_MS = 5 * 60_000;

export interface AssumedRoleCredentialsProps {
  /** The STS client for a region, signing with the deployment's own credentials. */
  readonly stsClientFor: (region: string) => STSClient;
  /** @default Date.now */
  readonly now?: () => number;
  /** Throttling retries of AssumeRole (tests pass a sleep that does not wait). */
  readonly retry?: RetryOptions;
}

type ExpiringCredentials = AwsCredentialIdentity & { readonly expiration: Date };

export class AssumedRoleCredentials {
  private readonly cache = new Map<string, Promise<ExpiringCredentials>>();
  private readonly now: () => number;

  constructor(private readonly props: AssumedRoleCredentialsProps) {
    this.now = props.now ?? Date.now;
  }

  /** Credentials of `at`'s role (which it must have), from the cache while they have more than the margin left. */
  async credentialsFor(at: KmsLocation & { readonly assumeRoleArn: string }): Promise<AwsCredentialIdentity> {
    const key = JSON.stringify([at.containerId, at.region, at.assumeRoleArn, at.assumeRoleExternalId ?? null]);
    const cached = this.cache.get(key);
    if (cached !== undefined) {
      const credentials = await cached.catch(() => undefined);
      if (credentials !== undefined && credentials.expiration.getTime() - REFRESH_MARGIN_MS > this.now()) return credentials;
      if (this.cache.get(key) === cached) this.cache.delete(key);
    }
    if (!this.cache.has(key)) {
      const assuming = this.assume(at);
      this.cache.set(key, assuming);
      assuming.catch(() => {
        if (this.cache.get(key) === assuming) this.cache.delete(key);
      });
    }
    return this.cache.get(key) as Promise<ExpiringCredentials>;
  }

  private async assume(at: KmsLocation & { readonly assumeRoleArn: string }): Promise<ExpiringCredentials> {
    const sts = this.props.stsClientFor(at.region);
    const { Credentials: credentials } = await callKms(
      { at, operation: 'sts:AssumeRole' },
      () =>
        sts.send(
          new AssumeRoleCommand({
            RoleArn: at.assumeRoleArn,
            RoleSessionName: ROLE_SESSION_NAME,
            DurationSeconds: KMS_SESSION_SECONDS,
            ...(at.assumeRoleExternalId === undefined ? {} : { ExternalId: at.assumeRoleExternalId }),
          }),
        ),
      this.props.retry,
    );
    if (!credentials?.AccessKeyId || !credentials.SecretAccessKey || !credentials.SessionToken || !credentials.Expiration) {
      throw new DependencyError(`STS AssumeRole on ${at.assumeRoleArn} (account ${at.accountId}, ${at.region}) returned no credentials`);
    }
    return {
      accessKeyId: credentials.AccessKeyId,
      secretAccessKey: credentials.SecretAccessKey,
      sessionToken: credentials.SessionToken,
      expiration: credentials.Expiration,
    };
  }
}

export interface AccountCredentialsProps {
  /** STS endpoint override (the local AWS stand-in). @default the SDK's (AWS_ENDPOINT_URL_STS, else AWS) */
  readonly stsEndpoint?: string;
  /** The deployment's own credentials. @default the SDK's default provider chain (the function's role) */
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  readonly retry?: RetryOptions;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * What an SDK client acting in a location signs with, for every AWS client of the control plane
 * (AWS KMS, CloudHSM): the container's role, assumed and cached above, or the deployment's own
 * credentials for a container without one. One STS client per region.
 */
export class AccountCredentials {
  private readonly stsClients = new Map<string, STSClient>();
  private readonly assumed: AssumedRoleCredentials;

  constructor(private readonly props: AccountCredentialsProps = {}) {
    this.assumed = new AssumedRoleCredentials({ stsClientFor: (region) => this.stsClient(region), now: props.now, retry: props.retry });
  }

  /** The `credentials` of a client for `at` (undefined: the SDK's default chain). */
  for(at: KmsLocation): AwsCredentialIdentity | AwsCredentialIdentityProvider | undefined {
    const roleArn = at.assumeRoleArn;
    return roleArn === undefined ? this.props.credentials : () => this.assumed.credentialsFor({ ...at, assumeRoleArn: roleArn });
  }

  private stsClient(region: string): STSClient {
    let client = this.stsClients.get(region);
    if (client === undefined) {
      client = new STSClient({
        region,
        maxAttempts: 1,
        ...(this.props.stsEndpoint === undefined ? {} : { endpoint: this.props.stsEndpoint }),
        ...(this.props.credentials === undefined ? {} : { credentials: this.props.credentials }),
      });
      this.stsClients.set(region, client);
    }
    return client;
  }
}

/** One SDK client per container, region and role: the key of an adapter's client cache. */
export function clientKey(at: KmsLocation): string {
  return JSON.stringify([at.containerId, at.region, at.assumeRoleArn ?? null, at.assumeRoleExternalId ?? null]);
}
