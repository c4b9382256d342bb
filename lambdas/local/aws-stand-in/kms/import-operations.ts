/**
 * Importing key material (origin EXTERNAL), as the SDK's models describe it:
 *
 * - GetParametersForImport: a fresh RSA wrapping key pair per request and an import token bound to
 *   the key; both valid for 24 hours (ParametersValidTo). The private key stays in the stand-in's
 *   state until the token expires.
 * - ImportKeyMaterial: unwraps with the token's private key (InvalidCiphertextException), checks
 *   the material fits the key spec, and refuses other material than the key had before
 *   (IncorrectKeyMaterialException); InvalidImportTokenException for a token that is unknown or
 *   belongs to another key, ExpiredImportTokenException after 24 hours. ExpirationModel defaults
 *   to KEY_MATERIAL_EXPIRES, which needs a ValidTo in the future and at most 365 days away.
 * - DeleteImportedKeyMaterial: the key returns to PendingImport; the same material can be
 *   imported again.
 *
 * The KeyMaterialId identifies material per key (a SHA-256 over key id and material), so that a
 * re-import can be told apart from other material without keeping deleted material.
 */
import { createHash, randomBytes } from 'node:crypto';
import { AwsError, unsupportedOperation, validationError } from '../aws-error';
import { optionalEnum, optionalString, requiredBlob, requiredString } from '../input';
import { KMS, type JsonObject, type OperationContext, type StandInModule } from '../operation-registry';
import { findKey, requireKeyState } from './key-lookup';
import { keysOf, type KmsKeyRecord } from './key-record';
import { checkImportedMaterial } from './key-spec-crypto';
import { externalOrigin, importedMaterial, withExpiredMaterialDeleted } from './external-origin';
import { checkWrappingChoice, generateWrappingKeyPair, unwrapKeyMaterial, type WrappingAlgorithm } from './import-wrapping';

export const IMPORT_PARAMETERS = 'importParameters';
const IMPORT_PARAMETERS_LIFETIME_SECONDS = 24 * 60 * 60;
const EXPIRED_TOKEN_MEMORY_SECONDS = 7 * 24 * 60 * 60;
const MAX_VALID_TO_SECONDS = 365 * 24 * 60 * 60;
const KEY_ID = { min: 1, max: 2048 } as const;
/** ImportToken and EncryptedKeyMaterial: 1 to 6144 bytes. */
const BLOB = { min: 1, max: 6144 } as const;
const TOKEN_MAGIC = Buffer.from('local-kms-import-token:v1:');

interface ImportParametersRecord {
  readonly tokenId: string;
  readonly keyId: string;
  readonly wrappingAlgorithm: WrappingAlgorithm;
  /** DER PKCS#8, base64. */
  readonly privateKey: string;
  readonly validTo: number;
}

const importParametersOf = (context: OperationContext) => context.state.collection<ImportParametersRecord>(IMPORT_PARAMETERS);

/** Key states in which import parameters can be requested and material imported or deleted. */
const IMPORT_STATES = ['Enabled', 'Disabled', 'PendingImport'] as const;

function externalKey(context: OperationContext, keyIdInput: string): KmsKeyRecord {
  const key = withExpiredMaterialDeleted(context, findKey(context, keyIdInput));
  if (key.origin !== 'EXTERNAL') throw unsupportedOperation(`${key.arn} origin is ${key.origin} which is not valid for this operation.`);
  return key;
}

export async function getParametersForImport(input: JsonObject, context: OperationContext): Promise<JsonObject> {
  const keyId = requiredString(input, 'KeyId', KEY_ID);
  const algorithmInput = requiredString(input, 'WrappingAlgorithm');
  const wrappingKeySpecInput = requiredString(input, 'WrappingKeySpec');
  const key = externalKey(context, keyId);
  requireKeyState(context, key, IMPORT_STATES);
  const { algorithm, wrappingKeySpec } = checkWrappingChoice(key.keySpec, algorithmInput, wrappingKeySpecInput);

  const pair = await generateWrappingKeyPair(wrappingKeySpec);
  const now = Math.floor(context.runtime.now().getTime() / 1000);
  const parameters = importParametersOf(context);
  // Expired tokens are kept a while longer, so that using one answers ExpiredImportTokenException.
  for (const stale of parameters.values()) if (stale.validTo + EXPIRED_TOKEN_MEMORY_SECONDS <= now) parameters.delete(stale.tokenId);
  const tokenId = randomBytes(32).toString('hex');
  const validTo = now + IMPORT_PARAMETERS_LIFETIME_SECONDS;
  parameters.put(tokenId, { tokenId, keyId: key.keyId, wrappingAlgorithm: algorithm, privateKey: pair.privateKeyDer.toString('base64'), validTo });
  return {
    KeyId: key.arn,
    ImportToken: Buffer.concat([TOKEN_MAGIC, Buffer.from(tokenId, 'hex')]).toString('base64'),
    PublicKey: pair.publicKeyDer.toString('base64'),
    ParametersValidTo: validTo,
  };
}

export function importKeyMaterial(input: JsonObject, context: OperationContext): JsonObject {
  // 1. The request's own fields.
  const keyId = requiredString(input, 'KeyId', KEY_ID);
  const token = requiredBlob(input, 'ImportToken', BLOB);
  const encrypted = requiredBlob(input, 'EncryptedKeyMaterial', BLOB);
  const expirationModel = optionalEnum(input, 'ExpirationModel', ['KEY_MATERIAL_EXPIRES', 'KEY_MATERIAL_DOES_NOT_EXPIRE'] as const) ?? 'KEY_MATERIAL_EXPIRES';
  const importType = optionalEnum(input, 'ImportType', ['NEW_KEY_MATERIAL', 'EXISTING_KEY_MATERIAL'] as const);
  optionalString(input, 'KeyMaterialDescription', { min: 0, max: 256 });
  const keyMaterialIdInput = optionalString(input, 'KeyMaterialId', { min: 64, max: 64, pattern: /^[a-f0-9]+$/ });
  const validTo = expirationFields(input, expirationModel, context);

  // 2. The key and the token.
  const key = externalKey(context, keyId);
  requireKeyState(context, key, IMPORT_STATES);
  if ((importType !== undefined || input.KeyMaterialDescription !== undefined || keyMaterialIdInput !== undefined) && key.keySpec !== 'SYMMETRIC_DEFAULT') {
    throw unsupportedOperation('ImportType, KeyMaterialDescription and KeyMaterialId are valid only for symmetric encryption KMS keys.');
  }
  const parameters = parametersFor(context, token, key);

  // 3. The material.
  const material = unwrapKeyMaterial(parameters.wrappingAlgorithm, Buffer.from(parameters.privateKey, 'base64'), encrypted);
  checkImportedMaterial(key.keySpec, material);
  const keyMaterialId = createHash('sha256').update(key.keyId).update(material).digest('hex');
  if (key.currentKeyMaterialId !== undefined && key.currentKeyMaterialId !== keyMaterialId) {
    throw new AwsError('IncorrectKeyMaterialException', `The key material is not the key material previously imported into ${key.arn}.`);
  }
  if (importType === 'NEW_KEY_MATERIAL' && key.currentKeyMaterialId !== undefined) {
    throw new AwsError('IncorrectKeyMaterialException', `The key material is already associated with ${key.arn}; import it with ImportType EXISTING_KEY_MATERIAL.`);
  }
  if (importType === 'EXISTING_KEY_MATERIAL' && key.currentKeyMaterialId === undefined) {
    throw new AwsError('IncorrectKeyMaterialException', `No key material was ever imported into ${key.arn}; import it with ImportType NEW_KEY_MATERIAL.`);
  }
  if (keyMaterialIdInput !== undefined && keyMaterialIdInput !== keyMaterialId) {
    throw new AwsError('IncorrectKeyMaterialException', `The key material does not match key material id ${keyMaterialIdInput}.`);
  }

  const updated: KmsKeyRecord = {
    ...key,
    material: importedMaterial(material),
    currentKeyMaterialId: keyMaterialId,
    keyState: key.keyState === 'PendingImport' ? 'Enabled' : key.keyState,
    expirationModel,
    validTo,
  };
  keysOf(context.state).put(key.keyId, updated);
  return { KeyId: key.arn, KeyMaterialId: keyMaterialId };
}

export function deleteImportedKeyMaterial(input: JsonObject, context: OperationContext): JsonObject {
  const keyId = requiredString(input, 'KeyId', KEY_ID);
  const keyMaterialIdInput = optionalString(input, 'KeyMaterialId', { min: 64, max: 64, pattern: /^[a-f0-9]+$/ });
  const key = externalKey(context, keyId);
  requireKeyState(context, key, [...IMPORT_STATES, 'PendingDeletion']);
  if (keyMaterialIdInput !== undefined && keyMaterialIdInput !== key.currentKeyMaterialId) {
    throw new AwsError('NotFoundException', `Key material ${keyMaterialIdInput} is not associated with ${key.arn}.`);
  }
  const updated: KmsKeyRecord = {
    ...key,
    material: undefined,
    keyState: key.keyState === 'PendingDeletion' ? 'PendingDeletion' : 'PendingImport',
    expirationModel: undefined,
    validTo: undefined,
  };
  keysOf(context.state).put(key.keyId, updated);
  return { KeyId: key.arn, KeyMaterialId: key.currentKeyMaterialId };
}

/** ValidTo as ImportKeyMaterial requires it for the expiration model (epoch seconds), or undefined. */
function expirationFields(input: JsonObject, expirationModel: string, context: OperationContext): number | undefined {
  const value = input.ValidTo;
  if (expirationModel === 'KEY_MATERIAL_DOES_NOT_EXPIRE') {
    if (value !== undefined && value !== null) throw validationError('ValidTo', value, 'ValidTo must be omitted when ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE');
    return undefined;
  }
  if (value === undefined || value === null) throw validationError('ValidTo', value, 'ValidTo is required when ExpirationModel is KEY_MATERIAL_EXPIRES');
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new AwsError('SerializationException', 'Unexpected value type for field ValidTo');
  const now = context.runtime.now().getTime() / 1000;
  if (value <= now) throw validationError('ValidTo', value, 'ValidTo must be in the future');
  if (value > now + MAX_VALID_TO_SECONDS) throw validationError('ValidTo', value, 'ValidTo must be at most 365 days from now');
  return Math.floor(value);
}

function parametersFor(context: OperationContext, token: Buffer, key: KmsKeyRecord): ImportParametersRecord {
  const invalid = () => new AwsError('InvalidImportTokenException', `The import token is invalid or is associated with a different KMS key than ${key.arn}.`);
  if (!token.subarray(0, TOKEN_MAGIC.length).equals(TOKEN_MAGIC)) throw invalid();
  const parameters = importParametersOf(context).get(token.subarray(TOKEN_MAGIC.length).toString('hex'));
  if (!parameters || parameters.keyId !== key.keyId) throw invalid();
  if (parameters.validTo * 1000 <= context.runtime.now().getTime()) {
    throw new AwsError('ExpiredImportTokenException', 'The import token is expired. Use GetParametersForImport to get a new import token and public key.');
  }
  return parameters;
}

export const importOperations: StandInModule = {
  name: 'kms-import',
  register(registry) {
    registry.keyOrigin(externalOrigin);
    registry.json(KMS, 'GetParametersForImport', getParametersForImport);
    registry.json(KMS, 'ImportKeyMaterial', importKeyMaterial);
    registry.json(KMS, 'DeleteImportedKeyMaterial', deleteImportedKeyMaterial);
  },
};
