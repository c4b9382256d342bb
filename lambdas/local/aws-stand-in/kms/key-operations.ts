/**
 * KMS key management: CreateKey, DescribeKey, ListKeys, UpdateKeyDescription, EnableKey,
 * DisableKey, ScheduleKeyDeletion, CancelKeyDeletion, GetKeyPolicy, PutKeyPolicy,
 * GetKeyRotationStatus, EnableKeyRotation, DisableKeyRotation (the setting only: no material is
 * rotated), TagResource, UntagResource, ListResourceTags. Exceptions and field names
 * as in @aws-sdk/client-kms's commands/*.d.ts; which states each operation refuses as in AWS's
 * key state table.
 */
import { randomUUID } from 'node:crypto';
import { AwsError, invalidKeyState, validationError } from '../aws-error';
import { optionalBoolean, optionalEnum, optionalInteger, optionalList, optionalString, requiredString } from '../input';
import { KMS, type JsonObject, type OperationContext, type StandInModule } from '../operation-registry';
import { awsKmsOrigin } from './aws-kms-origin';
import { checkKeyPolicy, defaultKeyPolicy, MAX_POLICY_LENGTH } from './key-policy';
import { findKey, keyArnOf, liveKey, MANAGEABLE_STATES, requireCustomerManaged, requireKeyState, requireUsable } from './key-lookup';
import { keyMetadataOf } from './key-metadata';
import { keysOf, type KeyOrigin, type KeyUsage, type KmsKeyRecord } from './key-record';
import { KEY_SPECS, KEY_USAGES } from './key-specs';
import { pageFields, pageOf } from './paging';
import { mergeTags, parseTags } from './tags';

const ORIGINS: readonly KeyOrigin[] = ['AWS_KMS', 'EXTERNAL', 'AWS_CLOUDHSM', 'EXTERNAL_KEY_STORE'];
const KEY_ID_RULES = { min: 1, max: 2048 };
const DESCRIPTION_RULES = { min: 0, max: 8192 };
const POLICY_RULES = { min: 1, max: MAX_POLICY_LENGTH, pattern: /^[\u0009\u000A\u000D\u0020-\u00FF]+$/ };
const DAY_SECONDS = 24 * 3600;

const nowSeconds = (context: OperationContext): number => context.runtime.now().getTime() / 1000;

async function createKey(input: JsonObject, context: OperationContext): Promise<JsonObject> {
  const policyText = optionalString(input, 'Policy', POLICY_RULES);
  const description = optionalString(input, 'Description', DESCRIPTION_RULES) ?? '';
  const keyUsage = optionalEnum<KeyUsage>(input, 'KeyUsage', KEY_USAGES) ?? 'ENCRYPT_DECRYPT';
  const specs = Object.keys(KEY_SPECS);
  const legacySpec = optionalEnum(input, 'CustomerMasterKeySpec', specs);
  const givenSpec = optionalEnum(input, 'KeySpec', specs);
  if (legacySpec !== undefined && givenSpec !== undefined) {
    throw new AwsError('ValidationException', 'You cannot specify both KeySpec and CustomerMasterKeySpec. Use only KeySpec.');
  }
  const keySpec = givenSpec ?? legacySpec ?? 'SYMMETRIC_DEFAULT';
  const origin = optionalEnum(input, 'Origin', ORIGINS) ?? 'AWS_KMS';
  const customKeyStoreId = optionalString(input, 'CustomKeyStoreId', { min: 1, max: 64 });
  const bypass = optionalBoolean(input, 'BypassPolicyLockoutSafetyCheck') ?? false;
  const multiRegion = optionalBoolean(input, 'MultiRegion') ?? false;
  optionalString(input, 'XksKeyId', { min: 1, max: 128, pattern: /^[a-zA-Z0-9-_.]+$/ });
  const tags = mergeTags([], parseTags(optionalList(input, 'Tags')));

  if (!KEY_SPECS[keySpec].usages.includes(keyUsage)) throw new AwsError('ValidationException', `KeyUsage ${keyUsage} is not compatible with KeySpec ${keySpec}`);
  if (customKeyStoreId !== undefined && origin !== 'AWS_CLOUDHSM' && origin !== 'EXTERNAL_KEY_STORE') {
    throw new AwsError('UnsupportedOperationException', `CustomKeyStoreId can be specified only when Origin is AWS_CLOUDHSM or EXTERNAL_KEY_STORE.`);
  }
  if ((origin === 'AWS_CLOUDHSM' || origin === 'EXTERNAL_KEY_STORE') && customKeyStoreId === undefined) {
    throw new AwsError('ValidationException', `CustomKeyStoreId is required when Origin is ${origin}.`);
  }
  const provider = context.runtime.registry.findKeyOrigin(origin);
  if (!provider) throw new AwsError('UnsupportedOperationException', `Origin ${origin} is not supported by the local AWS stand-in.`);
  if (!provider.keySpecs.includes(keySpec)) throw new AwsError('UnsupportedOperationException', `KeySpec ${keySpec} is not supported with Origin ${origin}.`);
  if (multiRegion && origin !== 'AWS_KMS' && origin !== 'EXTERNAL') throw new AwsError('UnsupportedOperationException', `Multi-Region keys cannot be created with Origin ${origin}.`);
  if (policyText !== undefined) checkKeyPolicy(policyText, context.caller, bypass);

  const keyId = randomUUID();
  const fields = await provider.create({ input, keyId, keySpec, keyUsage, customKeyStoreId }, context);
  const key: KmsKeyRecord = {
    keyId: multiRegion ? `mrk-${keyId.replace(/-/g, '')}` : keyId,
    arn: keyArnOf(context, multiRegion ? `mrk-${keyId.replace(/-/g, '')}` : keyId),
    accountId: context.caller.accountId,
    region: context.region,
    creationDate: nowSeconds(context),
    description,
    keyState: fields.keyState ?? 'Enabled',
    keyUsage,
    keySpec,
    origin,
    keyManager: 'CUSTOMER',
    multiRegion,
    ...(fields.customKeyStoreId !== undefined ? { customKeyStoreId: fields.customKeyStoreId } : {}),
    ...(fields.cloudHsmClusterId !== undefined ? { cloudHsmClusterId: fields.cloudHsmClusterId } : {}),
    ...(fields.xksKeyId !== undefined ? { xksKeyId: fields.xksKeyId } : {}),
    ...(fields.currentKeyMaterialId !== undefined ? { currentKeyMaterialId: fields.currentKeyMaterialId } : {}),
    ...(fields.material !== undefined ? { material: fields.material } : {}),
    policy: policyText ?? defaultKeyPolicy(context.caller.accountId),
    tags,
    rotationEnabled: false,
  };
  keysOf(context.state).put(key.keyId, key);
  return { KeyMetadata: keyMetadataOf(context, key) };
}

function describeKey(input: JsonObject, context: OperationContext): JsonObject {
  const key = findKey(context, requiredString(input, 'KeyId', KEY_ID_RULES), { aliases: true });
  return { KeyMetadata: keyMetadataOf(context, key) };
}

/**
 * Pages over key ids (sorted), reading only the page's records: a key whose deletion date has
 * passed is deleted on the way and left out, so a page may hold fewer than Limit keys, as AWS
 * allows (Truncated says whether more follow).
 */
function listKeys(input: JsonObject, context: OperationContext): JsonObject {
  const page = pageOf(input, keysOf(context.state).ids(), (id) => id, { max: 1000, default: 100 });
  const keys = page.items.map((id) => liveKey(context, id)).filter((key): key is KmsKeyRecord => key !== undefined);
  return pageFields('Keys', page, keys.map((key) => ({ KeyId: key.keyId, KeyArn: key.arn })));
}

/** The key a management operation names (key id or ARN), customer managed. */
function managedKey(input: JsonObject, context: OperationContext): KmsKeyRecord {
  const key = findKey(context, requiredString(input, 'KeyId', KEY_ID_RULES));
  requireCustomerManaged(key);
  return key;
}

function updateKeyDescription(input: JsonObject, context: OperationContext): JsonObject {
  const key = managedKey(input, context);
  const description = requiredString(input, 'Description', DESCRIPTION_RULES);
  requireKeyState(context, key, MANAGEABLE_STATES);
  keysOf(context.state).put(key.keyId, { ...key, description });
  return {};
}

function enableKey(input: JsonObject, context: OperationContext): JsonObject {
  const key = managedKey(input, context);
  requireKeyState(context, key, ['Enabled', 'Disabled']);
  keysOf(context.state).put(key.keyId, { ...key, keyState: 'Enabled' });
  return {};
}

function disableKey(input: JsonObject, context: OperationContext): JsonObject {
  const key = managedKey(input, context);
  requireKeyState(context, key, ['Enabled', 'Disabled']);
  keysOf(context.state).put(key.keyId, { ...key, keyState: 'Disabled' });
  return {};
}

function scheduleKeyDeletion(input: JsonObject, context: OperationContext): JsonObject {
  const key = managedKey(input, context);
  const days = optionalInteger(input, 'PendingWindowInDays', { min: 7, max: 30 }) ?? 30;
  if (key.keyState === 'PendingDeletion') throw invalidKeyState(`${key.arn} is pending deletion.`);
  requireKeyState(context, key, MANAGEABLE_STATES);
  const deletionDate = Math.floor(nowSeconds(context) + days * DAY_SECONDS);
  keysOf(context.state).put(key.keyId, { ...key, keyState: 'PendingDeletion', deletionDate, pendingDeletionWindowInDays: days });
  return { KeyId: key.arn, DeletionDate: deletionDate, KeyState: 'PendingDeletion', PendingWindowInDays: days };
}

function cancelKeyDeletion(input: JsonObject, context: OperationContext): JsonObject {
  const key = managedKey(input, context);
  if (key.keyState !== 'PendingDeletion') throw invalidKeyState(`${key.arn} is not pending deletion.`);
  const { deletionDate: _deletionDate, pendingDeletionWindowInDays: _window, ...rest } = key;
  keysOf(context.state).put(key.keyId, { ...rest, keyState: 'Disabled' });
  return { KeyId: key.arn };
}

/** A key has one policy, named `default` (PolicyName is optional in current KMS). */
function policyName(input: JsonObject): void {
  const name = optionalString(input, 'PolicyName', { min: 1, max: 128, pattern: /^[\w]+$/ }) ?? 'default';
  if (name !== 'default') throw new AwsError('NotFoundException', `No such policy exists: ${name}`);
}

function getKeyPolicy(input: JsonObject, context: OperationContext): JsonObject {
  const key = findKey(context, requiredString(input, 'KeyId', KEY_ID_RULES));
  policyName(input);
  return { Policy: key.policy, PolicyName: 'default' };
}

function putKeyPolicy(input: JsonObject, context: OperationContext): JsonObject {
  const key = managedKey(input, context);
  policyName(input);
  const policy = requiredString(input, 'Policy', POLICY_RULES);
  const bypass = optionalBoolean(input, 'BypassPolicyLockoutSafetyCheck') ?? false;
  requireKeyState(context, key, MANAGEABLE_STATES);
  checkKeyPolicy(policy, context.caller, bypass);
  keysOf(context.state).put(key.keyId, { ...key, policy });
  return {};
}

function getKeyRotationStatus(input: JsonObject, context: OperationContext): JsonObject {
  const key = findKey(context, requiredString(input, 'KeyId', KEY_ID_RULES));
  requireKeyState(context, key, MANAGEABLE_STATES);
  if (key.keySpec !== 'SYMMETRIC_DEFAULT' || key.customKeyStoreId !== undefined) {
    throw new AwsError('UnsupportedOperationException', `${key.arn} origin is ${key.origin} which is not valid for this operation.`);
  }
  return {
    KeyRotationEnabled: key.rotationEnabled,
    KeyId: key.arn,
    ...(key.rotationEnabled && key.rotationPeriodInDays !== undefined ? { RotationPeriodInDays: key.rotationPeriodInDays } : {}),
    ...(key.rotationEnabled && key.nextRotationDate !== undefined ? { NextRotationDate: key.nextRotationDate } : {}),
  };
}

/** Automatic rotation applies to symmetric keys whose material KMS holds (AWS_KMS); not to custom key stores. */
function rotatableKey(input: JsonObject, context: OperationContext): KmsKeyRecord {
  const key = managedKey(input, context);
  if (key.keySpec !== 'SYMMETRIC_DEFAULT' || key.origin !== 'AWS_KMS') {
    throw new AwsError('UnsupportedOperationException', `${key.arn} origin is ${key.origin} which is not valid for this operation.`);
  }
  requireUsable(context, key);
  return key;
}

function enableKeyRotation(input: JsonObject, context: OperationContext): JsonObject {
  const period = optionalInteger(input, 'RotationPeriodInDays', { min: 90, max: 2560 }) ?? 365;
  const key = rotatableKey(input, context);
  keysOf(context.state).put(key.keyId, { ...key, rotationEnabled: true, rotationPeriodInDays: period, nextRotationDate: Math.floor(nowSeconds(context) + period * DAY_SECONDS) });
  return {};
}

function disableKeyRotation(input: JsonObject, context: OperationContext): JsonObject {
  const key = rotatableKey(input, context);
  const { rotationPeriodInDays: _period, nextRotationDate: _next, ...rest } = key;
  keysOf(context.state).put(key.keyId, { ...rest, rotationEnabled: false });
  return {};
}

function tagResource(input: JsonObject, context: OperationContext): JsonObject {
  const key = managedKey(input, context);
  const added = parseTags(optionalList(input, 'Tags'));
  if (input.Tags === undefined) throw validationError('tags', undefined, 'Member must not be null');
  requireKeyState(context, key, MANAGEABLE_STATES);
  keysOf(context.state).put(key.keyId, { ...key, tags: mergeTags(key.tags, added) });
  return {};
}

function untagResource(input: JsonObject, context: OperationContext): JsonObject {
  const key = managedKey(input, context);
  const names = optionalList(input, 'TagKeys');
  if (names === undefined) throw validationError('tagKeys', undefined, 'Member must not be null');
  for (const name of names) {
    if (typeof name !== 'string' || name.length < 1 || name.length > 128) throw validationError('tagKeys.member', name, 'Member must have length between 1 and 128');
  }
  requireKeyState(context, key, MANAGEABLE_STATES);
  keysOf(context.state).put(key.keyId, { ...key, tags: key.tags.filter((tag) => !names.includes(tag.TagKey)) });
  return {};
}

function listResourceTags(input: JsonObject, context: OperationContext): JsonObject {
  const key = findKey(context, requiredString(input, 'KeyId', KEY_ID_RULES));
  const page = pageOf(input, key.tags, (tag) => tag.TagKey, { max: 50, default: 50 });
  return pageFields('Tags', page, page.items);
}

export const keyOperations: StandInModule = {
  name: 'kms-keys',
  register(registry) {
    registry
      .json(KMS, 'CreateKey', createKey)
      .json(KMS, 'DescribeKey', describeKey)
      .json(KMS, 'ListKeys', listKeys)
      .json(KMS, 'UpdateKeyDescription', updateKeyDescription)
      .json(KMS, 'EnableKey', enableKey)
      .json(KMS, 'DisableKey', disableKey)
      .json(KMS, 'ScheduleKeyDeletion', scheduleKeyDeletion)
      .json(KMS, 'CancelKeyDeletion', cancelKeyDeletion)
      .json(KMS, 'GetKeyPolicy', getKeyPolicy)
      .json(KMS, 'PutKeyPolicy', putKeyPolicy)
      .json(KMS, 'GetKeyRotationStatus', getKeyRotationStatus)
      .json(KMS, 'EnableKeyRotation', enableKeyRotation)
      .json(KMS, 'DisableKeyRotation', disableKeyRotation)
      .json(KMS, 'TagResource', tagResource)
      .json(KMS, 'UntagResource', untagResource)
      .json(KMS, 'ListResourceTags', listResourceTags)
      .keyOrigin(awsKmsOrigin);
  },
};
