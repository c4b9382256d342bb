/**
 * Finding the key a request names, and the key-state rules operations share.
 *
 * KeyId forms: key id, key ARN, and (where the operation accepts them) alias name or alias ARN,
 * all in the caller's account and the request's region. Keys whose deletion date has passed are
 * deleted on the way (AWS deletes them then; nothing here runs a timer).
 */
import { AwsError, invalidKeyState, notFound } from '../aws-error';
import type { OperationContext } from '../operation-registry';
import type { CustomKeyStoreRecord } from './custom-key-store-record';
import { customKeyStoresOf } from './custom-key-store-record';
import { aliasesOf, keysOf, type KeyState, type KmsKeyRecord } from './key-record';

export const keyArnOf = (context: OperationContext, keyId: string): string => `arn:aws:kms:${context.region}:${context.caller.accountId}:key/${keyId}`;
export const aliasArnOf = (context: OperationContext, aliasName: string): string => `arn:aws:kms:${context.region}:${context.caller.accountId}:${aliasName}`;

const ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):(key\/[^/]+|alias\/.+)$/;

export interface FindKeyOptions {
  /** Alias names and alias ARNs are accepted (DescribeKey, Encrypt, Decrypt, GenerateDataKey, ReEncrypt, ...). */
  readonly aliases?: boolean;
}

/** The key, or NotFoundException / InvalidArnException as AWS answers. */
export function findKey(context: OperationContext, keyIdInput: string, options: FindKeyOptions = {}): KmsKeyRecord {
  let reference = keyIdInput;
  if (reference.startsWith('arn:')) {
    const match = ARN.exec(reference);
    if (!match) throw new AwsError('InvalidArnException', `Invalid arn ${reference}`);
    const [, region, accountId, resource] = match;
    if (region !== context.region || accountId !== context.caller.accountId) throw notFound(`Key '${reference}' does not exist`);
    reference = resource.startsWith('key/') ? resource.slice(4) : resource;
  }
  if (reference.startsWith('alias/')) {
    if (!options.aliases) throw notFound(`Invalid keyId '${keyIdInput}'`);
    const alias = aliasesOf(context.state).get(reference);
    if (!alias) throw notFound(`Alias ${aliasArnOf(context, reference)} is not found.`);
    reference = alias.targetKeyId;
  }
  const key = liveKey(context, reference);
  if (!key) throw notFound(`Key '${keyArnOf(context, reference)}' does not exist`);
  return key;
}

/** The key with this id, unless it does not exist or its deletion date has passed (then it is deleted now). */
export function liveKey(context: OperationContext, keyId: string): KmsKeyRecord | undefined {
  const keys = keysOf(context.state);
  const key = keys.get(keyId);
  if (!key) return undefined;
  if (key.keyState === 'PendingDeletion' && key.deletionDate !== undefined && key.deletionDate * 1000 <= context.runtime.now().getTime()) {
    deleteKeyNow(context, key);
    return undefined;
  }
  return key;
}

function deleteKeyNow(context: OperationContext, key: KmsKeyRecord): void {
  const aliases = aliasesOf(context.state);
  for (const alias of aliases.values()) if (alias.targetKeyId === key.keyId) aliases.delete(alias.aliasName);
  keysOf(context.state).delete(key.keyId);
}

export function storeOf(context: OperationContext, key: KmsKeyRecord): CustomKeyStoreRecord | undefined {
  return key.customKeyStoreId === undefined ? undefined : customKeyStoresOf(context.state).get(key.customKeyStoreId);
}

/**
 * The state DescribeKey shows: a key in a custom key store that was disconnected on purpose is
 * Unavailable while disconnected (its stored state returns on reconnection).
 */
export function effectiveKeyState(context: OperationContext, key: KmsKeyRecord): KeyState {
  if (key.keyState !== 'Enabled' && key.keyState !== 'Disabled') return key.keyState;
  const store = storeOf(context, key);
  if (store && (store.connectionState === 'DISCONNECTED' || store.connectionState === 'DISCONNECTING')) return 'Unavailable';
  return key.keyState;
}

const STATE_WORDS: Partial<Record<KeyState, string>> = {
  PendingDeletion: 'pending deletion',
  PendingImport: 'pending import',
  Unavailable: 'unavailable',
  Disabled: 'disabled',
  Creating: 'being created',
  Updating: 'being updated',
  PendingReplicaDeletion: 'pending replica deletion',
};

/** KMSInvalidStateException "<arn> is <state>." unless the key's state is one of `allowed`. */
export function requireKeyState(context: OperationContext, key: KmsKeyRecord, allowed: readonly KeyState[]): void {
  const state = effectiveKeyState(context, key);
  if (!allowed.includes(state)) throw invalidKeyState(`${key.arn} is ${STATE_WORDS[state] ?? state}.`);
}

/** Management operations (tags, description, policy, aliases) work in every state but these. */
export const MANAGEABLE_STATES: readonly KeyState[] = ['Enabled', 'Disabled', 'PendingImport', 'Unavailable', 'Creating', 'Updating'];

/**
 * Cryptographic operations need an Enabled key: Disabled answers DisabledException, every other
 * state KMSInvalidStateException.
 */
export function requireUsable(context: OperationContext, key: KmsKeyRecord): void {
  const state = effectiveKeyState(context, key);
  if (state === 'Enabled') return;
  if (state === 'Disabled') throw new AwsError('DisabledException', `${key.arn} is disabled.`);
  throw invalidKeyState(`${key.arn} is ${STATE_WORDS[state] ?? state}.`);
}

export function requireCustomerManaged(key: KmsKeyRecord): void {
  if (key.keyManager === 'AWS') throw new AwsError('NotAuthorizedException', `${key.arn} is an AWS managed key`);
}
