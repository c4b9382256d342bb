/**
 * `SecretStore` over AWS Secrets Manager (XKS secret access keys, HSM partition PINs).
 *
 * Deletion uses a recovery window (default 7 days, the minimum) rather than
 * ForceDeleteWithoutRecovery: a secret pending deletion can no longer be read (GetSecretValue
 * fails, so `get` answers undefined and nothing can authenticate with it), yet an operator who
 * deleted an HSM PIN or a credential by mistake can still restore it with RestoreSecret. Revocation
 * does not wait for the window: the proxy stops accepting a credential as soon as its record is
 * gone from the state table.
 *
 * Every secret carries a resource policy (README, "Architecture": secrets) that denies every principal outside the
 * deployment's roles (`allowedPrincipalArnPattern`, a role path the CDK gives exactly those roles)
 * everything but reading the secret's metadata and policy: an account administrator's console or
 * AWS Config still sees that the secret exists, but nobody outside the deployment reads, changes,
 * deletes or re-polices it. (An operator who must, e.g. to restore a secret deleted by mistake or
 * to remove secrets after deleting the stack, uses a role under the same path.) The policy is
 * attached before the secret holds a value, so a value is never stored unprotected.
 */
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  paginateListSecrets,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { ENV, SECRET_PREFIXES } from '../../contract/env';
import type { SecretStore, StoredSecret } from '../../core/ports/secret-store';

/** What principals outside the deployment may still do with a secret: see that it exists and how it is protected. */
export const OUTSIDER_ACTIONS = ['secretsmanager:DescribeSecret', 'secretsmanager:GetResourcePolicy', 'secretsmanager:ListSecretVersionIds'] as const;

/** The resource policy of every secret: deny everything but `OUTSIDER_ACTIONS` to principals not matching the pattern. */
export function secretResourcePolicy(allowedPrincipalArnPattern: string): Record<string, unknown> {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'OnlyTheKeyManagerRolesUseThisSecret',
        Effect: 'Deny',
        Principal: '*',
        NotAction: [...OUTSIDER_ACTIONS],
        Resource: '*',
        Condition: { ArnNotLike: { 'aws:PrincipalArn': allowedPrincipalArnPattern } },
      },
    ],
  };
}

export interface SecretsManagerSecretStoreProps {
  readonly client: SecretsManagerClient;
  /**
   * ARN pattern of the deployment's roles (`arn:aws:iam::<account>:role/<path>/*`) for each new
   * secret's resource policy; read by the composition root from ENV.secretsAllowedPrincipalArnPattern.
   * @default - none: `put` refuses to write (functions that only read secrets need none)
   */
  readonly allowedPrincipalArnPattern?: string;
  /**
   * Prepended to every name the store is given (the deployment's namespace, `<stack name>/`); the
   * names the core uses and records stay without it.
   * @default '' (none)
   */
  readonly namePrefix?: string;
  /**
   * KMS key that encrypts new secrets.
   * @default - the account's `aws/secretsmanager` key
   */
  readonly kmsKeyId?: string;
  /**
   * Days a deleted secret stays recoverable (7–30).
   * @default 7
   */
  readonly recoveryWindowInDays?: number;
}

export class SecretsManagerSecretStore implements SecretStore {
  private readonly client: SecretsManagerClient;
  private readonly allowedPrincipalArnPattern?: string;
  private readonly kmsKeyId?: string;
  private readonly namePrefix: string;
  private readonly recoveryWindowInDays: number;

  constructor(props: SecretsManagerSecretStoreProps) {
    const recoveryWindowInDays = props.recoveryWindowInDays ?? 7;
    if (!Number.isInteger(recoveryWindowInDays) || recoveryWindowInDays < 7 || recoveryWindowInDays > 30) {
      throw new Error(`recoveryWindowInDays must be an integer from 7 to 30, got ${recoveryWindowInDays}`);
    }
    this.client = props.client;
    this.allowedPrincipalArnPattern = props.allowedPrincipalArnPattern;
    this.kmsKeyId = props.kmsKeyId;
    this.namePrefix = props.namePrefix ?? '';
    this.recoveryWindowInDays = recoveryWindowInDays;
  }

  /**
   * 1. CreateSecret without a value (an existing secret is kept; one pending deletion is restored).
   * 2. PutResourcePolicy, with BlockPublicPolicy, on new and existing secrets alike (idempotent).
   * 3. PutSecretValue.
   * A failure at any step leaves at most a protected secret without the new value; `put` again repairs it.
   */
  async put(logicalName: string, value: string): Promise<void> {
    const name = this.namePrefix + logicalName;
    const pattern = this.allowedPrincipalArnPattern;
    if (pattern === undefined) {
      throw new Error(`Refusing to write the secret ${name} without its resource policy: ${ENV.secretsAllowedPrincipalArnPattern} is not set for this function`);
    }
    await this.ensureExists(name);
    await this.client.send(new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: JSON.stringify(secretResourcePolicy(pattern)), BlockPublicPolicy: true }));
    await this.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: value }));
  }

  private async ensureExists(name: string): Promise<void> {
    try {
      await this.client.send(new CreateSecretCommand({ Name: name, KmsKeyId: this.kmsKeyId, Description: 'Managed by xks-key-manager' }));
    } catch (error) {
      if (isPendingDeletion(error)) await this.client.send(new RestoreSecretCommand({ SecretId: name }));
      else if (!(error instanceof ResourceExistsException)) throw error;
    }
  }

  async get(logicalName: string): Promise<string | undefined> {
    try {
      const { SecretString } = await this.client.send(new GetSecretValueCommand({ SecretId: this.namePrefix + logicalName }));
      return SecretString;
    } catch (error) {
      if (error instanceof ResourceNotFoundException || isPendingDeletion(error)) return undefined;
      throw error;
    }
  }

  /**
   * ListSecrets filtered by name prefix (the deployment's prefix + each kind's), without secrets
   * pending deletion. The filter ignores case, so names are matched exactly again here.
   */
  async list(): Promise<StoredSecret[]> {
    const prefixes = Object.values(SECRET_PREFIXES).map((prefix) => this.namePrefix + prefix);
    const listed: StoredSecret[] = [];
    const pages = paginateListSecrets({ client: this.client }, { Filters: [{ Key: 'name', Values: prefixes }], IncludePlannedDeletion: false });
    for await (const page of pages) {
      for (const secret of page.SecretList ?? []) {
        const { Name: name, CreatedDate: createdAt } = secret;
        if (name === undefined || createdAt === undefined || !prefixes.some((prefix) => name.startsWith(prefix))) continue;
        listed.push({ name: name.slice(this.namePrefix.length), createdAt });
      }
    }
    return listed;
  }

  async delete(logicalName: string): Promise<void> {
    try {
      await this.client.send(new DeleteSecretCommand({ SecretId: this.namePrefix + logicalName, RecoveryWindowInDays: this.recoveryWindowInDays }));
    } catch (error) {
      if (error instanceof ResourceNotFoundException || isPendingDeletion(error)) return;
      throw error;
    }
  }
}

/** Secrets Manager says "scheduled/marked for deletion" only through InvalidRequestException's message. */
function isPendingDeletion(error: unknown): boolean {
  return error instanceof InvalidRequestException && /deletion|deleted/i.test(error.message);
}
