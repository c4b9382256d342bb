/**
 * HSM source keys: keys generated inside a partition (`/v1/cckm/hsm/keys`). The record keeps
 * what the HSM reported right after generation (type, size, boolean attributes read back, never
 * assumed), so that lists and the key store's health-check key rules need no HSM round trip.
 */
import type { HsmKeyInfo, HsmKeyRef, KeyAttributeName, PartitionConnection } from '../../contract/hsm';
import type { EcCurve, GenerationMechanism } from '../../contract/hsm-key-types';
import { envelope, type ResourceEnvelope, type Timestamps } from '../resource';
import type { StateOp } from '../ports/state-store';
import { PARTITION_COUNTERS } from './partition';

/**
 * Counters kept on the HSM key record. `references`: key stores using it as their health-check key
 * and virtual key versions built on it; each adds `{op:'count', kind:'hsmKey', id, counter:
 * HSM_KEY_COUNTERS.references, delta: 1}` in its create transaction and -1 (min 0) on delete.
 * DeleteHsmKey refuses (409) while it is not 0.
 */
export const HSM_KEY_COUNTERS = { references: 'references' } as const;


/**
 * `in_progress` from the moment the record claims its label until the HSM has generated the key and
 * its attributes are read back; then `AVAILABLE`. A record left `in_progress` (a crash mid-way)
 * reports no attributes (all false, type OTHER) and can be deleted. `PENDING`: the agent's
 * generate call timed out, so the HSM may or may not hold the key; reading the key and the daily
 * sweep settle it (pending-hsm-keys.ts).
 */
export type HsmKeyStatus = 'in_progress' | 'PENDING' | 'AVAILABLE';

export interface HsmKeyData extends Timestamps, HsmKeyInfo {
  readonly partitionId: string;
  /**
   * The account container (`kms_id`) whose key stores and HYOK keys it may back; set by an admin
   * (create, PATCH) or by an admin's first reference. Unset: only admins may reference it.
   */
  readonly accountId?: string;
  readonly mechanism: GenerationMechanism;
  /** The attributes the caller listed (true); the HSM's own answer is `attributes`. */
  readonly requestedAttributes: readonly KeyAttributeName[];
  readonly status: HsmKeyStatus;
}

export interface HsmKeyResource extends ResourceEnvelope {
  readonly partition_id: string;
  readonly partition_label: string;
  readonly label: string;
  /** CKA_ID, hex: how the XKS proxy finds the key in the partition. */
  readonly object_id: string;
  readonly mechanism: GenerationMechanism;
  /** AES, RSA, EC or GENERIC_SECRET, as the HSM reports it (CKA_KEY_TYPE). */
  readonly key_type: HsmKeyInfo['keyType'];
  /** Bits: CKA_VALUE_LEN * 8, the RSA modulus, the EC curve's field. */
  readonly size: number;
  /** EC keys. */
  readonly curve?: EcCurve;
  /** Key pairs: the public key (PEM), as read from the HSM. */
  readonly public_key?: string;
  /** Every boolean attribute as the HSM reported it. */
  readonly attributes: Readonly<Record<KeyAttributeName, boolean>>;
  readonly status: HsmKeyStatus;
  /** The owning account container; absent while unowned (only admins may reference it then). */
  readonly kms_id?: string;
}

export function hsmKeyResource(id: string, key: HsmKeyData, partitionLabel: string): HsmKeyResource {
  return {
    ...envelope('hsm_key', id, key),
    partition_id: key.partitionId,
    partition_label: partitionLabel,
    label: key.label,
    object_id: key.objectId,
    mechanism: key.mechanism,
    key_type: key.keyType,
    size: key.sizeBits,
    ...(key.curve === undefined ? {} : { curve: key.curve }),
    ...(key.publicKeyPem === undefined ? {} : { public_key: key.publicKeyPem }),
    attributes: key.attributes,
    status: key.status,
    ...(key.accountId === undefined ? {} : { kms_id: key.accountId }),
  };
}

/** The name claim of a key: labels are unique within a partition. */
export function hsmKeyUniqueName(partitionId: string, label: string): string {
  return `${partitionId}/${label}`;
}

/** Where the key lives, for the HSM agent and the XKS proxy. */
export function hsmKeyRef(key: Pick<HsmKeyData, 'objectId'>, partition: PartitionConnection): HsmKeyRef {
  return { partition, objectId: key.objectId };
}

/** The record of a key the HSM has generated, with what the HSM reports about it. */
export function availableHsmKey(key: HsmKeyData, info: HsmKeyInfo, now: string): HsmKeyData {
  return {
    ...key,
    keyType: info.keyType,
    sizeBits: info.sizeBits,
    ...(info.curve === undefined ? {} : { curve: info.curve }),
    ...(info.publicKeyPem === undefined ? {} : { publicKeyPem: info.publicKeyPem }),
    attributes: info.attributes,
    status: 'AVAILABLE',
    updatedAt: now,
  };
}

/** Removing a key's record: the record, its label claim and the partition's count, together; refused while referenced. */
export function hsmKeyRemovalOps(id: string, key: HsmKeyData): StateOp[] {
  return [
    {
      op: 'delete',
      kind: 'hsmKey',
      id,
      uniqueName: hsmKeyUniqueName(key.partitionId, key.label),
      requireZero: [HSM_KEY_COUNTERS.references],
      conflictMessage: `The HSM key ${JSON.stringify(key.label)} cannot be deleted while a key store, a virtual key or an uploaded AWS key uses it`,
    },
    { op: 'count', kind: 'partition', id: key.partitionId, counter: PARTITION_COUNTERS.hsmKeys, delta: -1, min: 0 },
  ];
}
