/**
 * The key-material operations of the AWS KMS adapter against aws-sdk-client-mock (what BYOK upload
 * sends and how AWS KMS's import refusals come back), for the failures the local AWS stand-in does
 * not produce on demand: an expired import token, material that is not the key's, a token that
 * does not belong to the key, AWS KMS's own failure, throttling that outlasts the retries.
 */
import {
  CreateKeyCommand,
  DeleteImportedKeyMaterialCommand,
  ExpiredImportTokenException,
  GetParametersForImportCommand,
  ImportKeyMaterialCommand,
  IncorrectKeyMaterialException,
  InvalidImportTokenException,
  KMSClient,
  KMSInternalException,
  KMSInvalidStateException,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { SdkAwsKms } from '../../../lambdas/adapters/aws/kms-sdk';
import { ConflictError, DependencyError, ServiceUnavailableError, ValidationError } from '../../../lambdas/core/errors';
import type { KmsLocation } from '../../../lambdas/core/ports/aws-kms';

const kms = mockClient(KMSClient);
const meta = { $metadata: {} };
const AT: KmsLocation = { containerId: 'container-3', accountId: '111122223333', region: 'us-east-1' };
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const ARN = `arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}`;
const MATERIAL = { importToken: Buffer.from('token'), encryptedKeyMaterial: Buffer.from('wrapped') };

let adapter: SdkAwsKms;

beforeEach(() => {
  kms.reset();
  adapter = new SdkAwsKms({ credentials: { accessKeyId: 'AKIADEPLOYMENT', secretAccessKey: 'secret' }, retry: { sleep: async () => undefined } });
});

it('CreateKey for an upload: Origin EXTERNAL with the spec, usage and multi-region flag', async () => {
  kms.on(CreateKeyCommand).resolves({ ...meta, KeyMetadata: { KeyId: KEY_ID, Arn: ARN, KeyState: 'PendingImport', Origin: 'EXTERNAL' } });

  const created = await adapter.createKey(AT, { origin: 'EXTERNAL', keySpec: 'RSA_2048', keyUsage: 'SIGN_VERIFY', multiRegion: true });

  expect(created).toMatchObject({ KeyState: 'PendingImport', Origin: 'EXTERNAL' });
  expect(kms.commandCalls(CreateKeyCommand)[0].args[0].input).toEqual({ Origin: 'EXTERNAL', KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY', MultiRegion: true });
});

it('GetParametersForImport asks for the algorithm and wrapping key spec and returns the token and public key', async () => {
  const validTo = new Date('2026-12-02T00:00:00Z');
  kms.on(GetParametersForImportCommand).resolves({ ...meta, KeyId: ARN, ImportToken: Buffer.from('token'), PublicKey: Buffer.from('spki'), ParametersValidTo: validTo });

  const parameters = await adapter.getParametersForImport(AT, KEY_ID, 'RSA_AES_KEY_WRAP_SHA_256', 'RSA_4096');

  expect(kms.commandCalls(GetParametersForImportCommand)[0].args[0].input).toEqual({ KeyId: KEY_ID, WrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', WrappingKeySpec: 'RSA_4096' });
  expect(Buffer.from(parameters.publicKey).toString()).toBe('spki');
  expect(parameters.parametersValidTo).toBe(validTo.toISOString());
});

it('ImportKeyMaterial: KEY_MATERIAL_EXPIRES with ValidTo, or KEY_MATERIAL_DOES_NOT_EXPIRE', async () => {
  kms.on(ImportKeyMaterialCommand).resolves(meta);

  await adapter.importKeyMaterial(AT, KEY_ID, { ...MATERIAL, validTo: '2027-01-01T00:00:00.000Z' });
  await adapter.importKeyMaterial(AT, KEY_ID, MATERIAL);

  const [expiring, lasting] = kms.commandCalls(ImportKeyMaterialCommand).map((call) => call.args[0].input);
  expect(expiring).toMatchObject({ KeyId: KEY_ID, ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: new Date('2027-01-01T00:00:00Z') });
  expect(lasting).toMatchObject({ ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' });
  expect(lasting.ValidTo).toBeUndefined();
});

it('DeleteImportedKeyMaterial names the key', async () => {
  kms.on(DeleteImportedKeyMaterialCommand).resolves(meta);

  await adapter.deleteImportedKeyMaterial(AT, KEY_ID);

  expect(kms.commandCalls(DeleteImportedKeyMaterialCommand)[0].args[0].input).toEqual({ KeyId: KEY_ID });
});

it.each([
  ['an expired import token', new ExpiredImportTokenException({ message: 'The import token expired', $metadata: {} }), ConflictError, 'ExpiredImportTokenException'],
  ['material that is not the key\'s', new IncorrectKeyMaterialException({ message: 'Different key material', $metadata: {} }), ConflictError, 'IncorrectKeyMaterialException'],
  ['a token of another key', new InvalidImportTokenException({ message: 'Invalid import token', $metadata: {} }), DependencyError, 'InvalidImportTokenException'],
  ['a key in the wrong state', new KMSInvalidStateException({ message: 'is pending deletion', $metadata: {} }), ConflictError, 'KMSInvalidStateException'],
  ['AWS KMS failing', new KMSInternalException({ message: 'internal', $metadata: {} }), DependencyError, 'KMSInternalException'],
  ['throttling past the retries', Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: {} }), ServiceUnavailableError, 'Rate exceeded'],
])('ImportKeyMaterial refused for %s: the error class and what AWS KMS said', async (_case, error, errorClass, said) => {
  kms.on(ImportKeyMaterialCommand).rejects(error);

  const failure = await adapter.importKeyMaterial(AT, KEY_ID, MATERIAL).then(
    () => undefined,
    (e: unknown) => e as Error,
  );

  expect(failure).toBeInstanceOf(errorClass);
  expect(failure?.message).toContain(said);
  expect(failure?.message).not.toContain('wrapped');
});

it('a ValidationException about ValidTo names aws_param.ValidTo', async () => {
  kms.on(ImportKeyMaterialCommand).rejects(Object.assign(new Error('ValidTo must be at most 365 days from now'), { name: 'ValidationException', $metadata: {} }));

  const failure = await adapter.importKeyMaterial(AT, KEY_ID, { ...MATERIAL, validTo: '2030-01-01T00:00:00Z' }).catch((e: unknown) => e as ValidationError);

  expect(failure).toBeInstanceOf(ValidationError);
  expect((failure as ValidationError).field).toBe('aws_param.ValidTo');
});
