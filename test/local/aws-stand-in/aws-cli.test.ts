/**
 * The AWS CLI (botocore) against the stand-in, unchanged but for `--endpoint-url`: its SigV4
 * signatures verify, and its output has the fields of the CLI reference's examples (create-key,
 * list-aliases, encrypt/decrypt, schedule-key-deletion, sts get-caller-identity and assume-role).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAwsCli, standInFixture, type StandInFixture } from './stand-in-fixture';

// Each `aws` run starts a Python interpreter: seconds apiece on a loaded two-core machine.
jest.setTimeout(300_000);

let aws: StandInFixture;
let scratch: string;

beforeAll(async () => {
  aws = await standInFixture();
  scratch = mkdtempSync(join(tmpdir(), 'aws-cli-'));
});

afterAll(async () => {
  await aws.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const cli = (...args: string[]) => runAwsCli(aws.standIn, args) as Promise<Record<string, any>>;

it('sts get-caller-identity and assume-role; the assumed credentials work in the CLI', async () => {
  expect(await cli('sts', 'get-caller-identity')).toEqual({ UserId: '111122223333', Account: '111122223333', Arn: 'arn:aws:iam::111122223333:root' });
  const assumed = await cli('sts', 'assume-role', '--role-arn', 'arn:aws:iam::123456789012:role/xks-key-manager-cli', '--role-session-name', 'cli-session');
  expect(Object.keys(assumed).sort()).toEqual(['AssumedRoleUser', 'Credentials']);
  expect(Object.keys(assumed.Credentials).sort()).toEqual(['AccessKeyId', 'Expiration', 'SecretAccessKey', 'SessionToken']);
  const identity = (await runAwsCli(aws.standIn, ['sts', 'get-caller-identity'], {
    accessKeyId: assumed.Credentials.AccessKeyId,
    secretAccessKey: assumed.Credentials.SecretAccessKey,
    sessionToken: assumed.Credentials.SessionToken,
  })) as Record<string, string>;
  expect(identity).toMatchObject({ Account: '123456789012', Arn: 'arn:aws:sts::123456789012:assumed-role/xks-key-manager-cli/cli-session' });
});

it('kms create-key, create-alias, list-aliases, encrypt, decrypt, schedule-key-deletion', async () => {
  const created = await cli('kms', 'create-key', '--description', 'from the CLI', '--tags', 'TagKey=team,TagValue=cli');
  expect(created.KeyMetadata).toMatchObject({
    AWSAccountId: '111122223333',
    Description: 'from the CLI',
    Enabled: true,
    KeyUsage: 'ENCRYPT_DECRYPT',
    KeyState: 'Enabled',
    Origin: 'AWS_KMS',
    KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
    KeySpec: 'SYMMETRIC_DEFAULT',
    EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
    MultiRegion: false,
  });
  const keyId: string = created.KeyMetadata.KeyId;
  expect(await cli('kms', 'create-alias', '--alias-name', 'alias/cli', '--target-key-id', keyId)).toBeUndefined();
  expect((await cli('kms', 'list-aliases', '--key-id', keyId)).Aliases).toEqual([
    expect.objectContaining({ AliasName: 'alias/cli', AliasArn: 'arn:aws:kms:us-east-1:111122223333:alias/cli', TargetKeyId: keyId }),
  ]);

  const plaintextFile = join(scratch, 'plaintext');
  writeFileSync(plaintextFile, 'plaintext from a file');
  const encrypted = await cli('kms', 'encrypt', '--key-id', 'alias/cli', '--plaintext', `fileb://${plaintextFile}`, '--encryption-context', 'purpose=cli');
  expect(encrypted).toMatchObject({ KeyId: created.KeyMetadata.Arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
  const ciphertextFile = join(scratch, 'ciphertext');
  writeFileSync(ciphertextFile, Buffer.from(encrypted.CiphertextBlob, 'base64'));
  const decrypted = await cli('kms', 'decrypt', '--ciphertext-blob', `fileb://${ciphertextFile}`, '--encryption-context', 'purpose=cli');
  expect(Buffer.from(decrypted.Plaintext, 'base64').toString()).toBe('plaintext from a file');
  expect(decrypted.KeyId).toBe(created.KeyMetadata.Arn);

  await expect(cli('kms', 'decrypt', '--ciphertext-blob', `fileb://${ciphertextFile}`)).rejects.toThrow(/InvalidCiphertextException/);
  const scheduled = await cli('kms', 'schedule-key-deletion', '--key-id', keyId, '--pending-window-in-days', '7');
  expect(scheduled).toMatchObject({ KeyId: created.KeyMetadata.Arn, KeyState: 'PendingDeletion', PendingWindowInDays: 7 });
  await expect(cli('kms', 'enable-key', '--key-id', keyId)).rejects.toThrow(/KMSInvalidStateException/);
});

it('a wrong secret is refused with the signature error AWS names', async () => {
  await expect(runAwsCli(aws.standIn, ['kms', 'list-keys'], { accessKeyId: aws.standIn.accessKeyId, secretAccessKey: 'wrong' })).rejects.toThrow(/InvalidSignatureException/);
});
