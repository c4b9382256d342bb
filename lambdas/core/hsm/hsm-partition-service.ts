/**
 * HSM partitions (`/v1/cckm/hsm/partitions`): create, list, get, update, delete, test.
 *
 * The PIN goes to the SecretStore under `secretNames.hsmPin(id)` before the record that refers to
 * it is written (a record never points at a missing secret), and is never returned, logged or put
 * in a message. A partition is deleted only while no source key is in it (`requireZero` on its
 * `hsmKeys` counter, adjusted by the HSM key service in its own transactions).
 */
import { NotFoundError, ValidationError } from '../errors';
import type { HsmAgent } from '../ports/hsm';
import { LISTS } from '../../contract/lists';
import { type ListPage, parseList } from '../listing';
import type { IdGenerator } from '../ports/id-generator';
import type { Clock } from '../ports/clock';
import {
  duplicateMember,
  PARTITION_COUNTERS,
  partitionConnection,
  type PartitionData,
  partitionResource,
  type PartitionResource,
  type PartitionTestResource,
} from './partition';
import type { HsmType, PartitionMember } from '../../contract/hsm';
import { secretNames } from '../secret-names';
import type { SecretStore } from '../ports/secret-store';
import type { StateStore } from '../ports/state-store';
import { CHANGED_CONCURRENTLY, retryOnChange } from '../retry-on-change';
import type { CreateHsmPartitionRequest, UpdateHsmPartitionRequest } from '../../contract/hsm-schemas';

export const PARTITION_RESOURCE = 'HSM partition';

/**
 * POST /v1/cckm/hsm/partitions and PATCH .../{id}: the types of `hsmSchemas.createPartition` and
 * `updatePartition`. A new `gcm_iv_convention` applies to new encryptions within the proxy's state
 * staleness; older ciphertexts still decrypt (decryption takes the IV as given). A new
 * `pkcs11_call_mode` applies to new sessions: the partition's connection is then another one, with
 * a session pool of its own (adapters/pkcs11/partitions.ts).
 */
export type { CreateHsmPartitionRequest, UpdateHsmPartitionRequest };

export interface HsmPartitionServiceDeps {
  readonly state: StateStore;
  readonly secrets: SecretStore;
  readonly hsmAgent: HsmAgent;
  readonly clock: Clock;
  readonly ids: IdGenerator;
}

export class HsmPartitionService {
  constructor(private readonly deps: HsmPartitionServiceDeps) {}

  /**
   * 1. Store the PIN as a secret.
   * 2. Write the partition and its name claim in one transaction.
   * 3. If that fails (a taken name: 409), remove the secret again.
   */
  async create(request: CreateHsmPartitionRequest): Promise<PartitionResource> {
    const members = membersOf(request.members);
    const cloudHsmClusterId = clusterIdOf(request, request.hsm_type);
    const id = this.deps.ids.newId();
    const now = this.deps.clock.now().toISOString();
    const data: PartitionData = {
      name: request.name,
      hsmType: request.hsm_type,
      tokenLabel: request.token_label,
      ...(request.description === undefined ? {} : { description: request.description }),
      ...(request.gcm_iv_convention === undefined ? {} : { gcmIvConvention: request.gcm_iv_convention }),
      ...(request.pkcs11_call_mode === undefined ? {} : { pkcs11CallMode: request.pkcs11_call_mode }),
      ...(members === undefined ? {} : { members }),
      ...(cloudHsmClusterId === undefined ? {} : { cloudHsmClusterId }),
      createdAt: now,
      updatedAt: now,
    };
    await this.deps.secrets.put(secretNames.hsmPin(id), request.pin);
    try {
      await this.deps.state.transact([
        { op: 'create', kind: 'partition', id, data, uniqueName: data.name, counters: { [PARTITION_COUNTERS.hsmKeys]: 0 }, conflictMessage: `An HSM partition named ${JSON.stringify(data.name)} already exists` },
      ]);
    } catch (error) {
      await this.deps.secrets.delete(secretNames.hsmPin(id));
      throw error;
    }
    return partitionResource(id, data);
  }

  /** Filters `id`, `name`, `hsm_type`, `token_label`. */
  async list(query: Readonly<Record<string, string | undefined>>): Promise<ListPage<PartitionResource>> {
    const listing = parseList(query, LISTS.hsmPartitions);
    return listing.page((await this.deps.state.list<PartitionData>('partition')).map((p) => partitionResource(p.id, p.data)));
  }

  async get(id: string): Promise<PartitionResource> {
    const partition = await this.deps.state.get<PartitionData>('partition', id);
    if (!partition) throw new NotFoundError(PARTITION_RESOURCE, id);
    return partitionResource(id, partition.data);
  }

  /** A new PIN replaces the secret first, so the record never claims a change the secret lacks. */
  async update(id: string, request: UpdateHsmPartitionRequest): Promise<PartitionResource> {
    const members = membersOf(request.members);
    const current = await this.deps.state.get<PartitionData>('partition', id);
    if (!current) throw new NotFoundError(PARTITION_RESOURCE, id);
    // Checked before the PIN changes; a partition's HSM type never does.
    const cloudHsmClusterId = clusterIdOf(request, current.data.hsmType);
    if (request.pin !== undefined) await this.deps.secrets.put(secretNames.hsmPin(id), request.pin);
    return retryOnChange(async () => {
      const partition = await this.deps.state.get<PartitionData>('partition', id);
      if (!partition) throw new NotFoundError(PARTITION_RESOURCE, id);
      // Two ways to say which HSMs the partition reaches (members, or the cluster's HSMs): the one set last applies.
      const { members: oldMembers, cloudHsmClusterId: oldClusterId, ...kept } = partition.data;
      const reach = members !== undefined ? { members } : cloudHsmClusterId !== undefined ? { cloudHsmClusterId } : { members: oldMembers, cloudHsmClusterId: oldClusterId };
      const data: PartitionData = {
        ...kept,
        ...(request.token_label === undefined ? {} : { tokenLabel: request.token_label }),
        ...(request.description === undefined ? {} : { description: request.description }),
        ...(request.gcm_iv_convention === undefined ? {} : { gcmIvConvention: request.gcm_iv_convention }),
        ...(request.pkcs11_call_mode === undefined ? {} : { pkcs11CallMode: request.pkcs11_call_mode }),
        ...(reach.members === undefined ? {} : { members: reach.members }),
        ...(reach.cloudHsmClusterId === undefined ? {} : { cloudHsmClusterId: reach.cloudHsmClusterId }),
        updatedAt: this.deps.clock.now().toISOString(),
      };
      await this.deps.state.transact([{ op: 'update', kind: 'partition', id, data, expectedVersion: partition.version, conflictMessage: CHANGED_CONCURRENTLY }]);
      return partitionResource(id, data);
    });
  }

  /** Refused (409) while source keys are in it; the PIN secret goes with the record. */
  async delete(id: string): Promise<void> {
    const partition = await this.deps.state.get<PartitionData>('partition', id);
    if (!partition) throw new NotFoundError(PARTITION_RESOURCE, id);
    await this.deps.state.transact([
      {
        op: 'delete',
        kind: 'partition',
        id,
        uniqueName: partition.data.name,
        requireZero: [PARTITION_COUNTERS.hsmKeys],
        conflictMessage: `The HSM partition ${JSON.stringify(partition.data.name)} cannot be deleted while it holds source keys (delete them first)`,
      },
    ]);
    await this.deps.secrets.delete(secretNames.hsmPin(id));
  }

  /** The HSM agent logs in with the stored PIN (this function never reads it): ready, or the PKCS#11 failure. */
  async test(id: string): Promise<PartitionTestResource> {
    const partition = await this.deps.state.get<PartitionData>('partition', id);
    if (!partition) throw new NotFoundError(PARTITION_RESOURCE, id);
    const result = await this.deps.hsmAgent.testPartition(partitionConnection(id, partition.data));
    return { id, name: partition.data.name, ready: result.ready, message: result.message };
  }
}

/**
 * The request's CloudHSM cluster id: only for `cloudhsm` partitions, and not with `members` in the
 * same request (the cluster's HSMs are its members); a 400 naming `cloudhsm_cluster_id` otherwise.
 */
function clusterIdOf(request: Pick<CreateHsmPartitionRequest, 'cloudhsm_cluster_id' | 'members'>, hsmType: HsmType): string | undefined {
  const clusterId = request.cloudhsm_cluster_id;
  if (clusterId === undefined) return undefined;
  if (hsmType !== 'cloudhsm') throw new ValidationError(`applies to cloudhsm partitions only; this one is ${hsmType}`, 'cloudhsm_cluster_id');
  if (request.members !== undefined) throw new ValidationError('cannot be given with members: the proxy lists the cluster\'s HSMs as the partition\'s members', 'cloudhsm_cluster_id');
  return clusterId;
}

/** The request's members as stored; a repeated id or token label is a 400 naming `members`. */
function membersOf(requested: CreateHsmPartitionRequest['members']): readonly PartitionMember[] | undefined {
  if (requested === undefined) return undefined;
  const members = requested.map((member) => ({ id: member.id, tokenLabel: member.token_label }));
  const duplicate = duplicateMember(members);
  if (duplicate) throw new ValidationError(duplicate, 'members');
  return members;
}
