/**
 * An admin setting the owning account container (`kms_id`) of an HSM source key or a virtual key
 * directly: at creation, or later with PATCH. The tenancy rule it keeps (see key-references.ts
 * `claimKeyFor`): a key that backs one container's key stores or HYOK keys never backs another's.
 *  - the container must exist (400 naming `kms_id`);
 *  - a key in use (an HSM key referenced by a key store or a virtual key version, a virtual key
 *    backing an HYOK key) keeps its owner (409 naming `kms_id`); the change commits only while the
 *    key is still unused, and references check the key's version, so neither can slip past the other;
 *  - a virtual key takes its versions' HSM source keys along: unowned ones are assigned to the
 *    same container, one of another container is the 409.
 * Only admins reach this: the routes that take `kms_id` are admin routes.
 */
import { ConflictError } from './errors';
import { HSM_KEY_COUNTERS, type HsmKeyData } from './hsm/hsm-key';
import { VIRTUAL_KEY_COUNTERS, type VirtualKeyData } from './keys/virtual-key';
import type { Access } from './accounts/access';
import type { EntityRecord, StateOp, StateStore } from './ports/state-store';
import { claimKeyFor, requireAccount, requireHsmKey } from './key-references';
import { CHANGED_CONCURRENTLY } from './retry-on-change';
import type { Principal } from './ports/token-verifier';

export const KMS_ID_FIELD = 'kms_id';

/** Who sets `kms_id`: the routes are admin-only, so the tenancy checks run as an admin. */
const ADMIN_ACCESS: Access = { principal: { subject: 'admin-route', username: 'admin-route', groups: [], isAdmin: true } satisfies Principal };

/** The id of the container an admin names in `kms_id` (name or id), or undefined when the request has none. */
export async function requestedOwner(state: StateStore, kmsId: string | undefined): Promise<string | undefined> {
  return kmsId === undefined ? undefined : requireOwner(state, kmsId);
}

/** The id of the container an admin names in `kms_id` (name or id). */
export async function requireOwner(state: StateStore, kmsId: string): Promise<string> {
  return (await requireAccount(state, kmsId, KMS_ID_FIELD)).id;
}

/** The ops that make `accountId` the owner of an HSM source key (none when it already is). */
export function moveHsmKeyOps(key: EntityRecord<HsmKeyData>, accountId: string, data: HsmKeyData): StateOp[] {
  if (key.data.accountId === accountId) return [];
  return moveOps('hsmKey', key, data, HSM_KEY_COUNTERS.references, 'HSM source key', 'key stores, virtual key versions or uploaded AWS keys reference it');
}

/** The ops that make `accountId` the owner of a virtual key and of its versions' HSM source keys. */
export async function moveVirtualKeyOps(state: StateStore, key: EntityRecord<VirtualKeyData>, accountId: string, data: VirtualKeyData): Promise<StateOp[]> {
  if (key.data.accountId === accountId) return [];
  const ops = moveOps('virtualKey', key, data, VIRTUAL_KEY_COUNTERS.hyokKeys, 'virtual key', 'an HYOK key uses it');
  return [...ops, ...(await claimSourceKeys(state, key.data.versions.map((v) => v.sourceKeyId), accountId))];
}

/** The claims on HSM source keys that a key owned by `accountId` is built on (409 naming `kms_id` for another container's). */
export async function claimSourceKeys(state: StateStore, sourceKeyIds: readonly string[], accountId: string): Promise<StateOp[]> {
  const claims: StateOp[] = [];
  for (const id of new Set(sourceKeyIds)) {
    const sourceKey = await requireHsmKey(state, id, KMS_ID_FIELD);
    claims.push(...(await claimKeyFor(state, ADMIN_ACCESS, 'hsmKey', sourceKey, accountId, KMS_ID_FIELD)));
  }
  return claims;
}

function moveOps(kind: 'hsmKey' | 'virtualKey', key: EntityRecord<HsmKeyData | VirtualKeyData>, data: unknown, counter: string, what: string, inUse: string): StateOp[] {
  const uses = key.counters[counter] ?? 0;
  if (uses > 0) {
    const owner = key.data.accountId === undefined ? 'no AWS account container' : `AWS account container ${key.data.accountId}`;
    throw new ConflictError(`${KMS_ID_FIELD}: ${what} ${key.id} belongs to ${owner} and ${inUse} (${uses}); a key in use keeps its container`);
  }
  return [
    { op: 'update', kind, id: key.id, data, expectedVersion: key.version, conflictMessage: CHANGED_CONCURRENTLY },
    // Still unused when the move commits (a reference taken meanwhile makes it retry, then refuse).
    { op: 'count', kind, id: key.id, counter, delta: 0, max: 0, conflictMessage: CHANGED_CONCURRENTLY },
  ];
}
