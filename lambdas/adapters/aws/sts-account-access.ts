/**
 * `AwsAccountAccess` over STS. With a role: AssumeRole (session `xks-key-manager`, the external id
 * when given, 15 minutes, the shortest STS allows) and GetCallerIdentity with the temporary
 * credentials, so the answer comes from inside the account. Without a role: GetCallerIdentity of
 * the deployment itself.
 *
 * Regions: the regions of the account's partition (core/accounts/aws-regions.ts). The regions an
 * account has *enabled* come only from EC2 DescribeRegions or account:ListRegions, whose SDK
 * clients this project does not ship; STS cannot tell them.
 *
 * SDK failures are translated here, so none reaches the core: a role that cannot be assumed is a
 * 400 naming `assume_role_arn` (or `assume_role_external_id` when STS says that is the problem);
 * STS being unreachable or refusing the deployment's own credentials is a DependencyError.
 */
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ACCOUNT_ROLE_NAME_PREFIX } from '../../contract/env';
import type { AccountRoleRef, AwsAccountAccess, AwsAccountDescription } from '../../core/ports/aws-account-access';
import { DependencyError, ValidationError } from '../../core/errors';
import { PARTITION_REGIONS, partitionOfArn } from '../../core/accounts/aws-regions';

/** The session name CloudTrail shows in the account for everything the key manager does there. */
export const ROLE_SESSION_NAME = 'xks-key-manager';
/** The shortest session STS grants: the credentials serve one request. */
export const ROLE_SESSION_SECONDS = 900;

export interface StsAccountAccessProps {
  /** STS client with the deployment's own credentials and region. */
  readonly client: STSClient;
}

export class StsAccountAccess implements AwsAccountAccess {
  private readonly sts: STSClient;

  constructor(props: StsAccountAccessProps) {
    this.sts = props.client;
  }

  async describeAccount(ref: AccountRoleRef): Promise<AwsAccountDescription> {
    const client = ref.assumeRoleArn === undefined ? this.sts : await this.assumedRoleClient(ref.assumeRoleArn, ref.externalId);
    let identity;
    try {
      identity = await client.send(new GetCallerIdentityCommand({}));
    } catch (error) {
      const whose = ref.assumeRoleArn === undefined ? "the deployment's own identity" : `the role ${ref.assumeRoleArn}`;
      throw new DependencyError(`STS GetCallerIdentity failed for ${whose} (${nameOf(error)})`, { cause: error });
    }
    const partition = identity.Arn === undefined ? undefined : partitionOfArn(identity.Arn);
    if (!identity.Account || !partition) {
      throw new DependencyError(`STS GetCallerIdentity gave an answer without an account id or a known partition (${identity.Arn ?? 'no ARN'})`);
    }
    return { accountId: identity.Account, regions: PARTITION_REGIONS[partition] };
  }

  /** An STS client in the same region that signs with the role's temporary credentials. */
  private async assumedRoleClient(roleArn: string, externalId: string | undefined): Promise<STSClient> {
    let credentials;
    try {
      ({ Credentials: credentials } = await this.sts.send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: ROLE_SESSION_NAME,
          DurationSeconds: ROLE_SESSION_SECONDS,
          ...(externalId === undefined ? {} : { ExternalId: externalId }),
        }),
      ));
    } catch (error) {
      throw assumeRoleError(error, roleArn, externalId);
    }
    if (!credentials?.AccessKeyId || !credentials.SecretAccessKey || !credentials.SessionToken) {
      throw new DependencyError(`STS AssumeRole on ${roleArn} returned no credentials`);
    }
    return new STSClient({
      region: await this.sts.config.region(),
      credentials: { accessKeyId: credentials.AccessKeyId, secretAccessKey: credentials.SecretAccessKey, sessionToken: credentials.SessionToken },
    });
  }
}

function assumeRoleError(error: unknown, roleArn: string, externalId: string | undefined): Error {
  const name = nameOf(error);
  const detail = error instanceof Error ? error.message : String(error);
  if (name === 'AccessDenied' || name === 'AccessDeniedException') {
    const externalIdHint = externalId === undefined
      ? ' (and, if its trust policy requires an sts:ExternalId, set assume_role_external_id)'
      : ', with an sts:ExternalId condition equal to assume_role_external_id';
    return new ValidationError(
      `this deployment cannot assume ${roleArn}: the role must exist, be named ${ACCOUNT_ROLE_NAME_PREFIX}* (the only roles the key manager's functions may assume) and trust this deployment${externalIdHint}`,
      'assume_role_arn',
      { cause: error },
    );
  }
  if (name === 'ValidationError') {
    // STS's own input check (e.g. an external id with characters it refuses).
    return new ValidationError(`STS refused it: ${detail}`, /externalid/i.test(detail) ? 'assume_role_external_id' : 'assume_role_arn', { cause: error });
  }
  if (name === 'RegionDisabledException') {
    return new DependencyError(`STS is not activated in this deployment's region for the account of ${roleArn}; activate it in the account's IAM settings`, { cause: error });
  }
  return new DependencyError(`STS AssumeRole on ${roleArn} failed (${name})`, { cause: error });
}

function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : 'Error';
}
