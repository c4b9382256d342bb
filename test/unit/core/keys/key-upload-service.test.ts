/**
 * BYOK upload against an in-memory AWS KMS and an HSM agent that records what it is asked to wrap:
 * the KMS key AWS KMS gets (Origin EXTERNAL, spec and usage from the HSM key), the wrapping
 * algorithm per HSM type and key type, the record, every 400 before AWS KMS is called, and a
 * failure at each step after CreateKey leaving the KMS key PendingDeletion.
 */
import { ConflictError, DependencyError, ForbiddenError, ValidationError } from '../../../../lambdas/core/errors';
import { HsmError, type HsmAgent } from '../../../../lambdas/core/ports/hsm';
import type { HsmKeyInfo, HsmType } from '../../../../lambdas/contract/hsm';
import type { WrapForImportRequest } from '../../../../lambdas/contract/hsm-key-types';
import { AwsKeyService } from '../../../../lambdas/core/keys/aws-key-service';
import { KeyUploadService, type UploadKeyRequest } from '../../../../lambdas/core/keys/key-upload-service';
import { FakeAwsKmsKeys } from '../../../helpers/fake-aws-kms-keys';
import { MemoryStateStore } from '../../../helpers/memory-state-store';
import { admin, attributes, clock, ids, rejectionOf, seedAccount, seedHsmKey, seedPartition, user } from '../../../helpers/key-fixtures';

const UPLOADABLE = attributes('CKA_SIGN', 'CKA_VERIFY', 'CKA_SENSITIVE', 'CKA_EXTRACTABLE', 'CKA_TOKEN');

/** Wraps nothing: answers bytes naming the key and records each request. */
class RecordingHsmAgent implements Pick<HsmAgent, 'wrapKeyForImport'> {
  readonly wrapped: Array<{ objectId: string; request: WrapForImportRequest }> = [];
  failNext?: Error;

  async wrapKeyForImport(key: { objectId: string }, request: WrapForImportRequest) {
    const failure = this.failNext;
    this.failNext = undefined;
    if (failure) throw failure;
    this.wrapped.push({ objectId: key.objectId, request });
    return { encryptedKeyMaterial: Buffer.from(`wrapped ${key.objectId}`).toString('base64') };
  }
}

let state: MemoryStateStore;
let kms: FakeAwsKmsKeys;
let agent: RecordingHsmAgent;
let uploads: KeyUploadService;
let awsKeys: AwsKeyService;
let account: { id: string; name: string };

beforeEach(async () => {
  state = new MemoryStateStore();
  kms = new FakeAwsKmsKeys();
  agent = new RecordingHsmAgent();
  awsKeys = new AwsKeyService({ state, clock, awsKmsKeys: kms });
  uploads = new KeyUploadService({ state, clock, ids, awsKmsKeys: kms, hsmAgent: agent as unknown as HsmAgent, awsKeys });
  account = await seedAccount(state, { acls: [{ user_id: 'ursula', actions: ['keyupload', 'viewbyok', 'keymaterialimport', 'keymaterialdelete'] }] });
});

async function hsmKey(info: Partial<HsmKeyInfo> = {}, hsmType: HsmType = 'softhsm', owned = true) {
  const partition = await seedPartition(state, { hsmType });
  const key = await seedHsmKey(state, partition.id, { attributes: UPLOADABLE, ...info, ...(owned ? { accountId: account.id } : {}) });
  return { ...key, tier: `hsm-${hsmType}` };
}

function request(key: { id: string; tier: string }, overrides: Partial<UploadKeyRequest> = {}): UploadKeyRequest {
  return { kms: account.name, region: 'us-east-1', source_key_tier: key.tier, source_key_identifier: key.id, ...overrides };
}

describe('upload', () => {
  it('creates an EXTERNAL key with the HSM key\'s spec, imports the material wrapped in the HSM, sets the alias and records a byok key', async () => {
    // Arrange
    const key = await hsmKey({ keyType: 'AES', sizeBits: 256, attributes: attributes('CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_SENSITIVE', 'CKA_EXTRACTABLE') });
    // Act
    const uploaded = await uploads.upload(admin('keyupload'), request(key, { aws_param: { Alias: 'test-upload-key-1', Tags: [{ TagKey: 'key', TagValue: 'value' }] } }));
    // Assert
    expect(agent.wrapped).toEqual([{ objectId: key.objectId, request: { wrappingPublicKey: expect.any(String), algorithm: 'RSAES_OAEP_SHA_1' } }]);
    expect(kms.calls.slice(0, 4)).toEqual(['createKey', 'getParametersForImport', 'importKeyMaterial', 'createAlias']);
    expect(uploaded).toMatchObject({
      key_material_origin: 'cckm',
      key_source: 'hsm-softhsm',
      local_key_id: key.id,
      local_key_name: key.label,
      key_type: 'symmetric',
      kms_id: account.id,
      region: 'us-east-1',
      aws_param: { Origin: 'EXTERNAL', KeyState: 'Enabled', KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT', ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE', Alias: ['alias/test-upload-key-1'], Tags: [{ TagKey: 'key', TagValue: 'value' }] },
    });
    expect(Buffer.from(kms.keys.get(uploaded.aws_param.KeyID as string)!.imported!).toString()).toBe(`wrapped ${key.objectId}`);
    expect((await state.get('awsKey', uploaded.id))?.data).toMatchObject({ kind: 'byok', localKeyId: key.id });
    expect((await state.get('hsmKey', key.id))?.counters).toMatchObject({ references: 1 });
  });

  it.each([
    ['an RSA 2048 key pair with SIGN_VERIFY on Luna', { keyType: 'RSA', sizeBits: 2048 }, 'luna', 'SIGN_VERIFY', 'RSA_2048', 'SIGN_VERIFY', 'RSA_AES_KEY_WRAP_SHA_256'],
    ['an EC P-256 key pair on SoftHSM2 (usage defaults to SIGN_VERIFY)', { keyType: 'EC', sizeBits: 256, curve: 'P-256' }, 'softhsm', undefined, 'ECC_NIST_P256', 'SIGN_VERIFY', 'RSA_AES_KEY_WRAP_SHA_1'],
    ['an EC secp256k1 key pair on CloudHSM', { keyType: 'EC', sizeBits: 256, curve: 'secp256k1' }, 'cloudhsm', undefined, 'ECC_SECG_P256K1', 'SIGN_VERIFY', 'RSA_AES_KEY_WRAP_SHA_256'],
    ['a generic secret for HMAC 384 (usage defaults to GENERATE_VERIFY_MAC)', { keyType: 'GENERIC_SECRET', sizeBits: 384 }, 'softhsm', undefined, 'HMAC_384', 'GENERATE_VERIFY_MAC', 'RSAES_OAEP_SHA_1'],
    ['an AES key on CloudHSM', { keyType: 'AES', sizeBits: 256 }, 'cloudhsm', undefined, 'SYMMETRIC_DEFAULT', 'ENCRYPT_DECRYPT', 'RSAES_OAEP_SHA_256'],
  ] as const)('uploads %s', async (_name, info, hsmType, usage, keySpec, keyUsage, algorithm) => {
    const key = await hsmKey(info, hsmType);

    const uploaded = await uploads.upload(admin('keyupload'), request(key, usage === undefined ? {} : { aws_param: { KeyUsage: usage } }));

    expect(uploaded.aws_param).toMatchObject({ KeySpec: keySpec, KeyUsage: keyUsage, Origin: 'EXTERNAL' });
    expect(agent.wrapped[0].request.algorithm).toBe(algorithm);
  });

  it('imports material that expires at ValidTo', async () => {
    const key = await hsmKey();
    const validTo = new Date(Date.now() + 30 * 86_400_000).toISOString();

    const uploaded = await uploads.upload(admin('keyupload'), request(key, { KeyExpiration: true, aws_param: { CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT', ValidTo: validTo } }));

    expect(uploaded.aws_param).toMatchObject({ ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: validTo });
  });

  it('finds the HSM key by its label too', async () => {
    const key = await hsmKey();
    await expect(uploads.upload(admin('keyupload'), request(key, { source_key_identifier: key.label }))).resolves.toMatchObject({ local_key_id: key.id });
  });

  it.each([
    ['a key spec other than the HSM key\'s', {}, { aws_param: { CustomerMasterKeySpec: 'RSA_2048' } }, 'aws_param.CustomerMasterKeySpec'],
    ['an RSA key without KeyUsage', { keyType: 'RSA', sizeBits: 3072 }, {}, 'aws_param.KeyUsage'],
    ['an EC key for ENCRYPT_DECRYPT', { keyType: 'EC', sizeBits: 384, curve: 'P-384' }, { aws_param: { KeyUsage: 'ENCRYPT_DECRYPT' } }, 'aws_param.KeyUsage'],
    ['an HMAC key for SIGN_VERIFY', { keyType: 'GENERIC_SECRET', sizeBits: 256 }, { aws_param: { KeyUsage: 'SIGN_VERIFY' } }, 'aws_param.KeyUsage'],
    ['a key that is not extractable', { attributes: attributes('CKA_SENSITIVE', 'CKA_TOKEN') }, {}, 'source_key_identifier'],
    ['the default tier local', {}, { source_key_tier: undefined }, 'source_key_tier'],
    ['a tier other than the partition\'s', {}, { source_key_tier: 'hsm-luna' }, 'source_key_tier'],
    ['KeyExpiration without ValidTo', {}, { KeyExpiration: true }, 'aws_param.ValidTo'],
    ['a ValidTo in the past', {}, { aws_param: { ValidTo: '2020-01-01T00:00:00Z' } }, 'aws_param.ValidTo'],
    ['a ValidTo that is not RFC 3339', {}, { aws_param: { ValidTo: 'next tuesday, noon' } }, 'aws_param.ValidTo'],
    ['a region the container does not have', {}, { region: 'ap-south-1' }, 'region'],
    ['a policy document and key_users together', {}, { aws_param: { Policy: { Version: '2012-10-17', Statement: [] } }, key_users: ['alice'] }, 'aws_param.Policy'],
    ['an HSM key that does not exist', {}, { source_key_identifier: 'no-such-key' }, 'source_key_identifier'],
  ] as const)('refuses %s with a 400 naming %s before calling AWS KMS', async (_name, info, overrides, field) => {
    const key = await hsmKey(info as Partial<HsmKeyInfo>);

    const error = await rejectionOf(uploads.upload(admin('keyupload'), request(key, overrides as Partial<UploadKeyRequest>)));

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe(field);
    expect(kms.calls).toEqual([]);
    expect(await state.list('awsKey')).toEqual([]);
  });

  it.each([
    ['ImportKeyMaterial', () => kms.failNext('importKeyMaterial', new ValidationError('AWS KMS refused it: ValidTo must be at most 365 days from now', 'aws_param.ValidTo')), ValidationError, 'ValidTo must be at most 365 days'],
    ['GetParametersForImport', () => kms.failNext('getParametersForImport', new DependencyError('AWS KMS GetParametersForImport: KMSInternalException: oops')), DependencyError, 'KMSInternalException'],
    ['wrapping the key in the HSM (RSAES_OAEP_SHA_1)', () => (agent.failNext = new HsmError('DEVICE_ERROR', 'CKR_KEY_UNEXTRACTABLE', 'C_WrapKey failed: CKR_KEY_UNEXTRACTABLE')), DependencyError, 'CKR_KEY_UNEXTRACTABLE'],
    ['CreateAlias', () => kms.failNext('createAlias', new ConflictError('alias: AWS KMS CreateAlias: AlreadyExistsException: taken')), ConflictError, 'AlreadyExistsException'],
  ] as const)('a failure at %s schedules the new KMS key for deletion and says which step failed and what was said', async (step, inject, errorClass, said) => {
    // Arrange
    const key = await hsmKey({ keyType: 'AES', sizeBits: 256 });
    inject();
    // Act
    const error = await rejectionOf(uploads.upload(admin('keyupload'), request(key, { aws_param: { Alias: 'taken' } })));
    // Assert
    const [created] = kms.keys.values();
    expect(error).toBeInstanceOf(errorClass);
    expect(error.message).toContain(`BYOK upload step ${step} failed`);
    expect(error.message).toContain(said);
    expect(error.message).toContain(`the KMS key ${created.metadata.KeyId} was scheduled for deletion (7 days)`);
    expect(created.metadata).toMatchObject({ KeyState: 'PendingDeletion', PendingDeletionWindowInDays: 7 });
    expect(await state.list('awsKey')).toEqual([]);
    expect((await state.get('hsmKey', key.id))?.counters.references ?? 0).toBe(0);
  });

  it('a refused CreateKey leaves nothing behind', async () => {
    const key = await hsmKey();
    kms.failNext('createKey', new ValidationError('AWS KMS refused it: bad tag', 'aws_param.Tags'));

    await expect(uploads.upload(admin('keyupload'), request(key))).rejects.toThrow('bad tag');

    expect(kms.keys.size).toBe(0);
    expect(await state.list('awsKey')).toEqual([]);
  });

  it('lets a user with keyupload upload a key of their container, and refuses an unowned one with 403', async () => {
    const owned = await hsmKey();
    const unowned = await hsmKey({}, 'softhsm', false);

    await expect(uploads.upload(user('ursula', 'keyupload'), request(owned))).resolves.toMatchObject({ local_key_id: owned.id });
    await expect(uploads.upload(user('ursula', 'keyupload'), request(unowned))).rejects.toBeInstanceOf(ForbiddenError);
    await expect(uploads.upload(user('mallory', 'keyupload'), request(owned))).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('an admin\'s upload of an unowned key assigns it to the container', async () => {
    const unowned = await hsmKey({}, 'softhsm', false);

    await uploads.upload(admin('keyupload'), request(unowned));

    expect((await state.get<{ accountId?: string }>('hsmKey', unowned.id))?.data.accountId).toBe(account.id);
  });
});

describe('key material of an uploaded key', () => {
  it('is deleted (PendingImport) and imported again from the HSM key (Enabled)', async () => {
    const key = await hsmKey();
    const uploaded = await uploads.upload(admin('keyupload'), request(key));

    await expect(uploads.deleteMaterial(admin('keymaterialdelete'), uploaded.id)).resolves.toMatchObject({ aws_param: { KeyState: 'PendingImport' } });
    const again = await uploads.importMaterial(admin('keymaterialimport'), uploaded.id, {});

    expect(again.aws_param).toMatchObject({ KeyState: 'Enabled', ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' });
    expect(agent.wrapped.map((w) => w.objectId)).toEqual([key.objectId, key.objectId]);
  });

  it('a failed re-import says which step failed and leaves the key as it was', async () => {
    const key = await hsmKey();
    const uploaded = await uploads.upload(admin('keyupload'), request(key));
    kms.failNext('importKeyMaterial', new ConflictError('AWS KMS ImportKeyMaterial: IncorrectKeyMaterialException: not the same material'));

    const error = await rejectionOf(uploads.importMaterial(admin('keymaterialimport'), uploaded.id, {}));

    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toMatch(/BYOK upload step ImportKeyMaterial failed: .*IncorrectKeyMaterialException.*is as it was/);
    expect(kms.keys.get(uploaded.aws_param.KeyID as string)?.metadata.KeyState).toBe('Enabled');
  });

  it('is refused (409) for a key that was not uploaded from an HSM key', async () => {
    const metadata = await kms.createKey({ containerId: account.id, accountId: '111122223333', region: 'us-east-1' }, {});
    const now = clock.now().toISOString();
    await state.transact([{ op: 'create', kind: 'awsKey', id: 'native-1', data: { kind: 'native', keyMaterialOrigin: 'native', accountId: account.id, region: 'us-east-1', linkedState: true, blocked: false, kms: { metadata, aliases: [], tags: [], syncedAt: now }, createdAt: now, updatedAt: now } }]);

    await expect(uploads.deleteMaterial(admin('keymaterialdelete'), 'native-1')).rejects.toBeInstanceOf(ConflictError);
  });

  it('deleting the record releases the HSM key', async () => {
    const key = await hsmKey();
    const uploaded = await uploads.upload(admin('keyupload'), request(key));

    await awsKeys.delete(admin('keydelete'), uploaded.id);

    expect((await state.get('hsmKey', key.id))?.counters).toMatchObject({ references: 0 });
  });
});
