/**
 * Tenancy of key references: two account containers (A and B), two users (alice may act on A,
 * bob on B), and every create/rotate/update route that takes a key reference tried across the
 * boundary. A key of one container never backs another's key store or HYOK key (409 naming the
 * field, admins too); an unowned key is for admins only, and an admin's first reference assigns
 * it; to users, a key they may not see answers exactly like one that does not exist (403), and
 * lists show them only their containers' keys.
 */
import type { AclAction } from '../../../lambdas/contract/acl';
import { ConflictError, ForbiddenError, ValidationError } from '../../../lambdas/core/errors';
import type { HsmKeyData } from '../../../lambdas/core/hsm/hsm-key';
import { HsmKeyService } from '../../../lambdas/core/hsm/hsm-key-service';
import type { VirtualKeyData } from '../../../lambdas/core/keys/virtual-key';
import { admin, keyServices, type KeyServices, rejectionOf, seedAccount, seedHsmKey, seedPartition, user } from '../../helpers/key-fixtures';
import { MemoryStateStore } from '../../helpers/memory-state-store';
import { MemorySecretStore } from '../../helpers/softhsm';
import { fakeHsmAgent } from '../hsm-agent/fake-hsm-agent';

const ACTIONS: AclAction[] = ['keystoreadd', 'keystoreupdate', 'viewkeystore', 'hyokkeycreate', 'keyrotate', 'viewhyokkey'];

let state: MemoryStateStore;
let services: KeyServices;
let world: Awaited<ReturnType<typeof twoTenants>>;

async function twoTenants() {
  const a = await seedAccount(state, { acls: [{ user_id: 'alice', actions: ACTIONS }, { user_id: 'carol', actions: ACTIONS }] });
  const b = await seedAccount(state, { acls: [{ user_id: 'bob', actions: ACTIONS }, { user_id: 'carol', actions: ACTIONS }] });
  const partition = await seedPartition(state);
  const key = (accountId?: string) => seedHsmKey(state, partition.id, { accountId }).then((k) => k.id);
  const keys = { healthA: await key(a.id), healthB: await key(b.id), sourceA: await key(a.id), sourceB: await key(b.id), unowned: await key() };
  const storeRequest = (account: { name: string }, healthCheckKeyId: string) => ({
    name: `store-${Math.random().toString(36).slice(2, 10)}`,
    kms: account.name,
    region: 'us-east-1',
    local_hosted_params: { partition_id: partition.id, health_check_key_id: healthCheckKeyId },
    aws_param: { xks_proxy_uri_endpoint: 'https://xks.example.com', xks_proxy_connectivity: 'PUBLIC_ENDPOINT' as const },
  });
  const storeA = await services.keyStores.create(admin(), storeRequest(a, keys.healthA));
  const storeB = await services.keyStores.create(admin(), storeRequest(b, keys.healthB));
  const hyokB = await services.hyokKeys.create(admin(), { local_hosted_params: { source_key_id: keys.sourceB, custom_key_store_id: storeB.id } });
  const virtualKeyB = (await state.get<{ virtualKeyId: string }>('awsKey', hyokB.id))!.data.virtualKeyId;
  return { a, b, partition, keys, storeA, storeB, virtualKeyB, storeRequest };
}

const owner = async (kind: 'hsmKey' | 'virtualKey', id: string) => (await state.get<HsmKeyData | VirtualKeyData>(kind, id))!.data.accountId;

/** The error of `promise`, and that it wrote nothing. */
async function refusal(promise: Promise<unknown>): Promise<Error> {
  const writes = state.transactions.length;
  const error = await rejectionOf(promise);
  expect(state.transactions.length).toBe(writes);
  return error;
}

beforeEach(async () => {
  state = new MemoryStateStore();
  services = keyServices(state, new MemorySecretStore());
  world = await twoTenants();
});

describe('CreateKeyStore health_check_key_id', () => {
  const field = 'local_hosted_params.health_check_key_id';

  it('answers a user another container\'s key, an unowned key and a missing key with the same 403', async () => {
    const { a, keys, storeRequest } = world;
    for (const id of [keys.healthB, keys.unowned, 'no-such-key']) {
      expect(await refusal(services.keyStores.create(user('alice', 'keystoreadd'), storeRequest(a, id)))).toBeInstanceOf(ForbiddenError);
    }
  });

  it('answers an admin, and a user who sees both containers, 409 naming the field for another container\'s key', async () => {
    const { a, keys, storeRequest } = world;
    for (const access of [admin(), user('carol', 'keystoreadd')]) {
      const error = await refusal(services.keyStores.create(access, storeRequest(a, keys.healthB)));
      expect(error).toBeInstanceOf(ConflictError);
      expect(error.message).toMatch(new RegExp(`^${field}: HSM source key ${keys.healthB} belongs to AWS account container ${world.b.id}`));
    }
  });

  it('lets the user use their container\'s key; an admin\'s first reference assigns an unowned key, which then never serves B', async () => {
    const { a, b, keys, storeRequest } = world;
    await expect(services.keyStores.create(user('alice', 'keystoreadd'), storeRequest(a, keys.healthA))).resolves.toHaveProperty('id');

    await services.keyStores.create(admin(), storeRequest(a, keys.unowned));

    expect(await owner('hsmKey', keys.unowned)).toBe(a.id);
    expect(await refusal(services.keyStores.create(admin(), storeRequest(b, keys.unowned)))).toBeInstanceOf(ConflictError);
  });

  it('still answers admins 400 naming the field for a key that does not exist, and users 403 for a partition that does not exist', async () => {
    const { a, storeRequest } = world;
    const error = await refusal(services.keyStores.create(admin(), storeRequest(a, 'no-such-key')));
    expect(error).toBeInstanceOf(ValidationError);
    const request = storeRequest(a, world.keys.healthA);
    const noPartition = { ...request, local_hosted_params: { ...request.local_hosted_params, partition_id: 'no-such-partition' } };
    expect(await refusal(services.keyStores.create(user('alice', 'keystoreadd'), noPartition))).toBeInstanceOf(ForbiddenError);
  });

  it('assigns an unowned key once when two admin references race', async () => {
    const { a, keys, storeRequest } = world;
    const results = await Promise.allSettled([storeRequest(a, keys.unowned), storeRequest(a, keys.unowned)].map((r) => services.keyStores.create(admin(), r)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(await owner('hsmKey', keys.unowned)).toBe(a.id);
  });
});

describe('UpdateKeyStore health_check_key_id', () => {
  const patch = (id: string) => ({ local_hosted_params: { health_check_key_id: id } });

  it('answers alice 403 for B\'s key and an unowned one, admins 409; her own container\'s key works', async () => {
    const { storeA, keys } = world;
    const healthA2 = await seedHsmKey(state, world.partition.id, { accountId: world.a.id });
    for (const id of [keys.healthB, keys.unowned, 'no-such-key']) {
      expect(await refusal(services.keyStores.update(user('alice', 'keystoreupdate'), storeA.id, patch(id)))).toBeInstanceOf(ForbiddenError);
    }
    expect(await refusal(services.keyStores.update(admin(), storeA.id, patch(keys.healthB)))).toBeInstanceOf(ConflictError);
    await expect(services.keyStores.update(user('alice', 'keystoreupdate'), storeA.id, patch(healthA2.id))).resolves.toHaveProperty('id', storeA.id);
  });
});

describe('CreateHyokKey source_key_id', () => {
  const request = (storeId: string, sourceKeyId: string) => ({ local_hosted_params: { source_key_id: sourceKeyId, custom_key_store_id: storeId } });

  it('answers alice 403 for B\'s HSM key, B\'s virtual key, an unowned key and a missing id', async () => {
    const { storeA, keys, virtualKeyB } = world;
    for (const id of [keys.sourceB, virtualKeyB, keys.unowned, 'no-such-key']) {
      expect(await refusal(services.hyokKeys.create(user('alice', 'hyokkeycreate'), request(storeA.id, id)))).toBeInstanceOf(ForbiddenError);
    }
  });

  it('answers admins 409 naming the field for B\'s HSM key and B\'s virtual key', async () => {
    const { storeA, keys, virtualKeyB } = world;
    for (const id of [keys.sourceB, virtualKeyB]) {
      const error = await refusal(services.hyokKeys.create(admin(), request(storeA.id, id)));
      expect(error).toBeInstanceOf(ConflictError);
      expect(error.message).toMatch(/^local_hosted_params\.source_key_id: /);
    }
  });

  it('lets alice use her container\'s key; the virtual key it creates belongs to her container', async () => {
    const { storeA, keys, a } = world;
    const created = await services.hyokKeys.create(user('alice', 'hyokkeycreate'), request(storeA.id, keys.sourceA));
    const virtualKeyId = (await state.get<{ virtualKeyId: string }>('awsKey', created.id))!.data.virtualKeyId;
    expect(await owner('virtualKey', virtualKeyId)).toBe(a.id);
  });

  it('assigns an unowned key on an admin\'s first reference', async () => {
    const { storeA, keys, a } = world;
    await services.hyokKeys.create(admin(), request(storeA.id, keys.unowned));
    expect(await owner('hsmKey', keys.unowned)).toBe(a.id);
  });
});

describe('RotateHyokKey source_key_id', () => {
  it('answers alice 403 for B\'s key and an unowned one, admins 409 for B\'s; an admin\'s rotation to an unowned key assigns it', async () => {
    const { storeA, keys, a } = world;
    const hyokA = await services.hyokKeys.create(admin(), { local_hosted_params: { source_key_id: keys.sourceA, custom_key_store_id: storeA.id } });
    for (const id of [keys.sourceB, keys.unowned, 'no-such-key']) {
      expect(await refusal(services.hyokKeys.rotate(user('alice', 'keyrotate'), hyokA.id, { source_key_id: id }))).toBeInstanceOf(ForbiddenError);
    }
    const error = await refusal(services.hyokKeys.rotate(admin(), hyokA.id, { source_key_id: keys.sourceB }));
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toMatch(/^source_key_id: HSM source key/);

    await services.hyokKeys.rotate(admin(), hyokA.id, { source_key_id: keys.unowned });

    expect(await owner('hsmKey', keys.unowned)).toBe(a.id);
  });
});

describe('HSM source keys and virtual keys as users see them', () => {
  const agent = { testPartition: jest.fn(), generateKey: jest.fn(), describeKey: jest.fn(), destroyKey: jest.fn(), checkKey: jest.fn(), wrapKeyForImport: jest.fn(), signHmac: jest.fn(), encrypt: jest.fn(), decrypt: jest.fn() };
  const hsmKeys = () => new HsmKeyService({ state, hsmAgent: agent, clock: { now: () => new Date() }, ids: { newId: () => Math.random().toString(36).slice(2) } });
  const alice = user('alice').principal;

  it('lists and reads only the keys of containers the user holds an action on; others answer 403 like a missing one', async () => {
    const { keys, a } = world;
    const listed = await hsmKeys().list(alice, {});
    expect(listed.resources.map((k) => k.id).sort()).toEqual([keys.healthA, keys.sourceA].sort());
    expect(listed.resources.every((k) => k.kms_id === a.id)).toBe(true);
    await expect(hsmKeys().get(alice, keys.healthA)).resolves.toHaveProperty('kms_id', a.id);
    for (const id of [keys.healthB, keys.unowned, 'no-such-key']) {
      expect(await rejectionOf(hsmKeys().get(alice, id))).toBeInstanceOf(ForbiddenError);
    }
    expect((await hsmKeys().list(admin().principal, {})).total).toBe(5);
  });

  it('hides another container\'s virtual keys and their versions', async () => {
    const { virtualKeyB } = world;
    expect((await services.virtualKeys.list(alice, {})).total).toBe(0);
    expect((await services.virtualKeys.list(user('bob').principal, {})).resources.map((k) => k.id)).toEqual([virtualKeyB]);
    expect(await rejectionOf(services.virtualKeys.get(alice, virtualKeyB))).toBeInstanceOf(ForbiddenError);
    expect(await rejectionOf(services.virtualKeys.listVersions(alice, virtualKeyB, {}))).toBeInstanceOf(ForbiddenError);
  });
});

describe('kms_id set by an admin', () => {
  const agent = fakeHsmAgent();
  agent.generateKey.mockImplementation(async (_c, r) => ({ objectId: r.objectId, label: r.label, keyType: 'AES' as const, sizeBits: 256, attributes: r.attributes }));
  const hsmKeys = () => new HsmKeyService({ state, hsmAgent: agent, clock: { now: () => new Date() }, ids: { newId: () => Math.random().toString(36).slice(2) } });
  const createRequest = (kmsId?: string) => ({ partition_id: world.partition.id, label: `k-${Math.random().toString(36).slice(2, 10)}`, attributes: ['CKA_ENCRYPT', 'CKA_DECRYPT'] as const, ...(kmsId === undefined ? {} : { kms_id: kmsId }) });

  it('CreateHsmKey and CreateVirtualKey take the container by id or name; a missing one is a 400 naming kms_id that writes nothing', async () => {
    const { a, b, keys } = world;
    const byId = await hsmKeys().create({ ...createRequest(a.id), attributes: ['CKA_ENCRYPT', 'CKA_DECRYPT'] });
    const byName = await hsmKeys().create({ ...createRequest(b.name), attributes: ['CKA_ENCRYPT', 'CKA_DECRYPT'] });
    const virtualKey = await services.virtualKeys.create({ source_key_id: keys.unowned, kms_id: a.name });
    expect(byId.kms_id).toBe(a.id);
    expect(byName.kms_id).toBe(b.id);
    expect(virtualKey.kms_id).toBe(a.id);
    expect(await owner('hsmKey', keys.unowned)).toBe(a.id); // its source key goes along
    for (const attempt of [hsmKeys().create({ ...createRequest('no-such-container'), attributes: ['CKA_ENCRYPT'] }), services.virtualKeys.create({ source_key_id: keys.sourceA, kms_id: 'no-such-container' })]) {
      const error = await refusal(attempt);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe('kms_id');
    }
  });

  it('CreateVirtualKey refuses (409 naming kms_id) a container other than its source key\'s', async () => {
    const { b, keys } = world;
    const error = await refusal(services.virtualKeys.create({ source_key_id: keys.sourceA, kms_id: b.id }));
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toMatch(new RegExp(`^kms_id: HSM source key ${keys.sourceA} belongs to AWS account container ${world.a.id}`));
  });

  it('PATCH moves an unused HSM key, and a key store of the old container can no longer use it', async () => {
    const { a, b, keys, storeRequest } = world;
    const moved = await hsmKeys().update(keys.sourceA, { kms_id: b.id });
    expect(moved.kms_id).toBe(b.id);
    expect(await refusal(services.keyStores.create(user('alice', 'keystoreadd'), storeRequest(a, keys.sourceA)))).toBeInstanceOf(ForbiddenError);
    await expect(hsmKeys().update(keys.unowned, { kms_id: a.name })).resolves.toHaveProperty('kms_id', a.id);
  });

  it('PATCH refuses (409 naming kms_id) to move an HSM key or a virtual key that backs a container\'s stores or HYOK keys; the same container is a no-op', async () => {
    const { a, b, keys, virtualKeyB } = world;
    for (const attempt of [hsmKeys().update(keys.healthA, { kms_id: b.id }), hsmKeys().update(keys.sourceB, { kms_id: a.id }), services.virtualKeys.update(virtualKeyB, { kms_id: a.id })]) {
      const error = await refusal(attempt);
      expect(error).toBeInstanceOf(ConflictError);
      expect(error.message).toMatch(/^kms_id: /);
    }
    expect(await owner('hsmKey', keys.healthA)).toBe(a.id);
    expect(await owner('virtualKey', virtualKeyB)).toBe(b.id);
    await expect(hsmKeys().update(keys.healthA, { kms_id: a.id })).resolves.toHaveProperty('kms_id', a.id);
  });

  it('PATCH of an unused virtual key moves it with its unowned source keys; one built on another container\'s key is refused', async () => {
    const { a, b, keys } = world;
    const virtualKey = await services.virtualKeys.create({ source_key_id: keys.unowned });
    const moved = await services.virtualKeys.update(virtualKey.id, { kms_id: b.id });
    expect(moved.kms_id).toBe(b.id);
    expect(await owner('hsmKey', keys.unowned)).toBe(b.id);
    const overA = await services.virtualKeys.create({ source_key_id: keys.sourceA });
    const error = await refusal(services.virtualKeys.update(overA.id, { kms_id: b.id }));
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toContain(`belongs to AWS account container ${a.id}`);
  });

  it('a reference that raced a move never lands on the moved key\'s new container', async () => {
    const { a, b, keys, storeRequest } = world;
    const results = await Promise.allSettled([
      services.keyStores.create(admin(), storeRequest(a, keys.sourceA)),
      hsmKeys().update(keys.sourceA, { kms_id: b.id }),
    ]);
    const key = (await state.get<HsmKeyData>('hsmKey', keys.sourceA))!;
    if (key.data.accountId === b.id) {
      expect(results[0].status).toBe('rejected');
      expect(key.counters.references ?? 0).toBe(0);
    } else {
      expect(results[0].status).toBe('fulfilled');
      expect(results[1].status).toBe('rejected');
    }
  });
});
