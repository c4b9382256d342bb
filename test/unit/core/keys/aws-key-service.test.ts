/**
 * Linked HYOK keys and the AWS key operations against the in-memory StateStore and in-memory AWS
 * KMS (test/helpers/fake-aws-kms*.ts): link and create-with-link (nothing left behind when AWS KMS
 * refuses), aws_param mirroring AWS KMS after every operation, the policy shortcuts, deletion
 * (scheduled in AWS KMS; the record and its source key kept until AWS KMS deleted the key), the
 * list filters on AWS-side values, and visibility by the view action of each kind of key.
 */
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../../../lambdas/core/errors';
import type { OtherAwsKeyData } from '../../../../lambdas/core/keys/aws-key';
import { FakeAwsKms } from '../../../helpers/fake-aws-kms';
import { FakeAwsKmsKeys } from '../../../helpers/fake-aws-kms-keys';
import { admin, keyServices, type KeyServices, keyStoreSetup, rejectionOf, seedHsmKey, user } from '../../../helpers/key-fixtures';
import { MemoryStateStore } from '../../../helpers/memory-state-store';
import { MemorySecretStore } from '../../../helpers/softhsm';

let state: MemoryStateStore;
let kmsKeys: FakeAwsKmsKeys;
let services: KeyServices;
let setup: Awaited<ReturnType<typeof keyStoreSetup>>;

beforeEach(async () => {
  state = new MemoryStateStore();
  kmsKeys = new FakeAwsKmsKeys();
  services = keyServices(state, new MemorySecretStore(), new FakeAwsKms(), undefined, kmsKeys);
  setup = await keyStoreSetup(state, { acls: [{ user_id: 'dave', actions: ['viewhyokkey', 'hyokkeycreate', 'hyokkeylink', 'keyupdate'] }] });
});

async function linkedStore() {
  return services.keyStores.create(admin(), setup.request({ linked_state: true }));
}

async function unlinkedHyokKey(storeId: string) {
  const sourceKey = await seedHsmKey(state, setup.partition.id);
  return { sourceKey, key: await services.hyokKeys.create(admin(), { local_hosted_params: { source_key_id: sourceKey.id, custom_key_store_id: storeId } }) };
}

describe('linking an HYOK key', () => {
  it('creates its KMS key in the linked store with the external key id, and mirrors DescribeKey, alias, tags and policy', async () => {
    // Arrange
    const store = await linkedStore();
    const { key } = await unlinkedHyokKey(store.id);
    expect(key).toMatchObject({ linked_state: false, aws_param: { XksKeyConfiguration: { Id: key.id } } });

    // Act
    const linked = await services.hyokKeys.link(user('dave', 'hyokkeylink'), key.id, {
      aws_param: { Alias: 'project-key', Description: 'demo', Tags: [{ TagKey: 'team', TagValue: 'blue' }] },
      key_users: ['richard-roe'],
    });

    // Assert
    const kmsKey = [...kmsKeys.keys.values()][0];
    expect(kmsKey.metadata).toMatchObject({ Origin: 'EXTERNAL_KEY_STORE', CustomKeyStoreId: store.aws_param.custom_key_store_id, XksKeyConfiguration: { Id: key.id } });
    expect(linked).toMatchObject({
      linked_state: true,
      local_hosted_params: { linked_state: true },
      gone: false,
      aws_param: {
        KeyID: kmsKey.metadata.KeyId,
        Arn: kmsKey.metadata.Arn,
        KeyState: 'Enabled',
        Enabled: true,
        KeyUsage: 'ENCRYPT_DECRYPT',
        Origin: 'EXTERNAL_KEY_STORE',
        Description: 'demo',
        XksKeyConfiguration: { Id: key.id },
        Alias: ['alias/project-key'],
        Tags: [{ TagKey: 'team', TagValue: 'blue' }],
      },
    });
    expect(linked.synced_at).toBeDefined();
    const policy = linked.aws_param.Policy as { Statement: Array<{ Sid: string; Principal: { AWS: string[] } }> };
    expect(policy.Statement.find((s) => s.Sid === 'Allow use of the key')?.Principal.AWS).toEqual(['arn:aws:iam::111122223333:user/richard-roe']);
    expect((await services.awsKeys.get(admin(), key.id)).aws_param.KeyState).toBe('Enabled');
    expect(await rejectionOf(services.hyokKeys.link(admin(), key.id, {}))).toBeInstanceOf(ConflictError);
  });

  it('create-hyok-key with aws_param on a linked store links in one call; when AWS KMS refuses, no HYOK key or virtual key is left', async () => {
    // Arrange
    const store = await linkedStore();
    const sourceKey = await seedHsmKey(state, setup.partition.id);
    const request = { local_hosted_params: { source_key_id: sourceKey.id, custom_key_store_id: store.id }, aws_param: { Description: 'one call' } };
    kmsKeys.failNext('createKey', new ConflictError('AWS KMS CreateKey: CustomKeyStoreInvalidStateException: the store is DISCONNECTED'));

    // Act
    const refused = await rejectionOf(services.hyokKeys.create(admin(), request));

    // Assert
    expect(refused.message).toContain('DISCONNECTED');
    expect(await state.list('awsKey')).toHaveLength(0);
    expect(await state.list('virtualKey')).toHaveLength(0);
    expect((await state.get('hsmKey', sourceKey.id))?.counters.references ?? 0).toBe(0);
    expect((await state.get('keyStore', store.id))?.counters.hyokKeys ?? 0).toBe(0);
    const created = await services.hyokKeys.create(admin(), request);
    expect(created).toMatchObject({ linked_state: true, aws_param: { Description: 'one call', KeyState: 'Enabled' } });
  });

  it('an alias AWS KMS refuses after the key was made: the KMS key is scheduled for deletion and the HYOK key stays unlinked', async () => {
    const store = await linkedStore();
    const { key } = await unlinkedHyokKey(store.id);
    const other = await unlinkedHyokKey(store.id);
    await services.hyokKeys.link(admin(), other.key.id, { aws_param: { Alias: 'alias/taken' } });

    const refused = await rejectionOf(services.hyokKeys.link(admin(), key.id, { aws_param: { Alias: 'taken' } }));

    expect(refused).toBeInstanceOf(ConflictError);
    expect(refused.message).toMatch(/AlreadyExistsException.*scheduled for deletion/);
    expect([...kmsKeys.keys.values()].map((k) => k.metadata.KeyState).sort()).toEqual(['Enabled', 'PendingDeletion']);
    expect((await services.awsKeys.get(admin(), key.id)).linked_state).toBe(false);
  });

  it('refuses an unlinked store (409), a policy with shortcuts and a template (400) before calling AWS KMS', async () => {
    const unlinked = await services.keyStores.create(admin(), setup.request());
    const { key } = await unlinkedHyokKey(unlinked.id);
    expect((await rejectionOf(services.hyokKeys.link(admin(), key.id, {}))).message).toContain('not linked to AWS KMS');
    const store = await linkedStore();
    const second = await unlinkedHyokKey(store.id);
    const both = await rejectionOf(services.hyokKeys.link(admin(), second.key.id, { aws_param: { Policy: { Version: '2012-10-17', Statement: [] } }, key_admins: ['alice'] }));
    expect(both).toBeInstanceOf(ValidationError);
    expect(both.message).toContain('aws_param.Policy and key_admins are mutually exclusive');
    expect((await rejectionOf(services.hyokKeys.link(admin(), second.key.id, { policytemplate: 'p' }))).message).toContain('not supported yet');
    expect(kmsKeys.calls).not.toContain('createKey');
  });
});

describe('AWS key operations', () => {
  async function linkedKey() {
    const store = await linkedStore();
    const { key, sourceKey } = await unlinkedHyokKey(store.id);
    await services.hyokKeys.link(admin(), key.id, {});
    return { id: key.id, sourceKey, kmsKeyId: [...kmsKeys.keys.keys()][0] };
  }

  it('each is one AWS KMS call, then the record shows AWS KMS state', async () => {
    const { id, kmsKeyId } = await linkedKey();
    const dave = user('dave', 'keyupdate');

    expect((await services.awsKeys.disable(dave, id)).aws_param).toMatchObject({ KeyState: 'Disabled', Enabled: false });
    expect((await services.awsKeys.enable(dave, id)).aws_param.KeyState).toBe('Enabled');
    expect((await services.awsKeys.addAlias(dave, id, { alias: 'a1' })).aws_param.Alias).toEqual(['alias/a1']);
    expect((await services.awsKeys.addTags(dave, id, { tags: [{ tag_key: 'k', tag_value: 'v' }, { tag_key: 'x', tag_value: '' }] })).aws_param.Tags).toHaveLength(2);
    expect((await services.awsKeys.removeTags(dave, id, { tags: ['x'] })).aws_param.Tags).toEqual([{ TagKey: 'k', TagValue: 'v' }]);
    expect((await services.awsKeys.updateDescription(dave, id, { description: 'new words' })).aws_param.Description).toBe('new words');
    const withPolicy = await services.awsKeys.updatePolicy(dave, id, { key_users: ['bob'], key_admins_roles: ['ops'] });
    expect((withPolicy.aws_param.Policy as { Statement: unknown[] }).Statement).toHaveLength(4);
    expect(JSON.parse(kmsKeys.keys.get(kmsKeyId)!.policy)).toEqual(withPolicy.aws_param.Policy);
    expect((await services.awsKeys.deleteAlias(dave, id, { alias: 'alias/a1' })).aws_param.Alias).toEqual([]);
    expect((await rejectionOf(services.awsKeys.deleteAlias(dave, id, { alias: 'a1' }))).message).toContain('not an alias of');
    expect(await rejectionOf(services.awsKeys.updatePolicy(dave, id, {}))).toBeInstanceOf(ValidationError);
    // An unlinked key has nothing in AWS KMS to act on.
    const unlinked = await unlinkedHyokKey((await linkedStore()).id);
    expect((await rejectionOf(services.awsKeys.enable(admin(), unlinked.key.id))).message).toContain('not linked to AWS KMS');
  });

  it('AWS refusals come back as they were translated: a key in the wrong state is a 409', async () => {
    const { id } = await linkedKey();
    await services.awsKeys.scheduleDeletion(admin(), id, { days: 7 });
    const refused = await rejectionOf(services.awsKeys.enable(admin(), id));
    expect(refused).toBeInstanceOf(ConflictError);
    expect(refused.message).toContain('KMSInvalidStateException');
  });

  it('schedule deletion: PendingDeletion and deletion_date; cancel; the record (and its source key) stays until AWS KMS deleted the key', async () => {
    // Arrange
    const { id, kmsKeyId, sourceKey } = await linkedKey();

    // Act
    const pending = await services.awsKeys.scheduleDeletion(admin(), id, {});

    // Assert
    expect(pending.aws_param).toMatchObject({ KeyState: 'PendingDeletion', PendingDeletionWindowInDays: 30 });
    expect(Date.parse(pending.deletion_date ?? '') - Date.now()).toBeGreaterThan(29 * 86_400_000);
    const refused = await rejectionOf(services.awsKeys.delete(admin(), id));
    expect(refused).toBeInstanceOf(ConflictError);
    expect(refused.message).toContain('PendingDeletion');
    expect((await services.awsKeys.cancelDeletion(admin(), id)).aws_param.KeyState).toBe('Disabled');
    await services.awsKeys.scheduleDeletion(admin(), id, { days: 7 });
    expect((await state.get('hsmKey', sourceKey.id))?.counters.references).toBe(1);
    kmsKeys.expire(kmsKeyId);
    expect((await services.awsKeys.refresh(admin(), id)).gone).toBe(true);
    await services.awsKeys.delete(admin(), id);
    expect(await rejectionOf(services.awsKeys.get(admin(), id))).toBeInstanceOf(NotFoundError);
  });
});

describe('the AWS key list', () => {
  it('filters on AWS-side values (keyid, arn, alias, enabled, keystate, keyusage, origin) and on the record', async () => {
    const store = await linkedStore();
    const linked = await unlinkedHyokKey(store.id);
    const shown = await services.hyokKeys.link(admin(), linked.key.id, { aws_param: { Alias: 'listed' } });
    const unlinked = await unlinkedHyokKey(store.id);
    const ids = async (query: Record<string, string>) => (await services.awsKeys.list(admin('viewhyokkey'), query)).resources.map((r) => r.id).sort();

    expect(await ids({ keyid: shown.aws_param.KeyID as string })).toEqual([linked.key.id]);
    expect(await ids({ arn: shown.aws_param.Arn as string })).toEqual([linked.key.id]);
    expect(await ids({ alias: 'listed' })).toEqual([linked.key.id]);
    expect(await ids({ alias: 'alias/listed' })).toEqual([linked.key.id]);
    expect(await ids({ enabled: 'true', keystate: 'Enabled', keyusage: 'ENCRYPT_DECRYPT' })).toEqual([linked.key.id]);
    expect(await ids({ linked_state: 'false' })).toEqual([unlinked.key.id]);
    expect(await ids({ origin: 'EXTERNAL_KEY_STORE' })).toEqual([linked.key.id, unlinked.key.id].sort());
    expect(await ids({ custom_key_store_id: store.aws_param.custom_key_store_id as string })).toEqual([linked.key.id]);
    expect(await ids({ keystate: 'Disabled' })).toEqual([]);
    expect(await rejectionOf(services.awsKeys.list(admin(), { enabled: 'yes' }))).toBeInstanceOf(ValidationError);
  });

  it('shows each kind of key to users with its view action only', async () => {
    // Arrange: an HYOK key and a native key (as synchronization will store it) in the same container.
    const { key } = await unlinkedHyokKey((await linkedStore()).id);
    const now = new Date().toISOString();
    const native: OtherAwsKeyData = { kind: 'native', keyMaterialOrigin: 'native', accountId: setup.account.id, region: 'us-east-1', linkedState: true, blocked: false, createdAt: now, updatedAt: now };
    await state.transact([{ op: 'create', kind: 'awsKey', id: 'native-1', data: native }]);
    const access = { byKeyKind: { hyok: 'viewhyokkey', native: 'viewnative', byok: 'viewbyok', cloudhsm: 'viewcloudhsmkey' } as const, action: 'viewhyokkey' as const };
    const as = (username: string) => ({ principal: user(username).principal, ...access });
    const { acls } = (await state.get<{ acls: unknown[] }>('account', setup.account.id))!.data;
    await state.transact([{ op: 'update', kind: 'account', id: setup.account.id, data: { ...(await state.get<object>('account', setup.account.id))!.data, acls: [...acls, { user_id: 'nina', actions: ['viewnative'] }] } }]);

    // Act + Assert
    expect((await services.awsKeys.list(as('dave'), {})).resources.map((r) => r.id)).toEqual([key.id]);
    expect((await services.awsKeys.list(as('nina'), {})).resources.map((r) => r.id)).toEqual(['native-1']);
    expect((await services.awsKeys.list(admin('viewhyokkey'), { key_material_origin: 'native' })).resources.map((r) => r.id)).toEqual(['native-1']);
    expect(await rejectionOf(services.awsKeys.get(as('dave'), 'native-1'))).toBeInstanceOf(ForbiddenError);
    expect((await services.awsKeys.get(as('nina'), 'native-1')).key_material_origin).toBe('native');
  });
});
