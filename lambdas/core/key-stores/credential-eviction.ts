/**
 * Which credentials go when a store at `max_credentials` gets one more. AWS KMS takes up to five
 * minutes to start using a credential it was given and keeps using the old one until then, so a
 * credential that authenticated a request in the last `IN_USE_WINDOW_MS` (recorded by the XKS
 * proxy through CredentialUsage) is never dropped to make room.
 */
import { ConflictError } from '../errors';
import type { KeyStoreRecord } from '../key-references';
import type { Clock } from '../ports/clock';
import type { XksCredentialData } from './credential';

/** A credential used this recently may still be the one AWS KMS holds (it takes up to 5 min to switch). */
export const IN_USE_WINDOW_MS = 10 * 60_000;

/** Rotation drops the oldest credentials; a new credential drops the oldest unused ones. */
export type WhenFull = 'drop-oldest-unused' | 'drop-oldest';

/** When each credential of a store last authenticated an XKS request, by credential id. */
export type LastUses = ReadonlyMap<string, Date>;

/**
 * The credentials that go so that one more fits under max_credentials: the oldest ones (rotate)
 * or the oldest unused ones (create). 409 when one of them authenticated a request in the last
 * 10 minutes (rotate) or when every credential did (create).
 */
export function credentialsToDrop(store: KeyStoreRecord, whenFull: WhenFull, uses: LastUses, clock: Clock): XksCredentialData[] {
  const { credentials, maxCredentials } = store.data;
  const excess = Math.max(0, credentials.length + 1 - maxCredentials);
  if (excess === 0) return [];
  const inUse = (c: XksCredentialData): boolean => isInUse(uses.get(c.id), clock);
  if (whenFull === 'drop-oldest') {
    const dropped = credentials.slice(0, excess);
    const busy = dropped.find(inUse);
    if (busy) {
      throw new ConflictError(
        `Rotating would delete credential ${busy.id} (access key id ${busy.accessKeyId}), which AWS KMS last used at ${uses.get(busy.id)?.toISOString()}, ` +
          `less than 10 minutes ago. Update the external key store in AWS KMS to a newer credential first and rotate once it is no longer used, ` +
          `or delete it explicitly (DELETE .../credentials/${busy.id}), or raise max_credentials`,
      );
    }
    return dropped;
  }
  const unused = credentials.filter((c) => !inUse(c));
  if (unused.length < excess) {
    const busy = credentials.filter(inUse).map((c) => `${c.id} (last used ${uses.get(c.id)?.toISOString()})`);
    throw new ConflictError(
      `Key store ${store.id} has max_credentials (${maxCredentials}) credentials and AWS KMS used each of them in the last 10 minutes: ${busy.join(', ')}. ` +
        `Delete one explicitly (DELETE .../credentials/{id}) or raise max_credentials`,
    );
  }
  return unused.slice(0, excess);
}

/** Whether a credential last used at `lastUsed` may still be the one AWS KMS holds. */
export function isInUse(lastUsed: Date | undefined, clock: Clock): boolean {
  return lastUsed !== undefined && clock.now().getTime() - lastUsed.getTime() < IN_USE_WINDOW_MS;
}
