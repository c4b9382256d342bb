/**
 * The stand-in's KMS key operations through the real @aws-sdk/client-kms: answers compared field
 * by field with the AWS documentation's examples (API reference and CLI examples of CreateKey,
 * DescribeKey, ListKeys, ListAliases, GetKeyPolicy, ScheduleKeyDeletion), key state transitions
 * and the operations each state refuses, policies, tags, paging, symmetric crypto, account and
 * region isolation, persistence across a restart, and the throttle.
 */
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  ListAliasesCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
  ReEncryptCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  KMSClient,
  UpdateKeyDescriptionCommand,
} from '@aws-sdk/client-kms';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { rmSync } from 'node:fs';
import { failureOf, standInFixture, type StandInFixture } from './stand-in-fixture';

let aws: StandInFixture;
let kms: KMSClient;

beforeAll(async () => {
  aws = await standInFixture();
  kms = aws.kms;
});

afterAll(async () => {
  await aws.stop();
});

const newKey = async (input: ConstructorParameters<typeof CreateKeyCommand>[0] = {}) => (await kms.send(new CreateKeyCommand(input))).KeyMetadata!;

describe('CreateKey and DescribeKey', () => {
  it('answers the KeyMetadata of the CreateKey documentation example, field by field', async () => {
    const before = Date.now();
    const metadata = await newKey();
    // The example's fields (API reference, "To create a KMS key"), values that are not ids or dates.
    expect(Object.keys(metadata).sort()).toEqual(
      ['AWSAccountId', 'Arn', 'CreationDate', 'CurrentKeyMaterialId', 'CustomerMasterKeySpec', 'Description', 'Enabled', 'EncryptionAlgorithms', 'KeyId', 'KeyManager', 'KeySpec', 'KeyState', 'KeyUsage', 'MultiRegion', 'Origin'].sort(),
    );
    expect(metadata).toMatchObject({
      AWSAccountId: '111122223333',
      CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
      Description: '',
      Enabled: true,
      EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
      KeyManager: 'CUSTOMER',
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyState: 'Enabled',
      KeyUsage: 'ENCRYPT_DECRYPT',
      MultiRegion: false,
      Origin: 'AWS_KMS',
    });
    expect(metadata.KeyId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(metadata.Arn).toBe(`arn:aws:kms:us-east-1:111122223333:key/${metadata.KeyId}`);
    expect(metadata.CurrentKeyMaterialId).toMatch(/^[0-9a-f]{64}$/);
    expect(metadata.CreationDate!.getTime()).toBeGreaterThanOrEqual(before - 1000);

    const described = (await kms.send(new DescribeKeyCommand({ KeyId: metadata.Arn }))).KeyMetadata;
    expect(described).toEqual(metadata);
  });

  it('keeps description and tags, and refuses what AWS refuses', async () => {
    const metadata = await newKey({ Description: 'orders', Tags: [{ TagKey: 'team', TagValue: 'a' }] });
    expect(metadata.Description).toBe('orders');
    expect((await kms.send(new ListResourceTagsCommand({ KeyId: metadata.KeyId }))).Tags).toEqual([{ TagKey: 'team', TagValue: 'a' }]);

    expect(await failureOf(newKey({ Description: 'x'.repeat(8193) }))).toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining("at 'description' failed to satisfy constraint: Member must have length less than or equal to 8192"),
      status: 400,
    });
    expect(await failureOf(newKey({ KeyUsage: 'SIGN_VERIFY' }))).toMatchObject({ name: 'ValidationException' });
    expect(await failureOf(newKey({ Tags: [{ TagKey: 'aws:x', TagValue: 'y' }] }))).toMatchObject({ name: 'TagException' });
    expect(await failureOf(newKey({ Origin: 'AWS_KMS', CustomKeyStoreId: 'cks-1234567890abcdef0' }))).toMatchObject({ name: 'UnsupportedOperationException' });
    expect(await failureOf(newKey({ Policy: '{not json' }))).toMatchObject({ name: 'MalformedPolicyDocumentException' });
  });

  it('answers NotFoundException for a key, alias or ARN of another region that does not exist here', async () => {
    const missing = '1234abcd-12ab-34cd-56ef-1234567890ab';
    expect(await failureOf(kms.send(new DescribeKeyCommand({ KeyId: missing })))).toMatchObject({
      name: 'NotFoundException',
      message: `Key 'arn:aws:kms:us-east-1:111122223333:key/${missing}' does not exist`,
    });
    expect(await failureOf(kms.send(new DescribeKeyCommand({ KeyId: 'alias/none' })))).toMatchObject({ name: 'NotFoundException' });
    const key = await newKey();
    expect(await failureOf(kms.send(new DescribeKeyCommand({ KeyId: key.Arn!.replace('us-east-1', 'eu-west-1') })))).toMatchObject({ name: 'NotFoundException' });
    expect(await failureOf(kms.send(new DescribeKeyCommand({ KeyId: 'arn:aws:kms:bad' })))).toMatchObject({ name: 'InvalidArnException' });
  });
});

describe('ListKeys', () => {
  it('pages with Limit and Marker, Truncated always present, no key twice', async () => {
    const fresh = await standInFixture();
    try {
      const created = new Set<string>();
      for (let i = 0; i < 7; i += 1) created.add((await fresh.kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!);
      const seen: string[] = [];
      let marker: string | undefined;
      let pages = 0;
      do {
        const page = await fresh.kms.send(new ListKeysCommand({ Limit: 3, Marker: marker }));
        pages += 1;
        expect(page.Truncated).toBe(page.NextMarker !== undefined);
        for (const entry of page.Keys!) {
          expect(entry.KeyArn).toBe(`arn:aws:kms:us-east-1:111122223333:key/${entry.KeyId}`);
          seen.push(entry.KeyId!);
        }
        marker = page.NextMarker;
      } while (marker);
      expect(pages).toBe(3);
      expect(seen.sort()).toEqual([...created].sort());
      expect(await failureOf(fresh.kms.send(new ListKeysCommand({ Marker: 'not-a-marker' })))).toMatchObject({ name: 'InvalidMarkerException' });
      expect(await failureOf(fresh.kms.send(new ListKeysCommand({ Limit: 1001 })))).toMatchObject({ name: 'ValidationException' });
    } finally {
      await fresh.stop();
    }
  });
});

describe('aliases', () => {
  it('creates, lists (the ListAliases example fields), refuses duplicates and reserved names, deletes', async () => {
    const key = await newKey();
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/orders', TargetKeyId: key.KeyId }));
    const listed = (await kms.send(new ListAliasesCommand({ KeyId: key.KeyId }))).Aliases!;
    expect(listed).toHaveLength(1);
    expect(Object.keys(listed[0]).sort()).toEqual(['AliasArn', 'AliasName', 'CreationDate', 'LastUpdatedDate', 'TargetKeyId']);
    expect(listed[0]).toMatchObject({ AliasName: 'alias/orders', AliasArn: 'arn:aws:kms:us-east-1:111122223333:alias/orders', TargetKeyId: key.KeyId });
    expect((await kms.send(new DescribeKeyCommand({ KeyId: 'alias/orders' }))).KeyMetadata!.KeyId).toBe(key.KeyId);

    expect(await failureOf(kms.send(new CreateAliasCommand({ AliasName: 'alias/orders', TargetKeyId: key.KeyId })))).toMatchObject({ name: 'AlreadyExistsException' });
    expect(await failureOf(kms.send(new CreateAliasCommand({ AliasName: 'orders', TargetKeyId: key.KeyId })))).toMatchObject({ name: 'ValidationException' });
    expect(await failureOf(kms.send(new CreateAliasCommand({ AliasName: 'alias/aws/orders', TargetKeyId: key.KeyId })))).toMatchObject({ name: 'NotAuthorizedException' });

    await kms.send(new DeleteAliasCommand({ AliasName: 'alias/orders' }));
    expect((await kms.send(new ListAliasesCommand({ KeyId: key.KeyId }))).Aliases).toEqual([]);
    expect(await failureOf(kms.send(new DeleteAliasCommand({ AliasName: 'alias/orders' })))).toMatchObject({ name: 'NotFoundException' });
  });
});

describe('key states', () => {
  it('Disabled keys refuse cryptography with DisabledException and stay manageable', async () => {
    const key = await newKey();
    await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata).toMatchObject({ KeyState: 'Disabled', Enabled: false });
    expect(await failureOf(kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') })))).toMatchObject({
      name: 'DisabledException',
      message: `${key.Arn} is disabled.`,
    });
    await kms.send(new UpdateKeyDescriptionCommand({ KeyId: key.KeyId, Description: 'still manageable' }));
    await kms.send(new EnableKeyCommand({ KeyId: key.KeyId }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata).toMatchObject({ KeyState: 'Enabled', Enabled: true, Description: 'still manageable' });
  });

  it('ScheduleKeyDeletion answers as its example does; PendingDeletion refuses what the key state table refuses; CancelKeyDeletion leaves it Disabled', async () => {
    const key = await newKey();
    const before = Date.now();
    const scheduled = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
    expect(Object.keys(scheduled).filter((name) => name !== '$metadata').sort()).toEqual(['DeletionDate', 'KeyId', 'KeyState', 'PendingWindowInDays']);
    expect(scheduled).toMatchObject({ KeyId: key.Arn, KeyState: 'PendingDeletion', PendingWindowInDays: 7 });
    const days = (scheduled.DeletionDate!.getTime() - before) / 86_400_000;
    expect(days).toBeGreaterThan(6.99);
    expect(days).toBeLessThan(7.01);
    expect((await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata).toMatchObject({ KeyState: 'PendingDeletion', Enabled: false, DeletionDate: scheduled.DeletionDate });

    const refusals = await Promise.all([
      failureOf(kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }))),
      failureOf(kms.send(new EnableKeyCommand({ KeyId: key.KeyId }))),
      failureOf(kms.send(new DisableKeyCommand({ KeyId: key.KeyId }))),
      failureOf(kms.send(new UpdateKeyDescriptionCommand({ KeyId: key.KeyId, Description: 'x' }))),
      failureOf(kms.send(new TagResourceCommand({ KeyId: key.KeyId, Tags: [{ TagKey: 'a', TagValue: 'b' }] }))),
      failureOf(kms.send(new CreateAliasCommand({ AliasName: 'alias/doomed', TargetKeyId: key.KeyId }))),
      failureOf(kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId }))),
    ]);
    for (const refusal of refusals) expect(refusal).toMatchObject({ name: 'KMSInvalidStateException', message: `${key.Arn} is pending deletion.` });
    // What the table allows while pending deletion:
    await kms.send(new GetKeyPolicyCommand({ KeyId: key.KeyId }));
    await kms.send(new ListResourceTagsCommand({ KeyId: key.KeyId }));

    const cancelled = await kms.send(new CancelKeyDeletionCommand({ KeyId: key.KeyId }));
    expect(cancelled.KeyId).toBe(key.Arn);
    const after = (await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!;
    expect(after.KeyState).toBe('Disabled');
    expect(after.DeletionDate).toBeUndefined();
    expect(await failureOf(kms.send(new CancelKeyDeletionCommand({ KeyId: key.KeyId })))).toMatchObject({ name: 'KMSInvalidStateException', message: `${key.Arn} is not pending deletion.` });
    expect(await failureOf(kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 6 })))).toMatchObject({ name: 'ValidationException' });
  });

  it('deletes the key once its deletion date has passed', async () => {
    let now = Date.now();
    const timed = await standInFixture({ now: () => new Date(now) });
    try {
      const key = (await timed.kms.send(new CreateKeyCommand({}))).KeyMetadata!;
      await timed.kms.send(new CreateAliasCommand({ AliasName: 'alias/gone-soon', TargetKeyId: key.KeyId }));
      await timed.kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
      now += 8 * 86_400_000;
      // Signatures are checked against the stand-in's clock: move the client's clock with it.
      timed.kms.config.systemClockOffset = now - Date.now();
      expect(await failureOf(timed.kms.send(new DescribeKeyCommand({ KeyId: key.KeyId })))).toMatchObject({ name: 'NotFoundException' });
      expect((await timed.kms.send(new ListKeysCommand({}))).Keys).toEqual([]);
      expect((await timed.kms.send(new ListAliasesCommand({}))).Aliases).toEqual([]);
    } finally {
      await timed.stop();
    }
  });
});

describe('key policies', () => {
  it('GetKeyPolicy answers the default policy of the documentation example', async () => {
    const key = await newKey();
    const { Policy, PolicyName } = await kms.send(new GetKeyPolicyCommand({ KeyId: key.KeyId, PolicyName: 'default' }));
    expect(PolicyName).toBe('default');
    expect(JSON.parse(Policy!)).toEqual({
      Version: '2012-10-17',
      Id: 'key-default-1',
      Statement: [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: 'kms:*', Resource: '*' }],
    });
  });

  it('PutKeyPolicy validates the document and applies the lockout safety check unless bypassed', async () => {
    const key = await newKey();
    const policy = (principal: string, action = 'kms:*') =>
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: principal }, Action: action, Resource: '*' }] });

    const lockout = await failureOf(kms.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: policy('arn:aws:iam::111122223333:root', 'kms:Encrypt') })));
    expect(lockout).toMatchObject({ name: 'MalformedPolicyDocumentException', message: 'The new key policy will not allow you to update the key policy in the future.' });
    expect(await failureOf(kms.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: policy('not-a-principal') })))).toMatchObject({
      name: 'MalformedPolicyDocumentException',
      message: 'Policy contains a statement with one or more invalid principals.',
    });
    expect((await kms.send(new GetKeyPolicyCommand({ KeyId: key.KeyId }))).Policy).toContain('key-default-1');

    const restrictive = policy('arn:aws:iam::111122223333:role/other', 'kms:Encrypt');
    await kms.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: restrictive, BypassPolicyLockoutSafetyCheck: true }));
    expect((await kms.send(new GetKeyPolicyCommand({ KeyId: key.KeyId }))).Policy).toBe(restrictive);
    const allowing = policy('111122223333', 'kms:Put*');
    await kms.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: allowing }));
    expect((await kms.send(new GetKeyPolicyCommand({ KeyId: key.KeyId }))).Policy).toBe(allowing);
  });

  it('GetKeyRotationStatus follows EnableKeyRotation and DisableKeyRotation', async () => {
    const key = await newKey();
    expect(await kms.send(new GetKeyRotationStatusCommand({ KeyId: key.KeyId }))).toMatchObject({ KeyRotationEnabled: false, KeyId: key.Arn });
    await kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId, RotationPeriodInDays: 180 }));
    const enabled = await kms.send(new GetKeyRotationStatusCommand({ KeyId: key.KeyId }));
    expect(enabled).toMatchObject({ KeyRotationEnabled: true, KeyId: key.Arn, RotationPeriodInDays: 180 });
    expect((enabled.NextRotationDate!.getTime() - Date.now()) / 86_400_000).toBeCloseTo(180, 1);
    expect(await failureOf(kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId, RotationPeriodInDays: 89 })))).toMatchObject({ name: 'ValidationException' });
    await kms.send(new DisableKeyRotationCommand({ KeyId: key.KeyId }));
    const disabled = await kms.send(new GetKeyRotationStatusCommand({ KeyId: key.KeyId }));
    expect(disabled.KeyRotationEnabled).toBe(false);
    expect(disabled.RotationPeriodInDays).toBeUndefined();
  });
});

describe('tags', () => {
  it('adds, overwrites, removes and pages tags', async () => {
    const key = await newKey({ Tags: [{ TagKey: 'a', TagValue: '1' }] });
    await kms.send(new TagResourceCommand({ KeyId: key.KeyId, Tags: [{ TagKey: 'a', TagValue: '2' }, { TagKey: 'b', TagValue: '3' }] }));
    expect((await kms.send(new ListResourceTagsCommand({ KeyId: key.KeyId }))).Tags).toEqual([
      { TagKey: 'a', TagValue: '2' },
      { TagKey: 'b', TagValue: '3' },
    ]);
    const first = await kms.send(new ListResourceTagsCommand({ KeyId: key.KeyId, Limit: 1 }));
    expect(first).toMatchObject({ Tags: [{ TagKey: 'a', TagValue: '2' }], Truncated: true });
    const second = await kms.send(new ListResourceTagsCommand({ KeyId: key.KeyId, Limit: 1, Marker: first.NextMarker }));
    expect(second).toMatchObject({ Tags: [{ TagKey: 'b', TagValue: '3' }], Truncated: false });
    await kms.send(new UntagResourceCommand({ KeyId: key.KeyId, TagKeys: ['a'] }));
    expect((await kms.send(new ListResourceTagsCommand({ KeyId: key.KeyId }))).Tags).toEqual([{ TagKey: 'b', TagValue: '3' }]);
    expect(await failureOf(kms.send(new TagResourceCommand({ KeyId: key.KeyId, Tags: [{ TagKey: 'x', TagValue: '1' }, { TagKey: 'x', TagValue: '2' }] })))).toMatchObject({
      name: 'TagException',
    });
  });
});

describe('symmetric cryptography', () => {
  it('Encrypt/Decrypt round trip with the encryption context bound, by key id, ARN or alias', async () => {
    const key = await newKey();
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/crypto', TargetKeyId: key.KeyId }));
    const plaintext = Buffer.from('attack at dawn');
    const encrypted = await kms.send(new EncryptCommand({ KeyId: 'alias/crypto', Plaintext: plaintext, EncryptionContext: { purpose: 'test' } }));
    expect(encrypted).toMatchObject({ KeyId: key.Arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
    expect(Buffer.from(encrypted.CiphertextBlob!).includes(plaintext)).toBe(false);

    const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob, EncryptionContext: { purpose: 'test' } }));
    expect(Buffer.from(decrypted.Plaintext!)).toEqual(plaintext);
    expect(decrypted).toMatchObject({ KeyId: key.Arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });

    expect(await failureOf(kms.send(new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob, EncryptionContext: { purpose: 'other' } })))).toMatchObject({
      name: 'InvalidCiphertextException',
    });
    const other = await newKey();
    expect(await failureOf(kms.send(new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob, KeyId: other.KeyId, EncryptionContext: { purpose: 'test' } })))).toMatchObject({
      name: 'IncorrectKeyException',
    });
    const tampered = Buffer.from(encrypted.CiphertextBlob!);
    tampered[tampered.length - 1] ^= 1;
    expect(await failureOf(kms.send(new DecryptCommand({ CiphertextBlob: tampered, EncryptionContext: { purpose: 'test' } })))).toMatchObject({ name: 'InvalidCiphertextException' });
    expect(await failureOf(kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.alloc(4097) })))).toMatchObject({ name: 'ValidationException' });
    expect(await failureOf(kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: plaintext, DryRun: true })))).toMatchObject({ name: 'DryRunOperationException', status: 412 });
  });

  it('GenerateDataKey returns a data key whose ciphertext decrypts to it; ReEncrypt moves a ciphertext to another key', async () => {
    const source = await newKey();
    const destination = await newKey();
    const dataKey = await kms.send(new GenerateDataKeyCommand({ KeyId: source.KeyId, KeySpec: 'AES_256' }));
    expect(dataKey.Plaintext).toHaveLength(32);
    expect(dataKey.KeyId).toBe(source.Arn);
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob }))).Plaintext!)).toEqual(Buffer.from(dataKey.Plaintext!));
    expect(await failureOf(kms.send(new GenerateDataKeyCommand({ KeyId: source.KeyId })))).toMatchObject({ name: 'ValidationException' });
    expect((await kms.send(new GenerateDataKeyCommand({ KeyId: source.KeyId, NumberOfBytes: 64 }))).Plaintext).toHaveLength(64);

    const moved = await kms.send(new ReEncryptCommand({ CiphertextBlob: dataKey.CiphertextBlob, DestinationKeyId: destination.KeyId, DestinationEncryptionContext: { k: 'v' } }));
    expect(moved).toMatchObject({ SourceKeyId: source.Arn, KeyId: destination.Arn, SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT', DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
    const back = await kms.send(new DecryptCommand({ CiphertextBlob: moved.CiphertextBlob, EncryptionContext: { k: 'v' } }));
    expect(back.KeyId).toBe(destination.Arn);
    expect(Buffer.from(back.Plaintext!)).toEqual(Buffer.from(dataKey.Plaintext!));
  });
});

describe('accounts and regions', () => {
  it('keeps each account and region apart: another account cannot see or decrypt with this one`s keys', async () => {
    const key = await newKey();
    const ciphertext = (await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('mine') }))).CiphertextBlob;
    const assumed = await aws.sts.send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::444455556666:role/xks-key-manager-tenant', RoleSessionName: 'isolation' }));
    const credentials = { accessKeyId: assumed.Credentials!.AccessKeyId!, secretAccessKey: assumed.Credentials!.SecretAccessKey!, sessionToken: assumed.Credentials!.SessionToken! };
    const otherAccount = aws.kmsFor(credentials);
    expect((await otherAccount.send(new ListKeysCommand({}))).Keys).toEqual([]);
    expect(await failureOf(otherAccount.send(new DescribeKeyCommand({ KeyId: key.KeyId })))).toMatchObject({ name: 'NotFoundException' });
    expect(await failureOf(otherAccount.send(new DecryptCommand({ CiphertextBlob: ciphertext })))).toMatchObject({ name: 'InvalidCiphertextException' });
    const created = (await otherAccount.send(new CreateKeyCommand({}))).KeyMetadata!;
    expect(created.AWSAccountId).toBe('444455556666');
    expect(created.Arn).toMatch(/^arn:aws:kms:us-east-1:444455556666:key\//);

    const otherRegion = aws.kmsFor(aws.standIn, 'eu-west-1');
    expect((await otherRegion.send(new ListKeysCommand({}))).Keys).toEqual([]);
    const regional = (await otherRegion.send(new CreateKeyCommand({}))).KeyMetadata!;
    expect(regional.Arn).toMatch(/^arn:aws:kms:eu-west-1:111122223333:key\//);
  });
});

describe('endpoint override by environment', () => {
  it('a client built without an endpoint reaches the stand-in through AWS_ENDPOINT_URL_KMS, as production adapters will', async () => {
    const saved = process.env.AWS_ENDPOINT_URL_KMS;
    process.env.AWS_ENDPOINT_URL_KMS = aws.standIn.endpointUrl;
    try {
      const client = new KMSClient({ region: aws.standIn.region, credentials: aws.standIn, maxAttempts: 1 });
      const key = await newKey();
      expect((await client.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!.Arn).toBe(key.Arn);
      client.destroy();
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_KMS;
      else process.env.AWS_ENDPOINT_URL_KMS = saved;
    }
  });
});

describe('state folder', () => {
  it('keeps keys, aliases, policies, tags and credentials across a restart', async () => {
    const first = await standInFixture();
    const key = (await first.kms.send(new CreateKeyCommand({ Description: 'durable', Tags: [{ TagKey: 't', TagValue: 'v' }] }))).KeyMetadata!;
    await first.kms.send(new CreateAliasCommand({ AliasName: 'alias/durable', TargetKeyId: key.KeyId }));
    const ciphertext = (await first.kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('kept') }))).CiphertextBlob;
    const { accessKeyId, secretAccessKey } = first.standIn;
    await first.stop({ keepState: true });

    const second = await standInFixture({ stateDir: first.stateDir });
    try {
      expect(second.standIn.accessKeyId).toBe(accessKeyId);
      expect(second.standIn.secretAccessKey).toBe(secretAccessKey);
      expect((await second.kms.send(new DescribeKeyCommand({ KeyId: 'alias/durable' }))).KeyMetadata).toEqual(key);
      expect((await second.kms.send(new ListResourceTagsCommand({ KeyId: key.KeyId }))).Tags).toEqual([{ TagKey: 't', TagValue: 'v' }]);
      expect(Buffer.from((await second.kms.send(new DecryptCommand({ CiphertextBlob: ciphertext }))).Plaintext!).toString()).toBe('kept');
    } finally {
      await second.stop();
      rmSync(first.stateDir, { recursive: true, force: true });
    }
  });
});

describe('throttle', () => {
  it('answers ThrottlingException past the configured requests per second for an operation, and counts them', async () => {
    const throttled = await standInFixture({ throttle: { requestsPerSecond: { ListKeys: 2 } } });
    try {
      const results = await Promise.all(Array.from({ length: 5 }, () => failureOf(throttled.kms.send(new ListKeysCommand({}))).catch(() => 'ok')));
      const refusals = results.filter((result) => result !== 'ok');
      expect(refusals.length).toBeGreaterThanOrEqual(3);
      for (const refusal of refusals) expect(refusal).toMatchObject({ name: 'ThrottlingException', message: 'Rate exceeded' });
      expect(throttled.standIn.throttle.throttledCount).toBe(refusals.length);
      await throttled.kms.send(new CreateKeyCommand({})); // other operations are not limited
    } finally {
      await throttled.stop();
    }
  });
});
