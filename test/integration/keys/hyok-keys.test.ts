/**
 * Virtual keys and HYOK keys on DynamoDB Local: create (from a virtual key or an HSM source key),
 * the partition and key-type rules, list filters, versions and rotation, block/unblock, the delete
 * guards, the reference counters on HSM keys, and the ACL of the store's account.
 */
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../../lambdas/core/errors';
import { EXTERNAL_KEY_ID_PATTERN } from '../../../lambdas/core/keys/aws-key';
import {
  admin,
  attributes,
  keyServices,
  type KeyServices,
  keyStoreSetup,
  rejectionOf,
  seedHsmKey,
  seedPartition,
  user,
} from '../../helpers/key-fixtures';
import { MemorySecretStore } from '../../helpers/softhsm';
import { createTestStateTable, type TestStateTable } from '../../helpers/state-table';

const ADMIN = admin().principal;

let table: TestStateTable;
let services: KeyServices;

beforeAll(async () => {
  table = await createTestStateTable('hyok');
  services = keyServices(table.store, new MemorySecretStore());
});

afterAll(async () => {
  await table.dispose();
});

async function references(hsmKeyId: string): Promise<number> {
  return (await table.store.get('hsmKey', hsmKeyId))!.counters.references ?? 0;
}

/** A store (in an account where dave may view and create HYOK keys) and a source key in its partition. */
async function storeWithSourceKey() {
  const setup = await keyStoreSetup(table.store, { acls: [{ user_id: 'dave', actions: ['viewhyokkey', 'hyokkeycreate'] }] });
  const store = await services.keyStores.create(admin(), setup.request());
  const sourceKey = await seedHsmKey(table.store, setup.partition.id, { label: 'source-v0' });
  return { setup, store, sourceKey };
}

describe('virtual keys', () => {
  it('create, get, list and versions in the seeds shape; version 0 holds a reference on its source key', async () => {
    // Arrange
    const partition = await seedPartition(table.store);
    const sourceKey = await seedHsmKey(table.store, partition.id);

    // Act
    const created = await services.virtualKeys.create({ source_key_id: sourceKey.id });

    // Assert
    expect(created).toMatchObject({
      uri: `kylo:kylo:cckm:virtual-keys:${created.id}`,
      partition_id: partition.id,
      partition_label: partition.tokenLabel,
      source_key_id: sourceKey.id,
      version: 0,
      deletable: false,
    });
    expect(await services.virtualKeys.get(ADMIN, created.id)).toEqual(created);
    expect((await services.virtualKeys.list(ADMIN, { source_key_id: sourceKey.id })).resources.map((k: { id: string }) => k.id)).toEqual([created.id]);
    expect((await services.virtualKeys.list(ADMIN, { partition_label: partition.tokenLabel, deletable: 'true' })).total).toBe(0);
    const versions = await services.virtualKeys.listVersions(ADMIN, created.id, {});
    expect(versions).toMatchObject({ skip: 0, total: 1, resources: [{ version: 0, source_key_id: sourceKey.id, partition_id: partition.id }] });
    expect(await references(sourceKey.id)).toBe(1);
  });

  it('accepts any AES-256 key (even decrypt-only) and refuses other keys with a 400 naming source_key_id', async () => {
    const partition = await seedPartition(table.store);
    const decryptOnly = await seedHsmKey(table.store, partition.id, { attributes: attributes('CKA_DECRYPT') });
    const aes128 = await seedHsmKey(table.store, partition.id, { sizeBits: 128 });

    await expect(services.virtualKeys.create({ source_key_id: decryptOnly.id })).resolves.toHaveProperty('version', 0);
    for (const id of [aes128.id, 'no-such-key']) {
      const error = await rejectionOf(services.virtualKeys.create({ source_key_id: id }));
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.message).toContain('source_key_id');
    }
    expect(await references(aes128.id)).toBe(0);
  });

  it('is deleted only once deletable, which releases its source keys', async () => {
    const partition = await seedPartition(table.store);
    const sourceKey = await seedHsmKey(table.store, partition.id);
    const created = await services.virtualKeys.create({ source_key_id: sourceKey.id });

    const refused = await rejectionOf(services.virtualKeys.delete(created.id));
    expect(refused).toBeInstanceOf(ConflictError);
    expect(refused.message).toContain('deletable');

    expect((await services.virtualKeys.update(created.id, { deletable: true })).deletable).toBe(true);
    await services.virtualKeys.delete(created.id);
    expect(await rejectionOf(services.virtualKeys.get(ADMIN, created.id))).toBeInstanceOf(NotFoundError);
    expect(await references(sourceKey.id)).toBe(0);
  });
});

describe('HYOK keys', () => {
  it('from an HSM source key: creates its virtual key in the same transaction and answers in the seeds shape', async () => {
    const { setup, store, sourceKey } = await storeWithSourceKey();

    const key = await services.hyokKeys.create(admin('hyokkeycreate'), { local_hosted_params: { source_key_id: sourceKey.id, custom_key_store_id: store.id, blocked: false } });

    expect(key).toMatchObject({
      uri: `kylo:kylo:cckm:aws-key:${key.id}`,
      kms_id: setup.account.id,
      kms: setup.account.name,
      region: 'us-east-1',
      cloud_name: 'aws',
      key_type: 'symmetric',
      local_key_id: sourceKey.id,
      local_key_name: 'source-v0',
      key_material_origin: 'cckm',
      key_source: 'hsm-softhsm',
      locally_hosted: true,
      custom_key_store_id: store.id,
      custom_key_store_name: store.name,
      blocked: false,
      linked_state: false,
      version: 0,
      local_hosted_params: { blocked: false, policy: { reserved: false }, custom_key_store_id: store.id, linked_state: false },
      aws_param: { XksKeyConfiguration: { Id: key.id } },
    });
    expect(key.aws_param.XksKeyConfiguration.Id).toMatch(EXTERNAL_KEY_ID_PATTERN);
    const virtualKey = await services.virtualKeys.get(ADMIN, key.local_hosted_params.source_key_id);
    expect(virtualKey).toMatchObject({ source_key_id: sourceKey.id, deletable: false });
    expect(await references(sourceKey.id)).toBe(1);
    expect((await table.store.get('keyStore', store.id))!.counters.hyokKeys).toBe(1);
  });

  it('from a virtual key: uses it, once (a virtual key backs at most one HYOK key)', async () => {
    const { store, sourceKey } = await storeWithSourceKey();
    const virtualKey = await services.virtualKeys.create({ source_key_id: sourceKey.id });

    const key = await services.hyokKeys.create(admin(), { local_hosted_params: { source_key_id: virtualKey.id, custom_key_store_id: store.id } });
    const again = await rejectionOf(services.hyokKeys.create(admin(), { local_hosted_params: { source_key_id: virtualKey.id, custom_key_store_id: store.id } }));

    expect(key.local_hosted_params.source_key_id).toBe(virtualKey.id);
    expect(again).toBeInstanceOf(ConflictError);
    const deleteVirtual = await services.virtualKeys.update(virtualKey.id, { deletable: true }).then(() => rejectionOf(services.virtualKeys.delete(virtualKey.id)));
    expect(deleteVirtual.message).toContain('backs an HYOK key');
  });

  it('refuses source keys outside the store partition, non-AES-256 keys, unknown stores, bad policy parameters (400) and link parameters on an unlinked store (409); nothing written', async () => {
    const { store, setup } = await storeWithSourceKey();
    const elsewhere = await seedHsmKey(table.store, (await seedPartition(table.store)).id);
    const aes128 = await seedHsmKey(table.store, setup.partition.id, { sizeBits: 128 });
    const before = (await table.store.list('awsKey')).length;

    const cases: [Promise<unknown>, string][] = [
      [services.hyokKeys.create(admin(), { local_hosted_params: { source_key_id: elsewhere.id, custom_key_store_id: store.id } }), 'local_hosted_params.source_key_id'],
      [services.hyokKeys.create(admin(), { local_hosted_params: { source_key_id: aes128.id, custom_key_store_id: store.id } }), 'AES-256'],
      [services.hyokKeys.create(admin(), { local_hosted_params: { source_key_id: 'nothing', custom_key_store_id: store.id } }), 'local_hosted_params.source_key_id'],
      [services.hyokKeys.create(admin(), { local_hosted_params: { source_key_id: aes128.id, custom_key_store_id: 'no-store' } }), 'local_hosted_params.custom_key_store_id'],
      [services.hyokKeys.create(admin(), { local_hosted_params: { source_key_id: elsewhere.id, custom_key_store_id: store.id, source_key_tier: 'hsm-luna' } }), 'local_hosted_params.source_key_tier'],
      [services.hyokKeys.create(admin(), { local_hosted_params: { source_key_id: elsewhere.id, custom_key_store_id: store.id }, policytemplate: 'tmpl' }), 'not supported yet'],
      [services.hyokKeys.create(admin(), { local_hosted_params: { source_key_id: elsewhere.id, custom_key_store_id: store.id }, aws_param: { Policy: {} }, key_users: ['bob'] }), 'mutually exclusive'],
    ];
    for (const [promise, text] of cases) {
      const error = await rejectionOf(promise);
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.message).toContain(text);
    }
    // Link parameters on a store that is not linked to AWS KMS: 409 saying to link the store.
    const unlinked = await rejectionOf(services.hyokKeys.create(admin(), { local_hosted_params: { source_key_id: aes128.id, custom_key_store_id: store.id }, key_users: ['bob'] }));
    expect(unlinked).toBeInstanceOf(ConflictError);
    expect(unlinked.message).toContain('not linked to AWS KMS');
    expect((await table.store.list('awsKey')).length).toBe(before);
    expect(await references(aes128.id)).toBe(0);
  });

  it('lists with filters (custom_key_store_id, blocked, AWS-side fields) and only in containers where the user may view', async () => {
    const a = await storeWithSourceKey();
    const b = await storeWithSourceKey();
    const inA = await services.hyokKeys.create(admin(), { local_hosted_params: { source_key_id: a.sourceKey.id, custom_key_store_id: a.store.id } });
    const inB = await services.hyokKeys.create(admin(), { local_hosted_params: { source_key_id: b.sourceKey.id, custom_key_store_id: b.store.id, blocked: true } });

    expect((await services.awsKeys.list(admin('viewhyokkey'), { custom_key_store_id: a.store.id })).resources.map((k: { id: string }) => k.id)).toEqual([inA.id]);
    expect((await services.awsKeys.list(admin('viewhyokkey'), { custom_key_store_id: b.store.id, blocked: 'true' })).resources.map((k: { id: string }) => k.id)).toEqual([inB.id]);
    expect((await services.awsKeys.list(admin('viewhyokkey'), { custom_key_store_id: b.store.id, blocked: 'false' })).total).toBe(0);
    expect((await services.awsKeys.list(admin('viewhyokkey'), { custom_key_store_id: a.store.id, keyid: 'abc' })).total).toBe(0);
    expect((await services.awsKeys.list(admin('viewhyokkey'), { kms: a.setup.account.name, key_material_origin: 'cckm' })).resources.map((k: { id: string }) => k.id)).toEqual([inA.id]);
    // dave has viewhyokkey on both accounts; erin on none.
    const daves = (await services.awsKeys.list(user('dave', 'viewhyokkey'), {})).resources.map((k: { id: string }) => k.id);
    expect(daves).toEqual(expect.arrayContaining([inA.id, inB.id]));
    expect((await services.awsKeys.list(user('erin', 'viewhyokkey'), {})).total).toBe(0);
    expect(await rejectionOf(services.awsKeys.get(user('erin', 'viewhyokkey'), inA.id))).toBeInstanceOf(ForbiddenError);
    expect(await rejectionOf(services.hyokKeys.block(user('dave', 'hyokkeyblockunblock'), inA.id))).toBeInstanceOf(ForbiddenError);
  });

  it('rotates to a new source key: a new version, rotated_at, and a reference on the new key', async () => {
    const { store, setup, sourceKey } = await storeWithSourceKey();
    const key = await services.hyokKeys.create(admin(), { local_hosted_params: { source_key_id: sourceKey.id, custom_key_store_id: store.id } });
    const next = await seedHsmKey(table.store, setup.partition.id, { label: 'source-v1', attributes: attributes('CKA_ENCRYPT', 'CKA_DECRYPT') });

    const rotated = await services.hyokKeys.rotate(admin('keyrotate'), key.id, { source_key_id: next.id });

    expect(rotated).toMatchObject({ version: 1, local_key_id: next.id, local_key_name: 'source-v1' });
    expect(rotated.rotated_at).toBeDefined();
    const versions = await services.hyokKeys.listVersions(admin(), key.id, { sort: '-version' });
    expect(versions.resources.map((v) => [v.version, v.source_key_id])).toEqual([
      [1, next.id],
      [0, sourceKey.id],
    ]);
    expect(await references(next.id)).toBe(1);
    // The same key again, a key of another partition, or a non-AES key: 400.
    expect((await rejectionOf(services.hyokKeys.rotate(admin(), key.id, { source_key_id: next.id }))).message).toContain('already the source key');
    const elsewhere = await seedHsmKey(table.store, (await seedPartition(table.store)).id);
    expect(await rejectionOf(services.hyokKeys.rotate(admin(), key.id, { source_key_id: elsewhere.id }))).toBeInstanceOf(ValidationError);
  });

  it('concurrent rotations each add one version; none is lost', async () => {
    const { store, setup, sourceKey } = await storeWithSourceKey();
    const key = await services.hyokKeys.create(admin(), { local_hosted_params: { source_key_id: sourceKey.id, custom_key_store_id: store.id } });
    const newKeys = await Promise.all(Array.from({ length: 5 }, () => seedHsmKey(table.store, setup.partition.id)));

    await Promise.all(newKeys.map((k) => services.hyokKeys.rotate(admin(), key.id, { source_key_id: k.id })));

    const versions = await services.hyokKeys.listVersions(admin(), key.id, {});
    expect(versions.resources.map((v) => v.version)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(new Set(versions.resources.slice(1).map((v) => v.source_key_id))).toEqual(new Set(newKeys.map((k: { id: string }) => k.id)));
    for (const k of newKeys) expect(await references(k.id)).toBe(1);
  });

  it('blocks and unblocks; delete releases the store, which can then be deleted', async () => {
    const { store, sourceKey } = await storeWithSourceKey();
    const key = await services.hyokKeys.create(admin(), { local_hosted_params: { source_key_id: sourceKey.id, custom_key_store_id: store.id } });

    expect((await services.hyokKeys.block(admin(), key.id)).local_hosted_params.blocked).toBe(true);
    expect((await services.awsKeys.get(admin(), key.id)).blocked).toBe(true);
    expect((await services.hyokKeys.unblock(admin(), key.id)).blocked).toBe(false);
    expect(await rejectionOf(services.keyStores.delete(admin(), store.id))).toBeInstanceOf(ConflictError);

    await services.awsKeys.delete(admin('hyokkeydelete'), key.id);

    expect(await rejectionOf(services.awsKeys.get(admin(), key.id))).toBeInstanceOf(NotFoundError);
    expect((await table.store.get('keyStore', store.id))!.counters.hyokKeys).toBe(0);
    await services.keyStores.delete(admin(), store.id);
    // The virtual key stays (not deletable by default) and keeps its source key referenced.
    expect(await references(sourceKey.id)).toBe(1);
  });
});
