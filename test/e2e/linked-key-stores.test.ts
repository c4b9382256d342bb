/**
 * Linked external key stores end to end through the local runner (what `npm start` runs): the key
 * manager drives the local AWS KMS (the stand-in, through the production AWS KMS adapter), and that
 * AWS KMS calls the XKS proxy, which uses SoftHSM2. Create a linked store, connect, make a KMS key
 * with XksKeyId, Encrypt and Decrypt through AWS KMS's API (the SDK and the AWS CLI), block and
 * unblock, rotate the credential (AWS KMS gets the new one), disconnect; and the refusals: a store
 * AWS KMS cannot check is created on neither side, a store with KMS keys is not deleted.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  CreateKeyCommand,
  DecryptCommand,
  DescribeCustomKeyStoresCommand,
  EncryptCommand,
  KMSClient,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import { adminApi, adminCall, type LocalSystem, localKmsClient, retryingProxyTimeouts, startLocalSystem } from '../helpers/local-system';
import { afterStalenessLimit, timeUntil } from '../xks/support/poll';

const run = promisify(execFile);
const HEALTH_CHECK_ATTRIBUTES = ['CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_WRAP', 'CKA_UNWRAP', 'CKA_SENSITIVE'];
const REGION = 'us-east-1';

let system: LocalSystem;
let kms: KMSClient;

beforeAll(async () => {
  system = await startLocalSystem();
  kms = localKmsClient(system, REGION);
});

afterAll(async () => {
  kms?.destroy();
  await system?.stop();
});

/** A management API call with the admin token; answers status and body. */
const call: ReturnType<typeof adminCall> = (...args) => adminCall(system)(...args);
/** A management API call with the admin token that must answer `expected`. */
const api: ReturnType<typeof adminApi> = (...args) => adminApi(system)(...args);

/** The AWS CLI against the local AWS KMS, as the README shows it. */
async function awsCli(...args: string[]): Promise<any> {
  return retryingProxyTimeouts(() => awsCliOnce(...args));
}

async function awsCliOnce(...args: string[]): Promise<any> {
  const { stdout } = await run('aws', ['kms', ...args, '--endpoint-url', system.aws.endpointUrl, '--region', REGION, '--output', 'json'], {
    env: { ...process.env, AWS_ACCESS_KEY_ID: system.aws.accessKeyId, AWS_SECRET_ACCESS_KEY: system.aws.secretAccessKey, AWS_SESSION_TOKEN: '' },
  });
  return stdout.trim() ? JSON.parse(stdout) : undefined;
}

/** The name of the error an AWS KMS Encrypt under `keyId` fails with, or 'ok'. */
async function encryptOutcome(keyId: string): Promise<string> {
  return retryingProxyTimeouts(() => kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('probe') }))).then(
    () => 'ok',
    (error: Error) => error.name,
  );
}

async function connectionState(storeId: string): Promise<string> {
  return (await api('GET', `/v1/cckm/aws/custom-key-stores/${storeId}`)).aws_param.connection_state;
}

it('drives AWS KMS: linked store, connect, KMS key with XksKeyId, Encrypt/Decrypt, block, rotate, disconnect', async () => {
  // Arrange: an account container in the stand-in's default account, a health-check key and a source key.
  await api('POST', '/v1/cckm/aws/kms', { name: 'linked', account_id: system.aws.accountId, regions: [REGION] }, 201);
  const partitionId: string = (await api('GET', '/v1/cckm/hsm/partitions?name=local-softhsm')).resources[0].id;
  const key = (label: string, attributes: string[]) =>
    api('POST', '/v1/cckm/hsm/keys', { partition_id: partitionId, label, mechanism: 'CKM_AES_KEY_GEN', size: 256, attributes }, 201);
  const healthCheckKey = await key('linked-health', HEALTH_CHECK_ATTRIBUTES);
  const sourceKey = await key('linked-source', ['CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_SENSITIVE']);

  // Act 1: a linked store is created in AWS KMS too (which checked the proxy's health with its credential).
  const store = await api('POST', '/v1/cckm/aws/custom-key-stores', {
    name: 'linked-store',
    kms: 'linked',
    region: REGION,
    linked_state: true,
    local_hosted_params: { partition_id: partitionId, health_check_key_id: healthCheckKey.id, max_credentials: 2 },
    aws_param: { xks_proxy_uri_endpoint: 'https://xks.example.com', xks_proxy_connectivity: 'PUBLIC_ENDPOINT' },
  }, 201);
  const cks: string = store.aws_param.custom_key_store_id;
  expect(cks).toMatch(/^cks-[0-9a-f]{17}$/);
  expect(store).toMatchObject({ type: 'LOCAL', local_hosted_params: { linked_state: true }, aws_param: { connection_state: 'DISCONNECTED' } });
  const [inAws] = (await kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: cks }))).CustomKeyStores ?? [];
  expect(inAws).toMatchObject({
    CustomKeyStoreName: 'linked-store',
    CustomKeyStoreType: 'EXTERNAL_KEY_STORE',
    XksProxyConfiguration: { AccessKeyId: store.access_key_id, UriEndpoint: 'https://xks.example.com', UriPath: store.aws_param.xks_proxy_uri_path, Connectivity: 'PUBLIC_ENDPOINT' },
  });

  // Act 2: connect, through the API; AWS KMS reports CONNECTING, then CONNECTED.
  const connecting = await api('POST', `/v1/cckm/aws/custom-key-stores/${store.id}/connect`);
  expect(['CONNECTING', 'CONNECTED']).toContain(connecting.aws_param.connection_state);
  await timeUntil(async () => (await connectionState(store.id)) === 'CONNECTED', 30_000, 500);

  // Act 3: an HYOK key, and the KMS key for it in AWS KMS (which asks the proxy for its metadata).
  const hyok = await api('POST', '/v1/cckm/aws/create-hyok-key', { local_hosted_params: { source_key_id: sourceKey.id, custom_key_store_id: store.id } }, 201);
  const xksKeyId: string = hyok.aws_param.XksKeyConfiguration.Id;
  const created = await retryingProxyTimeouts(() => kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL_KEY_STORE', CustomKeyStoreId: cks, XksKeyId: xksKeyId, Description: 'linked e2e' })));
  const keyId = created.KeyMetadata?.KeyId as string;
  expect(created.KeyMetadata).toMatchObject({ Origin: 'EXTERNAL_KEY_STORE', CustomKeyStoreId: cks, XksKeyConfiguration: { Id: xksKeyId }, KeyState: 'Enabled' });

  // Act 4: Encrypt and Decrypt through AWS KMS's API: AWS KMS → proxy → SoftHSM2.
  const plaintext = Buffer.from('hold your own key, through AWS KMS');
  const sealed = await retryingProxyTimeouts(() => kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: plaintext, EncryptionContext: { project: 'linked' } })));
  const opened = await retryingProxyTimeouts(() => kms.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob, EncryptionContext: { project: 'linked' } })));
  expect(Buffer.from(opened.Plaintext as Uint8Array)).toEqual(plaintext);
  expect(opened.KeyId).toContain(keyId);
  // ... and with the AWS CLI (blobs as fileb://, which CLI v1 and v2 read the same way)
  const plaintextFile = join(system.stateDir, 'cli-plaintext.bin');
  const ciphertextFile = join(system.stateDir, 'cli-ciphertext.bin');
  writeFileSync(plaintextFile, 'from the cli');
  const cliSealed = await awsCli('encrypt', '--key-id', keyId, '--plaintext', `fileb://${plaintextFile}`);
  writeFileSync(ciphertextFile, Buffer.from(cliSealed.CiphertextBlob, 'base64'));
  const cliOpened = await awsCli('decrypt', '--ciphertext-blob', `fileb://${ciphertextFile}`);
  expect(Buffer.from(cliOpened.Plaintext, 'base64').toString()).toBe('from the cli');

  // Act 5: block the store: within 5 s AWS KMS's Encrypt fails with KMSInvalidStateException; unblock: it works again.
  await api('POST', `/v1/cckm/aws/custom-key-stores/${store.id}/block`);
  await afterStalenessLimit();
  expect(await encryptOutcome(keyId)).toBe('KMSInvalidStateException');
  await api('POST', `/v1/cckm/aws/custom-key-stores/${store.id}/unblock`);
  await afterStalenessLimit();
  expect(await encryptOutcome(keyId)).toBe('ok');

  // Act 6: rotate the credential: AWS KMS signs with the new one, and Encrypt still works.
  const rotated = await api('POST', `/v1/cckm/aws/custom-key-stores/${store.id}/rotate-credential`);
  expect(rotated.access_key_id).not.toBe(store.access_key_id);
  const afterRotation = await awsCli('describe-custom-key-stores', '--custom-key-store-id', cks);
  expect(afterRotation.CustomKeyStores[0].XksProxyConfiguration.AccessKeyId).toBe(rotated.access_key_id);
  expect(await encryptOutcome(keyId)).toBe('ok');
  // the replaced credential stays valid five minutes: another rotation (max_credentials 2) would drop it
  const early = await call('POST', `/v1/cckm/aws/custom-key-stores/${store.id}/rotate-credential`);
  expect(early.status).toBe(409);
  // (refused by whichever guard sees it first: the replaced credential's 5 minutes, or its recent use by AWS KMS)
  expect(early.json.message).toMatch(new RegExp(`${store.access_key_id}|AWS KMS may keep signing with it until`));

  // Act 7: a network change needs DISCONNECTED; then disconnect, and Encrypt fails.
  const refused = await call('PATCH', `/v1/cckm/aws/custom-key-stores/${store.id}`, { aws_param: { xks_proxy_uri_endpoint: 'https://xks2.example.com' } });
  expect(refused.status).toBe(409);
  expect(refused.json.message).toContain('DISCONNECTED');
  await api('POST', `/v1/cckm/aws/custom-key-stores/${store.id}/disconnect`);
  await timeUntil(async () => (await connectionState(store.id)) === 'DISCONNECTED', 30_000, 500);
  expect(await encryptOutcome(keyId)).toBe('KMSInvalidStateException');

  // Act 8: delete is refused while AWS KMS has a key in the store (pending deletion counts).
  await kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
  await api('DELETE', `/v1/cckm/aws/keys/${hyok.id}`, undefined, 204);
  const notYet = await call('DELETE', `/v1/cckm/aws/custom-key-stores/${store.id}`);
  expect(notYet.status).toBe(409);
  expect(notYet.json.message).toContain('it still has 1 KMS key(s) in it, counting those pending deletion');
  expect(await call('GET', `/v1/cckm/aws/custom-key-stores/${store.id}`)).toMatchObject({ status: 200 });
}, 180_000);

it('creates a linked store on neither side when AWS KMS cannot check the proxy, and says what AWS KMS reported', async () => {
  // Arrange: a blocked store: the proxy refuses AWS KMS's health check.
  await api('POST', '/v1/cckm/aws/kms', { name: 'linked-refused', account_id: system.aws.accountId, regions: [REGION] }, 201);
  const partitionId: string = (await api('GET', '/v1/cckm/hsm/partitions?name=local-softhsm')).resources[0].id;
  const healthCheckKey = await api('POST', '/v1/cckm/hsm/keys', { partition_id: partitionId, label: 'refused-health', mechanism: 'CKM_AES_KEY_GEN', size: 256, attributes: HEALTH_CHECK_ATTRIBUTES }, 201);
  const before = (await kms.send(new DescribeCustomKeyStoresCommand({}))).CustomKeyStores?.length ?? 0;

  // Act
  const refused = await call('POST', '/v1/cckm/aws/custom-key-stores', {
    name: 'never-made',
    kms: 'linked-refused',
    region: REGION,
    linked_state: true,
    local_hosted_params: { partition_id: partitionId, health_check_key_id: healthCheckKey.id, blocked: true },
    aws_param: { xks_proxy_uri_endpoint: 'https://xks.example.com' },
  });

  // Assert
  expect(refused.status).toBe(400);
  expect(refused.json.message).toMatch(/AWS KMS CreateCustomKeyStore in account \d{12} \(us-east-1\): XksProxy\w+Exception/);
  expect((await api('GET', '/v1/cckm/aws/custom-key-stores?name=never-made')).total).toBe(0);
  expect((await kms.send(new DescribeCustomKeyStoresCommand({}))).CustomKeyStores?.length ?? 0).toBe(before);
});
