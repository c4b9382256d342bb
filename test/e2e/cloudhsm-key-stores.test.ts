/**
 * CloudHSM key stores end to end through the local runner (what `npm start` runs): the key manager
 * lists the account's unused CloudHSM clusters (CloudHSMv2 DescribeClusters on the local AWS
 * stand-in, through the production adapter), creates an AWS_CLOUDHSM store in the local AWS KMS on
 * the local cluster (a SoftHSM2 token of its own), connects it (AWS KMS logs in to the token as
 * kmsuser with the stored password), creates a KMS key in it (generated in the token), and AWS KMS
 * encrypts and decrypts with that key until the store is disconnected; a key made in the store
 * directly with the SDK is tied to it by AWS key synchronization. The kmsuser password is
 * never in a response, the state table or the runner's log.
 */
import { CreateKeyCommand, DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { adminApi, type LocalSystem, startLocalSystem } from '../helpers/local-system';
import { timeUntil } from '../xks/support/poll';

const REGION = 'us-east-1';
const STATE_TABLE = 'key-manager-state';
const STORES = '/v1/cckm/aws/custom-key-stores';
/** A kmsuser password the cluster does not have (7-32 characters, as AWS KMS takes them). */
const WRONG_PASSWORD = 'not-the-kmsuser-pw-4711';

let system: LocalSystem;
let kms: KMSClient;

beforeAll(async () => {
  system = await startLocalSystem();
  kms = new KMSClient({ endpoint: system.aws.endpointUrl, region: REGION, credentials: system.aws, maxAttempts: 1 });
});

afterAll(async () => {
  kms?.destroy();
  await system?.stop();
});

const api: ReturnType<typeof adminApi> = (...args) => adminApi(system)(...args);

/** A management API call that must fail with `status`: its CCKM error message. */
async function refused(method: string, path: string, status: number, body?: unknown): Promise<string> {
  const response = await fetch(`${system.apiUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${system.adminToken}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  expect([path, response.status]).toEqual([path, status]);
  return (JSON.parse(text) as { message: string }).message;
}

/** The store's connection once AWS KMS has finished connecting or disconnecting. */
async function settled(storeId: string): Promise<{ connection_state: string; connection_error_code?: string }> {
  let aws: { connection_state: string; connection_error_code?: string } = { connection_state: 'CONNECTING' };
  await timeUntil(async () => {
    aws = (await api('GET', `${STORES}/${storeId}`)).aws_param;
    return aws.connection_state !== 'CONNECTING' && aws.connection_state !== 'DISCONNECTING';
  }, 30_000, 250);
  return aws;
}

it('lists the unused cluster, creates a CloudHSM store on it, connects with the right password, and AWS KMS uses a key made in the cluster until the store is disconnected', async () => {
  // Arrange: an account container for the stand-in's default account.
  await api('POST', '/v1/cckm/aws/kms', { name: 'cloudhsm-account', account_id: system.aws.accountId, regions: [REGION] }, 201);
  const trustAnchor = readFileSync(system.cloudHsm.trustAnchorCertificatePath, 'utf8');

  // Act 1: the local cluster is the account's one unused cluster, as AWS returns it.
  const unused = await api('POST', `${STORES}/get-unused-cloudhsm-clusters`, { kms: 'cloudhsm-account', region: REGION });
  expect(unused).toMatchObject({ total: 1, detailed_status: 'Unused CloudHSM cluster(s) found', resources: [{ ClusterId: system.cloudHsm.clusterId, State: 'ACTIVE' }] });
  expect(unused.resources[0].Hsms).toHaveLength(2);
  expect(unused.resources[0]).not.toHaveProperty('PreCoPassword');

  // Act 2: a store with the wrong kmsuser password; AWS KMS accepts it (it checks the password only when connecting).
  const store = await api('POST', STORES, {
    name: 'cloudhsm-store', kms: 'cloudhsm-account', region: REGION,
    aws_param: { custom_key_store_type: 'AWS_CLOUDHSM', cloud_hsm_cluster_id: system.cloudHsm.clusterId, key_store_password: WRONG_PASSWORD, trust_anchor_certificate: trustAnchor },
  }, 201);
  expect(store).toMatchObject({ type: 'CloudHSM', kms: 'cloudhsm-account', aws_param: { custom_key_store_type: 'AWS_CLOUDHSM', cloud_hsm_cluster_id: system.cloudHsm.clusterId, connection_state: 'DISCONNECTED' } });
  expect(store.aws_param.custom_key_store_id).toMatch(/^cks-[0-9a-f]{17}$/);
  expect((await api('POST', `${STORES}/get-unused-cloudhsm-clusters`, { kms: 'cloudhsm-account', region: REGION })).total).toBe(0);

  // Act 3: connecting fails: AWS KMS cannot log in as kmsuser.
  await api('POST', `${STORES}/${store.id}/connect`);
  expect(await settled(store.id)).toEqual(expect.objectContaining({ connection_state: 'FAILED', connection_error_code: 'INVALID_CREDENTIALS' }));

  // Act 4: the password changes only while DISCONNECTED.
  expect(await refused('PATCH', `${STORES}/${store.id}`, 409, { aws_param: { key_store_password: system.cloudHsm.kmsuserPassword } })).toMatch(/FAILED.*only while DISCONNECTED/);
  await api('POST', `${STORES}/${store.id}/disconnect`);
  expect((await settled(store.id)).connection_state).toBe('DISCONNECTED');
  await api('PATCH', `${STORES}/${store.id}`, { aws_param: { key_store_password: system.cloudHsm.kmsuserPassword } });

  // Act 5: with the right password the store connects.
  await api('POST', `${STORES}/${store.id}/connect`);
  expect(await settled(store.id)).toEqual({ ...store.aws_param, connection_state: 'CONNECTED' });

  // Act 6: a KMS key in the store, generated in the cluster, becomes an AWS key of kind cloudhsm.
  const key = await api('POST', `${STORES}/${store.id}/create-aws-key`, { aws_param: { Alias: 'cloudhsm-e2e', Description: 'made in the cluster', Tags: [{ TagKey: 'team', TagValue: 'blue' }] }, key_users: ['richard-roe'] }, 201);
  expect(key).toMatchObject({
    key_material_origin: 'CloudHSM', key_source: 'CloudHSM', custom_key_store_id: store.id, custom_key_store_name: 'cloudhsm-store', linked_state: true,
    aws_param: { Origin: 'AWS_CLOUDHSM', KeyState: 'Enabled', CustomKeyStoreId: store.aws_param.custom_key_store_id, CloudHsmClusterId: system.cloudHsm.clusterId, Alias: ['alias/cloudhsm-e2e'], Tags: [{ TagKey: 'team', TagValue: 'blue' }], Description: 'made in the cluster' },
  });
  expect(JSON.stringify(key.aws_param.Policy)).toContain(`arn:aws:iam::${system.aws.accountId}:user/richard-roe`);
  expect(await api('GET', `/v1/cckm/aws/keys/${key.id}`)).toMatchObject({ custom_key_store_name: 'cloudhsm-store', aws_param: { KeyID: key.aws_param.KeyID } });
  expect((await api('GET', `/v1/cckm/aws/keys?custom_key_store_id=${store.id}`)).resources.map((k: { id: string; custom_key_store_name: string }) => [k.id, k.custom_key_store_name])).toEqual([[key.id, 'cloudhsm-store']]);

  // Act 7: Encrypt and Decrypt through the local AWS KMS, by the alias.
  const encrypted = await kms.send(new EncryptCommand({ KeyId: 'alias/cloudhsm-e2e', Plaintext: Buffer.from('hello from the cluster') }));
  const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob }));
  expect(Buffer.from(decrypted.Plaintext as Uint8Array).toString()).toBe('hello from the cluster');
  expect(decrypted.KeyId).toBe(key.aws_param.Arn);

  // Act 7b: a KMS key made in the store directly with the SDK (not through the key manager) is tied to the store by AWS key synchronization.
  const direct = (await kms.send(new CreateKeyCommand({ Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: store.aws_param.custom_key_store_id, Description: 'made with the SDK' }))).KeyMetadata!;
  const sync = await api('POST', '/v1/cckm/aws/synchronization-jobs', { kms: ['cloudhsm-account'] }, 201);
  let synced: { overall_status: string } = sync;
  await timeUntil(async () => (synced = await api('GET', `/v1/cckm/aws/synchronization-jobs/${sync.id}`)).overall_status !== 'in_progress', 120_000, 250);
  expect(synced).toMatchObject({ overall_status: 'completed', found: 2, created: 1 });
  const inStore = (await api('GET', `/v1/cckm/aws/keys?custom_key_store_id=${store.id}`)).resources;
  expect(inStore.find((k: { aws_param: { KeyID: string } }) => k.aws_param.KeyID === direct.KeyId)).toMatchObject({ custom_key_store_id: store.id, custom_key_store_name: 'cloudhsm-store', key_material_origin: 'CloudHSM', aws_param: { Origin: 'AWS_CLOUDHSM', Description: 'made with the SDK' } });
  expect(inStore).toHaveLength(2);

  // Act 8: delete is refused while connected and while the keys exist; the message says both.
  expect(await refused('DELETE', `${STORES}/${store.id}`, 409)).toMatch(/CONNECTED.*disconnect it first.*2 AWS key/);

  // Act 9: disconnected, AWS KMS refuses the key; delete is still refused for the key.
  await api('POST', `${STORES}/${store.id}/disconnect`);
  expect((await settled(store.id)).connection_state).toBe('DISCONNECTED');
  await expect(kms.send(new EncryptCommand({ KeyId: key.aws_param.KeyID, Plaintext: Buffer.from('refused') }))).rejects.toMatchObject({ name: 'KMSInvalidStateException' });
  const why = await refused('DELETE', `${STORES}/${store.id}`, 409);
  expect(why).toMatch(/still has 2 AWS key/);
  expect(why).not.toMatch(/CONNECTED/);

  // Assert: external-only operations say so; the list shows the store with both filters.
  expect(await refused('POST', `${STORES}/${store.id}/block`, 400)).toMatch(/AWS_CLOUDHSM.*external key stores/);
  expect((await api('GET', `${STORES}?custom_key_store_type=CLOUD_HSM`)).resources.map((s: { id: string }) => s.id)).toEqual([store.id]);
  expect((await api('GET', `${STORES}?custom_key_store_type=EXTERNAL_KEY_STORE`)).total).toBe(0);

  // Assert: the kmsuser passwords are in no response, no table item and no log line after start-up.
  const passwords = [WRONG_PASSWORD, system.cloudHsm.kmsuserPassword];
  const responses = JSON.stringify([store, key, await api('GET', `${STORES}/${store.id}`), await api('GET', STORES)]);
  const dynamo = new DynamoDBClient({ endpoint: system.dynamoDbEndpoint, region: REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const items = JSON.stringify((await dynamo.send(new ScanCommand({ TableName: STATE_TABLE }))).Items);
  dynamo.destroy();
  const runnerLog = system.output().split('[local] running')[1] ?? '';
  expect(items).toContain(store.id);
  for (const password of passwords) {
    expect([responses.includes(password), items.includes(password), runnerLog.includes(password), system.output().includes(WRONG_PASSWORD)]).toEqual([false, false, false, false]);
  }
});

it('refuses bad CloudHSM store input with a 400 naming the field, and creates nothing', async () => {
  // Arrange
  await api('POST', '/v1/cckm/aws/kms', { name: 'cloudhsm-bad-input', account_id: system.aws.accountId, regions: [REGION] }, 201);
  const trustAnchor = readFileSync(system.cloudHsm.trustAnchorCertificatePath, 'utf8');
  const base = { name: 'cloudhsm-bad', kms: 'cloudhsm-bad-input', region: REGION };
  const param = { custom_key_store_type: 'AWS_CLOUDHSM', cloud_hsm_cluster_id: system.cloudHsm.clusterId, key_store_password: 'long-enough', trust_anchor_certificate: trustAnchor };
  const before = (await api('GET', STORES)).total;

  // Act + Assert
  expect(await refused('POST', STORES, 400, { ...base, aws_param: { ...param, key_store_password: 'short' } })).toMatch(/^aws_param\.key_store_password: must be 7 to 32 characters/);
  expect(await refused('POST', STORES, 400, { ...base, aws_param: { ...param, cloud_hsm_cluster_id: 'cluster-nosuchclust' } })).toMatch(/^aws_param\.cloud_hsm_cluster_id: .*CloudHsmClusterNotFoundException/);
  expect(await refused('POST', STORES, 400, { ...base, aws_param: { ...param, trust_anchor_certificate: 'not a certificate' } })).toMatch(/^aws_param\.trust_anchor_certificate: .*PEM/);
  expect(await refused('POST', STORES, 400, { ...base, aws_param: { ...param, xks_proxy_uri_endpoint: 'https://xks.example.com' } })).toMatch(/^aws_param\.xks_proxy_uri_endpoint: only applies to EXTERNAL_KEY_STORE/);
  const { trust_anchor_certificate: _omitted, ...withoutAnchor } = param;
  expect(await refused('POST', STORES, 400, { ...base, aws_param: withoutAnchor })).toMatch(/^aws_param\.trust_anchor_certificate: is required/);
  expect((await api('GET', STORES)).total).toBe(before);
});

it('runs the README\'s CloudHSM steps as written, on a system of their own (the cluster above is in use)', async () => {
  // Arrange
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const script = readme.split('\n### CloudHSM key stores (curl)\n')[1]?.match(/```bash\n([\s\S]*?)\n```/)?.[1];
  if (script === undefined) throw new Error('README.md has no bash block under "### CloudHSM key stores (curl)"');
  const own = await startLocalSystem();
  try {
    // Act
    const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script], { env: { ...process.env, STATE_DIR: own.stateDir }, cwd: join(__dirname, '..', '..'), timeout: 120_000 });

    // Assert: each step printed what the README says.
    expect(stdout).toContain('{"total":1,"detailed_status":"Unused CloudHSM cluster(s) found","clusters":[{"ClusterId":"' + own.cloudHsm.clusterId + '","State":"ACTIVE","hsms":2}]}\n');
    expect(stdout).toMatch(/\{"id":"[0-9a-f-]+","type":"CloudHSM","custom_key_store_id":"cks-[0-9a-f]{17}","connection_state":"DISCONNECTED"\}\n/);
    expect(stdout).toContain('\nFAILED INVALID_CREDENTIALS\nDISCONNECTED\nCONNECTED\n');
    expect(stdout).toContain('{"key_material_origin":"CloudHSM","Origin":"AWS_CLOUDHSM","KeyState":"Enabled","Alias":["alias/demo-cloudhsm"]}\n');
    expect(stdout).toContain('\nhello from the cluster\nDISCONNECTED\nKMSInvalidStateException\n');
    expect(stdout).toMatch(/cannot be deleted: it still has 1 AWS key\(s\)/);
    expect(own.output()).not.toContain('not-the-password');
  } finally {
    await own.stop();
  }
}, 300_000);
