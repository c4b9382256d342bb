/**
 * Fixtures for the key store, credential, virtual key and HYOK key tests: records seeded straight
 * into a StateStore (account containers, partitions, HSM source keys, the way their services store
 * them), callers with and without ACL actions, and the services wired to a state and secret store.
 */
import type { AwsKms } from '../../lambdas/core/ports/aws-kms';
import { FakeAwsKms } from './fake-aws-kms';
import type { CredentialUsage } from '../../lambdas/core/ports/credential-usage';
import { MemoryCredentialUsage } from './memory-credential-usage';
import { randomBytes, randomUUID } from 'node:crypto';
import type { AclAction } from '../../lambdas/contract/acl';
import type { Access } from '../../lambdas/core/accounts/access';
import { type HsmKeyInfo, type HsmType, KEY_ATTRIBUTE_NAMES } from '../../lambdas/contract/hsm';
import type { AccountData } from '../../lambdas/core/accounts/account';
import type { IdGenerator } from '../../lambdas/core/ports/id-generator';
import type { Clock } from '../../lambdas/core/ports/clock';
import type { HsmKeyData } from '../../lambdas/core/hsm/hsm-key';
import type { PartitionData } from '../../lambdas/core/hsm/partition';
import type { Principal } from '../../lambdas/core/ports/token-verifier';
import type { SecretStore } from '../../lambdas/core/ports/secret-store';
import { AwsKeyService } from '../../lambdas/core/keys/aws-key-service';
import { HyokKeyService } from '../../lambdas/core/keys/hyok-key-service';
import { FakeAwsKmsKeys } from './fake-aws-kms-keys';
import { MemoryHsmAgent } from './memory-hsm-agent';
import type { HsmAgent } from '../../lambdas/core/ports/hsm';
import { KeyStoreCredentialService } from '../../lambdas/core/key-stores/key-store-credential-service';
import type { CreateKeyStoreRequest } from '../../lambdas/core/key-stores/key-store-requests';
import { KeyStoreService } from '../../lambdas/core/key-stores/key-store-service';
import { VirtualKeyService } from '../../lambdas/core/keys/virtual-key-service';
import type { StateStore } from '../../lambdas/core/ports/state-store';
import { attributes, SOURCE_KEY_ATTRIBUTES } from '../integration/pkcs11/fixtures';

export const clock: Clock = { now: () => new Date() };
export const ids: IdGenerator = { newId: () => randomUUID() };

const ADMIN: Principal = { subject: 'admin-sub', username: 'admin', groups: ['cckm-admins'], isAdmin: true };

/** An admin (no ACL needed) acting through a route with `action`. */
export function admin(action?: AclAction): Access {
  return { principal: ADMIN, ...(action ? { action } : {}) };
}

/** A non-admin user acting through a route with `action`. */
export function user(username: string, action?: AclAction): Access {
  return { principal: { subject: `${username}-sub`, username, groups: ['cckm-users'], isAdmin: false }, ...(action ? { action } : {}) };
}

export { attributes };

/** What a health-check key needs (and a typical source key has). */
export const HEALTH_CHECK_ATTRIBUTES = SOURCE_KEY_ATTRIBUTES;

export async function seedAccount(
  state: StateStore,
  options: { name?: string; regions?: string[]; acls?: AccountData['acls'] } = {},
): Promise<{ id: string; name: string }> {
  const id = randomUUID();
  const name = options.name ?? `account-${id.slice(0, 8)}`;
  const now = clock.now().toISOString();
  const data: AccountData = {
    name,
    accountId: '111122223333',
    regions: options.regions ?? ['us-east-1', 'eu-west-1'],
    status: 'active',
    acls: options.acls ?? [],
    createdAt: now,
    updatedAt: now,
  };
  await state.transact([{ op: 'create', kind: 'account', id, data, uniqueName: name }]);
  return { id, name };
}

export async function seedPartition(state: StateStore, options: { hsmType?: HsmType; tokenLabel?: string; id?: string } = {}): Promise<{ id: string; tokenLabel: string }> {
  const id = options.id ?? randomUUID();
  const tokenLabel = options.tokenLabel ?? `token-${id.slice(0, 8)}`;
  const now = clock.now().toISOString();
  const data: PartitionData = { name: `partition-${id}`, hsmType: options.hsmType ?? 'softhsm', tokenLabel, createdAt: now, updatedAt: now };
  await state.transact([{ op: 'create', kind: 'partition', id, data, uniqueName: data.name }]);
  return { id, tokenLabel };
}

/**
 * An HSM source key record as CreateHsmKey stores it (by default an AES-256 health-check-capable
 * key, owned by no account container unless `accountId` is given).
 */
export async function seedHsmKey(
  state: StateStore,
  partitionId: string,
  info: Partial<HsmKeyInfo> & { readonly accountId?: string } = {},
): Promise<{ id: string; objectId: string; label: string }> {
  const id = randomUUID();
  const now = clock.now().toISOString();
  const objectId = info.objectId ?? randomBytes(16).toString('hex');
  const label = info.label ?? `key-${id.slice(0, 8)}`;
  const attributesOfKey = info.attributes ?? HEALTH_CHECK_ATTRIBUTES;
  const data: HsmKeyData = {
    partitionId,
    ...(info.accountId === undefined ? {} : { accountId: info.accountId }),
    objectId,
    label,
    keyType: info.keyType ?? 'AES',
    sizeBits: info.sizeBits ?? 256,
    ...(info.curve === undefined ? {} : { curve: info.curve }),
    attributes: attributesOfKey,
    mechanism: 'CKM_AES_KEY_GEN',
    requestedAttributes: KEY_ATTRIBUTE_NAMES.filter((name) => attributesOfKey[name]),
    status: 'AVAILABLE',
    createdAt: now,
    updatedAt: now,
  };
  await state.transact([
    { op: 'create', kind: 'hsmKey', id, data },
    { op: 'count', kind: 'partition', id: partitionId, counter: 'hsmKeys', delta: 1 },
  ]);
  return { id, objectId, label };
}

export interface KeyServices {
  readonly keyStores: KeyStoreService;
  readonly credentials: KeyStoreCredentialService;
  readonly virtualKeys: VirtualKeyService;
  readonly hyokKeys: HyokKeyService;
  readonly awsKeys: AwsKeyService;
  /** The in-memory AWS KMS the AWS key and HYOK key services call. */
  readonly awsKmsKeys: FakeAwsKmsKeys;
}

export function keyServices(
  state: StateStore,
  secrets: SecretStore,
  awsKms: AwsKms = new FakeAwsKms(),
  credentialUsage: CredentialUsage = new MemoryCredentialUsage(),
  awsKmsKeys = new FakeAwsKmsKeys(),
  hsmAgent: HsmAgent = new MemoryHsmAgent(),
): KeyServices {
  // These deployments have a mutual-TLS trust store, so stores may enable mTLS.
  const keyStores = new KeyStoreService({ state, secrets, clock, ids, awsKms, credentialUsage, hsmAgent }, { mtlsTrustStore: true });
  const awsKeys = new AwsKeyService({ state, clock, awsKmsKeys });
  return {
    keyStores,
    credentials: new KeyStoreCredentialService({ state, secrets, clock, ids, keyStores, awsKms, credentialUsage }),
    virtualKeys: new VirtualKeyService({ state, clock, ids }),
    hyokKeys: new HyokKeyService({ state, clock, ids, awsKmsKeys, awsKeys }),
    awsKeys,
    awsKmsKeys,
  };
}

/** An account, a partition and a health-check key owned by the account, and a valid create request over them. */
export async function keyStoreSetup(
  state: StateStore,
  options: { hsmType?: HsmType; acls?: AccountData['acls'] } = {},
): Promise<{ account: { id: string; name: string }; partition: { id: string; tokenLabel: string }; healthCheckKey: { id: string; objectId: string }; request: (overrides?: Partial<CreateKeyStoreRequest>) => CreateKeyStoreRequest }> {
  const account = await seedAccount(state, { acls: options.acls });
  const partition = await seedPartition(state, { hsmType: options.hsmType });
  const healthCheckKey = await seedHsmKey(state, partition.id, { accountId: account.id });
  return {
    account,
    partition,
    healthCheckKey,
    request: (overrides = {}) => ({
      name: `store-${randomUUID().slice(0, 8)}`,
      kms: account.name,
      region: 'us-east-1',
      local_hosted_params: { partition_id: partition.id, health_check_key_id: healthCheckKey.id, max_credentials: 3 },
      aws_param: { xks_proxy_uri_endpoint: 'https://xks.example.com', xks_proxy_connectivity: 'PUBLIC_ENDPOINT' },
      ...overrides,
    }),
  };
}

/** The error a promise rejected with (fails the test when it resolved). */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof Error)) throw new Error(`expected a rejection, got ${outcome === undefined ? 'a result' : String(outcome)}`);
  return outcome;
}
