/**
 * Symmetric cryptographic operations: Encrypt, Decrypt, GenerateDataKey,
 * GenerateDataKeyWithoutPlaintext, ReEncrypt. What every key shares happens here (finding the
 * key, its usage and state, the encryption context, DryRun, the blob format); the key's origin
 * does the encryption (key-origins.ts).
 *
 * The encryption context is bound as AAD: the blob header (key id) and the SHA-256 of the
 * context's entries sorted by key, so Decrypt with a different context fails with
 * InvalidCiphertextException, as on AWS.
 */
import { createHash, randomBytes } from 'node:crypto';
import { AwsError, validationError } from '../aws-error';
import { optionalBoolean, optionalEnum, optionalInteger, optionalList, optionalObject, optionalString, requiredBlob, requiredString } from '../input';
import { KMS, type JsonObject, type OperationContext, type StandInModule } from '../operation-registry';
import { blobHeader, decodeBlob, encodeBlob } from './ciphertext-blob';
import type { SymmetricCryptoRequest } from './key-origins';
import { findKey, liveKey, requireUsable } from './key-lookup';
import type { KmsKeyRecord } from './key-record';
import { KEY_SPECS } from './key-specs';

const ENCRYPTION_ALGORITHMS = ['SYMMETRIC_DEFAULT', 'RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'SM2PKE'];
const KEY_ID_RULES = { min: 1, max: 2048 };

export function encryptionContextOf(input: JsonObject, field: string): Record<string, string> {
  const context = optionalObject(input, field) ?? {};
  for (const [name, value] of Object.entries(context)) {
    if (typeof value !== 'string') throw new AwsError('SerializationException', `Unexpected value type in ${field}`);
    if (name.length === 0) throw validationError(field, name, 'Member must have length greater than or equal to 1');
  }
  return context as Record<string, string>;
}

/** header | SHA-256 of the sorted context entries. */
export function aadFor(keyId: string, encryptionContext: Record<string, string>): Buffer {
  const entries = Object.entries(encryptionContext).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.concat([blobHeader(keyId), createHash('sha256').update(JSON.stringify(entries)).digest()]);
}

function checkCommonFields(input: JsonObject): void {
  const tokens = optionalList(input, 'GrantTokens');
  if (tokens && tokens.length > 10) throw validationError('grantTokens', tokens, 'Member must have length less than or equal to 10');
}

function requireEncryptionKey(context: OperationContext, key: KmsKeyRecord, algorithm: string): void {
  if (key.keyUsage !== 'ENCRYPT_DECRYPT') throw new AwsError('InvalidKeyUsageException', `${key.arn} key usage is ${key.keyUsage} which is not valid for this operation.`);
  if (!(KEY_SPECS[key.keySpec]?.encryptionAlgorithms ?? []).includes(algorithm)) {
    throw new AwsError('InvalidKeyUsageException', `The encryption algorithm ${algorithm} is not compatible with the key spec ${key.keySpec}.`);
  }
  requireUsable(context, key);
}

function originOf(context: OperationContext, key: KmsKeyRecord) {
  const origin = context.runtime.registry.findKeyOrigin(key.origin);
  if (!origin?.encrypt || !origin.decrypt) throw new AwsError('UnsupportedOperationException', `${key.arn} cannot be used for symmetric encryption in the local AWS stand-in.`);
  return origin as Required<Pick<typeof origin, 'encrypt' | 'decrypt'>>;
}

function dryRun(input: JsonObject): void {
  if (optionalBoolean(input, 'DryRun')) throw new AwsError('DryRunOperationException', 'The request would have succeeded, but the DryRun option is set.', 412);
}

async function encryptWith(context: OperationContext, key: KmsKeyRecord, plaintext: Buffer, encryptionContext: Record<string, string>, kmsOperation: string): Promise<Buffer> {
  const request: SymmetricCryptoRequest = { key, aad: aadFor(key.keyId, encryptionContext), context, kmsOperation, encryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
  return encodeBlob(key.keyId, await originOf(context, key).encrypt(request, plaintext));
}

/** The key a blob names (InvalidCiphertextException if it is not ours) and its plaintext. */
async function decryptBlob(
  context: OperationContext,
  blob: Buffer,
  encryptionContext: Record<string, string>,
  keyIdInput: string | undefined,
  kmsOperation: string,
): Promise<{ key: KmsKeyRecord; plaintext: Buffer }> {
  const decoded = decodeBlob(blob);
  const key = liveKey(context, decoded.keyId);
  if (!key) throw new AwsError('InvalidCiphertextException', 'The ciphertext is invalid.');
  if (keyIdInput !== undefined && findKey(context, keyIdInput, { aliases: true }).keyId !== key.keyId) {
    throw new AwsError('IncorrectKeyException', 'The key ID in the request does not identify a CMK that can perform this operation.');
  }
  requireEncryptionKey(context, key, 'SYMMETRIC_DEFAULT');
  const request: SymmetricCryptoRequest = { key, aad: aadFor(key.keyId, encryptionContext), context, kmsOperation, encryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
  return { key, plaintext: await originOf(context, key).decrypt(request, decoded.parts) };
}

async function encrypt(input: JsonObject, context: OperationContext): Promise<JsonObject> {
  const keyId = requiredString(input, 'KeyId', KEY_ID_RULES);
  const plaintext = requiredBlob(input, 'Plaintext', { min: 1, max: 4096 });
  const encryptionContext = encryptionContextOf(input, 'EncryptionContext');
  const algorithm = optionalEnum(input, 'EncryptionAlgorithm', ENCRYPTION_ALGORITHMS) ?? 'SYMMETRIC_DEFAULT';
  checkCommonFields(input);
  const key = findKey(context, keyId, { aliases: true });
  requireEncryptionKey(context, key, algorithm);
  dryRun(input);
  const blob = await encryptWith(context, key, plaintext, encryptionContext, 'Encrypt');
  return { CiphertextBlob: blob.toString('base64'), KeyId: key.arn, EncryptionAlgorithm: algorithm };
}

async function decrypt(input: JsonObject, context: OperationContext): Promise<JsonObject> {
  const blob = requiredBlob(input, 'CiphertextBlob', { min: 1, max: 6144 });
  const encryptionContext = encryptionContextOf(input, 'EncryptionContext');
  const keyIdInput = optionalString(input, 'KeyId', KEY_ID_RULES);
  const algorithm = optionalEnum(input, 'EncryptionAlgorithm', ENCRYPTION_ALGORITHMS) ?? 'SYMMETRIC_DEFAULT';
  if (algorithm !== 'SYMMETRIC_DEFAULT') throw new AwsError('InvalidCiphertextException', 'The ciphertext is invalid.');
  if (input.Recipient !== undefined) throw new AwsError('UnsupportedOperationException', 'Recipient (Nitro Enclaves) is not supported by the local AWS stand-in.');
  checkCommonFields(input);
  if (optionalBoolean(input, 'DryRun')) {
    const decoded = decodeBlob(blob);
    const key = liveKey(context, decoded.keyId);
    if (!key) throw new AwsError('InvalidCiphertextException', 'The ciphertext is invalid.');
    requireEncryptionKey(context, key, algorithm);
    dryRun(input);
  }
  const { key, plaintext } = await decryptBlob(context, blob, encryptionContext, keyIdInput, 'Decrypt');
  return { KeyId: key.arn, Plaintext: plaintext.toString('base64'), EncryptionAlgorithm: algorithm };
}

function dataKeyLength(input: JsonObject): number {
  const bytes = optionalInteger(input, 'NumberOfBytes', { min: 1, max: 1024 });
  const spec = optionalEnum(input, 'KeySpec', ['AES_256', 'AES_128']);
  if (bytes === undefined && spec === undefined) throw new AwsError('ValidationException', 'Please specify either number of bytes or key spec.');
  if (bytes !== undefined && spec !== undefined) throw new AwsError('ValidationException', 'Please specify either number of bytes or key spec, not both.');
  return bytes ?? (spec === 'AES_128' ? 16 : 32);
}

async function generateDataKeyFor(input: JsonObject, context: OperationContext, kmsOperation: string): Promise<{ key: KmsKeyRecord; plaintext: Buffer; blob: Buffer }> {
  const keyId = requiredString(input, 'KeyId', KEY_ID_RULES);
  const encryptionContext = encryptionContextOf(input, 'EncryptionContext');
  const length = dataKeyLength(input);
  if (input.Recipient !== undefined) throw new AwsError('UnsupportedOperationException', 'Recipient (Nitro Enclaves) is not supported by the local AWS stand-in.');
  checkCommonFields(input);
  const key = findKey(context, keyId, { aliases: true });
  requireEncryptionKey(context, key, 'SYMMETRIC_DEFAULT');
  dryRun(input);
  const plaintext = randomBytes(length);
  return { key, plaintext, blob: await encryptWith(context, key, plaintext, encryptionContext, kmsOperation) };
}

async function generateDataKey(input: JsonObject, context: OperationContext): Promise<JsonObject> {
  const { key, plaintext, blob } = await generateDataKeyFor(input, context, 'GenerateDataKey');
  return { CiphertextBlob: blob.toString('base64'), Plaintext: plaintext.toString('base64'), KeyId: key.arn };
}

async function generateDataKeyWithoutPlaintext(input: JsonObject, context: OperationContext): Promise<JsonObject> {
  const { key, blob } = await generateDataKeyFor(input, context, 'GenerateDataKeyWithoutPlaintext');
  return { CiphertextBlob: blob.toString('base64'), KeyId: key.arn };
}

async function reEncrypt(input: JsonObject, context: OperationContext): Promise<JsonObject> {
  const blob = requiredBlob(input, 'CiphertextBlob', { min: 1, max: 6144 });
  const sourceContext = encryptionContextOf(input, 'SourceEncryptionContext');
  const sourceKeyId = optionalString(input, 'SourceKeyId', KEY_ID_RULES);
  const destinationKeyId = requiredString(input, 'DestinationKeyId', KEY_ID_RULES);
  const destinationContext = encryptionContextOf(input, 'DestinationEncryptionContext');
  const sourceAlgorithm = optionalEnum(input, 'SourceEncryptionAlgorithm', ENCRYPTION_ALGORITHMS) ?? 'SYMMETRIC_DEFAULT';
  const destinationAlgorithm = optionalEnum(input, 'DestinationEncryptionAlgorithm', ENCRYPTION_ALGORITHMS) ?? 'SYMMETRIC_DEFAULT';
  if (sourceAlgorithm !== 'SYMMETRIC_DEFAULT') throw new AwsError('InvalidCiphertextException', 'The ciphertext is invalid.');
  checkCommonFields(input);
  const destination = findKey(context, destinationKeyId, { aliases: true });
  requireEncryptionKey(context, destination, destinationAlgorithm);
  dryRun(input);
  const { key: source, plaintext } = await decryptBlob(context, blob, sourceContext, sourceKeyId, 'ReEncrypt');
  const reencrypted = await encryptWith(context, destination, plaintext, destinationContext, 'ReEncrypt');
  return {
    CiphertextBlob: reencrypted.toString('base64'),
    SourceKeyId: source.arn,
    KeyId: destination.arn,
    SourceEncryptionAlgorithm: sourceAlgorithm,
    DestinationEncryptionAlgorithm: destinationAlgorithm,
  };
}

export const cryptoOperations: StandInModule = {
  name: 'kms-crypto',
  register(registry) {
    registry
      .json(KMS, 'Encrypt', encrypt)
      .json(KMS, 'Decrypt', decrypt)
      .json(KMS, 'GenerateDataKey', generateDataKey)
      .json(KMS, 'GenerateDataKeyWithoutPlaintext', generateDataKeyWithoutPlaintext)
      .json(KMS, 'ReEncrypt', reEncrypt);
  },
};
