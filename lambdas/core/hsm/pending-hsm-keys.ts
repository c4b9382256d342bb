/**
 * HSM keys whose generation timed out. The agent's generate call may time out after the HSM made
 * the key (a slow network HSM, the agent function's own limit), so removing the record then could
 * leave a key in the HSM that no record names. Instead the record stays, `PENDING`, under the
 * label and CKA_ID it asked for, and is settled later by looking the key up in the HSM:
 *  - found with that CKA_ID and label: the record is completed from what the HSM reports (`AVAILABLE`);
 *  - known absent (the HSM answers, and has no such key) once the generate call cannot still be
 *    running (`SETTLE_AFTER_MS`): the record, its label claim and the partition's count are removed;
 *  - the HSM cannot be asked, or has an object under that CKA_ID with another label: it stays
 *    `PENDING` (tried again later; the second case needs an operator).
 * Reading the key (GET) settles it, and so does the daily sweep (`settleAll`, which also settles
 * `in_progress` records left by a crash, once they are that old).
 */
import { ConflictError, DependencyError, isError } from '../errors';
import { HsmError, type HsmAgent } from '../ports/hsm';
import type { Clock } from '../ports/clock';
import type { EntityRecord, StateStore } from '../ports/state-store';
import { availableHsmKey, type HsmKeyData, hsmKeyRef, hsmKeyRemovalOps } from './hsm-key';
import { partitionConnection, type PartitionData } from './partition';

/** The longest a generate call can still run: a Lambda invocation's 15-minute limit. */
export const SETTLE_AFTER_MS = 15 * 60_000;

export type HsmKeyRecord = EntityRecord<HsmKeyData>;

/** Whether an agent call failed by running out of time (its outcome in the HSM is unknown). */
export function isTimeout(error: unknown): error is HsmError {
  return isError(error, HsmError) && error.reason === 'TIMEOUT';
}

export interface SettledHsmKeys {
  readonly completed: readonly string[];
  readonly removed: readonly string[];
  readonly unsettled: readonly string[];
}

export class PendingHsmKeys {
  constructor(private readonly deps: { readonly state: StateStore; readonly hsmAgent: HsmAgent; readonly clock: Clock }) {}

  /** Marks a record that was just created (version 1) `PENDING`; returns the error the create answers with. */
  async markPending(id: string, key: HsmKeyData, cause: HsmError): Promise<Error> {
    const data: HsmKeyData = { ...key, status: 'PENDING', updatedAt: this.deps.clock.now().toISOString() };
    try {
      await this.deps.state.transact([{ op: 'update', kind: 'hsmKey', id, data, expectedVersion: 1 }]);
    } catch (error) {
      if (!isError(error, ConflictError)) throw error; // deleted meanwhile: its delete destroyed the HSM object
    }
    return new DependencyError(
      `The HSM did not answer in time; HSM key ${id} (label ${JSON.stringify(key.label)}) is kept as PENDING: reading it (GET /v1/cckm/hsm/keys/${id}) or the daily sweep completes it when the HSM has it, or removes it when the HSM does not`,
      { cause },
    );
  }

  /** Settles one key; the record as it is afterwards, undefined when it was removed. */
  async settle(key: HsmKeyRecord): Promise<HsmKeyRecord | undefined> {
    const { state, hsmAgent, clock } = this.deps;
    const partition = await state.get<PartitionData>('partition', key.data.partitionId);
    if (partition === undefined) return key;
    let info;
    try {
      info = await hsmAgent.describeKey(hsmKeyRef(key.data, partitionConnection(partition.id, partition.data)));
    } catch {
      return key; // the HSM cannot be asked now: still unknown
    }
    const now = clock.now();
    if (info !== undefined) {
      if (info.label !== key.data.label) return key;
      const data = availableHsmKey(key.data, info, now.toISOString());
      return this.write(key, [{ op: 'update', kind: 'hsmKey', id: key.id, data, expectedVersion: key.version }], { ...key, data, version: key.version + 1 });
    }
    if (now.getTime() - Date.parse(key.data.updatedAt) < SETTLE_AFTER_MS) return key; // the generate call may still be running
    const [deleteRecord, ...rest] = hsmKeyRemovalOps(key.id, key.data);
    return this.write(key, [{ ...deleteRecord, op: 'delete', expectedVersion: key.version }, ...rest], undefined);
  }

  /** Every `PENDING` key, and `in_progress` ones older than SETTLE_AFTER_MS (a crash mid-create). */
  async settleAll(): Promise<SettledHsmKeys> {
    const now = this.deps.clock.now().getTime();
    const keys = (await this.deps.state.list<HsmKeyData>('hsmKey')).filter(
      (k) => k.data.status === 'PENDING' || (k.data.status === 'in_progress' && now - Date.parse(k.data.updatedAt) >= SETTLE_AFTER_MS),
    );
    const completed: string[] = [];
    const removed: string[] = [];
    const unsettled: string[] = [];
    for (const key of keys) {
      const after = await this.settle(key);
      (after === undefined ? removed : after.data.status === 'AVAILABLE' ? completed : unsettled).push(key.id);
    }
    return { completed, removed, unsettled };
  }

  /** Applies `ops`; when the record changed meanwhile (another settle, a delete), the record as it is now. */
  private async write(key: HsmKeyRecord, ops: Parameters<StateStore['transact']>[0], result: HsmKeyRecord | undefined): Promise<HsmKeyRecord | undefined> {
    try {
      await this.deps.state.transact(ops);
      return result;
    } catch (error) {
      if (!isError(error, ConflictError)) throw error;
      return this.deps.state.get<HsmKeyData>('hsmKey', key.id);
    }
  }
}
