/**
 * HsmPartitionService and HsmKeyService on the in-memory StateStore and secret store, with a
 * scripted HsmAgent (the real one runs in test/integration/control-plane against SoftHSM2).
 */
import { ConflictError, NotFoundError, ValidationError } from '../../../../lambdas/core/errors';
import { HsmError, type HsmAgent } from '../../../../lambdas/core/ports/hsm';
import {
  KEY_ATTRIBUTE_NAMES,
  type GenerateKeyRequest,
  type HsmKeyInfo,
  type HsmKeyRef,
  type PartitionConnection,
  type PartitionTestResult,
} from '../../../../lambdas/contract/hsm';
import { HSM_KEY_COUNTERS } from '../../../../lambdas/core/hsm/hsm-key';
import { secretNames } from '../../../../lambdas/core/secret-names';
import { HsmKeyService } from '../../../../lambdas/core/hsm/hsm-key-service';
import { HsmPartitionService } from '../../../../lambdas/core/hsm/hsm-partition-service';
import type { PartitionData } from '../../../../lambdas/core/hsm/partition';
import { MemorySecretStore } from '../../../helpers/softhsm';
import { MemoryStateStore } from '../../../helpers/memory-state-store';
import { admin, clock, ids, rejectionOf } from '../../../helpers/key-fixtures';

const ADMIN = admin().principal;

/** Keeps generated keys in a map; `failNext` makes the next call fail. */
class ScriptedHsmAgent implements HsmAgent {
  readonly keys = new Map<string, HsmKeyInfo>();
  readonly tested: PartitionConnection[] = [];
  failNext?: Error;
  /** Overrides what generateKey reports (e.g. a wrong key type). */
  report?: Partial<HsmKeyInfo>;

  private fail(): void {
    const error = this.failNext;
    this.failNext = undefined;
    if (error) throw error;
  }

  async testPartition(partition: PartitionConnection): Promise<PartitionTestResult> {
    this.tested.push(partition);
    return { ready: false, message: 'CKR_PIN_INCORRECT' };
  }

  async generateKey(_partition: PartitionConnection, request: GenerateKeyRequest): Promise<HsmKeyInfo> {
    this.fail();
    const info: HsmKeyInfo = {
      objectId: request.objectId,
      label: request.label,
      keyType: request.keyType ?? 'AES',
      sizeBits: request.sizeBits,
      attributes: { ...request.attributes, CKA_TOKEN: true },
      ...(request.curve === undefined ? {} : { curve: request.curve }),
      ...(request.keyType === 'RSA' || request.keyType === 'EC' ? { publicKeyPem: '-----BEGIN PUBLIC KEY-----\nscripted\n-----END PUBLIC KEY-----\n' } : {}),
      ...this.report,
    };
    this.keys.set(request.objectId, info);
    return info;
  }

  async describeKey(key: HsmKeyRef): Promise<HsmKeyInfo | undefined> {
    return this.keys.get(key.objectId);
  }

  async destroyKey(key: HsmKeyRef): Promise<void> {
    this.fail();
    this.keys.delete(key.objectId);
  }

  async checkKey(): Promise<PartitionTestResult> {
    return { ready: true, message: 'ready' };
  }

  async wrapKeyForImport(): Promise<never> {
    throw new Error('not used by these tests');
  }

  async signHmac(): Promise<never> {
    throw new Error('not used by these tests');
  }

  async encrypt(): Promise<never> {
    throw new Error('not used by these tests');
  }

  async decrypt(): Promise<never> {
    throw new Error('not used by these tests');
  }
}

const PIN = 'pin-0000-never-shown';
let state: MemoryStateStore;
let secrets: MemorySecretStore;
let agent: ScriptedHsmAgent;
let partitions: HsmPartitionService;
let keys: HsmKeyService;

beforeEach(() => {
  state = new MemoryStateStore();
  secrets = new MemorySecretStore();
  agent = new ScriptedHsmAgent();
  partitions = new HsmPartitionService({ state, secrets, hsmAgent: agent, clock, ids });
  keys = new HsmKeyService({ state, hsmAgent: agent, clock, ids });
});

const createPartition = (name = 'luna-1') => partitions.create({ name, hsm_type: 'luna', token_label: 'par1', pin: PIN, description: 'primary' });

describe('HsmPartitionService', () => {
  it('keeps the PIN in the secret store only, never in the record or a response', async () => {
    const created = await createPartition();

    expect(created).toEqual({
      id: expect.any(String),
      uri: `kylo:kylo:cckm:hsm_partition:${created.id}`,
      account: 'kylo:kylo:admin:accounts:kylo',
      application: 'ncryptify:gemalto:admin:apps:kylo',
      devAccount: 'ncryptify:gemalto:admin:accounts:gemalto',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      name: 'luna-1',
      hsm_type: 'luna',
      token_label: 'par1',
      partition_label: 'par1',
      description: 'primary',
      gcm_iv_convention: 'hsm-after-tag',
      members: [{ id: created.id, token_label: 'par1' }],
    });
    expect(secrets.values.get(secretNames.hsmPin(created.id))).toBe(PIN);
    const everything = JSON.stringify([await state.list('partition'), state.transactions, await partitions.list({}), await partitions.get(created.id)]);
    expect(everything).not.toContain(PIN);
  });

  it('refuses a taken name with a 409 and leaves no orphan secret', async () => {
    await createPartition();
    await expect(createPartition()).rejects.toThrow(new ConflictError('An HSM partition named "luna-1" already exists'));
    expect(secrets.values.size).toBe(1);
  });

  it('replaces the PIN secret and changes label and description on PATCH', async () => {
    const { id } = await createPartition();
    const updated = await partitions.update(id, { pin: 'new-pin', token_label: 'par2', description: 'moved' });
    expect(updated).toMatchObject({ token_label: 'par2', description: 'moved' });
    expect(secrets.values.get(secretNames.hsmPin(id))).toBe('new-pin');
    await expect(partitions.update('missing', { description: 'x' })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('shows the HSM type\'s IV convention, or the one the operator set, and passes a set one to the HSM side', async () => {
    const luna = await createPartition();
    const set = await partitions.create({ name: 'luna-2', hsm_type: 'luna', token_label: 'par2', pin: PIN, gcm_iv_convention: 'caller-hsm-rng' });
    const changed = await partitions.update(luna.id, { gcm_iv_convention: 'hsm-in-iv-buffer' });
    await partitions.test(set.id);

    expect(luna.gcm_iv_convention).toBe('hsm-after-tag');
    expect(set.gcm_iv_convention).toBe('caller-hsm-rng');
    expect(changed.gcm_iv_convention).toBe('hsm-in-iv-buffer');
    expect(agent.tested).toEqual([{ partitionId: set.id, hsmType: 'luna', tokenLabel: 'par2', pinSecretName: secretNames.hsmPin(set.id), gcmIvConvention: 'caller-hsm-rng' }]);
  });

  it('keeps a pkcs11_call_mode the operator set, shows none otherwise, and passes a set one to the HSM side', async () => {
    const luna = await createPartition();
    const inline = await partitions.create({ name: 'luna-pcie', hsm_type: 'luna', token_label: 'pcie', pin: PIN, pkcs11_call_mode: 'inline' });
    const changed = await partitions.update(luna.id, { pkcs11_call_mode: 'worker-thread' });
    await partitions.test(inline.id);

    expect(luna).not.toHaveProperty('pkcs11_call_mode');
    expect(inline.pkcs11_call_mode).toBe('inline');
    expect(changed.pkcs11_call_mode).toBe('worker-thread');
    expect(await partitions.get(inline.id)).toMatchObject({ pkcs11_call_mode: 'inline' });
    expect(agent.tested).toEqual([{ partitionId: inline.id, hsmType: 'luna', tokenLabel: 'pcie', pinSecretName: secretNames.hsmPin(inline.id), pkcs11CallMode: 'inline' }]);
  });

  it('keeps the HSMs the partition reaches (members) for the proxy\'s health check; a repeated id or label is a 400 naming members', async () => {
    const members = [{ id: 'hsm-1', token_label: 'ha-member-1' }, { id: 'hsm-2', token_label: 'ha-member-2' }];
    const created = await partitions.create({ name: 'luna-ha', hsm_type: 'luna', token_label: 'ha-group', pin: PIN, members });
    expect(created.members).toEqual(members);
    const stored = await state.get<PartitionData>('partition', created.id);
    expect(stored?.data.members).toEqual([{ id: 'hsm-1', tokenLabel: 'ha-member-1' }, { id: 'hsm-2', tokenLabel: 'ha-member-2' }]);
    expect((await partitions.update(created.id, { members: [members[1]!] })).members).toEqual([members[1]]);
    const before = await partitions.get(created.id);
    for (const repeated of [[members[0]!, { ...members[1]!, id: 'hsm-1' }], [members[0]!, { ...members[1]!, token_label: 'ha-member-1' }]]) {
      await expect(partitions.update(created.id, { members: repeated })).rejects.toMatchObject({ statusCode: 400, message: expect.stringMatching(/^members: two members have the/) });
      await expect(partitions.create({ name: 'luna-ha-2', hsm_type: 'luna', token_label: 'x', pin: PIN, members: repeated })).rejects.toBeInstanceOf(ValidationError);
    }
    expect(await partitions.get(created.id)).toEqual(before);
    expect(await partitions.list({ name: 'luna-ha-2' })).toMatchObject({ total: 0 });
  });

  it('keeps a cloudhsm partition\'s cluster id for the proxy\'s per-HSM health; setting it or members drops the other', async () => {
    // Arrange
    const created = await partitions.create({ name: 'cluster', hsm_type: 'cloudhsm', token_label: 'cavium', pin: PIN, cloudhsm_cluster_id: 'cluster-igklspoyj5v' });
    // Act
    const withMembers = await partitions.update(created.id, { members: [{ id: 'cluster-a', token_label: 'slot-a' }] });
    const withCluster = await partitions.update(created.id, { cloudhsm_cluster_id: 'cluster-jhkmstrwx2y' });
    const described = await partitions.update(created.id, { description: 'kept' });
    // Assert
    expect(created.cloudhsm_cluster_id).toBe('cluster-igklspoyj5v');
    expect(withMembers).not.toHaveProperty('cloudhsm_cluster_id');
    expect(withMembers.members).toEqual([{ id: 'cluster-a', token_label: 'slot-a' }]);
    expect(withCluster.cloudhsm_cluster_id).toBe('cluster-jhkmstrwx2y');
    expect(withCluster.members).toEqual([{ id: created.id, token_label: 'cavium' }]);
    expect(described.cloudhsm_cluster_id).toBe('cluster-jhkmstrwx2y');
    const stored = (await state.get<PartitionData>('partition', created.id))?.data;
    expect(stored?.cloudHsmClusterId).toBe('cluster-jhkmstrwx2y');
    expect(stored).not.toHaveProperty('members');
  });

  it('refuses cloudhsm_cluster_id on another HSM type, or with members, with a 400 naming it and no change made', async () => {
    const luna = await partitions.create({ name: 'luna', hsm_type: 'luna', token_label: 'par1', pin: PIN });
    const cluster = await partitions.create({ name: 'cluster', hsm_type: 'cloudhsm', token_label: 'cavium', pin: PIN });
    const pinBefore = await secrets.get(secretNames.hsmPin(cluster.id));
    const refusals = [
      rejectionOf(partitions.create({ name: 'luna-2', hsm_type: 'luna', token_label: 'x', pin: PIN, cloudhsm_cluster_id: 'cluster-igklspoyj5v' })),
      rejectionOf(partitions.update(luna.id, { cloudhsm_cluster_id: 'cluster-igklspoyj5v' })),
      rejectionOf(partitions.update(cluster.id, { pin: 'another-pin', cloudhsm_cluster_id: 'cluster-igklspoyj5v', members: [{ id: 'a', token_label: 'a' }] })),
    ];
    for (const refusal of await Promise.all(refusals)) {
      expect(refusal).toMatchObject({ statusCode: 400, message: expect.stringMatching(/^cloudhsm_cluster_id: /) });
    }
    expect(await partitions.get(cluster.id)).toEqual(cluster);
    expect(await secrets.get(secretNames.hsmPin(cluster.id))).toBe(pinBefore);
    expect(await partitions.list({ name: 'luna-2' })).toMatchObject({ total: 0 });
  });

  it('tests the partition through the HSM agent, by secret name', async () => {
    const { id } = await createPartition();
    await expect(partitions.test(id)).resolves.toEqual({ id, name: 'luna-1', ready: false, message: 'CKR_PIN_INCORRECT' });
    expect(agent.tested).toEqual([{ partitionId: id, hsmType: 'luna', tokenLabel: 'par1', pinSecretName: secretNames.hsmPin(id) }]);
  });

  it('is deleted (with its PIN) only when no source key is in it', async () => {
    const { id } = await createPartition();
    const key = await keys.create({ partition_id: id, label: 'k1', attributes: ['CKA_ENCRYPT'] });

    await expect(partitions.delete(id)).rejects.toThrow(new ConflictError('The HSM partition "luna-1" cannot be deleted while it holds source keys (delete them first)'));
    expect(secrets.values.has(secretNames.hsmPin(id))).toBe(true);

    await keys.delete(key.id);
    await partitions.delete(id);
    expect(secrets.values.size).toBe(0);
    await expect(partitions.get(id)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('HsmKeyService', () => {
  it('generates the key with the listed attributes true and every other false, and shows what the HSM reports', async () => {
    const { id: partitionId } = await createPartition();

    const created = await keys.create({ partition_id: partitionId, label: 'src-1', attributes: ['CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_SENSITIVE'] });

    const [generated] = agent.keys.values();
    expect(generated.objectId).toMatch(/^[0-9a-f]{32}$/);
    expect(KEY_ATTRIBUTE_NAMES.filter((name) => generated.attributes[name])).toEqual(['CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_SENSITIVE', 'CKA_TOKEN']);
    expect(created).toMatchObject({
      uri: `kylo:kylo:cckm:hsm_key:${created.id}`,
      partition_id: partitionId,
      partition_label: 'par1',
      label: 'src-1',
      object_id: generated.objectId,
      mechanism: 'CKM_AES_KEY_GEN',
      key_type: 'AES',
      size: 256,
      status: 'AVAILABLE',
      attributes: generated.attributes,
    });
    await expect(keys.get(ADMIN, created.id)).resolves.toEqual(created);
    expect((await keys.list(ADMIN, { partition_id: partitionId, label: 'src-1' })).resources).toEqual([created]);
  });

  it('refuses an unknown partition with a 400 naming partition_id and changes nothing', async () => {
    const error = await rejectionOf(keys.create({ partition_id: 'nope', label: 'k', attributes: [] }));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('partition_id');
    expect(state.transactions).toEqual([]);
    expect(agent.keys.size).toBe(0);
  });

  it('refuses a label already used in the partition before touching the HSM', async () => {
    const { id: partitionId } = await createPartition();
    await keys.create({ partition_id: partitionId, label: 'dup', attributes: [] });
    await expect(keys.create({ partition_id: partitionId, label: 'dup', attributes: [] })).rejects.toBeInstanceOf(ConflictError);
    expect(agent.keys.size).toBe(1);
  });

  it('removes the record again when the HSM fails, and passes the failure on', async () => {
    const { id: partitionId } = await createPartition();
    agent.failNext = new HsmError('LOGIN_FAILED', 'CKR_PIN_INCORRECT', 'login failed');

    await expect(keys.create({ partition_id: partitionId, label: 'k', attributes: [] })).rejects.toBeInstanceOf(HsmError);

    expect(await state.list('hsmKey')).toEqual([]);
    expect((await state.get('partition', partitionId))?.counters).toEqual({ hsmKeys: 0 });
    await expect(keys.create({ partition_id: partitionId, label: 'k', attributes: [] })).resolves.toMatchObject({ status: 'AVAILABLE' });
  });

  it('destroys and forgets a key the HSM did not make AES-256', async () => {
    const { id: partitionId } = await createPartition();
    agent.report = { sizeBits: 128 };
    await expect(keys.create({ partition_id: partitionId, label: 'k', attributes: [] })).rejects.toThrow('The HSM generated a key of type AES-128 instead of AES-256');
    expect(agent.keys.size).toBe(0);
    expect(await state.list('hsmKey')).toEqual([]);
  });

  it.each([
    ['an RSA 3072 key pair', { mechanism: 'CKM_RSA_PKCS_KEY_PAIR_GEN', size: 3072 }, { key_type: 'RSA', size: 3072, public_key: expect.stringContaining('BEGIN PUBLIC KEY') }],
    ['an EC secp256k1 key pair', { mechanism: 'CKM_EC_KEY_PAIR_GEN', curve: 'secp256k1' }, { key_type: 'EC', size: 256, curve: 'secp256k1', public_key: expect.any(String) }],
    ['a generic secret for HMAC 384', { mechanism: 'CKM_GENERIC_SECRET_KEY_GEN', size: 384 }, { key_type: 'GENERIC_SECRET', size: 384 }],
  ] as const)('generates %s on a SoftHSM2 partition and shows its type, size or curve and public key', async (_name, typeFields, shown) => {
    // Arrange
    const { id: partitionId } = await partitions.create({ name: 'soft', hsm_type: 'softhsm', token_label: 'soft1', pin: PIN });
    // Act
    const created = await keys.create({ partition_id: partitionId, label: 'typed', attributes: ['CKA_SIGN', 'CKA_SENSITIVE', 'CKA_EXTRACTABLE'], ...typeFields });
    // Assert
    expect(created).toMatchObject({ mechanism: typeFields.mechanism, status: 'AVAILABLE', ...shown });
    expect([...agent.keys.values()][0]).toMatchObject({ keyType: shown.key_type, sizeBits: shown.size });
  });

  it.each([
    ['an EC key without a curve', { mechanism: 'CKM_EC_KEY_PAIR_GEN' }, 'curve'],
    ['an EC key with a size', { mechanism: 'CKM_EC_KEY_PAIR_GEN', curve: 'P-256', size: 256 }, 'size'],
    ['an RSA size AWS KMS does not take', { mechanism: 'CKM_RSA_PKCS_KEY_PAIR_GEN', size: 224 }, 'size'],
    ['an RSA key without a size', { mechanism: 'CKM_RSA_PKCS_KEY_PAIR_GEN' }, 'size'],
    ['a curve on an AES key', { curve: 'P-256' }, 'curve'],
    ['an AES size other than 256', { size: 512 }, 'size'],
    ['a generic secret on a Luna partition', { mechanism: 'CKM_GENERIC_SECRET_KEY_GEN', size: 256 }, 'mechanism'],
    ['an extractable key that is not sensitive', { attributes: ['CKA_EXTRACTABLE'] }, 'attributes'],
  ] as const)('refuses %s with a 400 naming %s, before touching state or the HSM', async (_name, fields, field) => {
    const { id: partitionId } = await createPartition();

    const error = await rejectionOf(keys.create({ partition_id: partitionId, label: 'k', attributes: [], ...fields }));

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe(field);
    expect(await state.list('hsmKey')).toEqual([]);
    expect(agent.keys.size).toBe(0);
  });

  it('is deleted only while nothing references it, and destroyed in the HSM', async () => {
    const { id: partitionId } = await createPartition();
    const key = await keys.create({ partition_id: partitionId, label: 'k', attributes: [] });
    await state.transact([{ op: 'count', kind: 'hsmKey', id: key.id, counter: HSM_KEY_COUNTERS.references, delta: 1 }]);

    await expect(keys.delete(key.id)).rejects.toThrow(new ConflictError('The HSM key "k" cannot be deleted while a key store, a virtual key or an uploaded AWS key uses it'));
    expect(agent.keys.has(key.object_id)).toBe(true);

    await state.transact([{ op: 'count', kind: 'hsmKey', id: key.id, counter: HSM_KEY_COUNTERS.references, delta: -1 }]);
    await keys.delete(key.id);
    expect(agent.keys.has(key.object_id)).toBe(false);
    await expect(keys.get(ADMIN, key.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('puts the record back when the HSM cannot destroy the key', async () => {
    const { id: partitionId } = await createPartition();
    const key = await keys.create({ partition_id: partitionId, label: 'k', attributes: [] });
    agent.failNext = new HsmError('TIMEOUT', undefined, 'no answer');

    await expect(keys.delete(key.id)).rejects.toBeInstanceOf(HsmError);

    await expect(keys.get(ADMIN, key.id)).resolves.toEqual(key);
    expect((await state.get('partition', partitionId))?.counters).toEqual({ hsmKeys: 1 });
  });
});
