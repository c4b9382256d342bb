/**
 * Where secrets live: XKS secret access keys and HSM partition PINs (Secrets Manager on AWS,
 * an encrypted file under .local/ locally). DynamoDB only ever holds the secret's *name*.
 */
export interface SecretStore {
  /** Creates or replaces the secret. */
  put(name: string, value: string): Promise<void>;
  /** The secret's value, or undefined when it does not exist. */
  get(name: string): Promise<string | undefined>;
  /** Deletes the secret; deleting a missing secret is not an error. */
  delete(name: string): Promise<void>;
}
