/**
 * The operations of asymmetric and HMAC KMS keys whose material the stand-in holds (imported, or
 * generated for origin AWS_KMS): Sign, Verify, GetPublicKey, GenerateMac, VerifyMac. Limits and
 * exceptions as the SDK's models list them: Message 1-4096 bytes, Signature and Mac 1-6144 bytes,
 * InvalidKeyUsageException for a key of another usage or an algorithm the key does not allow,
 * KMSInvalidSignatureException / KMSInvalidMacException when verification fails, DisabledException
 * and KMSInvalidStateException from the key's state.
 */
import { AwsError, unsupportedOperation } from '../aws-error';
import { optionalEnum, requiredBlob, requiredString } from '../input';
import { KMS, type JsonObject, type OperationContext, type StandInModule } from '../operation-registry';
import { materialBytes } from './external-origin';
import { findKey, requireUsable } from './key-lookup';
import type { KmsKeyRecord } from './key-record';
import { generateMac as mac, publicKeyOf, sign as signMessage, verify as verifySignature, verifyMac as checkMac } from './key-spec-crypto';
import { algorithmsOf } from './key-specs';

const KEY_ID = { min: 1, max: 2048 } as const;
const MESSAGE = { min: 1, max: 4096 } as const;
const SIGNATURE = { min: 1, max: 6144 } as const;
const SIGNING_ALGORITHMS = [
  'RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512', 'RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512',
  'ECDSA_SHA_256', 'ECDSA_SHA_384', 'ECDSA_SHA_512', 'SM2DSA', 'ML_DSA_SHAKE_256', 'ED25519_SHA_512', 'ED25519_PH_SHA_512',
] as const;
const MAC_ALGORITHMS = ['HMAC_SHA_224', 'HMAC_SHA_256', 'HMAC_SHA_384', 'HMAC_SHA_512'] as const;
const MESSAGE_TYPES = ['RAW', 'DIGEST', 'EXTERNAL_MU'] as const;

function keyFor(context: OperationContext, input: JsonObject, usage: string, operation: string): KmsKeyRecord {
  const key = findKey(context, requiredString(input, 'KeyId', KEY_ID), { aliases: true });
  if (key.keyUsage !== usage) throw new AwsError('InvalidKeyUsageException', `${key.arn} key usage is ${key.keyUsage} which is not valid for ${operation}.`);
  requireUsable(context, key);
  return key;
}

function signingInput(input: JsonObject) {
  const message = requiredBlob(input, 'Message', MESSAGE);
  const messageType = optionalEnum(input, 'MessageType', MESSAGE_TYPES) ?? 'RAW';
  requiredString(input, 'SigningAlgorithm');
  const signingAlgorithm = optionalEnum(input, 'SigningAlgorithm', SIGNING_ALGORITHMS)!;
  return { message, messageType, signingAlgorithm };
}

export function sign(input: JsonObject, context: OperationContext): JsonObject {
  const request = signingInput(input);
  const key = keyFor(context, input, 'SIGN_VERIFY', 'Sign');
  const signature = signMessage({ spec: key.keySpec, material: materialBytes(context, key), ...request });
  return { KeyId: key.arn, Signature: signature.toString('base64'), SigningAlgorithm: request.signingAlgorithm };
}

export function verify(input: JsonObject, context: OperationContext): JsonObject {
  const request = signingInput(input);
  const signature = requiredBlob(input, 'Signature', SIGNATURE);
  const key = keyFor(context, input, 'SIGN_VERIFY', 'Verify');
  if (!verifySignature({ spec: key.keySpec, material: materialBytes(context, key), ...request, signature })) {
    throw new AwsError('KMSInvalidSignatureException', '');
  }
  return { KeyId: key.arn, SignatureValid: true, SigningAlgorithm: request.signingAlgorithm };
}

export function getPublicKey(input: JsonObject, context: OperationContext): JsonObject {
  const key = findKey(context, requiredString(input, 'KeyId', KEY_ID), { aliases: true });
  if (key.keySpec === 'SYMMETRIC_DEFAULT' || key.keySpec.startsWith('HMAC_')) {
    throw unsupportedOperation(`${key.arn} key usage is ${key.keyUsage} and key spec is ${key.keySpec}: GetPublicKey is only valid for asymmetric KMS keys.`);
  }
  requireUsable(context, key);
  return {
    KeyId: key.arn,
    PublicKey: publicKeyOf(key.keySpec, materialBytes(context, key)).toString('base64'),
    CustomerMasterKeySpec: key.keySpec,
    KeySpec: key.keySpec,
    KeyUsage: key.keyUsage,
    ...algorithmsOf(key.keySpec, key.keyUsage),
  };
}

export function generateMac(input: JsonObject, context: OperationContext): JsonObject {
  const message = requiredBlob(input, 'Message', MESSAGE);
  const macAlgorithm = macAlgorithmOf(input);
  const key = keyFor(context, input, 'GENERATE_VERIFY_MAC', 'GenerateMac');
  return { KeyId: key.arn, Mac: mac(key.keySpec, materialBytes(context, key), macAlgorithm, message).toString('base64'), MacAlgorithm: macAlgorithm };
}

export function verifyMac(input: JsonObject, context: OperationContext): JsonObject {
  const message = requiredBlob(input, 'Message', MESSAGE);
  const macAlgorithm = macAlgorithmOf(input);
  const given = requiredBlob(input, 'Mac', SIGNATURE);
  const key = keyFor(context, input, 'GENERATE_VERIFY_MAC', 'VerifyMac');
  if (!checkMac(key.keySpec, materialBytes(context, key), macAlgorithm, message, given)) throw new AwsError('KMSInvalidMacException', '');
  return { KeyId: key.arn, MacValid: true, MacAlgorithm: macAlgorithm };
}

function macAlgorithmOf(input: JsonObject): string {
  requiredString(input, 'MacAlgorithm');
  return optionalEnum(input, 'MacAlgorithm', MAC_ALGORITHMS)!;
}

export const asymmetricOperations: StandInModule = {
  name: 'kms-asymmetric',
  register(registry) {
    registry.json(KMS, 'Sign', sign);
    registry.json(KMS, 'Verify', verify);
    registry.json(KMS, 'GetPublicKey', getPublicKey);
    registry.json(KMS, 'GenerateMac', generateMac);
    registry.json(KMS, 'VerifyMac', verifyMac);
  },
};
