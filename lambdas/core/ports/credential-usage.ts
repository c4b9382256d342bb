/**
 * When each XKS credential last authenticated a request. The XKS proxy writes it (at most once a
 * minute per credential, see key-stores/credential-use-throttle.ts); the credential service reads
 * it so that a rotation never drops a credential AWS KMS may still be using (AWS KMS takes up to
 * five minutes to switch to a new one). Kept apart from the key store record, so that the proxy's
 * writes never move the store's version under a management request.
 */
export interface CredentialUsage {
  /** Records a use at `at`; a time no later than the one stored changes nothing. */
  recordUse(keyStoreId: string, credentialId: string, at: Date): Promise<void>;
  /** The last recorded use of each of the store's credentials that has one. */
  lastUses(keyStoreId: string): Promise<ReadonlyMap<string, Date>>;
  /** Removes every use recorded for the store (it was deleted); nothing to remove is not an error. */
  forgetStore(keyStoreId: string): Promise<void>;
}
