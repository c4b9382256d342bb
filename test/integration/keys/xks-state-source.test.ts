/**
 * StateStoreXksStateSource on DynamoDB Local with keys generated in a real SoftHSM2 token: the views
 * it returns lead the PKCS#11 key crypto to the right objects (health check, every HYOK version
 * across a rotation), and every control-plane change (block, credential rotation and deletion,
 * HYOK block, rotation) is visible on the next read.
 */
import { randomBytes } from 'node:crypto';
import { AGENT_CALL_TIMEOUT_MS, pkcs11Config } from '../../../lambdas/adapters/pkcs11/config';
import { Pkcs11KeyCrypto } from '../../../lambdas/adapters/pkcs11/key-crypto';
import { StateStoreXksStateSource } from '../../../lambdas/core/state-store-xks-state-source';
import type { HsmKeyRef } from '../../../lambdas/contract/hsm';
import type { XksKeyView } from '../../../lambdas/core/ports/xks-state-source';
import { Pkcs11HsmAgent } from '../../../lambdas/adapters/pkcs11/hsm-agent';
import { admin, keyServices, type KeyServices, seedAccount, seedHsmKey, seedPartition } from '../../helpers/key-fixtures';
import { createTestToken, type TestToken } from '../../helpers/softhsm';
import { createTestStateTable, type TestStateTable } from '../../helpers/state-table';
import { keyRequest, SOURCE_KEY_ATTRIBUTES } from '../pkcs11/fixtures';

const AAD = Buffer.from('xks aad');

let table: TestStateTable;
let token: TestToken;
let agent: Pkcs11HsmAgent;
let crypto: Pkcs11KeyCrypto;
let services: KeyServices;
let source: StateStoreXksStateSource;
let partitionId: string;
let accountName: string;

/** Generates a key in the token and registers it as CreateHsmKey would. */
async function hsmKey(label: string): Promise<{ id: string; objectId: string }> {
  const info = await agent.generateKey(token.partition, keyRequest(SOURCE_KEY_ATTRIBUTES, label));
  return seedHsmKey(table.store, partitionId, info);
}

function keyOf(view: XksKeyView, version: number): HsmKeyRef {
  const found = view.versions.find((v) => v.version === version);
  if (!found) throw new Error(`no version ${version}`);
  return found.key;
}

beforeAll(async () => {
  table = await createTestStateTable('xks-source');
  token = await createTestToken({ prefix: 'xks-src' });
  agent = new Pkcs11HsmAgent(pkcs11Config({ callTimeoutMs: AGENT_CALL_TIMEOUT_MS }), token.secretStore);
  crypto = new Pkcs11KeyCrypto(pkcs11Config({ callTimeoutMs: 5_000 }), token.secretStore);
  // The token's PIN and the XKS secrets share one SecretStore, as in a deployment.
  services = keyServices(table.store, token.secretStore);
  source = new StateStoreXksStateSource(table.store);
  partitionId = (await seedPartition(table.store, { id: token.partition.partitionId, tokenLabel: token.partition.tokenLabel, hsmType: 'softhsm' })).id;
  accountName = (await seedAccount(table.store, { regions: ['eu-west-1'] })).name;
});

afterAll(async () => {
  await table.dispose();
});

async function newStore(): Promise<{ id: string; secret: string; accessKeyId: string; healthCheckObjectId: string }> {
  const healthCheck = await hsmKey('health-check');
  const created = await services.keyStores.create(admin(), {
    name: `xks-${randomBytes(4).toString('hex')}`,
    kms: accountName,
    region: 'eu-west-1',
    local_hosted_params: { partition_id: partitionId, health_check_key_id: healthCheck.id, max_credentials: 2, mtls_enabled: true },
    aws_param: { xks_proxy_uri_endpoint: 'https://xks.example.com' },
    enable_success_audit_event: true,
  });
  return { id: created.id, secret: created.secret_access_key, accessKeyId: created.access_key_id, healthCheckObjectId: healthCheck.objectId };
}

describe('getKeyStore', () => {
  it('gives the store, its partition connection, a health-check key the HSM can use, and its credentials', async () => {
    // Arrange
    const store = await newStore();

    // Act
    const view = await source.getKeyStore(store.id);

    // Assert
    expect(view).toMatchObject({ id: store.id, region: 'eu-west-1', blocked: false, mtlsEnabled: true, enableSuccessAuditEvent: true });
    expect(view!.partition).toEqual(token.partition);
    expect(view!.healthCheckKey).toEqual({ partition: token.partition, objectId: store.healthCheckObjectId });
    expect(view!.credentials).toHaveLength(1);
    expect(view!.credentials[0].accessKeyId).toBe(store.accessKeyId);
    expect(await token.secretStore.get(view!.credentials[0].secretName)).toBe(store.secret);
    const sealed = await crypto.encrypt(view!.healthCheckKey, Buffer.from('health'), AAD);
    expect((await crypto.decrypt(view!.healthCheckKey, sealed, AAD)).toString()).toBe('health');
  });

  it('shows block, unblock, rotation and credential deletion on the next read', async () => {
    const store = await newStore();

    await services.keyStores.block(admin(), store.id);
    expect((await source.getKeyStore(store.id))!.blocked).toBe(true);
    await services.keyStores.unblock(admin(), store.id);
    expect((await source.getKeyStore(store.id))!.blocked).toBe(false);

    const rotated = await services.credentials.rotate(admin(), store.id);
    expect((await source.getKeyStore(store.id))!.credentials.map((c) => c.accessKeyId)).toEqual([store.accessKeyId, rotated.access_key_id]);

    const oldest = (await source.getKeyStore(store.id))!.credentials[0];
    await services.credentials.delete(admin(), store.id, oldest.id);
    const after = await source.getKeyStore(store.id);
    expect(after!.credentials.map((c) => c.accessKeyId)).toEqual([rotated.access_key_id]);
    expect(await token.secretStore.get(oldest.secretName)).toBeUndefined();
  });

  it('answers undefined for an unknown or deleted store', async () => {
    const store = await newStore();
    expect(await source.getKeyStore('no-such-store')).toBeUndefined();
    await services.keyStores.delete(admin(), store.id);
    expect(await source.getKeyStore(store.id)).toBeUndefined();
  });
});

describe('getKey', () => {
  it('follows the HYOK key to its current version; after a rotation both versions decrypt what they encrypted', async () => {
    // Arrange
    const store = await newStore();
    const v0 = await hsmKey('hyok-v0');
    const hyok = await services.hyokKeys.create(admin(), { local_hosted_params: { source_key_id: v0.id, custom_key_store_id: store.id } });
    const externalKeyId = hyok.aws_param.XksKeyConfiguration.Id;

    // Act: encrypt under v0, rotate, encrypt under v1.
    const before = await source.getKey(store.id, externalKeyId);
    const underV0 = await crypto.encrypt(keyOf(before!, before!.currentVersion), Buffer.from('old data'), AAD);
    const v1 = await hsmKey('hyok-v1');
    await services.hyokKeys.rotate(admin(), hyok.id, { source_key_id: v1.id });
    const after = await source.getKey(store.id, externalKeyId);
    const underV1 = await crypto.encrypt(keyOf(after!, after!.currentVersion), Buffer.from('new data'), AAD);

    // Assert
    expect(before).toMatchObject({ externalKeyId, awsKeyId: hyok.id, keyStoreId: store.id, blocked: false, currentVersion: 0 });
    expect(before!.versions).toEqual([{ version: 0, key: { partition: token.partition, objectId: v0.objectId } }]);
    expect(after!.currentVersion).toBe(1);
    expect(after!.versions.map((v) => [v.version, v.key.objectId])).toEqual([
      [0, v0.objectId],
      [1, v1.objectId],
    ]);
    expect((await crypto.decrypt(keyOf(after!, 0), underV0, AAD)).toString()).toBe('old data');
    expect((await crypto.decrypt(keyOf(after!, 1), underV1, AAD)).toString()).toBe('new data');
  });

  it('carries the expiry a rotation gave the version it replaced, and records the source keys rotated from and to', async () => {
    // Arrange
    const store = await newStore();
    const v0 = await hsmKey('expiring-v0');
    const hyok = await services.hyokKeys.create(admin(), { local_hosted_params: { source_key_id: v0.id, custom_key_store_id: store.id } });
    const v1 = await hsmKey('expiring-v1');
    const v2 = await hsmKey('expiring-v2');
    // Act: two rotations; the first gives v0 an expiry, the second a later one to v1 and none to v0 again.
    await services.hyokKeys.rotate(admin(), hyok.id, { source_key_id: v1.id }, { replacedVersionExpiresAt: '2027-01-01T00:00:00.000Z' });
    const rotated = await services.hyokKeys.rotate(admin(), hyok.id, { source_key_id: v2.id }, { replacedVersionExpiresAt: '2027-02-01T00:00:00.000Z' });
    const view = await source.getKey(store.id, hyok.aws_param.XksKeyConfiguration.Id);
    // Assert
    expect(view!.versions.map((v) => [v.version, v.expiresAt])).toEqual([
      [0, '2027-01-01T00:00:00.000Z'],
      [1, '2027-02-01T00:00:00.000Z'],
      [2, undefined],
    ]);
    expect(rotated).toMatchObject({ rotation_status: 'ACTIVE', rotated_from: v1.id, rotated_to: v2.id, local_key_id: v2.id });
  });

  it('shows the HYOK key blocked on the next read, and finds no key in another store or under a malformed id', async () => {
    const store = await newStore();
    const other = await newStore();
    const hyok = await services.hyokKeys.create(admin(), { local_hosted_params: { source_key_id: (await hsmKey('hyok')).id, custom_key_store_id: store.id } });

    await services.hyokKeys.block(admin(), hyok.id);

    expect((await source.getKey(store.id, hyok.id))!.blocked).toBe(true);
    expect(await source.getKey(other.id, hyok.id)).toBeUndefined();
    expect(await source.getKey(store.id, 'no-such-key')).toBeUndefined();
    expect(await source.getKey(store.id, 'bad/id')).toBeUndefined();
    expect(await source.getKey(store.id, 'x'.repeat(129))).toBeUndefined();
  });
});
