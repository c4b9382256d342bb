/**
 * `SecretStore` over AWS Secrets Manager (XKS secret access keys, HSM partition PINs).
 *
 * Deletion uses a recovery window (default 7 days, the minimum) rather than
 * ForceDeleteWithoutRecovery: a secret pending deletion can no longer be read (GetSecretValue
 * fails, so `get` answers undefined and nothing can authenticate with it), yet an operator who
 * deleted an HSM PIN or a credential by mistake can still restore it with RestoreSecret. Revocation
 * does not wait for the window: the proxy stops accepting a credential as soon as its record is
 * gone from the state table.
 */
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { SecretStore } from '../../core/secrets';

export interface SecretsManagerSecretStoreProps {
  readonly client: SecretsManagerClient;
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
  private readonly kmsKeyId?: string;
  private readonly recoveryWindowInDays: number;

  constructor(props: SecretsManagerSecretStoreProps) {
    const recoveryWindowInDays = props.recoveryWindowInDays ?? 7;
    if (!Number.isInteger(recoveryWindowInDays) || recoveryWindowInDays < 7 || recoveryWindowInDays > 30) {
      throw new Error(`recoveryWindowInDays must be an integer from 7 to 30, got ${recoveryWindowInDays}`);
    }
    this.client = props.client;
    this.kmsKeyId = props.kmsKeyId;
    this.recoveryWindowInDays = recoveryWindowInDays;
  }

  /** CreateSecret, or PutSecretValue when it exists; a secret pending deletion is restored first. */
  async put(name: string, value: string): Promise<void> {
    try {
      await this.client.send(new CreateSecretCommand({ Name: name, SecretString: value, KmsKeyId: this.kmsKeyId, Description: 'Managed by xks-key-manager' }));
      return;
    } catch (error) {
      if (isPendingDeletion(error)) {
        await this.client.send(new RestoreSecretCommand({ SecretId: name }));
      } else if (!(error instanceof ResourceExistsException)) {
        throw error;
      }
    }
    await this.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: value }));
  }

  async get(name: string): Promise<string | undefined> {
    try {
      const { SecretString } = await this.client.send(new GetSecretValueCommand({ SecretId: name }));
      return SecretString;
    } catch (error) {
      if (error instanceof ResourceNotFoundException || isPendingDeletion(error)) return undefined;
      throw error;
    }
  }

  async delete(name: string): Promise<void> {
    try {
      await this.client.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: this.recoveryWindowInDays }));
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
