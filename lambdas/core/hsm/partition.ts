/**
 * HSM partitions: a PKCS#11 token (Luna partition, CloudHSM cluster, SoftHSM2 token) the manager
 * generates source keys in. The PIN is kept in the SecretStore under `secretNames.hsmPin(id)`;
 * the record holds only that name, and no response ever carries the PIN.
 */
import { DEFAULT_GCM_IV_CONVENTION, type GcmIvConvention, type HsmType, type PartitionConnection, type PartitionMember, type Pkcs11CallMode } from '../../contract/hsm';
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
  /** Set by the operator when the HSM's policy differs from its type's default. @default DEFAULT_GCM_IV_CONVENTION[hsmType] */
  readonly gcmIvConvention?: GcmIvConvention;
  /** Set by the operator when the partition's calls should run otherwise than its HSM type's do. @default - the container's mode for the HSM type */
  readonly pkcs11CallMode?: Pkcs11CallMode;
  /** The HSMs the partition reaches (HA group members, clusters shown as slots). @default - one: the partition itself */
  readonly members?: readonly PartitionMember[];
  /**
   * `cloudhsm` partitions: the AWS CloudHSM cluster behind the token, in the deployment's own
   * account and region. The proxy's deep health check then reports one member per HSM of the
   * cluster (DescribeClusters) instead of `members`; setting one of the two drops the other.
   */
  readonly cloudHsmClusterId?: string;
}

export interface PartitionResource extends ResourceEnvelope {
  readonly name: string;
  readonly hsm_type: HsmType;
  readonly token_label: string;
  /** The label CCKM shows for a partition (`partition_label` in key stores and keys). */
  readonly partition_label: string;
  readonly description?: string;
  /** Who makes AES-GCM IVs on this partition, and where they come back (contract/hsm.ts); the HSM type's default unless set. */
  readonly gcm_iv_convention: GcmIvConvention;
  /**
   * Where the proxy and the HSM agent run this partition's PKCS#11 calls (contract/hsm.ts
   * Pkcs11CallMode). Shown only when set: the default is the HSM type's mode in each container.
   */
  readonly pkcs11_call_mode?: Pkcs11CallMode;
  /** The HSMs the deep health check reaches one by one (GetHealthStatus `ekmFleetDetails`); one, the partition itself, unless set. */
  readonly members: readonly { readonly id: string; readonly token_label: string }[];
  /** The AWS CloudHSM cluster whose HSMs GetHealthStatus lists one by one (a `cloudhsm` partition that sets it). */
  readonly cloudhsm_cluster_id?: string;
}

export function partitionResource(id: string, partition: PartitionData): PartitionResource {
  return {
    ...envelope('hsm_partition', id, partition),
    name: partition.name,
    hsm_type: partition.hsmType,
    token_label: partition.tokenLabel,
    partition_label: partition.tokenLabel,
    ...(partition.description === undefined ? {} : { description: partition.description }),
    gcm_iv_convention: partition.gcmIvConvention ?? DEFAULT_GCM_IV_CONVENTION[partition.hsmType],
    ...(partition.pkcs11CallMode === undefined ? {} : { pkcs11_call_mode: partition.pkcs11CallMode }),
    members: partitionMembers(id, partition).map((member) => ({ id: member.id, token_label: member.tokenLabel })),
    ...(partition.cloudHsmClusterId === undefined ? {} : { cloudhsm_cluster_id: partition.cloudHsmClusterId }),
  };
}

/** The members as configured, or the partition itself as its one member (SoftHSM2, a single HSM). */
export function partitionMembers(id: string, partition: Pick<PartitionData, 'tokenLabel' | 'members'>): readonly PartitionMember[] {
  return partition.members ?? [{ id, tokenLabel: partition.tokenLabel }];
}

/** What is wrong when two members share an id or a token label; undefined when none do. */
export function duplicateMember(members: readonly PartitionMember[]): string | undefined {
  for (const field of ['id', 'tokenLabel'] as const) {
    const seen = new Set<string>();
    for (const member of members) {
      if (seen.has(member[field])) return `two members have the ${field === 'id' ? 'id' : 'token_label'} ${JSON.stringify(member[field])}`;
      seen.add(member[field]);
    }
  }
  return undefined;
}

/** What the HSM agent needs to open a session on the partition (the PIN by secret name only). */
export function partitionConnection(id: string, partition: Pick<PartitionData, 'hsmType' | 'tokenLabel' | 'gcmIvConvention' | 'pkcs11CallMode'>): PartitionConnection {
  const { hsmType, tokenLabel, gcmIvConvention, pkcs11CallMode } = partition;
  return {
    partitionId: id,
    hsmType,
    tokenLabel,
    pinSecretName: secretNames.hsmPin(id),
    ...(gcmIvConvention === undefined ? {} : { gcmIvConvention }),
    ...(pkcs11CallMode === undefined ? {} : { pkcs11CallMode }),
  };
}

/** Answer of `POST /v1/cckm/hsm/partitions/{id}/test`. */
export interface PartitionTestResource {
  readonly id: string;
  readonly name: string;
  readonly ready: boolean;
  /** `ready`, or the PKCS#11 failure (e.g. `CKR_PIN_INCORRECT`). */
  readonly message: string;
}
