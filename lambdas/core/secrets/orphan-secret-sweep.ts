/**
 * The daily sweep: removes secrets that no record references, and settles PENDING HSM keys.
 *
 * A secret is written before the record that names it (key stores, credentials, partitions), so a
 * crash between the two writes, or an ambiguous write whose re-read failed too, can leave a secret
 * that nothing references. It authenticates nothing (the proxy accepts only credentials of stored
 * records), but it should not linger: once it is older than `ORPHAN_GRACE_MS` (far longer than
 * any create takes between its two writes) and still unreferenced, it is deleted.
 *
 * 1. List the secrets (names and creation times only, never values), then read the records: a
 *    secret written after the listing is not considered, and one listed is judged by records read
 *    after it.
 * 2. A secret is referenced by the key store credential (`xks/<store>/<credential>`), the HSM
 *    partition (`hsm-pin/<partition>`) or the CloudHSM key store (`cloudhsm-password/<store>`, its
 *    kmsuser password) its name says; a name of another form under our prefixes is left alone (it
 *    is not ours to judge).
 * 3. Delete each orphan older than the grace period; a failed delete is reported and tried again
 *    the next day.
 * 4. Settle PENDING HSM keys (hsm/pending-hsm-keys.ts).
 * The report holds names and ids only.
 */
import { SECRET_PREFIXES } from '../../contract/env';
import type { Clock } from '../ports/clock';
import type { SecretStore } from '../ports/secret-store';
import type { StateStore } from '../ports/state-store';
import type { KeyStoreData } from '../key-stores/key-store';
import type { PartitionData } from '../hsm/partition';
import type { CloudHsmKeyStoreData } from '../key-stores/cloudhsm-key-store';
import type { PendingHsmKeys, SettledHsmKeys } from '../hsm/pending-hsm-keys';
import { secretNames } from '../secret-names';

/** How old an unreferenced secret must be before it is removed. */
export const ORPHAN_GRACE_MS = 60 * 60_000;

export interface OrphanSecretSweepDeps {
  readonly state: StateStore;
  readonly secrets: SecretStore;
  readonly clock: Clock;
  readonly pendingHsmKeys: PendingHsmKeys;
}

export interface SweepReport {
  /** Secrets removed, by name. */
  readonly removedSecrets: readonly string[];
  /** Orphans whose delete failed (tried again next time), by name. */
  readonly failedSecrets: readonly string[];
  /** Unreferenced secrets still within the grace period, by name. */
  readonly youngOrphans: readonly string[];
  readonly hsmKeys: SettledHsmKeys;
}

export class OrphanSecretSweep {
  constructor(private readonly deps: OrphanSecretSweepDeps) {}

  async run(): Promise<SweepReport> {
    const { secrets, clock } = this.deps;
    const listed = await secrets.list();
    const referenced = await this.referencedNames();
    const now = clock.now().getTime();
    const removedSecrets: string[] = [];
    const failedSecrets: string[] = [];
    const youngOrphans: string[] = [];
    for (const secret of listed) {
      if (!isJudged(secret.name) || referenced.has(secret.name)) continue;
      if (now - secret.createdAt.getTime() < ORPHAN_GRACE_MS) {
        youngOrphans.push(secret.name);
        continue;
      }
      try {
        await secrets.delete(secret.name);
        removedSecrets.push(secret.name);
      } catch {
        failedSecrets.push(secret.name);
      }
    }
    const hsmKeys = await this.deps.pendingHsmKeys.settleAll();
    return { removedSecrets, failedSecrets, youngOrphans, hsmKeys };
  }

  /**
   * The secret names the records hold: every credential of every external key store, every
   * partition's PIN, every CloudHSM key store's kmsuser password.
   */
  private async referencedNames(): Promise<ReadonlySet<string>> {
    const { state } = this.deps;
    const [stores, partitions, cloudHsmStores] = await Promise.all([
      state.list<KeyStoreData>('keyStore'),
      state.list<PartitionData>('partition'),
      state.list<CloudHsmKeyStoreData>('cloudHsmKeyStore'),
    ]);
    return new Set([
      ...stores.flatMap((store) => store.data.credentials.map((credential) => secretNames.xksCredential(store.id, credential.id))),
      ...partitions.map((partition) => secretNames.hsmPin(partition.id)),
      ...cloudHsmStores.map((store) => secretNames.cloudHsmPassword(store.id)),
    ]);
  }
}

/** What follows each judged prefix in a name of ours: `<store>/<credential>`, `<partition>`, `<store>`. */
const JUDGED_NAMES: ReadonlyArray<readonly [prefix: string, rest: RegExp]> = [
  [SECRET_PREFIXES.xks, /^[^/]+\/[^/]+$/],
  [SECRET_PREFIXES.hsmPin, /^[^/]+$/],
  [SECRET_PREFIXES.cloudHsmPassword, /^[^/]+$/],
];

/** Names the sweep may judge: the three forms above, nothing else. */
function isJudged(name: string): boolean {
  return JUDGED_NAMES.some(([prefix, rest]) => name.startsWith(prefix) && rest.test(name.slice(prefix.length)));
}
