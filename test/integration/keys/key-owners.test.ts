/**
 * An admin setting a key's owning container (`kms_id`) through the handlers, on DynamoDB Local:
 * PATCH of an HSM source key and of a virtual key, CreateVirtualKey with kms_id; a missing
 * container is a 400 naming kms_id, a key that backs another container's store a 409 naming it,
 * and non-admins get 403 (the routes are admin routes). Nothing is written on a refusal.
 */
import { loadConfig } from '../../../lambdas/runtime/config';
import { createDependencies, setDependencies } from '../../../lambdas/runtime/dependencies';
import { useLocalAdapterSet } from '../../../lambdas/local/local-adapter-set';
import { apiEvent, lambdaContext, parseResponse, TestTokens } from '../../helpers/api-events';
import { admin, keyServices, keyStoreSetup, seedAccount, seedHsmKey } from '../../helpers/key-fixtures';
import { MemorySecretStore } from '../../helpers/softhsm';
import { createTestStateTable, type TestStateTable } from '../../helpers/state-table';

useLocalAdapterSet();

let table: TestStateTable;
const tokens = TestTokens.create();

beforeAll(async () => {
  table = await createTestStateTable('owners');
  setDependencies(createDependencies(loadConfig({ KEY_MANAGER_MODE: 'local', STATE_TABLE_NAME: table.tableName }), { state: table.store, credentialUsage: table.credentialUsage, secrets: new MemorySecretStore(), tokens: tokens.verifier }));
});

afterAll(async () => {
  setDependencies(undefined);
  await table.dispose();
});

async function call(file: string, operation: string, options: Parameters<typeof apiEvent>[1]): Promise<{ statusCode: number; body: any }> {
  const { handler } = (await import(`../../../lambdas/handlers/${file}`)) as { handler: (e: unknown, c: unknown) => Promise<{ statusCode: number; body: string }> };
  return parseResponse(await handler(apiEvent(operation, options), lambdaContext()));
}

const ownerOf = async (kind: 'hsmKey' | 'virtualKey', id: string) => ((await table.store.get(kind, id))!.data as { accountId?: string }).accountId;

it('PATCH of an HSM key: 200 for an unused key, 400 naming kms_id for a missing container, 409 for a key a store uses, 403 for a user', async () => {
  // Arrange: container A's store uses its health-check key; another key of the partition is unused
  const setup = await keyStoreSetup(table.store);
  const other = await seedAccount(table.store);
  const store = await keyServices(table.store, new MemorySecretStore()).keyStores.create(admin(), setup.request());
  const unused = await seedHsmKey(table.store, setup.partition.id, { accountId: setup.account.id });
  const token = await tokens.admin();
  const patch = (id: string, kmsId: string, as = token) => call('update-hsm-key', 'UpdateHsmKey', { token: as, params: { id }, body: { kms_id: kmsId } });

  // Act
  const moved = await patch(unused.id, other.name);
  const missing = await patch(setup.healthCheckKey.id, 'no-such-container');
  const inUse = await patch(setup.healthCheckKey.id, other.id);
  const forbidden = await patch(unused.id, setup.account.id, await tokens.user('alice'));
  const unknownField = await call('update-hsm-key', 'UpdateHsmKey', { token, params: { id: unused.id }, body: { kms_id: other.id, label: 'x' } });

  // Assert
  expect(moved).toMatchObject({ statusCode: 200, body: { id: unused.id, kms_id: other.id } });
  expect(missing.statusCode).toBe(400);
  expect(JSON.stringify(missing.body)).toContain('kms_id');
  expect(inUse.statusCode).toBe(409);
  expect(JSON.stringify(inUse.body)).toContain('kms_id');
  expect(forbidden.statusCode).toBe(403);
  expect(unknownField.statusCode).toBe(400);
  expect(await ownerOf('hsmKey', unused.id)).toBe(other.id);
  expect(await ownerOf('hsmKey', setup.healthCheckKey.id)).toBe(setup.account.id);
  expect(store.id).toBeDefined();
});

it('CreateVirtualKey and UpdateVirtualKey take kms_id from admins only; the source key goes along, another container\'s is a 409', async () => {
  // Arrange
  const setup = await keyStoreSetup(table.store);
  const other = await seedAccount(table.store);
  const unowned = await seedHsmKey(table.store, setup.partition.id);
  const ownedByA = await seedHsmKey(table.store, setup.partition.id, { accountId: setup.account.id });
  const token = await tokens.admin();

  // Act
  const created = await call('create-virtual-key', 'CreateVirtualKey', { token, body: { source_key_id: unowned.id, kms_id: other.id } });
  const crossing = await call('create-virtual-key', 'CreateVirtualKey', { token, body: { source_key_id: ownedByA.id, kms_id: other.id } });
  const plain = await call('create-virtual-key', 'CreateVirtualKey', { token, body: { source_key_id: ownedByA.id } });
  const movedBack = await call('update-virtual-key', 'UpdateVirtualKey', { token, params: { id: plain.body.id }, body: { kms_id: other.id } });
  const byUser = await call('create-virtual-key', 'CreateVirtualKey', { token: await tokens.user('alice'), body: { source_key_id: unowned.id, kms_id: other.id } });
  const deletable = await call('update-virtual-key', 'UpdateVirtualKey', { token, params: { id: created.body.id }, body: { deletable: true } });

  // Assert
  expect(created).toMatchObject({ statusCode: 201, body: { kms_id: other.id } });
  expect(await ownerOf('hsmKey', unowned.id)).toBe(other.id);
  expect(crossing.statusCode).toBe(409);
  expect(JSON.stringify(crossing.body)).toContain('kms_id');
  expect(plain.body.kms_id).toBe(setup.account.id);
  expect(movedBack.statusCode).toBe(409);
  expect(await ownerOf('virtualKey', plain.body.id)).toBe(setup.account.id);
  expect(byUser.statusCode).toBe(403);
  expect(deletable).toMatchObject({ statusCode: 200, body: { deletable: true, kms_id: other.id } });
});
