/**
 * PENDING HSM keys against a real SoftHSM2 token: the agent's generate call times out after the
 * HSM made the key (or before it did), the record is kept as PENDING with its label, and reading
 * it or the sweep settles it by asking the HSM: completed from what the HSM reports, or removed
 * (record, label claim, partition count) once the HSM is known not to have it.
 */
import { AGENT_CALL_TIMEOUT_MS, pkcs11Config } from '../../../lambdas/adapters/pkcs11/config';
import { Pkcs11HsmAgent } from '../../../lambdas/adapters/pkcs11/hsm-agent';
import type { GenerateKeyRequest, HsmKeyInfo, KeyAttributeName, PartitionConnection } from '../../../lambdas/contract/hsm';
import { DependencyError, NotFoundError } from '../../../lambdas/core/errors';
import type { HsmKeyData } from '../../../lambdas/core/hsm/hsm-key';
import { HsmKeyService } from '../../../lambdas/core/hsm/hsm-key-service';
import { PendingHsmKeys, SETTLE_AFTER_MS } from '../../../lambdas/core/hsm/pending-hsm-keys';
import { HsmError } from '../../../lambdas/core/ports/hsm';
import { admin, ids, rejectionOf, seedPartition } from '../../helpers/key-fixtures';
import { MemoryStateStore } from '../../helpers/memory-state-store';
import { createTestToken, type TestToken } from '../../helpers/softhsm';

/** The real agent, whose generate call "times out": after the HSM made the key, or without calling it. */
class TimingOutAgent extends Pkcs11HsmAgent {
  mode: 'after' | 'before' | 'none' = 'none';

  override async generateKey(partition: PartitionConnection, request: GenerateKeyRequest): Promise<HsmKeyInfo> {
    if (this.mode === 'before') throw new HsmError('TIMEOUT', undefined, 'the call ran out of time');
    const info = await super.generateKey(partition, request);
    if (this.mode === 'after') throw new HsmError('TIMEOUT', undefined, 'the answer came too late');
    return info;
  }
}

let token: TestToken;
let agent: TimingOutAgent;
let state: MemoryStateStore;
let now: number;
let service: HsmKeyService;
let partitionId: string;
const clock = { now: () => new Date(now) };

beforeAll(async () => {
  token = await createTestToken({ prefix: 'pending' });
  agent = new TimingOutAgent(pkcs11Config({ callTimeoutMs: AGENT_CALL_TIMEOUT_MS }), token.secretStore);
});

beforeEach(async () => {
  now = Date.parse('2026-12-01T12:00:00Z');
  state = new MemoryStateStore();
  partitionId = (await seedPartition(state, { id: token.partition.partitionId, tokenLabel: token.partition.tokenLabel })).id;
  service = new HsmKeyService({ state, hsmAgent: agent, clock, ids });
  agent.mode = 'none';
});

const request = (label: string) => ({ partition_id: partitionId, label, attributes: ['CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_WRAP', 'CKA_UNWRAP'] as KeyAttributeName[] });
const onlyKey = async () => (await state.list<HsmKeyData>('hsmKey'))[0];
const partitionCount = async () => (await state.get('partition', partitionId))!.counters.hsmKeys ?? 0;

it('keeps the record PENDING when the call timed out after the HSM made the key; GET completes it from the HSM', async () => {
  // Arrange
  agent.mode = 'after';
  const failed = await rejectionOf(service.create(request('late-answer')));
  const pending = await onlyKey();

  // Act
  agent.mode = 'none';
  const got = await service.get(admin().principal, pending.id);

  // Assert
  expect(failed).toBeInstanceOf(DependencyError);
  expect(failed.message).toContain(`HSM key ${pending.id} (label "late-answer") is kept as PENDING`);
  expect(pending.data).toMatchObject({ status: 'PENDING', label: 'late-answer' });
  expect(got).toMatchObject({ id: pending.id, status: 'AVAILABLE', label: 'late-answer', key_type: 'AES', size: 256 });
  expect(got.attributes).toMatchObject({ CKA_ENCRYPT: true, CKA_UNWRAP: true, CKA_SIGN: false });
  expect(await agent.describeKey({ partition: token.partition, objectId: got.object_id })).toMatchObject({ label: 'late-answer' });
  expect(await partitionCount()).toBe(1);
});

it('keeps a key the HSM never made PENDING while the call may still run, then removes record, label claim and count', async () => {
  // Arrange
  agent.mode = 'before';
  await rejectionOf(service.create(request('never-made')));
  const pending = await onlyKey();
  agent.mode = 'none';

  // Act
  const early = await service.get(admin().principal, pending.id);
  now += SETTLE_AFTER_MS + 1;
  const late = await rejectionOf(service.get(admin().principal, pending.id));

  // Assert
  expect(early.status).toBe('PENDING');
  expect(late).toBeInstanceOf(NotFoundError);
  expect(await state.get('hsmKey', pending.id)).toBeUndefined();
  expect(await partitionCount()).toBe(0);
  await expect(service.create(request('never-made'))).resolves.toMatchObject({ status: 'AVAILABLE' });
});

it('the sweep settles every PENDING key and leaves the ones the HSM cannot answer for', async () => {
  // Arrange: one made late, one never made, one in a partition whose token is gone
  agent.mode = 'after';
  await rejectionOf(service.create(request('made')));
  agent.mode = 'before';
  await rejectionOf(service.create(request('absent')));
  const ghost = await seedPartition(state, { tokenLabel: 'no-such-token' });
  await rejectionOf(service.create({ ...request('unreachable'), partition_id: ghost.id }));
  agent.mode = 'none';
  const byLabel = async (label: string) => (await state.list<HsmKeyData>('hsmKey')).find((k) => k.data.label === label)!;
  const [made, absent, unreachable] = [await byLabel('made'), await byLabel('absent'), await byLabel('unreachable')];
  now += SETTLE_AFTER_MS + 1;

  // Act
  const settled = await new PendingHsmKeys({ state, hsmAgent: agent, clock }).settleAll();

  // Assert
  expect(settled).toEqual({ completed: [made.id], removed: [absent.id], unsettled: [unreachable.id] });
  expect((await state.get<HsmKeyData>('hsmKey', made.id))!.data.status).toBe('AVAILABLE');
  expect((await state.get<HsmKeyData>('hsmKey', unreachable.id))!.data.status).toBe('PENDING');
});

it('a failure that is not a timeout still removes the record at once', async () => {
  const failing = new HsmKeyService({ state, hsmAgent: Object.assign(Object.create(agent), { generateKey: async () => { throw new HsmError('DEVICE_ERROR', 'CKR_DEVICE_ERROR', 'broken'); } }), clock, ids });
  await rejectionOf(failing.create(request('broken')));
  expect(await state.list('hsmKey')).toEqual([]);
  expect(await partitionCount()).toBe(0);
});
