/**
 * Key stores and XKS credentials on DynamoDB Local: races (one name, concurrent rotations, delete vs
 * a new HYOK key), secrets kept out of DynamoDB and out of responses, and the handlers end to end
 * (status codes, CCKM error bodies, ACL).
 */
import { PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDbCredentialUsage } from '../../../lambdas/adapters/dynamodb/dynamodb-credential-usage';
import { ConflictError } from '../../../lambdas/core/errors';
import type { KeyStoreData } from '../../../lambdas/core/key-stores/key-store';
import { secretNames } from '../../../lambdas/core/secret-names';
import { loadConfig } from '../../../lambdas/runtime/config';
import { createDependencies, setDependencies } from '../../../lambdas/runtime/dependencies';
import { MemoryHsmAgent } from '../../helpers/memory-hsm-agent';
import { apiEvent, lambdaContext, parseResponse, TestTokens } from '../../helpers/api-events';
import { admin, attributes, keyServices, type KeyServices, keyStoreSetup, rejectionOf, seedHsmKey } from '../../helpers/key-fixtures';
import { MemorySecretStore } from '../../helpers/softhsm';
import { createTestStateTable, type TestStateTable } from '../../helpers/state-table';
import { useLocalAdapterSet } from '../../../lambdas/local/local-adapter-set';

// Local mode's adapter set (the one KEY_MANAGER_MODE=local selects) is registered by local code only.
useLocalAdapterSet();

let table: TestStateTable;
let secrets: MemorySecretStore;
let services: KeyServices;
let usage: DynamoDbCredentialUsage;

beforeAll(async () => {
  table = await createTestStateTable('keys');
});

afterAll(async () => {
  await table.dispose();
});

beforeEach(() => {
  secrets = new MemorySecretStore();
  usage = table.credentialUsage;
  services = keyServices(table.store, secrets, undefined, usage);
});

/** Every item of the table, as raw JSON text (what someone with read access to DynamoDB sees). */
async function tableDump(): Promise<string> {
  const items: unknown[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await table.client.send(new ScanCommand({ TableName: table.tableName, ExclusiveStartKey: start as never }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return JSON.stringify(items);
}

describe('races', () => {
  it('creates one store when eight requests race for one name; the others get 409 and leave no secret behind', async () => {
    // Arrange
    const setup = await keyStoreSetup(table.store);
    const request = setup.request({ name: `race-${Date.now()}` });

    // Act
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => services.keyStores.create(admin(), request)));

    // Assert
    const created = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(created).toHaveLength(1);
    expect(refused).toHaveLength(7);
    for (const r of refused) {
      expect(r.reason).toBeInstanceOf(ConflictError);
      expect((r.reason as Error).message).toContain(request.name);
    }
    expect(secrets.values.size).toBe(1);
    const stores = (await table.store.list<KeyStoreData>('keyStore')).filter((s) => s.data.name === request.name);
    expect(stores).toHaveLength(1);
    expect((await table.store.get('account', setup.account.id))!.counters.keyStores).toBe(1);
  });

  it('ten concurrent rotations with max_credentials 3 all succeed and leave exactly the 3 newest credentials', async () => {
    // Arrange
    const setup = await keyStoreSetup(table.store);
    const store = await services.keyStores.create(admin(), setup.request({ local_hosted_params: { partition_id: setup.partition.id, health_check_key_id: setup.healthCheckKey.id, max_credentials: 3 } }));

    // Act
    const rotations = await Promise.all(Array.from({ length: 10 }, () => services.credentials.rotate(admin(), store.id)));

    // Assert: never more than 3 reported, 11 credentials created in all, the 3 newest kept.
    for (const r of rotations) expect(r.credential_count).toBeLessThanOrEqual(3);
    const after = (await table.store.get<KeyStoreData>('keyStore', store.id))!.data;
    expect(after.credentials).toHaveLength(3);
    expect(after.credentialVersion).toBe(11);
    expect(after.credentials.map((c) => c.version)).toEqual([9, 10, 11]);
    const listed = await services.credentials.list(admin(), store.id, {});
    expect(listed.total).toBe(3);
    // Exactly the kept credentials have secrets; the rotated-out ones were removed.
    const secretNamesKept = after.credentials.map((c) => secretNames.xksCredential(store.id, c.id)).sort();
    expect([...secrets.values.keys()].sort()).toEqual(secretNamesKept);
    // The secrets handed out for the kept credentials are the stored ones.
    for (const c of after.credentials) {
      const handedOut = rotations.find((r) => r.credential_id === c.id);
      expect(handedOut).toBeDefined();
      expect(await secrets.get(secretNames.xksCredential(store.id, c.id))).toBe(handedOut!.secret_access_key);
    }
  });

  it('a store delete racing an HYOK key creation never leaves an HYOK key in a deleted store', async () => {
    for (let round = 0; round < 5; round += 1) {
      // Arrange
      const setup = await keyStoreSetup(table.store);
      const store = await services.keyStores.create(admin(), setup.request());
      const sourceKey = await seedHsmKey(table.store, setup.partition.id);

      // Act
      const [hyok, deletion] = await Promise.allSettled([
        services.hyokKeys.create(admin('hyokkeycreate'), { local_hosted_params: { source_key_id: sourceKey.id, custom_key_store_id: store.id } }),
        services.keyStores.delete(admin('keystoredelete'), store.id),
      ]);

      // Assert: exactly one of them won.
      expect([hyok.status, deletion.status].filter((s) => s === 'fulfilled')).toHaveLength(1);
      const storeLeft = await table.store.get('keyStore', store.id);
      if (hyok.status === 'fulfilled') {
        expect(storeLeft?.counters.hyokKeys).toBe(1);
      } else {
        expect(storeLeft).toBeUndefined();
        expect((await table.store.get('hsmKey', sourceKey.id))!.counters.references ?? 0).toBe(0);
      }
    }
  });
});

describe('renames', () => {
  it('refuses a taken name with 409; of two concurrent renames to one free name exactly one wins', async () => {
    // Arrange
    const setup = await keyStoreSetup(table.store);
    const tag = Date.now();
    const [one, two, three] = await Promise.all(['one', 'two', 'three'].map((n) => services.keyStores.create(admin(), setup.request({ name: `${n}-${tag}` }))));

    // Act
    const taken = await rejectionOf(services.keyStores.update(admin(), one.id, { name: two.name }));
    const race = await Promise.allSettled([one, three].map((s) => services.keyStores.update(admin(), s.id, { name: `free-${tag}` })));

    // Assert
    expect(taken).toBeInstanceOf(ConflictError);
    expect(taken.message).toContain(`"${two.name}" already exists`);
    expect(race.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const loser = race.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(loser?.reason).toBeInstanceOf(ConflictError);
    expect((loser?.reason as Error).message).toContain(`"free-${tag}" already exists`);
    const names = (await services.keyStores.list(admin(), {})).resources.map((r) => r.name);
    expect(names.filter((n) => n === `free-${tag}`)).toHaveLength(1);
  });
});

describe('secrets', () => {
  it('are never in DynamoDB items nor in list or get responses', async () => {
    // Arrange: a store, a second credential, a rotation.
    const setup = await keyStoreSetup(table.store);
    const store = await services.keyStores.create(admin(), setup.request());
    const second = await services.credentials.create(admin(), store.id);
    const rotated = await services.credentials.rotate(admin(), store.id);
    const handedOut = [store.secret_access_key, second.secret_access_key, rotated.secret_access_key];

    // Act
    const dump = await tableDump();
    const responses = JSON.stringify([
      await services.keyStores.get(admin(), store.id),
      await services.keyStores.list(admin(), {}),
      await services.credentials.list(admin(), store.id, {}),
      await services.credentials.get(admin(), store.id, second.id),
    ]);

    // Assert
    for (const secret of handedOut) {
      expect(dump).not.toContain(secret);
      expect(responses).not.toContain(secret);
    }
    // … while the access key ids are there (so the scan did see the credentials).
    expect(dump).toContain(second.access_key_id);
    expect(responses).toContain(second.access_key_id);
  });
});

describe('credentials', () => {
  it('at max_credentials, a new credential replaces the oldest unused one; 409 naming them when AWS KMS used every one in the last 10 minutes', async () => {
    // Arrange
    const setup = await keyStoreSetup(table.store);
    const store = await services.keyStores.create(admin(), setup.request({ local_hosted_params: { partition_id: setup.partition.id, health_check_key_id: setup.healthCheckKey.id, max_credentials: 2 } }));
    const [first] = (await services.credentials.list(admin(), store.id, {})).resources;
    const second = await services.credentials.create(admin(), store.id);
    await usage.recordUse(store.id, second.id, new Date()); // in use; `first` never was

    // Act
    const third = await services.credentials.create(admin(), store.id);
    await usage.recordUse(store.id, third.id, new Date());
    const full = await rejectionOf(services.credentials.create(admin(), store.id));

    // Assert
    const listed = await services.credentials.list(admin(), store.id, { sort: 'version' });
    expect(listed.resources.map((c) => c.id)).toEqual([second.id, third.id]);
    expect(listed.resources[0].last_used_at).toEqual(expect.any(String));
    expect(await secrets.get(secretNames.xksCredential(store.id, first.id))).toBeUndefined();
    expect(full).toBeInstanceOf(ConflictError);
    expect(full.message).toContain(`used each of them in the last 10 minutes: ${second.id} (last used`);
    expect(full.message).toContain(third.id);
    expect(secrets.values.size).toBe(2);
  });

  it('rotation refuses (409) to push out a credential used in the last 10 minutes, saying which, when, and what to do; an older use does not stop it', async () => {
    // Arrange
    const setup = await keyStoreSetup(table.store);
    const store = await services.keyStores.create(admin(), setup.request({ local_hosted_params: { partition_id: setup.partition.id, health_check_key_id: setup.healthCheckKey.id, max_credentials: 2 } }));
    const [first] = (await services.credentials.list(admin(), store.id, {})).resources;
    const usedAt = new Date(Date.now() - 60_000);
    await usage.recordUse(store.id, first.id, usedAt);
    await services.credentials.rotate(admin(), store.id); // room for one more: nothing dropped

    // Act
    const refused = await rejectionOf(services.credentials.rotate(admin(), store.id));
    await usage.recordUse(store.id, first.id, new Date(Date.now() - 11 * 60_000)); // ignored: earlier than the recorded use
    const stillRefused = await rejectionOf(services.credentials.rotate(admin(), store.id));

    // Assert
    expect(refused).toBeInstanceOf(ConflictError);
    expect(refused.message).toContain(`credential ${first.id} (access key id ${first.access_key_id})`);
    expect(refused.message).toContain(`last used at ${usedAt.toISOString()}`);
    expect(refused.message).toContain('Update the external key store in AWS KMS to a newer credential first');
    expect(refused.message).toContain(`DELETE .../credentials/${first.id}`);
    expect(stillRefused).toBeInstanceOf(ConflictError);
    expect((await services.credentials.list(admin(), store.id, {})).total).toBe(2);
    expect(secrets.values.size).toBe(2); // the refused rotations left no secret behind
  });

  it('rotation drops a credential last used more than 10 minutes ago', async () => {
    // Arrange
    const setup = await keyStoreSetup(table.store);
    const store = await services.keyStores.create(admin(), setup.request({ local_hosted_params: { partition_id: setup.partition.id, health_check_key_id: setup.healthCheckKey.id, max_credentials: 2 } }));
    const [first] = (await services.credentials.list(admin(), store.id, {})).resources;
    await usage.recordUse(store.id, first.id, new Date(Date.now() - 11 * 60_000));
    await services.credentials.rotate(admin(), store.id);

    // Act
    const rotated = await services.credentials.rotate(admin(), store.id);

    // Assert
    expect(rotated.deleted_credentials_ids).toEqual([first.id]);
  });

  it('deletes a credential in use when asked explicitly and says so; the last one stays (409)', async () => {
    // Arrange
    const setup = await keyStoreSetup(table.store);
    const store = await services.keyStores.create(admin(), setup.request());
    const [first] = (await services.credentials.list(admin(), store.id, {})).resources;
    const second = await services.credentials.create(admin(), store.id);
    const usedAt = new Date();
    await usage.recordUse(store.id, first.id, usedAt);

    // Act
    const deleted = await services.credentials.delete(admin(), store.id, first.id);
    const last = await rejectionOf(services.credentials.delete(admin(), store.id, second.id));

    // Assert
    expect(deleted).toMatchObject({ id: first.id, access_key_id: first.access_key_id, in_use: true, last_used_at: usedAt.toISOString() });
    expect(deleted?.message).toContain('deleted while in use');
    expect(await secrets.get(secretNames.xksCredential(store.id, first.id))).toBeUndefined();
    expect(last).toBeInstanceOf(ConflictError);
    expect(last.message).toContain('only credential');
    expect((await services.credentials.list(admin(), store.id, {})).total).toBe(1);
  });

  it('lists with the access_key_id filter and answers get with the seeds fields', async () => {
    const setup = await keyStoreSetup(table.store);
    const store = await services.keyStores.create(admin(), setup.request());
    const second = await services.credentials.create(admin(), store.id);

    const filtered = await services.credentials.list(admin(), store.id, { access_key_id: second.access_key_id });
    const got = await services.credentials.get(admin(), store.id, second.id);

    expect(filtered.resources.map((c) => c.id)).toEqual([second.id]);
    expect(got).toMatchObject({ id: second.id, custom_key_store_id: store.id, version: 2, access_key_id: second.access_key_id, cloud_name: 'aws' });
    expect(got).not.toHaveProperty('secret_access_key');
  });

  it('rotate answers with the store, the new credential, the count and the oldest credential, dropping the oldest when full', async () => {
    const setup = await keyStoreSetup(table.store);
    const store = await services.keyStores.create(admin(), setup.request({ local_hosted_params: { partition_id: setup.partition.id, health_check_key_id: setup.healthCheckKey.id, max_credentials: 2 } }));
    const [first] = (await services.credentials.list(admin(), store.id, {})).resources;

    const once = await services.credentials.rotate(admin(), store.id);
    const twice = await services.credentials.rotate(admin(), store.id);

    expect(once).toMatchObject({ id: store.id, credential_version: 2, credential_count: 2, oldest_credentials_id: first.id, deleted_credentials_ids: [] });
    expect(twice).toMatchObject({ credential_version: 3, credential_count: 2, oldest_credentials_id: once.credential_id, deleted_credentials_ids: [first.id] });
    expect(twice.xks_proxy_configuration.XksProxyAuthenticationCredential.AccessKeyId).toBe(twice.access_key_id);
  });
});

describe('credential uses of a deleted store', () => {
  /** The raw credentialUse# items of a store, as a scan finds them. */
  async function usageItems(keyStoreId: string): Promise<unknown[]> {
    const page = await table.client.send(
      new ScanCommand({ TableName: table.tableName, FilterExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: `credentialUse#${keyStoreId}` } } }),
    );
    return page.Items ?? [];
  }

  it('are removed with the store; another store keeps its own', async () => {
    // Arrange
    const setup = await keyStoreSetup(table.store);
    const deleted = await services.keyStores.create(admin(), setup.request());
    const kept = await services.keyStores.create(admin(), setup.request({ name: `kept-${Date.now()}` }));
    const second = await services.credentials.create(admin(), deleted.id);
    const [first] = (await services.credentials.list(admin(), deleted.id, { sort: 'version' })).resources;
    await usage.recordUse(deleted.id, first.id, new Date());
    await usage.recordUse(deleted.id, second.id, new Date());
    const [keptCredential] = (await services.credentials.list(admin(), kept.id, {})).resources;
    await usage.recordUse(kept.id, keptCredential.id, new Date());
    expect(await usageItems(deleted.id)).toHaveLength(2);

    // Act
    await services.keyStores.delete(admin(), deleted.id);

    // Assert
    expect(await usageItems(deleted.id)).toEqual([]);
    expect([...(await usage.lastUses(kept.id)).keys()]).toEqual([keptCredential.id]);
  });

  it('a use the proxy records after the store was deleted (its cache still held the store) writes nothing', async () => {
    // Arrange
    const setup = await keyStoreSetup(table.store);
    const store = await services.keyStores.create(admin(), setup.request({ name: `late-use-${Date.now()}` }));
    const [credential] = (await services.credentials.list(admin(), store.id, {})).resources;
    await services.keyStores.delete(admin(), store.id);

    // Act
    await usage.recordUse(store.id, credential.id, new Date());

    // Assert
    expect(await usageItems(store.id)).toEqual([]);
  });

  it('forgetStore removes more items than one batch write takes, and a second call finds nothing to do', async () => {
    // Arrange
    const storeId = `kst-many-${Date.now()}`;
    // Written directly: recordUse writes only for a store that exists, and a store has at most a few credentials.
    for (let i = 0; i < 60; i++) {
      await table.client.send(new PutItemCommand({ TableName: table.tableName, Item: { pk: { S: `credentialUse#${storeId}` }, sk: { S: `cred-${i}` }, lastUsedAt: { S: new Date().toISOString() } } }));
    }
    expect(await usageItems(storeId)).toHaveLength(60);

    // Act
    await usage.forgetStore(storeId);
    await usage.forgetStore(storeId);

    // Assert
    expect(await usageItems(storeId)).toEqual([]);
  });
});

describe('handlers', () => {
  const tokens = TestTokens.create();

  beforeEach(() => {
    setDependencies(createDependencies(loadConfig({ KEY_MANAGER_MODE: 'local', STATE_TABLE_NAME: table.tableName }), { state: table.store, credentialUsage: table.credentialUsage, secrets, tokens: tokens.verifier, hsmAgent: new MemoryHsmAgent() }));
  });

  afterAll(() => setDependencies(undefined));

  async function call(operation: string, options: Parameters<typeof apiEvent>[1]): Promise<{ statusCode: number; body: any }> {
    const { handler } = (await import(`../../../lambdas/handlers/${operation}`)) as { handler: (e: unknown, c: unknown) => Promise<{ statusCode: number; body: string }> };
    return parseResponse(await handler(apiEvent(toOperation(operation), options), lambdaContext()));
  }

  it('create answers 201 with the secret once; get answers 200 without it', async () => {
    const setup = await keyStoreSetup(table.store);
    const token = await tokens.admin();

    const created = await call('create-key-store', { token, body: setup.request() });
    const got = await call('get-key-store', { token, params: { id: created.body.id } });

    expect(created.statusCode).toBe(201);
    expect(created.body.secret_access_key).toBeDefined();
    expect(got.statusCode).toBe(200);
    expect(JSON.stringify(got.body)).not.toContain(created.body.secret_access_key);
  });

  it('DELETE of a credential answers 204, or 200 with a body saying it was in use', async () => {
    // Arrange
    const setup = await keyStoreSetup(table.store);
    const token = await tokens.admin();
    const store = (await call('create-key-store', { token, body: setup.request() })).body;
    const second = (await call('create-key-store-credential', { token, params: { id: store.id } })).body;
    const third = (await call('create-key-store-credential', { token, params: { id: store.id } })).body;
    await table.credentialUsage.recordUse(store.id, second.id, new Date());

    // Act
    const unused = await call('delete-key-store-credential', { token, params: { id: store.id, credentialId: third.id } });
    const inUse = await call('delete-key-store-credential', { token, params: { id: store.id, credentialId: second.id } });

    // Assert
    expect(unused.statusCode).toBe(204);
    expect(inUse.statusCode).toBe(200);
    expect(inUse.body).toMatchObject({ id: second.id, in_use: true, last_used_at: expect.any(String), message: expect.stringContaining('deleted while in use') });
  });

  it('refuses a health-check key lacking CKA_UNWRAP with a CCKM 400 body naming it, and writes nothing', async () => {
    const setup = await keyStoreSetup(table.store);
    const weak = await seedHsmKey(table.store, setup.partition.id, { attributes: attributes('CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_WRAP', 'CKA_SENSITIVE') });
    const before = await tableDump();

    const response = await call('create-key-store', {
      token: await tokens.admin(),
      body: setup.request({ local_hosted_params: { partition_id: setup.partition.id, health_check_key_id: weak.id } }),
    });

    expect(response.statusCode).toBe(400);
    expect(response.body).toMatchObject({ code: 400 });
    expect(response.body.codeDesc).toMatch(/^NCERRInvalidParamValue: /);
    expect(response.body.message).toContain('local_hosted_params.health_check_key_id');
    expect(response.body.message).toContain('CKA_UNWRAP=true');
    expect(await tableDump()).toBe(before);
    expect(secrets.values.size).toBe(0);
  });

  it('answers 400 for a schema violation (max_credentials 1) and 403 to a user without the ACL action', async () => {
    const setup = await keyStoreSetup(table.store, { acls: [{ user_id: 'carol', actions: ['viewkeystore'] }] });
    const base = setup.request();

    const tooFew = await call('create-key-store', { token: await tokens.admin(), body: { ...base, local_hosted_params: { ...base.local_hosted_params, max_credentials: 1 } } });
    const forbidden = await call('create-key-store', { token: await tokens.user('carol'), body: base });

    expect(tooFew.statusCode).toBe(400);
    expect(tooFew.body.message).toContain('max_credentials');
    expect(forbidden.statusCode).toBe(403);
  });

  it('rotates through the handler, and deletes a store with 204', async () => {
    const setup = await keyStoreSetup(table.store);
    const token = await tokens.admin();
    const created = await call('create-key-store', { token, body: setup.request() });

    const rotated = await call('rotate-key-store-credential', { token, params: { id: created.body.id } });
    const deleted = await call('delete-key-store', { token, params: { id: created.body.id } });
    const gone = await call('get-key-store', { token, params: { id: created.body.id } });

    expect(rotated.statusCode).toBe(200);
    expect(rotated.body).toMatchObject({ id: created.body.id, credential_count: 2 });
    expect(rotated.body.access_key_id).not.toBe(created.body.access_key_id);
    expect(deleted.statusCode).toBe(204);
    expect(gone.statusCode).toBe(404);
    expect(secrets.values.size).toBe(0);
  });
});

/** `create-key-store` → `CreateKeyStore`. */
function toOperation(file: string): string {
  return file
    .split('-')
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join('');
}
