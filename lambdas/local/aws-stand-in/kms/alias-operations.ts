/** KMS aliases: CreateAlias, DeleteAlias, ListAliases (and UpdateAlias, which shares the checks). */
import { AwsError, notFound, validationError } from '../aws-error';
import { optionalString, requiredString } from '../input';
import { KMS, type JsonObject, type OperationContext, type StandInModule } from '../operation-registry';
import { aliasArnOf, findKey, liveKey, MANAGEABLE_STATES, requireCustomerManaged, requireKeyState } from './key-lookup';
import { aliasesOf, type AliasRecord, type KmsKeyRecord } from './key-record';
import { pageFields, pageOf } from './paging';

const ALIAS_NAME = { min: 1, max: 256, pattern: /^[a-zA-Z0-9:/_-]+$/ };

function aliasName(input: JsonObject): string {
  const name = requiredString(input, 'AliasName', ALIAS_NAME);
  if (!name.startsWith('alias/')) throw new AwsError('ValidationException', 'Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html');
  if (name.startsWith('alias/aws/')) throw new AwsError('NotAuthorizedException', 'Cannot create or modify an alias that begins with alias/aws/; it is reserved for AWS managed keys.');
  return name;
}

/** The key an alias may point to: a customer managed key (id or ARN) not pending deletion. */
function targetKey(input: JsonObject, context: OperationContext): KmsKeyRecord {
  const target = requiredString(input, 'TargetKeyId', { min: 1, max: 2048 });
  if (target.startsWith('alias/') || target.includes(':alias/')) throw validationError('targetKeyId', target, 'Aliases must refer to keys. Not aliases');
  const key = findKey(context, target);
  requireCustomerManaged(key);
  requireKeyState(context, key, MANAGEABLE_STATES);
  return key;
}

function createAlias(input: JsonObject, context: OperationContext): JsonObject {
  const name = aliasName(input);
  const key = targetKey(input, context);
  const aliases = aliasesOf(context.state);
  if (aliases.has(name)) throw new AwsError('AlreadyExistsException', `An alias with the name ${aliasArnOf(context, name)} already exists`);
  const now = context.runtime.now().getTime() / 1000;
  aliases.put(name, { aliasName: name, aliasArn: aliasArnOf(context, name), targetKeyId: key.keyId, creationDate: now, lastUpdatedDate: now });
  return {};
}

function updateAlias(input: JsonObject, context: OperationContext): JsonObject {
  const name = aliasName(input);
  const key = targetKey(input, context);
  const aliases = aliasesOf(context.state);
  const alias = aliases.get(name);
  if (!alias) throw notFound(`Alias ${aliasArnOf(context, name)} is not found.`);
  const current = liveKey(context, alias.targetKeyId);
  if (current && (current.keySpec !== key.keySpec || current.keyUsage !== key.keyUsage)) {
    throw new AwsError('ValidationException', 'The new target key must have the same key spec and key usage as the current target key.');
  }
  aliases.put(name, { ...alias, targetKeyId: key.keyId, lastUpdatedDate: context.runtime.now().getTime() / 1000 });
  return {};
}

function deleteAlias(input: JsonObject, context: OperationContext): JsonObject {
  const name = aliasName(input);
  const aliases = aliasesOf(context.state);
  if (!aliases.delete(name)) throw notFound(`Alias ${aliasArnOf(context, name)} is not found.`);
  return {};
}

function listAliases(input: JsonObject, context: OperationContext): JsonObject {
  const keyIdInput = optionalString(input, 'KeyId', { min: 1, max: 2048 });
  const keyId = keyIdInput === undefined ? undefined : findKey(context, keyIdInput).keyId;
  // Aliases of keys whose deletion has completed go with them.
  const aliases = aliasesOf(context.state)
    .values()
    .filter((alias) => liveKey(context, alias.targetKeyId) !== undefined && (keyId === undefined || alias.targetKeyId === keyId));
  const page = pageOf(input, aliases, (alias) => alias.aliasName, { max: 100, default: 50 });
  return pageFields('Aliases', page, page.items.map(aliasEntry));
}

function aliasEntry(alias: AliasRecord): JsonObject {
  return { AliasName: alias.aliasName, AliasArn: alias.aliasArn, TargetKeyId: alias.targetKeyId, CreationDate: alias.creationDate, LastUpdatedDate: alias.lastUpdatedDate };
}

export const aliasOperations: StandInModule = {
  name: 'kms-aliases',
  register(registry) {
    registry.json(KMS, 'CreateAlias', createAlias).json(KMS, 'UpdateAlias', updateAlias).json(KMS, 'DeleteAlias', deleteAlias).json(KMS, 'ListAliases', listAliases);
  },
};
