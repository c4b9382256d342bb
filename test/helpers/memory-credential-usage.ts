/** An in-memory CredentialUsage for unit tests (the DynamoDB one is tested against DynamoDB Local). */
import type { CredentialUsage } from '../../lambdas/core/ports/credential-usage';

export class MemoryCredentialUsage implements CredentialUsage {
  private readonly uses = new Map<string, Map<string, Date>>();

  async recordUse(keyStoreId: string, credentialId: string, at: Date): Promise<void> {
    const store = this.uses.get(keyStoreId) ?? new Map<string, Date>();
    const last = store.get(credentialId);
    if (last === undefined || last < at) store.set(credentialId, at);
    this.uses.set(keyStoreId, store);
  }

  async lastUses(keyStoreId: string): Promise<ReadonlyMap<string, Date>> {
    return new Map(this.uses.get(keyStoreId) ?? []);
  }

  async forgetStore(keyStoreId: string): Promise<void> {
    this.uses.delete(keyStoreId);
  }
}
