/**
 * Linked key stores against the in-memory StateStore and an in-memory AWS KMS (test/helpers/
 * fake-aws-kms.ts): both sides created, changed and deleted together, nothing left on either side
 * when AWS KMS refuses, the operator's guide's update rules, connection state read from AWS KMS
 * (kept a few seconds), and credentials pushed to AWS KMS with the replaced one kept valid five
 * minutes. The real adapter against the local AWS stand-in: test/e2e/linked-key-stores.test.ts.
 */
import { ConflictError, ValidationError } from '../../../../lambdas/core/errors';
import { KeyStoreCredentialService } from '../../../../lambdas/core/key-stores/key-store-credential-service';
import { KeyStoreService } from '../../../../lambdas/core/key-stores/key-store-service';
import type { KeyStoreData } from '../../../../lambdas/core/key-stores/key-store';
import { FakeAwsKms } from '../../../helpers/fake-aws-kms';
import { admin, ids, keyStoreSetup, rejectionOf } from '../../../helpers/key-fixtures';
import { MemoryStateStore } from '../../../helpers/memory-state-store';
import { MemoryCredentialUsage } from '../../../helpers/memory-credential-usage';
import { MemorySecretStore } from '../../../helpers/softhsm';
import { MemoryHsmAgent } from '../../../helpers/memory-hsm-agent';

let now: number;
let state: MemoryStateStore;
let secrets: MemorySecretStore;
let kms: FakeAwsKms;
let keyStores: KeyStoreService;
let credentials: KeyStoreCredentialService;
let setup: Awaited<ReturnType<typeof keyStoreSetup>>;

beforeEach(async () => {
  now = Date.parse('2026-12-01T12:00:00Z');
  state = new MemoryStateStore();
  secrets = new MemorySecretStore();
  kms = new FakeAwsKms();
  const clock = { now: () => new Date(now) };
  const credentialUsage = new MemoryCredentialUsage();
  keyStores = new KeyStoreService({ state, secrets, clock, ids, awsKms: kms, credentialUsage, hsmAgent: new MemoryHsmAgent() });
  credentials = new KeyStoreCredentialService({ state, secrets, clock, ids, keyStores, awsKms: kms, credentialUsage });
  setup = await keyStoreSetup(state);
});

async function stored(id: string): Promise<KeyStoreData> {
  const record = await state.get<KeyStoreData>('keyStore', id);
  if (record === undefined) throw new Error(`no key store ${id}`);
  return record.data;
}

async function linkedStore(overrides: Parameters<typeof setup.request>[0] = {}) {
  return keyStores.create(admin('keystoreadd'), setup.request({ linked_state: true, ...overrides }));
}

describe('create with linked_state: true', () => {
  it('creates the store in AWS KMS with its endpoint, path, connectivity and first credential', async () => {
    // Act
    const created = await linkedStore({ name: 'linked-a' });

    // Assert
    const cks = created.aws_param.custom_key_store_id as string;
    expect(cks).toMatch(/^cks-[0-9a-f]{17}$/);
    expect(created).toMatchObject({ type: 'LOCAL', aws_param: { connection_state: 'DISCONNECTED' }, local_hosted_params: { linked_state: true } });
    expect(kms.stores.get(cks)?.settings).toEqual({
      name: 'linked-a',
      uriEndpoint: 'https://xks.example.com',
      uriPath: created.aws_param.xks_proxy_uri_path,
      connectivity: 'PUBLIC_ENDPOINT',
      credential: { accessKeyId: created.access_key_id, rawSecretAccessKey: created.secret_access_key },
    });
    expect((await stored(created.id)).aws).toEqual({ customKeyStoreId: cks, accessKeyId: created.access_key_id });
  });

  it('leaves nothing on either side when AWS KMS refuses, and says what AWS KMS reported', async () => {
    // Arrange
    kms.failNext('createExternalKeyStore', new ValidationError('AWS KMS CreateCustomKeyStore: XksProxyUriUnreachableException: cannot reach the proxy', 'aws_param.xks_proxy_uri_endpoint'));

    // Act
    const error = await rejectionOf(linkedStore({ name: 'linked-b' }));

    // Assert
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toContain('XksProxyUriUnreachableException');
    expect(await state.list('keyStore')).toEqual([]);
    expect(secrets.values.size).toBe(0);
    expect(kms.stores.size).toBe(0);
    // the name, and the account's and health-check key's counters, are free again
    await expect(linkedStore({ name: 'linked-b' })).resolves.toMatchObject({ name: 'linked-b' });
  });
});

describe('connect and disconnect', () => {
  it("change AWS KMS's connection state, which every response shows", async () => {
    const created = await linkedStore();

    const connected = await keyStores.connect(admin('keystoreconnect'), created.id);
    const read = await keyStores.get(admin('viewkeystore'), created.id);
    const disconnected = await keyStores.disconnect(admin('keystoredisconnect'), created.id);

    expect(connected.aws_param.connection_state).toBe('CONNECTED');
    expect(read.aws_param.connection_state).toBe('CONNECTED');
    expect(disconnected.aws_param.connection_state).toBe('DISCONNECTED');
  });

  it('are refused for an unlinked store', async () => {
    const unlinked = await keyStores.create(admin('keystoreadd'), setup.request());

    const error = await rejectionOf(keyStores.connect(admin('keystoreconnect'), unlinked.id));

    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toContain('not linked');
    expect(kms.calls).toEqual([]);
  });

  it('keep a read connection state a few seconds, then ask AWS KMS again', async () => {
    const created = await linkedStore();
    await keyStores.get(admin('viewkeystore'), created.id);
    const describes = (): number => kms.calls.filter((c) => c === 'describeCustomKeyStore').length;
    const before = describes();

    await keyStores.get(admin('viewkeystore'), created.id);
    await keyStores.list(admin('viewkeystore'), {});
    expect(describes()).toBe(before);
    now += 6_000;
    await keyStores.list(admin('viewkeystore'), { connection_state: 'DISCONNECTED' });
    expect(describes()).toBe(before + 1);
  });
});

describe('link', () => {
  it('creates an unlinked store in AWS KMS with the given endpoint and its newest credential', async () => {
    const unlinked = await keyStores.create(admin('keystoreadd'), setup.request());

    const linked = await keyStores.link(admin('keystorelink'), unlinked.id, { aws_param: { xks_proxy_uri_endpoint: 'https://xks2.example.com' } });

    const cks = linked.aws_param.custom_key_store_id as string;
    expect(linked).toMatchObject({ local_hosted_params: { linked_state: true }, aws_param: { xks_proxy_uri_endpoint: 'https://xks2.example.com' } });
    expect(kms.stores.get(cks)?.settings.credential).toEqual({ accessKeyId: unlinked.access_key_id, rawSecretAccessKey: unlinked.secret_access_key });
    await expect(rejectionOf(keyStores.link(admin('keystorelink'), unlinked.id, { aws_param: { xks_proxy_uri_endpoint: 'https://xks2.example.com' } }))).resolves.toBeInstanceOf(ConflictError);
  });

  it('is refused while the store is blocked', async () => {
    const unlinked = await keyStores.create(admin('keystoreadd'), setup.request({ local_hosted_params: { ...setup.request().local_hosted_params, blocked: true } }));

    const error = await rejectionOf(keyStores.link(admin('keystorelink'), unlinked.id, { aws_param: { xks_proxy_uri_endpoint: 'https://xks.example.com' } }));

    expect(error.message).toContain('blocked');
    expect(kms.stores.size).toBe(0);
  });
});

describe('update of a linked store', () => {
  it('is refused while blocked', async () => {
    const created = await linkedStore();
    await keyStores.block(admin('keystoreblock'), created.id);

    const error = await rejectionOf(keyStores.update(admin('keystoreupdate'), created.id, { name: 'renamed' }));

    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toContain('blocked');
  });

  it('changes the endpoint only while DISCONNECTED, and pushes it to AWS KMS', async () => {
    const created = await linkedStore();
    const cks = created.aws_param.custom_key_store_id as string;
    await keyStores.connect(admin('keystoreconnect'), created.id);

    const refused = await rejectionOf(keyStores.update(admin('keystoreupdate'), created.id, { aws_param: { xks_proxy_uri_endpoint: 'https://other.example.com' } }));
    await keyStores.disconnect(admin('keystoredisconnect'), created.id);
    const updated = await keyStores.update(admin('keystoreupdate'), created.id, { aws_param: { xks_proxy_uri_endpoint: 'https://other.example.com' } });

    expect(refused).toBeInstanceOf(ConflictError);
    expect(refused.message).toMatch(/^aws_param\.xks_proxy_uri_endpoint: .*only while it is DISCONNECTED.*CONNECTED/);
    expect(updated.aws_param.xks_proxy_uri_endpoint).toBe('https://other.example.com');
    expect(kms.stores.get(cks)?.settings.uriEndpoint).toBe('https://other.example.com');
  });

  it('renames in AWS KMS while connected, and is undone here when AWS KMS refuses', async () => {
    const created = await linkedStore({ name: 'before' });
    const cks = created.aws_param.custom_key_store_id as string;
    await keyStores.connect(admin('keystoreconnect'), created.id);

    await keyStores.update(admin('keystoreupdate'), created.id, { name: 'after' });
    kms.failNext('updateExternalKeyStore', new ConflictError('name: AWS KMS UpdateCustomKeyStore: CustomKeyStoreNameInUseException: taken'));
    const error = await rejectionOf(keyStores.update(admin('keystoreupdate'), created.id, { name: 'taken' }));

    expect(kms.stores.get(cks)?.settings.name).toBe('after');
    expect(error.message).toContain('CustomKeyStoreNameInUseException');
    expect((await stored(created.id)).name).toBe('after');
  });
});

describe('credentials of a linked store', () => {
  it('go to AWS KMS on rotation; the replaced one stays valid five minutes', async () => {
    // Arrange: max_credentials 2
    const created = await linkedStore({ local_hosted_params: { ...setup.request().local_hosted_params, max_credentials: 2 } });
    const cks = created.aws_param.custom_key_store_id as string;

    // Act + Assert: the first rotation gives AWS KMS the new credential and keeps the old one
    const rotated = await credentials.rotate(admin('keystoreupdate'), created.id);
    expect(kms.stores.get(cks)?.settings.credential).toEqual({ accessKeyId: rotated.access_key_id, rawSecretAccessKey: rotated.secret_access_key });
    expect((await stored(created.id)).aws).toEqual({ customKeyStoreId: cks, accessKeyId: rotated.access_key_id, replaced: [{ accessKeyId: created.access_key_id, at: new Date(now).toISOString() }] });
    expect(rotated.credential_count).toBe(2);

    // a second rotation within five minutes would drop the replaced credential: refused
    now += 4 * 60_000;
    const early = await rejectionOf(credentials.rotate(admin('keystoreupdate'), created.id));
    expect(early).toBeInstanceOf(ConflictError);
    expect(early.message).toContain('AWS KMS may keep signing with it until 2026-12-01T12:05:00.000Z');
    // and the credential AWS KMS signs with cannot be deleted
    const inUse = await rejectionOf(credentials.delete(admin('keystoreupdate'), created.id, rotated.credential_id));
    expect(inUse.message).toContain('the one AWS KMS signs with');

    // after five minutes it may go
    now += 61_000;
    const later = await credentials.rotate(admin('keystoreupdate'), created.id);
    expect(later.deleted_credentials_ids).toHaveLength(1);
    expect(kms.stores.get(cks)?.settings.credential.accessKeyId).toBe(later.access_key_id);
  });

  it('a credential AWS KMS refuses is removed again', async () => {
    const created = await linkedStore();
    kms.failNext('updateExternalKeyStore', new ValidationError('AWS KMS UpdateCustomKeyStore: XksProxyIncorrectAuthenticationCredentialException: wrong'));

    const error = await rejectionOf(credentials.create(admin('keystoreupdate'), created.id));

    expect(error.message).toContain('XksProxyIncorrectAuthenticationCredentialException');
    const data = await stored(created.id);
    expect(data.credentials.map((c) => c.accessKeyId)).toEqual([created.access_key_id]);
    expect(data.aws?.accessKeyId).toBe(created.access_key_id);
    expect(secrets.values.size).toBe(1);
  });
});

describe('delete of a linked store', () => {
  it('is refused while AWS KMS has it connected, then deletes it on both sides', async () => {
    const created = await linkedStore();
    const cks = created.aws_param.custom_key_store_id as string;
    await keyStores.connect(admin('keystoreconnect'), created.id);

    const refused = await rejectionOf(keyStores.delete(admin('keystoredelete'), created.id));
    await keyStores.disconnect(admin('keystoredisconnect'), created.id);
    await keyStores.delete(admin('keystoredelete'), created.id);

    expect(refused).toBeInstanceOf(ConflictError);
    expect(kms.stores.has(cks)).toBe(false);
    expect(await state.get('keyStore', created.id)).toBeUndefined();
    expect(secrets.values.size).toBe(0);
  });

  it('is refused while AWS KMS still has keys in it, saying how many', async () => {
    const created = await linkedStore();
    const cks = created.aws_param.custom_key_store_id as string;
    const fake = kms.stores.get(cks);
    if (fake) fake.keys = 2;

    const error = await rejectionOf(keyStores.delete(admin('keystoredelete'), created.id));

    expect(error.message).toContain('2 KMS key(s)');
    expect(await state.get('keyStore', created.id)).toBeDefined();
  });
});
