/**
 * CloudHSM key stores and their KMS keys against the in-memory StateStore, secret store and AWS
 * KMS fakes: the password only in the secret store, every failure halfway undone (secret written
 * then AWS KMS refusing, AWS KMS store created then the state write failing, a password AWS KMS
 * refuses, an alias refused after the key was made), the DISCONNECTED rules, delete's 409s, the
 * unused clusters and one list of both store types. End to end: test/e2e/cloudhsm-key-stores.test.ts.
 */
import { ConflictError, ValidationError } from '../../../../lambdas/core/errors';
import { CloudHsmClusterService } from '../../../../lambdas/core/key-stores/cloudhsm-cluster-service';
import { CloudHsmKeyStoreService } from '../../../../lambdas/core/key-stores/cloudhsm-key-store-service';
import { CustomKeyStores } from '../../../../lambdas/core/key-stores/custom-key-stores';
import type { CreateKeyStoreRequest } from '../../../../lambdas/core/key-stores/key-store-requests';
import { AwsKeyService } from '../../../../lambdas/core/keys/aws-key-service';
import { CloudHsmKeyService } from '../../../../lambdas/core/keys/cloudhsm-key-service';
import type { CloudHsmCluster, CloudHsmClusters } from '../../../../lambdas/core/ports/cloudhsm-clusters';
import { secretNames } from '../../../../lambdas/core/secret-names';
import { FakeAwsKms } from '../../../helpers/fake-aws-kms';
import { FakeAwsKmsKeys } from '../../../helpers/fake-aws-kms-keys';
import { admin, clock, ids, keyServices, keyStoreSetup, rejectionOf, seedAccount, user } from '../../../helpers/key-fixtures';
import { MemoryStateStore } from '../../../helpers/memory-state-store';
import { MemorySecretStore } from '../../../helpers/softhsm';

const CLUSTER = 'cluster-aaaaaaaaaaa';
const OTHER_CLUSTER = 'cluster-bbbbbbbbbbb';
const PASSWORD = 'kmsuser-pw-1';
const TRUST_ANCHOR = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';

let state: MemoryStateStore;
let secrets: MemorySecretStore;
let kms: FakeAwsKms;
let kmsKeys: FakeAwsKmsKeys;
let stores: CloudHsmKeyStoreService;
let customKeyStores: CustomKeyStores;
let keys: CloudHsmKeyService;
let awsKeys: AwsKeyService;
let clusters: CloudHsmCluster[];
let account: { id: string; name: string };

beforeEach(async () => {
  state = new MemoryStateStore();
  secrets = new MemorySecretStore();
  kms = new FakeAwsKms();
  kms.clusters.set(CLUSTER, { kmsuserPassword: PASSWORD });
  kms.clusters.set(OTHER_CLUSTER, { kmsuserPassword: PASSWORD });
  kmsKeys = new FakeAwsKmsKeys();
  stores = new CloudHsmKeyStoreService({ state, secrets, clock, ids, awsKms: kms });
  customKeyStores = new CustomKeyStores(keyServices(state, secrets, kms).keyStores, stores);
  awsKeys = new AwsKeyService({ state, clock, awsKmsKeys: kmsKeys });
  keys = new CloudHsmKeyService({ state, clock, ids, awsKmsKeys: kmsKeys, cloudHsmKeyStores: stores });
  clusters = [{ ClusterId: CLUSTER, State: 'ACTIVE' }, { ClusterId: OTHER_CLUSTER, State: 'ACTIVE' }];
  account = await seedAccount(state);
});

function request(overrides: Partial<CreateKeyStoreRequest['aws_param']> = {}, name = 'hsm-store'): CreateKeyStoreRequest {
  return { name, kms: account.name, region: 'us-east-1', aws_param: { custom_key_store_type: 'AWS_CLOUDHSM', cloud_hsm_cluster_id: CLUSTER, key_store_password: PASSWORD, trust_anchor_certificate: TRUST_ANCHOR, ...overrides } };
}

async function recorded(): Promise<number> {
  return (await state.list('cloudHsmKeyStore')).length;
}

describe('create', () => {
  it('creates the store in AWS KMS, keeps the password only in the secret store, and shows AWS KMS\'s state', async () => {
    // Act
    const created = await customKeyStores.create(admin('keystoreadd'), request());

    // Assert
    expect(created).toMatchObject({ name: 'hsm-store', type: 'CloudHSM', kms_id: account.id, aws_param: { custom_key_store_type: 'AWS_CLOUDHSM', cloud_hsm_cluster_id: CLUSTER, connection_state: 'DISCONNECTED' } });
    const cks = created.aws_param.custom_key_store_id as string;
    expect(kms.stores.get(cks)?.cloudHsm).toEqual({ name: 'hsm-store', cloudHsmClusterId: CLUSTER, trustAnchorCertificate: TRUST_ANCHOR, keyStorePassword: PASSWORD });
    expect(secrets.values.get(secretNames.cloudHsmPassword(created.id))).toBe(PASSWORD);
    expect(JSON.stringify(created)).not.toContain(PASSWORD);
    expect(JSON.stringify(await state.list('cloudHsmKeyStore'))).not.toContain(PASSWORD);
    expect((await state.get('account', account.id))?.counters).toMatchObject({ keyStores: 1, 'keyStores@us-east-1': 1 });
  });

  it('removes the secret again when AWS KMS refuses the store, and records nothing', async () => {
    // Arrange
    kms.failNext('createCloudHsmKeyStore', new ValidationError('AWS KMS CreateCustomKeyStore: IncorrectTrustAnchorException', 'aws_param.trust_anchor_certificate'));

    // Act
    const error = await rejectionOf(stores.create(admin(), request()));

    // Assert
    expect(error.message).toContain('aws_param.trust_anchor_certificate');
    expect([secrets.values.size, await recorded(), kms.stores.size]).toEqual([0, 0, 0]);
  });

  it('deletes the store in AWS KMS again when it cannot be recorded (a name an external key store has), and removes the secret', async () => {
    // Arrange: an external store named like the new one (names share one namespace).
    const setup = await keyStoreSetup(state);
    await keyServices(state, secrets, kms).keyStores.create(admin(), setup.request({ name: 'taken' }));
    const secretsBefore = secrets.values.size;

    // Act
    const error = await rejectionOf(stores.create(admin(), { ...request(), name: 'taken', kms: setup.account.name }));

    // Assert
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toContain('"taken" already exists');
    expect(kms.calls).toContain('deleteCustomKeyStore');
    expect([...kms.stores.values()].filter((s) => s.cloudHsm !== undefined)).toEqual([]);
    expect([secrets.values.size, await recorded()]).toEqual([secretsBefore, 0]);
  });

  it.each([
    ['aws_param.cloud_hsm_cluster_id', { cloud_hsm_cluster_id: undefined }, 'is required'],
    ['aws_param.cloud_hsm_cluster_id', { cloud_hsm_cluster_id: 'cluster-1' }, 'cluster id'],
    ['aws_param.key_store_password', { key_store_password: 'short' }, '7 to 32'],
    ['aws_param.key_store_password', { key_store_password: 'x'.repeat(33) }, '7 to 32'],
    ['aws_param.trust_anchor_certificate', { trust_anchor_certificate: 'MIIB' }, 'PEM'],
    ['aws_param.xks_proxy_uri_endpoint', { xks_proxy_uri_endpoint: 'https://xks.example.com' }, 'EXTERNAL_KEY_STORE'],
  ] as const)('refuses a bad %s with a 400 naming it, writing nothing', async (field, change, text) => {
    // Act
    const error = await rejectionOf(stores.create(admin(), request(change as Partial<CreateKeyStoreRequest['aws_param']>)));

    // Assert
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message.startsWith(`${field}: `)).toBe(true);
    expect(error.message).toContain(text);
    expect(error.message).not.toContain('short');
    expect([secrets.values.size, await recorded(), kms.calls.length]).toEqual([0, 0, 0]);
  });
});

describe('connect, update and delete', () => {
  it('connects with the right password only: FAILED/INVALID_CREDENTIALS, PATCH refused until DISCONNECTED, then the new password gets it CONNECTED', async () => {
    // Arrange
    const store = await stores.create(admin(), request({ key_store_password: 'wrong-password' }));

    // Act + Assert
    expect((await customKeyStores.connect(admin(), store.id)).aws_param).toMatchObject({ connection_state: 'FAILED', connection_error_code: 'INVALID_CREDENTIALS' });
    const refused = await rejectionOf(customKeyStores.update(admin(), store.id, { aws_param: { key_store_password: PASSWORD } }));
    expect(refused).toBeInstanceOf(ConflictError);
    expect(refused.message).toMatch(/FAILED.*only while DISCONNECTED/);
    expect(secrets.values.get(secretNames.cloudHsmPassword(store.id))).toBe('wrong-password');
    await customKeyStores.disconnect(admin(), store.id);
    const updated = await customKeyStores.update(admin(), store.id, { name: 'renamed', aws_param: { key_store_password: PASSWORD, cloud_hsm_cluster_id: OTHER_CLUSTER } });
    expect(updated).toMatchObject({ name: 'renamed', aws_param: { cloud_hsm_cluster_id: OTHER_CLUSTER } });
    expect(kms.stores.get(store.aws_param.custom_key_store_id)?.cloudHsm).toMatchObject({ name: 'renamed', cloudHsmClusterId: OTHER_CLUSTER, keyStorePassword: PASSWORD });
    expect(secrets.values.get(secretNames.cloudHsmPassword(store.id))).toBe(PASSWORD);
    expect((await customKeyStores.connect(admin(), store.id)).aws_param.connection_state).toBe('CONNECTED');
  });

  it('puts the old password back when AWS KMS refuses the new one', async () => {
    // Arrange
    const store = await stores.create(admin(), request());
    kms.failNext('updateCloudHsmKeyStore', new ConflictError('AWS KMS UpdateCustomKeyStore: CustomKeyStoreInvalidStateException'));

    // Act
    const error = await rejectionOf(stores.update(admin(), store.id, { aws_param: { key_store_password: 'another-password' } }));

    // Assert
    expect(error).toBeInstanceOf(ConflictError);
    expect(secrets.values.get(secretNames.cloudHsmPassword(store.id))).toBe(PASSWORD);
  });

  it('connect with key_store_password replaces the stored password first; external stores refuse the field', async () => {
    // Arrange
    const store = await stores.create(admin(), request({ key_store_password: 'wrong-password' }));

    // Act
    const connected = await customKeyStores.connect(admin(), store.id, { key_store_password: PASSWORD });

    // Assert
    expect(connected.aws_param.connection_state).toBe('CONNECTED');
    expect(secrets.values.get(secretNames.cloudHsmPassword(store.id))).toBe(PASSWORD);
    const setup = await keyStoreSetup(state);
    const external = await keyServices(state, secrets, kms).keyStores.create(admin(), setup.request());
    expect((await rejectionOf(customKeyStores.connect(admin(), external.id, { key_store_password: PASSWORD }))).message).toMatch(/^key_store_password: only applies to AWS_CLOUDHSM/);
  });

  it('refuses delete while connected and while an AWS key is in the store (saying which), then deletes both sides and the secret', async () => {
    // Arrange
    const store = await stores.create(admin(), request());
    await stores.connect(admin(), store.id);
    const key = await keys.create(admin('cloudhsmkeycreate'), store.id, { aws_param: { Alias: 'hsm-key' } });

    // Act + Assert
    expect((await rejectionOf(customKeyStores.delete(admin(), store.id))).message).toMatch(/it is CONNECTED in AWS KMS.*; it still has 1 AWS key/);
    await stores.disconnect(admin(), store.id);
    const onlyKeys = await rejectionOf(customKeyStores.delete(admin(), store.id));
    expect(onlyKeys.message).toMatch(/cannot be deleted: it still has 1 AWS key/);
    await awsKeys.delete(admin('cloudhsmkeydelete'), key.id);
    await customKeyStores.delete(admin(), store.id);
    expect([await recorded(), kms.stores.size, secrets.values.size]).toEqual([0, 0, 0]);
    expect((await state.get('account', account.id))?.counters).toMatchObject({ keyStores: 0 });
  });

  it('answers external-only routes with a 400 saying so, and a store of another container like a missing one (403)', async () => {
    // Arrange
    const store = await stores.create(admin(), request());
    const services = keyServices(state, secrets, kms);

    // Act + Assert
    expect((await rejectionOf(services.keyStores.block(admin('keystoreblock'), store.id))).message).toMatch(/^id: key store .* is an AWS_CLOUDHSM key store; this operation applies to external key stores/);
    expect((await rejectionOf(services.credentials.list(admin('viewkeystore'), store.id, {}))).message).toMatch(/AWS_CLOUDHSM/);
    const stranger = user('mallory', 'viewkeystore');
    expect((await rejectionOf(customKeyStores.get(stranger, store.id))).constructor.name).toBe('ForbiddenError');
    expect((await rejectionOf(services.keyStores.block(stranger, store.id))).constructor.name).toBe('ForbiddenError');
  });
});

describe('KMS keys in a CloudHSM store', () => {
  it('creates the KMS key in the store (Origin AWS_CLOUDHSM) with its alias, tags and policy, as an AWS key of kind cloudhsm', async () => {
    // Arrange
    const store = await stores.create(admin(), request());

    // Act
    const key = await keys.create(admin('cloudhsmkeycreate'), store.id, { aws_param: { Alias: 'hsm-key', Description: 'd', Tags: [{ TagKey: 'a', TagValue: 'b' }] }, key_users: ['richard-roe'] });

    // Assert
    expect(key).toMatchObject({ key_material_origin: 'CloudHSM', key_source: 'CloudHSM', custom_key_store_id: store.id, custom_key_store_name: 'hsm-store', linked_state: true, aws_param: { Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: store.aws_param.custom_key_store_id, Alias: ['alias/hsm-key'], Tags: [{ TagKey: 'a', TagValue: 'b' }] } });
    expect(JSON.stringify(key.aws_param.Policy)).toContain(':user/richard-roe');
    expect((await state.get('cloudHsmKeyStore', store.id))?.counters).toMatchObject({ awsKeys: 1 });
  });

  it('requires the alias, and schedules the new key\'s deletion when the alias is refused, recording nothing', async () => {
    // Arrange
    const store = await stores.create(admin(), request());
    kmsKeys.failNext('createAlias', new ConflictError('alias: AWS KMS CreateAlias: AlreadyExistsException'));

    // Act + Assert
    expect((await rejectionOf(keys.create(admin(), store.id, { aws_param: {} }))).message).toMatch(/^aws_param\.Alias: is required/);
    const error = await rejectionOf(keys.create(admin(), store.id, { aws_param: { Alias: 'taken' } }));
    expect(error.message).toMatch(/scheduled for deletion \(7 days\) and no AWS key was recorded/);
    expect([...kmsKeys.keys.values()].map((k) => k.metadata.KeyState)).toEqual(['PendingDeletion']);
    expect(await state.list('awsKey')).toEqual([]);
    expect((await state.get('cloudHsmKeyStore', store.id))?.counters).toMatchObject({ awsKeys: 0 });
  });
});

describe('unused clusters and the list of both store types', () => {
  it('answers the account\'s clusters that no CloudHSM store in AWS KMS uses', async () => {
    // Arrange
    const service = new CloudHsmClusterService({ state, awsKms: kms, cloudHsm: { describeClusters: async () => clusters } satisfies CloudHsmClusters });
    const before = await service.unused(admin('viewkeystore'), { kms: account.name, region: 'us-east-1' });
    await stores.create(admin(), request());

    // Act
    const after = await service.unused(admin('viewkeystore'), { kms: account.id, region: 'us-east-1' });

    // Assert
    expect(before).toEqual({ total: 2, detailed_status: 'Unused CloudHSM cluster(s) found', resources: clusters });
    expect(after).toEqual({ total: 1, detailed_status: 'Unused CloudHSM cluster(s) found', resources: [clusters[1]] });
    expect((await rejectionOf(service.unused(admin(), { kms: account.name, region: 'eu-north-1' }))).message).toMatch(/^region: /);
  });

  it('lists external and CloudHSM stores as one list, filtered by type, sorted and paged together', async () => {
    // Arrange
    const setup = await keyStoreSetup(state);
    await keyServices(state, secrets, kms).keyStores.create(admin(), setup.request({ name: 'b-external' }));
    await stores.create(admin(), request({}, 'a-cloudhsm'));
    await stores.create(admin(), request({ cloud_hsm_cluster_id: OTHER_CLUSTER }, 'c-cloudhsm'));

    // Act
    const all = await customKeyStores.list(admin('viewkeystore'), { sort: 'name', limit: '2' });
    const cloudHsmOnly = await customKeyStores.list(admin('viewkeystore'), { custom_key_store_type: 'CLOUD_HSM' });
    const external = await customKeyStores.list(admin('viewkeystore'), { custom_key_store_type: 'EXTERNAL_KEY_STORE' });
    const blocked = await customKeyStores.list(admin('viewkeystore'), { blocked: 'false' });

    // Assert
    expect([all.total, all.resources.map((s) => s.name)]).toEqual([3, ['a-cloudhsm', 'b-external']]);
    expect(cloudHsmOnly.resources.map((s) => s.name).sort()).toEqual(['a-cloudhsm', 'c-cloudhsm']);
    expect(external.resources.map((s) => s.name)).toEqual(['b-external']);
    expect(blocked.resources.map((s) => s.name)).toEqual(['b-external']);
  });
});
