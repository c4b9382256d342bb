/**
 * HSM partitions: a PKCS#11 token (Luna partition, CloudHSM cluster, SoftHSM2 token) the manager
 * generates source keys in. The PIN is kept in the SecretStore under `secretNames.hsmPin(id)`;
 * the record holds only that name, and no response ever carries the PIN.
 */
import type { HsmType, PartitionConnection } from '../../contract/hsm';
import { secretNames } from '../secret-names';
import { envelope, type ResourceEnvelope, type Timestamps } from '../resource';

/**
 * Counters kept on the partition record. `hsmKeys`: source keys generated in it (+1 by CreateHsmKey,
 * -1 by DeleteHsmKey); the partition is deleted only at 0. Key stores and virtual keys always
 * reference a key of their partition, so they keep it in use through that key.
 */
export const PARTITION_COUNTERS = { hsmKeys: 'hsmKeys' } as const;

export interface PartitionData extends Timestamps {
  readonly name: string;
  readonly hsmType: HsmType;
  readonly tokenLabel: string;
  readonly description?: string;
}

export interface PartitionResource extends ResourceEnvelope {
  readonly name: string;
  readonly hsm_type: HsmType;
  readonly token_label: string;
  /** The label CCKM shows for a partition (`partition_label` in key stores and keys). */
  readonly partition_label: string;
  readonly description?: string;
}

export function partitionResource(id: string, partition: PartitionData): PartitionResource {
  return {
    ...envelope('hsm_partition', id, partition),
    name: partition.name,
    hsm_type: partition.hsmType,
    token_label: partition.tokenLabel,
    partition_label: partition.tokenLabel,
    ...(partition.description === undefined ? {} : { description: partition.description }),
  };
}

/** What the HSM agent needs to open a session on the partition (the PIN by secret name only). */
export function partitionConnection(id: string, partition: Pick<PartitionData, 'hsmType' | 'tokenLabel'>): PartitionConnection {
  return { partitionId: id, hsmType: partition.hsmType, tokenLabel: partition.tokenLabel, pinSecretName: secretNames.hsmPin(id) };
}

/** Answer of `POST /v1/cckm/hsm/partitions/{id}/test`. */
export interface PartitionTestResource {
  readonly id: string;
  readonly name: string;
  readonly ready: boolean;
  /** `ready`, or the PKCS#11 failure (e.g. `CKR_PIN_INCORRECT`). */
  readonly message: string;
}
