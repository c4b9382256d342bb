/**
 * Synchronization jobs end to end through the local runner (what `npm start` runs) and its local
 * AWS KMS: keys and stores made directly in AWS KMS with the SDK (not through the key manager)
 * appear after a synchronization with the right fields; a second run changes nothing; a key AWS
 * KMS deleted becomes gone; a job cancelled after its first page ends cancelled with partial
 * counts; "Refresh All" links our unlinked store that was created in AWS KMS and shows a foreign
 * one as REMOTE, which can be renamed (in AWS KMS) and is marked gone once AWS KMS deleted it.
 */
import { ConnectCustomKeyStoreCommand, CreateAliasCommand, CreateCustomKeyStoreCommand, CreateKeyCommand, DeleteCustomKeyStoreCommand, DescribeCustomKeyStoresCommand, KMSClient, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keysOf } from '../../lambdas/local/aws-stand-in/kms/key-record';
import { StandInState } from '../../lambdas/local/aws-stand-in/state';
import { adminApi, type LocalSystem, startLocalSystem } from '../helpers/local-system';
import { timeUntil } from '../xks/support/poll';

jest.setTimeout(300_000);

const [US, EU, AP] = ['us-east-1', 'eu-west-1', 'ap-south-1'];
const HEALTH_CHECK_ATTRIBUTES = ['CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_WRAP', 'CKA_UNWRAP', 'CKA_SENSITIVE'];
const ENDPOINT = 'https://xks.example.com';

let system: LocalSystem;
const stateDir = mkdtempSync(join(tmpdir(), 'sync-e2e-'));
const kmsIn = (region: string) => new KMSClient({ endpoint: system.aws.endpointUrl, region, credentials: system.aws, maxAttempts: 3 });
const api: ReturnType<typeof adminApi> = (...args) => adminApi(system)(...args);

beforeAll(async () => {
  system = await startLocalSystem({ stateDir });
});

afterAll(async () => {
  await system?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

/** AWS KMS calls that reach the proxy, retried only on AWS KMS's "the proxy did not respond in time" (250 ms on a loaded machine). */
async function viaProxy<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= 5 || !/did not respond in time/.test(String((error as Error).message))) throw error;
    }
  }
}

/** Starts a job on `path` and waits until it has ended. */
async function runJob(path: string, body: unknown): Promise<any> {
  const job = await api('POST', path, body, 201);
  expect(job).toMatchObject({ overall_status: 'in_progress', abort: false, cloud: 'aws' });
  let ended: any;
  await timeUntil(async () => {
    ended = await api('GET', `${path}/${job.id}`);
    return ended.overall_status !== 'in_progress';
  }, 180_000, 250);
  return ended;
}

/** An unlinked store of ours, and its XKS credential (the secret is shown once). */
async function unlinkedStore(name: string, healthCheckKeyId: string, partitionId: string): Promise<any> {
  return api('POST', '/v1/cckm/aws/custom-key-stores', {
    name, kms: 'sync-e2e', region: US,
    local_hosted_params: { partition_id: partitionId, health_check_key_id: healthCheckKeyId, max_credentials: 2 },
    aws_param: { xks_proxy_uri_endpoint: ENDPOINT, xks_proxy_connectivity: 'PUBLIC_ENDPOINT' },
  }, 201);
}

/** CreateCustomKeyStore directly in AWS KMS, for the proxy path and credential of one of our stores. */
async function storeInAwsKms(kms: KMSClient, name: string, store: any): Promise<string> {
  const made = await viaProxy(() => kms.send(new CreateCustomKeyStoreCommand({
    CustomKeyStoreName: name, CustomKeyStoreType: 'EXTERNAL_KEY_STORE', XksProxyUriEndpoint: ENDPOINT, XksProxyUriPath: store.aws_param.xks_proxy_uri_path,
    XksProxyConnectivity: 'PUBLIC_ENDPOINT', XksProxyAuthenticationCredential: { AccessKeyId: store.access_key_id, RawSecretAccessKey: store.secret_access_key },
  })));
  return made.CustomKeyStoreId!;
}

it('Refresh All links our store made in AWS KMS and its HYOK key, shows a foreign store as REMOTE; key synchronization downloads native keys; a second run changes nothing', async () => {
  // Arrange: a container over three regions; an HSM key pair for stores; keys and stores made directly in AWS KMS.
  const account = await api('POST', '/v1/cckm/aws/kms', { name: 'sync-e2e', account_id: system.aws.accountId, regions: [US, EU, AP] }, 201);
  const partitionId: string = (await api('GET', '/v1/cckm/hsm/partitions?name=local-softhsm')).resources[0].id;
  const hsmKey = (label: string, attributes: string[]) => api('POST', '/v1/cckm/hsm/keys', { partition_id: partitionId, label, mechanism: 'CKM_AES_KEY_GEN', size: 256, attributes }, 201);
  const healthCheckKey = await hsmKey('sync-health', HEALTH_CHECK_ATTRIBUTES);
  const sourceKey = await hsmKey('sync-source', ['CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_SENSITIVE']);
  const ours = await unlinkedStore('sync-ours', healthCheckKey.id, partitionId);
  const gone = await unlinkedStore('sync-foreign', healthCheckKey.id, partitionId);
  const us = kmsIn(US);
  const ourCks = await storeInAwsKms(us, 'made-with-the-sdk', ours);
  // A store whose proxy path names no store of ours: made for a store we then deleted (another key manager's, as far as we know).
  const foreignCks = await storeInAwsKms(us, 'someone-elses', gone);
  await api('DELETE', `/v1/cckm/aws/custom-key-stores/${gone.id}`, undefined, 204);
  const hyok = await api('POST', '/v1/cckm/aws/create-hyok-key', { local_hosted_params: { source_key_id: sourceKey.id, custom_key_store_id: ours.id } }, 201);
  expect(hyok.linked_state).toBe(false);
  await us.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: ourCks }));
  await timeUntil(async () => (await us.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: ourCks }))).CustomKeyStores?.[0]?.ConnectionState === 'CONNECTED', 30_000, 250);
  const external = (await viaProxy(() => us.send(new CreateKeyCommand({ Origin: 'EXTERNAL_KEY_STORE', CustomKeyStoreId: ourCks, XksKeyId: hyok.id, Description: 'in a store made with the SDK' })))).KeyMetadata!;
  const native = (await us.send(new CreateKeyCommand({ Description: 'native with alias and tags', Tags: [{ TagKey: 'team', TagValue: 'blue' }] }))).KeyMetadata!;
  await us.send(new CreateAliasCommand({ AliasName: 'alias/sync-native', TargetKeyId: native.KeyId }));
  const eu = kmsIn(EU);
  const european = (await eu.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY', Description: 'asymmetric in eu-west-1' }))).KeyMetadata!;

  // Act 1: Refresh All.
  const refresh = await runJob('/v1/cckm/aws/custom-key-stores/synchronization-jobs', { kms: ['sync-e2e'], regions: [US] });

  // Assert 1: our store linked, the foreign one REMOTE, the HYOK key linked to its KMS key.
  expect(refresh).toMatchObject({ overall_status: 'completed', detailed_status: { [`${system.aws.accountId}/${US}`]: 'region synchronized successfully' }, found: 2, created: 1, updated: 2 });
  expect(await api('GET', `/v1/cckm/aws/custom-key-stores/${ours.id}`)).toMatchObject({ type: 'LOCAL', local_hosted_params: { linked_state: true }, aws_param: { custom_key_store_id: ourCks, connection_state: 'CONNECTED' } });
  const remote = (await api('GET', '/v1/cckm/aws/custom-key-stores?type=REMOTE')).resources;
  expect(remote).toEqual([expect.objectContaining({ type: 'REMOTE', name: 'someone-elses', kms_id: account.id, region: US, locally_hosted: false, aws_param: expect.objectContaining({ custom_key_store_id: foreignCks, xks_proxy_uri_path: gone.aws_param.xks_proxy_uri_path }) })]);
  expect(await api('GET', `/v1/cckm/aws/keys/${hyok.id}`)).toMatchObject({ linked_state: true, aws_param: { KeyID: external.KeyId, Origin: 'EXTERNAL_KEY_STORE', CustomKeyStoreId: ourCks, Description: 'in a store made with the SDK' } });

  // Act 1b + Assert 1b: the REMOTE store is renamed, in AWS KMS; what only our stores have is a 400 naming the field.
  const renamed = await api('PATCH', `/v1/cckm/aws/custom-key-stores/${remote[0].id}`, { name: 'renamed-remote' });
  expect(renamed).toMatchObject({ id: remote[0].id, type: 'REMOTE', name: 'renamed-remote', aws_param: { custom_key_store_name: 'renamed-remote', custom_key_store_id: foreignCks } });
  expect((await us.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: foreignCks }))).CustomKeyStores?.[0]?.CustomKeyStoreName).toBe('renamed-remote');
  expect(await api('PATCH', `/v1/cckm/aws/custom-key-stores/${remote[0].id}`, { local_hosted_params: { max_credentials: 5 } }, 400)).toMatchObject({ message: expect.stringMatching(/^local_hosted_params: cannot be changed on a REMOTE key store/) });

  // Act 2: AWS key synchronization of every region of the container.
  const first = await runJob('/v1/cckm/aws/synchronization-jobs', { kms: ['sync-e2e'] });

  // Assert 2: every key once, with AWS KMS's fields; the HYOK key's KMS key joined its record.
  expect(first).toMatchObject({ overall_status: 'completed', found: 3, created: 2, updated: 0, gone: 0 });
  expect(Object.values(first.detailed_status)).toEqual(['region synchronized successfully', 'region synchronized successfully', 'region synchronized successfully']);
  const keys = (await api('GET', `/v1/cckm/aws/keys?kms=sync-e2e&limit=100`)).resources;
  expect(keys.map((k: any) => k.aws_param.KeyID).sort()).toEqual([external.KeyId, native.KeyId, european.KeyId].sort());
  expect(keys.find((k: any) => k.aws_param.KeyID === native.KeyId)).toMatchObject({
    kms_id: account.id, region: US, key_material_origin: 'native', linked_state: true, gone: false, key_type: 'symmetric',
    aws_param: { Arn: native.Arn, Alias: ['alias/sync-native'], Tags: [{ TagKey: 'team', TagValue: 'blue' }], Description: 'native with alias and tags', Origin: 'AWS_KMS', KeyManager: 'CUSTOMER', KeyRotationEnabled: false, Policy: expect.objectContaining({ Statement: expect.any(Array) }) },
  });
  expect(keys.find((k: any) => k.aws_param.KeyID === european.KeyId)).toMatchObject({ region: EU, key_type: 'asymmetric', aws_param: { KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' } });
  expect(keys.find((k: any) => k.aws_param.KeyID === external.KeyId)?.id).toBe(hyok.id);

  // Act 3 + Assert 3: a second run creates and changes nothing.
  const second = await runJob('/v1/cckm/aws/synchronization-jobs', { kms: [account.id] });
  expect(second).toMatchObject({ overall_status: 'completed', found: 3, created: 0, updated: 0, gone: 0 });
  const again = (await api('GET', `/v1/cckm/aws/keys?kms=sync-e2e&limit=100`)).resources;
  const shown = (list: any[]) => list.map(({ synced_at: _s, ...rest }: any) => rest).sort((a: any, b: any) => (a.id < b.id ? -1 : 1));
  expect(shown(again)).toEqual(shown(keys));
  const refreshAgain = await runJob('/v1/cckm/aws/custom-key-stores/synchronization-jobs', { synchronize_all: true });
  expect(refreshAgain).toMatchObject({ overall_status: 'completed', created: 0, updated: 0 });
  expect((await api('GET', '/v1/cckm/aws/custom-key-stores?type=REMOTE')).total).toBe(1);

  // Act 4: AWS KMS deletes the native key (its waiting period is over): the stand-in's state is
  // changed while the runner is stopped, as AWS would after the 7 days.
  await us.send(new ScheduleKeyDeletionCommand({ KeyId: native.KeyId, PendingWindowInDays: 7 }));
  [us, eu].forEach((c) => c.destroy());
  await system.stop();
  const standIn = StandInState.open(join(stateDir, 'aws'));
  const keysInUs = keysOf(standIn.scope(system.aws.accountId, US));
  keysInUs.put(native.KeyId!, { ...keysInUs.get(native.KeyId!)!, deletionDate: Math.floor(Date.now() / 1000) - 1 });
  standIn.compact();
  system = await startLocalSystem({ stateDir });

  const third = await runJob('/v1/cckm/aws/synchronization-jobs', { kms: ['sync-e2e'], regions: [US] });

  // Assert 4: the deleted key is gone, the others unchanged.
  expect(third).toMatchObject({ overall_status: 'completed', found: 1, created: 0, gone: 1 });
  expect((await api('GET', `/v1/cckm/aws/keys?kms=sync-e2e&gone=true`)).resources.map((k: any) => k.aws_param.KeyID)).toEqual([native.KeyId]);

  // Act 5 + Assert 5: the foreign store is deleted directly in AWS KMS; the next Refresh All marks the REMOTE store gone.
  const usAgain = kmsIn(US);
  await usAgain.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: foreignCks }));
  usAgain.destroy();
  const refreshed = await runJob('/v1/cckm/aws/custom-key-stores/synchronization-jobs', { kms: ['sync-e2e'], regions: [US] });
  expect(refreshed).toMatchObject({ overall_status: 'completed', found: 1, created: 0, gone: 1 });
  expect((await api('GET', '/v1/cckm/aws/custom-key-stores?type=REMOTE')).resources).toEqual([expect.objectContaining({ id: remote[0].id, name: 'renamed-remote', gone: true })]);
});

it('a job cancelled after its first page ends cancelled, with the counts of the pages it did', async () => {
  // Arrange: 350 keys in one region (four ListKeys pages of 100).
  const ap = kmsIn(AP);
  for (let i = 0; i < 350; i += 10) await Promise.all(Array.from({ length: 10 }, () => ap.send(new CreateKeyCommand({}))));
  ap.destroy();
  const job = await api('POST', '/v1/cckm/aws/synchronization-jobs', { kms: ['sync-e2e'], regions: [AP] }, 201);

  // Act: cancel as soon as the first page is counted.
  await timeUntil(async () => (await api('GET', `/v1/cckm/aws/synchronization-jobs/${job.id}`)).found >= 100, 120_000, 20);
  expect((await api('POST', `/v1/cckm/aws/synchronization-jobs/${job.id}/cancel`)).abort).toBe(true);
  let ended: any;
  await timeUntil(async () => (ended = await api('GET', `/v1/cckm/aws/synchronization-jobs/${job.id}`)).overall_status !== 'in_progress', 120_000, 250);

  // Assert
  expect(ended).toMatchObject({ overall_status: 'cancelled', abort: true, detailed_status: { [`${system.aws.accountId}/${AP}`]: 'cancelled' } });
  expect(ended.found).toBeGreaterThanOrEqual(100);
  expect(ended.found).toBeLessThan(350);
  expect(ended.found % 100).toBe(0);
  expect(ended.created).toBe(ended.found);
  expect((await api('GET', `/v1/cckm/aws/keys?kms=sync-e2e&region=${AP}&limit=1`)).total).toBe(ended.found);
  expect((await adminApi(system)('POST', `/v1/cckm/aws/synchronization-jobs/${job.id}/cancel`, undefined, 409)).code).toBeDefined();
});
