/**
 * The KMS key half of the AWS KMS adapter against aws-sdk-client-mock: the requests each key
 * operation sends (CreateKey in an external key store, ScheduleKeyDeletion's window, PutKeyPolicy's
 * policy name), DescribeKey's metadata with dates as ISO strings, paging of aliases and tags, and
 * AWS's key refusals translated (wrong state and alias in use 409, malformed policy 400, a missing
 * key NotFoundError).
 */
import {
  AlreadyExistsException,
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  KMSClient,
  KMSInvalidStateException,
  ListAliasesCommand,
  ListResourceTagsCommand,
  MalformedPolicyDocumentException,
  NotFoundException,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { SdkAwsKms } from '../../../lambdas/adapters/aws/kms-sdk';
import { ConflictError, type KeyManagerError, NotFoundError, ValidationError } from '../../../lambdas/core/errors';
import type { KmsLocation } from '../../../lambdas/core/ports/aws-kms';

const kms = mockClient(KMSClient);
const meta = { $metadata: {} };
const AT: KmsLocation = { containerId: 'container-2', accountId: '111122223333', region: 'us-east-1' };
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const ARN = `arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}`;

let adapter: SdkAwsKms;

beforeEach(() => {
  kms.reset();
  adapter = new SdkAwsKms({ credentials: { accessKeyId: 'AKIADEPLOYMENT', secretAccessKey: 'secret' }, retry: { sleep: async () => undefined } });
});

async function failure(promise: Promise<unknown>): Promise<KeyManagerError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error('expected a rejection');
  return error as KeyManagerError;
}

describe('SdkAwsKms key operations', () => {
  it('CreateKey in an external key store: origin, store, external key id, policy and tags; metadata with ISO dates', async () => {
    // Arrange
    const created = new Date('2026-12-01T12:00:00Z');
    kms.on(CreateKeyCommand).resolves({ KeyMetadata: { KeyId: KEY_ID, Arn: ARN, KeyState: 'Enabled', CreationDate: created, Origin: 'EXTERNAL_KEY_STORE', XksKeyConfiguration: { Id: 'hyok-1' } }, ...meta });

    // Act
    const metadata = await adapter.createKey(AT, { description: 'd', policy: '{"Version":"2012-10-17"}', tags: [{ TagKey: 'k', TagValue: 'v' }], externalKeyStore: { customKeyStoreId: 'cks-1234567890abcdef0', xksKeyId: 'hyok-1' } });

    // Assert
    expect(kms.commandCalls(CreateKeyCommand)[0].args[0].input).toEqual({
      KeyUsage: 'ENCRYPT_DECRYPT',
      KeySpec: 'SYMMETRIC_DEFAULT',
      Origin: 'EXTERNAL_KEY_STORE',
      CustomKeyStoreId: 'cks-1234567890abcdef0',
      XksKeyId: 'hyok-1',
      Description: 'd',
      Policy: '{"Version":"2012-10-17"}',
      Tags: [{ TagKey: 'k', TagValue: 'v' }],
    });
    expect(metadata).toEqual({ KeyId: KEY_ID, Arn: ARN, KeyState: 'Enabled', CreationDate: '2026-12-01T12:00:00.000Z', Origin: 'EXTERNAL_KEY_STORE', XksKeyConfiguration: { Id: 'hyok-1' } });
  });

  it('reads every page of aliases and tags', async () => {
    kms.on(ListAliasesCommand).resolvesOnce({ Aliases: [{ AliasName: 'alias/a' }], Truncated: true, NextMarker: 'm1', ...meta }).resolvesOnce({ Aliases: [{ AliasName: 'alias/b' }], Truncated: false, ...meta });
    kms.on(ListResourceTagsCommand).resolves({ Tags: [{ TagKey: 'k', TagValue: 'v' }], Truncated: false, ...meta });

    expect(await adapter.listKeyAliases(AT, KEY_ID)).toEqual(['alias/a', 'alias/b']);
    expect(kms.commandCalls(ListAliasesCommand)[1].args[0].input).toEqual({ KeyId: KEY_ID, Marker: 'm1' });
    expect(await adapter.listKeyTags(AT, KEY_ID)).toEqual([{ TagKey: 'k', TagValue: 'v' }]);
  });

  it('sends the deletion window and the default policy name', async () => {
    kms.on(ScheduleKeyDeletionCommand).resolves(meta);
    kms.on(PutKeyPolicyCommand).resolves(meta);

    await adapter.scheduleKeyDeletion(AT, KEY_ID, 7);
    await adapter.putKeyPolicy(AT, KEY_ID, '{}', false);

    expect(kms.commandCalls(ScheduleKeyDeletionCommand)[0].args[0].input).toEqual({ KeyId: KEY_ID, PendingWindowInDays: 7 });
    expect(kms.commandCalls(PutKeyPolicyCommand)[0].args[0].input).toEqual({ KeyId: KEY_ID, PolicyName: 'default', Policy: '{}', BypassPolicyLockoutSafetyCheck: false });
  });

  it("translates AWS's key refusals: wrong state and alias in use 409, malformed policy 400 naming policy, a missing key NotFoundError", async () => {
    kms.on(ScheduleKeyDeletionCommand).rejects(new KMSInvalidStateException({ message: `${ARN} is pending deletion.`, ...meta }));
    kms.on(CreateAliasCommand).rejects(new AlreadyExistsException({ message: 'An alias with the name alias/a already exists', ...meta }));
    kms.on(PutKeyPolicyCommand).rejects(new MalformedPolicyDocumentException({ message: 'The new key policy will not allow you to update the key policy in the future.', ...meta }));
    kms.on(DescribeKeyCommand).rejects(new NotFoundException({ message: `Key '${ARN}' does not exist`, ...meta }));

    const state = await failure(adapter.scheduleKeyDeletion(AT, KEY_ID, 30));
    expect(state).toBeInstanceOf(ConflictError);
    expect(state.message).toContain('KMSInvalidStateException');
    const alias = await failure(adapter.createAlias(AT, 'alias/a', KEY_ID));
    expect(alias).toBeInstanceOf(ConflictError);
    expect(alias.message).toMatch(/^alias: .*already exists/);
    const policy = await failure(adapter.putKeyPolicy(AT, KEY_ID, '{}'));
    expect(policy).toBeInstanceOf(ValidationError);
    expect((policy as ValidationError).field).toBe('policy');
    expect(await failure(adapter.describeKeyMetadata(AT, KEY_ID))).toBeInstanceOf(NotFoundError);
  });
});
