/**
 * BYOK upload end to end through the local runner (what `npm start` runs) and the local AWS KMS:
 * HSM keys generated in SoftHSM2 through the API, uploaded with POST /v1/cckm/aws/upload-key (the
 * material wrapped inside the HSM), then used through AWS KMS: an RSA 2048 key's public key and a
 * signature, an AES-256 key's Encrypt/Decrypt, an HMAC-256 key's MAC against the HSM's own, an EC
 * P-256 key's public key; a failure at ImportKeyMaterial leaves the KMS key PendingDeletion; no log
 * line and no response carries the material AWS KMS holds.
 */
import { spawnSync } from 'node:child_process';
import { createPublicKey, verify } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DecryptCommand, DescribeKeyCommand, EncryptCommand, GenerateMacCommand, GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { secretNames } from '../../lambdas/core/secret-names';
import { adminApi, type LocalSystem, startLocalSystem } from '../helpers/local-system';

const REGION = 'us-east-1';
const UPLOADABLE = ['CKA_SENSITIVE', 'CKA_EXTRACTABLE'];
const REPOSITORY_ROOT = resolve(__dirname, '..', '..');
/** All of the runner's output is kept, so that every log line is checked for key material. */
const OUTPUT_KEPT = 20_000_000;

let system: LocalSystem;
let kms: KMSClient;
let partition: { id: string; token_label: string };
/** Every response body of the management API in this suite. */
const responses: string[] = [];

beforeAll(async () => {
  system = await startLocalSystem({ outputTailChars: OUTPUT_KEPT });
  kms = new KMSClient({ endpoint: system.aws.endpointUrl, region: REGION, credentials: system.aws, maxAttempts: 1 });
  await api('POST', '/v1/cckm/aws/kms', { name: 'byok', account_id: system.aws.accountId, regions: [REGION] }, 201);
  partition = (await api('GET', '/v1/cckm/hsm/partitions?name=local-softhsm')).resources[0];
}, 150_000); // the runner's start (DynamoDB Local's JVM, SoftHSM2, the stand-in) takes longer than a test on a loaded machine

afterAll(async () => {
  kms?.destroy();
  await system?.stop();
});

async function api(method: string, path: string, body?: unknown, expected = 200): Promise<any> {
  const answer = await adminApi(system)(method, path, body, expected);
  responses.push(JSON.stringify(answer ?? null));
  return answer;
}

/** An HSM key generated in the local SoftHSM2 token through the API. */
const hsmKey = (label: string, fields: Record<string, unknown>, attributes: string[]) =>
  api('POST', '/v1/cckm/hsm/keys', { partition_id: partition.id, label, attributes: [...attributes, ...UPLOADABLE], ...fields }, 201);

const upload = (key: { id: string }, awsParam: Record<string, unknown> = {}, extra: Record<string, unknown> = {}, expected = 201) =>
  api('POST', '/v1/cckm/aws/upload-key', { kms: 'byok', region: REGION, source_key_tier: 'hsm-softhsm', source_key_identifier: key.id, aws_param: awsParam, ...extra }, expected);

const spkiDer = (pem: string): Buffer => createPublicKey(pem).export({ format: 'der', type: 'spki' });

it('an RSA 2048 key uploaded for SIGN_VERIFY: GetPublicKey is the HSM key\'s public key and a KMS signature verifies with it', async () => {
  // Arrange
  const key = await hsmKey('byok-rsa', { mechanism: 'CKM_RSA_PKCS_KEY_PAIR_GEN', size: 2048 }, ['CKA_SIGN', 'CKA_VERIFY']);
  // Act
  const uploaded = await upload(key, { Alias: 'byok-rsa', KeyUsage: 'SIGN_VERIFY', Tags: [{ TagKey: 'team', TagValue: 'blue' }] });
  const published = await kms.send(new GetPublicKeyCommand({ KeyId: 'alias/byok-rsa' }));
  const message = Buffer.from('signed by AWS KMS with key material from the HSM');
  const { Signature } = await kms.send(new SignCommand({ KeyId: uploaded.aws_param.KeyID, Message: message, MessageType: 'RAW', SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256' }));
  // Assert
  expect(uploaded).toMatchObject({
    key_material_origin: 'cckm',
    local_key_id: key.id,
    local_key_name: 'byok-rsa',
    key_type: 'asymmetric',
    aws_param: { Origin: 'EXTERNAL', KeyState: 'Enabled', KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY', Alias: ['alias/byok-rsa'], Tags: [{ TagKey: 'team', TagValue: 'blue' }], ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' },
  });
  expect(Buffer.from(published.PublicKey as Uint8Array)).toEqual(spkiDer(key.public_key));
  expect(verify('sha256', message, createPublicKey(key.public_key), Buffer.from(Signature as Uint8Array))).toBe(true);
  await expect(api('GET', `/v1/cckm/aws/keys/${uploaded.id}`)).resolves.toMatchObject({ local_key_id: key.id, aws_param: { KeyState: 'Enabled' } });
});

it('an AES-256 key uploaded (ENCRYPT_DECRYPT by default): Encrypt and Decrypt through AWS KMS', async () => {
  const key = await hsmKey('byok-aes', {}, ['CKA_ENCRYPT', 'CKA_DECRYPT']);

  const uploaded = await upload(key);
  const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: uploaded.aws_param.KeyID, Plaintext: Buffer.from('hello from byok') }));
  const { Plaintext } = await kms.send(new DecryptCommand({ CiphertextBlob }));

  expect(uploaded.aws_param).toMatchObject({ KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT', Origin: 'EXTERNAL' });
  expect(Buffer.from(Plaintext as Uint8Array).toString()).toBe('hello from byok');
});

it('an HMAC-256 key uploaded: AWS KMS\'s GenerateMac equals the HSM\'s own HMAC of the message', async () => {
  // Arrange
  const key = await hsmKey('byok-hmac', { mechanism: 'CKM_GENERIC_SECRET_KEY_GEN', size: 256 }, ['CKA_SIGN', 'CKA_VERIFY']);
  const message = Buffer.from('message for the MAC');
  // Act
  const uploaded = await upload(key);
  const { Mac } = await kms.send(new GenerateMacCommand({ KeyId: uploaded.aws_param.KeyID, Message: message, MacAlgorithm: 'HMAC_SHA_256' }));
  const hsmMac = hmacInHsm(key.object_id, message);
  // Assert
  expect(uploaded.aws_param).toMatchObject({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
  expect(Buffer.from(Mac as Uint8Array)).toEqual(hsmMac);
});

it('an EC P-256 key uploaded (SIGN_VERIFY by default): its public key matches', async () => {
  const key = await hsmKey('byok-ec', { mechanism: 'CKM_EC_KEY_PAIR_GEN', curve: 'P-256' }, ['CKA_SIGN', 'CKA_VERIFY']);

  const uploaded = await upload(key);
  const published = await kms.send(new GetPublicKeyCommand({ KeyId: uploaded.aws_param.KeyID }));

  expect(uploaded.aws_param).toMatchObject({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
  expect(Buffer.from(published.PublicKey as Uint8Array)).toEqual(spkiDer(key.public_key));
});

it('a failure at ImportKeyMaterial (AWS KMS refuses a ValidTo over 365 days away) leaves the KMS key PendingDeletion and says so', async () => {
  // Arrange
  const key = await hsmKey('byok-refused', {}, ['CKA_ENCRYPT', 'CKA_DECRYPT']);
  const validTo = new Date(Date.now() + 400 * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');
  // Act
  const refused = await upload(key, { Alias: 'byok-refused', ValidTo: validTo }, { KeyExpiration: true }, 400);
  // Assert
  expect(refused.message).toMatch(/^aws_param\.ValidTo: BYOK upload step ImportKeyMaterial failed: .*AWS KMS refused it: .*ValidTo.*; the KMS key [0-9a-f-]{36} was scheduled for deletion \(7 days\)$/);
  const keyId = /the KMS key ([0-9a-f-]{36})/.exec(refused.message)?.[1];
  const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
  expect(KeyMetadata).toMatchObject({ KeyState: 'PendingDeletion', Origin: 'EXTERNAL', Enabled: false });
  expect((await api('GET', '/v1/cckm/aws/keys?key_material_origin=cckm')).resources.map((k: { aws_param: { KeyID: string } }) => k.aws_param.KeyID)).not.toContain(keyId);
});

it('no log line and no response carries the key material AWS KMS holds', async () => {
  // Arrange: the material the local AWS KMS imported (kept in its state folder), base64 and hex.
  const secrets = importedMaterial(join(system.stateDir, 'aws'));
  // Act
  const seen = [system.output(), ...responses].join('\n');
  // Assert: four uploads imported material; none of it appears anywhere (and no output was dropped).
  expect(secrets.length).toBeGreaterThanOrEqual(4);
  expect(system.output().length).toBeLessThan(OUTPUT_KEPT);
  expect(system.output()).toContain('"operation":"UploadAwsKey"');
  for (const secret of secrets) {
    expect(seen).not.toContain(secret.toString('base64'));
    expect(seen.toLowerCase()).not.toContain(secret.toString('hex'));
  }
});

/** HMAC-SHA-256 of the message with the key, computed inside the system's SoftHSM2 token. */
function hmacInHsm(objectId: string, message: Buffer): Buffer {
  const job = {
    stateDir: system.stateDir,
    partition: { partitionId: partition.id, hsmType: 'softhsm', tokenLabel: partition.token_label, pinSecretName: secretNames.hsmPin(partition.id) },
    objectId,
    message: message.toString('base64'),
    algorithm: 'HMAC_SHA_256',
  };
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(REPOSITORY_ROOT, 'test', 'helpers', 'hsm-hmac-cli.ts'), JSON.stringify(job)], {
    cwd: REPOSITORY_ROOT,
    env: { ...process.env, SOFTHSM2_CONF: join(system.stateDir, 'softhsm', 'softhsm2.conf') },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (run.status !== 0) throw new Error(`hsm-hmac-cli failed: ${run.stderr}`);
  return Buffer.from((JSON.parse(run.stdout) as { mac: string }).mac, 'base64');
}

/** The imported key material in the local AWS KMS's state files (journal and snapshot). */
function importedMaterial(dir: string): Buffer[] {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile() && /\.jsonl?$/.test(entry.name));
  const text = files.map((entry) => readFileSync(join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name), 'utf8')).join('\n');
  const found = new Set<string>();
  for (const match of text.matchAll(/"kind":"imported","secret":"([A-Za-z0-9+/=]+)"/g)) found.add(match[1]);
  return [...found].map((secret) => Buffer.from(secret, 'base64'));
}
