/**
 * The README walkthrough through the local runner (what `npm start` runs), over HTTP and HTTPS only:
 * account container → source keys in the local-softhsm partition → external key store → HYOK key,
 * then AWS KMS's side played by `curl --aws-sigv4` against the XKS proxy with the credential the
 * store returned: health, metadata, encrypt, decrypt; credential rotation (old and new credentials
 * both work until the old one is deleted); HYOK rotation (old ciphertext still decrypts); block.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { adminApi, type LocalSystem, startLocalSystem } from '../helpers/local-system';
import { decryptBody, encryptBody, type EncryptOutput, healthBody, metadataBody } from '../xks/support/bodies';
import { timeUntil } from '../xks/support/poll';
import { curlSigV4Args, runCurl, type XksSigningCredential } from '../xks/support/signing';

const HEALTH_CHECK_ATTRIBUTES = ['CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_WRAP', 'CKA_UNWRAP', 'CKA_SENSITIVE'];

let system: LocalSystem;
let requests = 0;

beforeAll(async () => {
  system = await startLocalSystem();
});

afterAll(async () => {
  await system?.stop();
});

/** A management API call with the admin token that must answer `expected`. */
const api: ReturnType<typeof adminApi> = (...args) => adminApi(system)(...args);

/** An XKS request as AWS KMS sends it, signed by curl --aws-sigv4 (spec Appendix D). */
async function xks(uriPath: string, operation: string, body: unknown, credential: XksSigningCredential, region: string): Promise<{ status: number; json: any }> {
  requests += 1;
  const bodyFile = join(system.stateDir, `xks-request-${requests}.json`);
  writeFileSync(bodyFile, JSON.stringify(body));
  const result = await runCurl(curlSigV4Args({ url: `${system.xksUrl}${uriPath}/${operation}`, region, credential, bodyFile, caCertPath: system.xksCaCert }));
  return { status: result.status, json: result.body ? JSON.parse(result.body) : undefined };
}

it('provisions a store and an HYOK key through the API and serves AWS KMS requests signed by curl --aws-sigv4', async () => {
  // Arrange: the objects an operator creates, in order.
  const region = 'eu-west-1';
  await api('POST', '/v1/cckm/aws/kms', { name: 'walkthrough', account_id: '111122223333', regions: [region] }, 201);
  const partitions = await api('GET', '/v1/cckm/hsm/partitions?name=local-softhsm');
  const partitionId: string = partitions.resources[0].id;
  const healthCheckKey = await api('POST', '/v1/cckm/hsm/keys', { partition_id: partitionId, label: 'walkthrough-health', mechanism: 'CKM_AES_KEY_GEN', size: 256, attributes: HEALTH_CHECK_ATTRIBUTES }, 201);
  const sourceV0 = await api('POST', '/v1/cckm/hsm/keys', { partition_id: partitionId, label: 'walkthrough-v0', mechanism: 'CKM_AES_KEY_GEN', size: 256, attributes: ['CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_SENSITIVE'] }, 201);
  const store = await api('POST', '/v1/cckm/aws/custom-key-stores', {
    name: 'walkthrough-store',
    kms: 'walkthrough',
    region,
    local_hosted_params: { partition_id: partitionId, health_check_key_id: healthCheckKey.id, max_credentials: 2 },
    aws_param: { xks_proxy_uri_endpoint: 'https://xks.example.com', xks_proxy_connectivity: 'PUBLIC_ENDPOINT' },
  }, 201);
  const hyok = await api('POST', '/v1/cckm/aws/create-hyok-key', { local_hosted_params: { source_key_id: sourceV0.id, custom_key_store_id: store.id } }, 201);
  const uriPath: string = store.xks_proxy_configuration.XksProxyUriPath;
  const keyPath = `keys/${hyok.aws_param.XksKeyConfiguration.Id}`;
  const first: XksSigningCredential = { accessKeyId: store.access_key_id, secretAccessKey: store.secret_access_key };

  // Act + Assert: AWS KMS's calls.
  expect(uriPath).toBe(store.aws_param.xks_proxy_uri_path);
  const health = await xks(uriPath, 'health', healthBody(), first, region);
  expect(health.status).toBe(200);
  expect(health.json.ekmFleetDetails[0].healthStatus).toBe('ACTIVE');
  const metadata = await xks(uriPath, `${keyPath}/metadata`, metadataBody(), first, region);
  expect(metadata).toMatchObject({ status: 200, json: { keySpec: 'AES_256', keyStatus: 'ENABLED' } });
  const plaintext = Buffer.from('hold your own key');
  const sealed = await xks(uriPath, `${keyPath}/encrypt`, encryptBody(plaintext), first, region);
  expect(sealed.status).toBe(200);
  const opened = await xks(uriPath, `${keyPath}/decrypt`, decryptBody(sealed.json as EncryptOutput), first, region);
  expect(Buffer.from(opened.json.plaintext, 'base64')).toEqual(plaintext);

  // Credential rotation: both credentials work; after deleting the first, only the new one does.
  const rotated = await api('POST', `/v1/cckm/aws/custom-key-stores/${store.id}/rotate-credential`);
  const second: XksSigningCredential = { accessKeyId: rotated.access_key_id, secretAccessKey: rotated.secret_access_key };
  await timeUntil(async () => (await xks(uriPath, 'health', healthBody(), second, region)).status === 200);
  expect((await xks(uriPath, 'health', healthBody(), first, region)).status).toBe(200);
  // The first credential signed requests a moment ago: the delete goes through and says it was in use.
  const deleted = await api('DELETE', `/v1/cckm/aws/custom-key-stores/${store.id}/credentials/${rotated.oldest_credentials_id}`, undefined, 200);
  expect(deleted).toMatchObject({ in_use: true });
  await timeUntil(async () => (await xks(uriPath, 'health', healthBody(), first, region)).json?.errorName === 'AuthenticationFailedException');

  // HYOK rotation: new encryptions use v1, the v0 ciphertext still decrypts.
  const sourceV1 = await api('POST', '/v1/cckm/hsm/keys', { partition_id: partitionId, label: 'walkthrough-v1', mechanism: 'CKM_AES_KEY_GEN', size: 256, attributes: ['CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_SENSITIVE'] }, 201);
  expect((await api('POST', `/v1/cckm/aws/keys/${hyok.id}/rotate`, { source_key_id: sourceV1.id })).version).toBe(1);
  expect((await api('GET', `/v1/cckm/aws/keys/${hyok.id}/versions`)).total).toBe(2);
  const afterRotation = await xks(uriPath, `${keyPath}/decrypt`, decryptBody(sealed.json as EncryptOutput), second, region);
  expect(Buffer.from(afterRotation.json.plaintext, 'base64')).toEqual(plaintext);

  // Block: AWS KMS gets InvalidStateException within seconds; unblock restores service.
  await api('POST', `/v1/cckm/aws/custom-key-stores/${store.id}/block`);
  await timeUntil(async () => (await xks(uriPath, `${keyPath}/encrypt`, encryptBody(plaintext), second, region)).json?.errorName === 'InvalidStateException');
  await api('POST', `/v1/cckm/aws/custom-key-stores/${store.id}/unblock`);
  await timeUntil(async () => (await xks(uriPath, `${keyPath}/encrypt`, encryptBody(plaintext), second, region)).status === 200);

  // The secrets never came back from a read.
  const reads = JSON.stringify([
    await api('GET', `/v1/cckm/aws/custom-key-stores/${store.id}`),
    await api('GET', `/v1/cckm/aws/custom-key-stores/${store.id}/credentials`),
    await api('GET', '/v1/cckm/aws/custom-key-stores'),
  ]);
  expect(reads).not.toContain(first.secretAccessKey);
  expect(reads).not.toContain(second.secretAccessKey);
});
