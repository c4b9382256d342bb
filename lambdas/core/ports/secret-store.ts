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
  /**
   * Every secret of this deployment under the kinds' prefixes (`SECRET_PREFIXES`), by the names
   * `put` was given, with when each was written first (or, where the store cannot tell, last).
   * Never their values.
   */
  list(): Promise<readonly StoredSecret[]>;
}

export interface StoredSecret {
  readonly name: string;
  readonly createdAt: Date;
}
