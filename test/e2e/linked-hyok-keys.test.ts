/**
 * Linked HYOK keys and the AWS key operations end to end through the local runner (what `npm start`
 * runs): the key manager creates and changes the KMS key in the local AWS KMS (the stand-in, through
 * the production adapter), and that AWS KMS calls the XKS proxy, which uses SoftHSM2. Link an HYOK
 * key, Encrypt/Decrypt through AWS KMS, alias, tags, description and a policy from key_users as AWS
 * KMS shows them, disable/enable, block/unblock at the proxy, rotation (old and new ciphertexts decrypt), schedule and cancel
 * deletion.
 */
import { DecryptCommand, DescribeKeyCommand, EncryptCommand, GetKeyPolicyCommand, KMSClient, ListAliasesCommand, ListResourceTagsCommand } from '@aws-sdk/client-kms';
import { adminApi, type LocalSystem, localKmsClient, retryingProxyTimeouts, startLocalSystem } from '../helpers/local-system';
import { afterStalenessLimit, timeUntil } from '../xks/support/poll';

const REGION = 'us-east-1';
const HEALTH_CHECK_ATTRIBUTES = ['CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_WRAP', 'CKA_UNWRAP', 'CKA_SENSITIVE'];

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

/** A management API call with the admin token that must answer `expected`. */
const api: ReturnType<typeof adminApi> = (...args) => adminApi(system)(...args);

/** AWS KMS calls, retried only on AWS KMS's "the proxy did not respond in time" (250 ms on a loaded machine). */
const viaKms = retryingProxyTimeouts;

const encrypt = (keyId: string, text: string) => viaKms(() => kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from(text) })));
const decrypt = async (blob: Uint8Array | undefined) => Buffer.from((await viaKms(() => kms.send(new DecryptCommand({ CiphertextBlob: blob })))).Plaintext as Uint8Array).toString();

it('links an HYOK key and manages its KMS key through the API, as AWS KMS shows it', async () => {
  // Arrange: a connected linked store, and source keys for two versions.
  await api('POST', '/v1/cckm/aws/kms', { name: 'hyok-linked', account_id: system.aws.accountId, regions: [REGION] }, 201);
  const partitionId: string = (await api('GET', '/v1/cckm/hsm/partitions?name=local-softhsm')).resources[0].id;
  const hsmKey = (label: string, attributes: string[]) => api('POST', '/v1/cckm/hsm/keys', { partition_id: partitionId, label, mechanism: 'CKM_AES_KEY_GEN', size: 256, attributes }, 201);
  const healthCheckKey = await hsmKey('hyok-linked-health', HEALTH_CHECK_ATTRIBUTES);
  const v0 = await hsmKey('hyok-linked-v0', ['CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_SENSITIVE']);
  const v1 = await hsmKey('hyok-linked-v1', ['CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_SENSITIVE']);
  const store = await api('POST', '/v1/cckm/aws/custom-key-stores', {
    name: 'hyok-linked-store', kms: 'hyok-linked', region: REGION, linked_state: true,
    local_hosted_params: { partition_id: partitionId, health_check_key_id: healthCheckKey.id, max_credentials: 2 },
    aws_param: { xks_proxy_uri_endpoint: 'https://xks.example.com', xks_proxy_connectivity: 'PUBLIC_ENDPOINT' },
  }, 201);
  await api('POST', `/v1/cckm/aws/custom-key-stores/${store.id}/connect`);
  await timeUntil(async () => (await api('GET', `/v1/cckm/aws/custom-key-stores/${store.id}`)).aws_param.connection_state === 'CONNECTED', 30_000, 500);
  const hyok = await api('POST', '/v1/cckm/aws/create-hyok-key', { local_hosted_params: { source_key_id: v0.id, custom_key_store_id: store.id } }, 201);

  // Act 1: link: the KMS key is created in the store with the HYOK key's external key id.
  const linked = await viaKms(() => api('POST', `/v1/cckm/aws/keys/${hyok.id}/link`, { aws_param: { Description: 'linked through the API' } }));
  const keyId: string = linked.aws_param.KeyID;
  expect(linked).toMatchObject({ linked_state: true, aws_param: { KeyState: 'Enabled', Origin: 'EXTERNAL_KEY_STORE', CustomKeyStoreId: store.aws_param.custom_key_store_id, XksKeyConfiguration: { Id: hyok.id } } });

  // Act 2: Encrypt and Decrypt through AWS KMS.
  const before = await encrypt(keyId, 'before rotation');
  expect(await decrypt(before.CiphertextBlob)).toBe('before rotation');

  // Act 3: alias, tags, description and a policy from key_users, as AWS KMS shows them.
  await api('POST', `/v1/cckm/aws/keys/${hyok.id}/add-alias`, { alias: 'hyok-e2e' });
  await api('POST', `/v1/cckm/aws/keys/${hyok.id}/add-tags`, { tags: [{ tag_key: 'team', tag_value: 'blue' }] });
  await api('POST', `/v1/cckm/aws/keys/${hyok.id}/update-description`, { description: 'changed' });
  const withPolicy = await api('POST', `/v1/cckm/aws/keys/${hyok.id}/policy`, { key_users: ['richard-roe'] });
  expect(withPolicy.aws_param).toMatchObject({ Alias: ['alias/hyok-e2e'], Tags: [{ TagKey: 'team', TagValue: 'blue' }], Description: 'changed' });
  expect((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.Description).toBe('changed');
  expect((await kms.send(new ListAliasesCommand({ KeyId: keyId }))).Aliases?.map((a) => a.AliasName)).toEqual(['alias/hyok-e2e']);
  expect((await kms.send(new ListResourceTagsCommand({ KeyId: keyId }))).Tags).toEqual([{ TagKey: 'team', TagValue: 'blue' }]);
  const policy = JSON.parse((await kms.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' }))).Policy ?? '{}');
  expect(policy.Statement.find((s: { Sid: string }) => s.Sid === 'Allow use of the key').Principal.AWS).toEqual([`arn:aws:iam::${system.aws.accountId}:user/richard-roe`]);

  // Act 4: disable: Encrypt refused; enable: it works again.
  expect((await api('POST', `/v1/cckm/aws/keys/${hyok.id}/disable`)).aws_param.KeyState).toBe('Disabled');
  expect(await encrypt(keyId, 'x').then(() => 'ok', (e: Error) => e.name)).toBe('DisabledException');
  expect((await api('POST', `/v1/cckm/aws/keys/${hyok.id}/enable`)).aws_param.KeyState).toBe('Enabled');

  // Act 5: block the HYOK key: within 5 s AWS KMS's Encrypt fails with KMSInvalidStateException; unblock.
  await api('POST', `/v1/cckm/aws/keys/${hyok.id}/block`);
  await afterStalenessLimit();
  expect(await encrypt(keyId, 'x').then(() => 'ok', (e: Error) => e.name)).toBe('KMSInvalidStateException');
  await api('POST', `/v1/cckm/aws/keys/${hyok.id}/unblock`);

  // Act 6: rotate the HYOK key: new and old ciphertexts decrypt through AWS KMS.
  await api('POST', `/v1/cckm/aws/keys/${hyok.id}/rotate`, { source_key_id: v1.id });
  await afterStalenessLimit();
  const after = await encrypt(keyId, 'after rotation');
  expect(await decrypt(after.CiphertextBlob)).toBe('after rotation');
  expect(await decrypt(before.CiphertextBlob)).toBe('before rotation');

  // Act 7: schedule deletion: PendingDeletion with its date; DELETE refused; cancel.
  const pending = await api('POST', `/v1/cckm/aws/keys/${hyok.id}/schedule-deletion`, { days: 7 });
  expect(pending.aws_param.KeyState).toBe('PendingDeletion');
  expect(pending.deletion_date).toBeDefined();
  await api('DELETE', `/v1/cckm/aws/keys/${hyok.id}`, undefined, 409);
  expect((await api('POST', `/v1/cckm/aws/keys/${hyok.id}/cancel-deletion`)).aws_param.KeyState).toBe('Disabled');
}, 240_000);
