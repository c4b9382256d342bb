import { JobService } from '../../../../lambdas/core/jobs/job-service';
import { backoffSeconds, JobRunner, MAX_ATTEMPTS } from '../../../../lambdas/core/jobs/job-runner';
import { awsKeySyncStep, KEYS_PER_PAGE, syncedKeyId } from '../../../../lambdas/core/jobs/aws-key-sync';
import { ServiceUnavailableError } from '../../../../lambdas/core/errors';
import { type AwsKeyData, awsKeyRecordId } from '../../../../lambdas/core/keys/aws-key';
import { AwsKeyService } from '../../../../lambdas/core/keys/aws-key-service';
import { remoteKeyStoreId } from '../../../../lambdas/core/jobs/known-stores';
import { FakeAwsKmsKeys } from '../../../helpers/fake-aws-kms-keys';
import { admin, clock, ids, rejectionOf, seedAccount, user } from '../../../helpers/key-fixtures';
import { MemoryStateStore } from '../../../helpers/memory-state-store';
import { fakeListKeys, RecordingJobQueue, stopOnceBeforeCount } from '../../../helpers/sync-fakes';

const ACCOUNT = '111122223333';

async function setup(options: { regions?: string[] } = {}) {
  const state = new MemoryStateStore();
  const queue = new RecordingJobQueue();
  const kms = new FakeAwsKmsKeys();
  const account = await seedAccount(state, { regions: options.regions ?? ['us-east-1', 'eu-west-1'], acls: [{ user_id: 'alice', actions: ['keysynchronize'] }] });
  const jobs = new JobService({ state, clock, ids, jobQueue: queue });
  const runner = new JobRunner({ state, clock, jobQueue: queue }, { AwsKeySynchronization: awsKeySyncStep({ state, clock, awsKms: fakeListKeys(kms), awsKmsKeys: kms }) });
  const at = (region: string) => ({ containerId: account.id, accountId: ACCOUNT, region });
  const run = async () => queue.drain((unit) => runner.run(unit));
  const keys = async () => (await state.list<AwsKeyData>('awsKey')).sort((a, b) => (a.id < b.id ? -1 : 1));
  return { state, queue, kms, account, jobs, runner, at, run, keys };
}

describe('AWS key synchronization jobs', () => {
  it('downloads every key of each region into one record each, with aliases, tags and policy, and completes', async () => {
    // Arrange
    const s = await setup();
    const native = await s.kms.createKey(s.at('us-east-1'), { description: 'app key', tags: [{ TagKey: 'team', TagValue: 'blue' }] });
    await s.kms.createAlias(s.at('us-east-1'), 'alias/app', native.KeyId);
    await s.kms.createKey(s.at('eu-west-1'), {});

    // Act
    const started = await s.jobs.start('AwsKeySynchronization', admin('keysynchronize'), { kms: [s.account.name] });
    await s.run();

    // Assert
    const job = await s.jobs.get('AwsKeySynchronization', admin('keysynchronize'), started.id);
    expect(job).toMatchObject({ overall_status: 'completed', found: 2, created: 2, updated: 0, gone: 0, abort: false, cloud: 'aws' });
    expect(job.detailed_status).toEqual({ [`${ACCOUNT}/us-east-1`]: 'region synchronized successfully', [`${ACCOUNT}/eu-west-1`]: 'region synchronized successfully' });
    const record = await s.state.get<AwsKeyData>('awsKey', syncedKeyId(native.Arn));
    expect(record?.data).toMatchObject({ kind: 'native', keyMaterialOrigin: 'native', accountId: s.account.id, region: 'us-east-1', linkedState: true });
    expect(record?.data.kms).toMatchObject({ aliases: ['alias/app'], tags: [{ TagKey: 'team', TagValue: 'blue' }], rotationEnabled: false });
    expect(record?.data.kms?.metadata).toMatchObject({ Description: 'app key', Origin: 'AWS_KMS' });
  });

  it('a second run creates nothing and updates nothing that did not change; a changed key is updated, a deleted one marked gone', async () => {
    const s = await setup({ regions: ['us-east-1'] });
    const a = await s.kms.createKey(s.at('us-east-1'), {});
    const b = await s.kms.createKey(s.at('us-east-1'), {});
    await s.jobs.start('AwsKeySynchronization', admin(), { kms: [s.account.id] });
    await s.run();
    const before = await s.keys();

    const second = await s.jobs.start('AwsKeySynchronization', admin(), { kms: [s.account.id] });
    await s.run();

    expect(await s.jobs.get('AwsKeySynchronization', admin(), second.id)).toMatchObject({ overall_status: 'completed', found: 2, created: 0, updated: 0, gone: 0 });
    const after = await s.keys();
    expect(after.map((k) => k.id)).toEqual(before.map((k) => k.id));
    expect(after.map((k) => k.data.updatedAt)).toEqual(before.map((k) => k.data.updatedAt));

    await s.kms.updateKeyDescription(s.at('us-east-1'), a.KeyId, 'changed');
    s.kms.expire(b.KeyId);
    const third = await s.jobs.start('AwsKeySynchronization', admin(), { kms: [s.account.id] });
    await s.run();

    expect(await s.jobs.get('AwsKeySynchronization', admin(), third.id)).toMatchObject({ found: 1, created: 0, updated: 1, gone: 1 });
    expect((await s.state.get<AwsKeyData>('awsKey', syncedKeyId(b.Arn)))?.data.gone).toBe(true);
    expect((await s.state.get<AwsKeyData>('awsKey', syncedKeyId(a.Arn)))?.data.kms?.metadata.Description).toBe('changed');
  });

  it('two concurrent runs over the same region make one record per key', async () => {
    const s = await setup({ regions: ['us-east-1'] });
    for (let i = 0; i < 5; i += 1) await s.kms.createKey(s.at('us-east-1'), {});
    await s.jobs.start('AwsKeySynchronization', admin(), { kms: [s.account.id] });
    await s.jobs.start('AwsKeySynchronization', admin(), { kms: [s.account.id] });

    const units = s.queue.waiting.splice(0).map((w) => w.unit);
    await Promise.all(units.map((unit) => s.runner.run(unit)));
    await s.run();

    expect((await s.keys()).length).toBe(5);
  });

  it('works a region one ListKeys page per step, and a cancel stops it before the next page with partial counts', async () => {
    const s = await setup({ regions: ['us-east-1'] });
    for (let i = 0; i < KEYS_PER_PAGE + 5; i += 1) await s.kms.createKey(s.at('us-east-1'), {});
    const job = await s.jobs.start('AwsKeySynchronization', admin(), { kms: [s.account.id] });

    await s.queue.drain((unit) => s.runner.run(unit), 1);
    expect(s.queue.waiting.map((w) => w.unit.phase)).toEqual(['keys']);
    const cancelled = await s.jobs.cancel('AwsKeySynchronization', admin(), job.id);
    expect(cancelled.abort).toBe(true);
    await s.run();

    const ended = await s.jobs.get('AwsKeySynchronization', admin(), job.id);
    expect(ended).toMatchObject({ overall_status: 'cancelled', found: KEYS_PER_PAGE, created: KEYS_PER_PAGE, abort: true });
    expect(ended.detailed_status[`${ACCOUNT}/us-east-1`]).toBe('cancelled');
    expect((await rejectionOf(s.jobs.cancel('AwsKeySynchronization', admin(), job.id))).message).toMatch(/already ended \(cancelled\)/);
  });

  it('counts a page once when its unit is delivered again: after a stop between the page\'s writes and its counts, after its counts, and twice at once', async () => {
    // Arrange: two pages of keys; the first count transaction fails as a worker stopping there would
    const s = await setup({ regions: ['us-east-1'] });
    for (let i = 0; i < KEYS_PER_PAGE + 3; i += 1) await s.kms.createKey(s.at('us-east-1'), {});
    const job = await s.jobs.start('AwsKeySynchronization', admin(), { kms: [s.account.id] });
    stopOnceBeforeCount(s.state);

    // Act: the first page is delivered again after the stop (SQS: the message was not deleted)
    const first = s.queue.waiting.shift()!.unit;
    await expect(s.runner.run(first)).rejects.toThrow('worker stopped');
    expect(s.queue.waiting).toEqual([]);
    expect(await s.runner.run(first)).toBe('continued');
    // ... and once more after its counts and continuation (the message deleted too late)
    expect(await s.runner.run(first)).toBe('continued');
    // The second page twice at once
    const second = s.queue.waiting.shift()!.unit;
    s.queue.waiting.splice(0);
    await Promise.all([s.runner.run(second), s.runner.run(second)]);
    await s.run();

    // Assert
    const ended = await s.jobs.get('AwsKeySynchronization', admin(), job.id);
    expect(ended).toMatchObject({ overall_status: 'completed', found: KEYS_PER_PAGE + 3, created: KEYS_PER_PAGE + 3, updated: 0 });
    expect((await s.keys()).length).toBe(KEYS_PER_PAGE + 3);
  });

  it('counts a gone sweep page once when it is delivered again after its writes', async () => {
    const s = await setup({ regions: ['us-east-1'] });
    const a = await s.kms.createKey(s.at('us-east-1'), {});
    await s.jobs.start('AwsKeySynchronization', admin(), { kms: [s.account.id] });
    await s.run();
    s.kms.expire(a.KeyId);
    const job = await s.jobs.start('AwsKeySynchronization', admin(), { kms: [s.account.id] });
    await s.queue.drain((unit) => s.runner.run(unit), 1);
    const sweep = s.queue.waiting[0].unit;
    expect(sweep.phase).toBe('gone');
    stopOnceBeforeCount(s.state);

    await expect(s.runner.run(sweep)).rejects.toThrow('worker stopped');
    await s.runner.run(sweep);

    expect(await s.jobs.get('AwsKeySynchronization', admin(), job.id)).toMatchObject({ overall_status: 'completed', found: 0, gone: 1 });
  });

  it('a page with throttled keys still does the others, and its next attempt reads only the keys not done', async () => {
    const s = await setup({ regions: ['us-east-1'] });
    for (let i = 0; i < 10; i += 1) await s.kms.createKey(s.at('us-east-1'), {});
    const job = await s.jobs.start('AwsKeySynchronization', admin(), { kms: [s.account.id] });
    s.kms.failNext('describeKeyMetadata', new ServiceUnavailableError('AWS KMS is throttling DescribeKey')).failNext('describeKeyMetadata', new ServiceUnavailableError('AWS KMS is throttling DescribeKey'));
    const describes = () => s.kms.calls.filter((c) => c === 'describeKeyMetadata').length;

    expect(await s.runner.run(s.queue.waiting.shift()!.unit)).toBe('retried');
    expect(describes()).toBe(10);
    expect(await s.runner.run(s.queue.waiting.shift()!.unit)).toBe('continued');
    expect(describes()).toBe(12);
    await s.run();

    expect(await s.jobs.get('AwsKeySynchronization', admin(), job.id)).toMatchObject({ overall_status: 'completed', found: 10, created: 10 });
  });

  it('a page that makes progress each time it is throttled goes again past the attempt limit, and completes', async () => {
    const s = await setup({ regions: ['us-east-1'] });
    for (let i = 0; i < 12; i += 1) await s.kms.createKey(s.at('us-east-1'), {});
    const job = await s.jobs.start('AwsKeySynchronization', admin(), { kms: [s.account.id] });

    // Each run of the page gets one key done and is throttled on all the others.
    const outcomes: string[] = [];
    for (let left = 12; s.queue.waiting.length > 0; left -= 1) {
      for (let i = 1; i < left; i += 1) s.kms.failNext('describeKeyMetadata', new ServiceUnavailableError('AWS KMS is throttling DescribeKey'));
      outcomes.push(await s.runner.run(s.queue.waiting.shift()!.unit));
    }

    expect(outcomes.filter((o) => o === 'retried').length).toBe(11);
    expect(11).toBeGreaterThan(MAX_ATTEMPTS);
    expect(await s.jobs.get('AwsKeySynchronization', admin(), job.id)).toMatchObject({ overall_status: 'completed', found: 12, created: 12 });
  });

  it('queues a throttled step again with growing backoff, and gives the unit up as failed after the last attempt', async () => {
    const s = await setup({ regions: ['us-east-1'] });
    await s.kms.createKey(s.at('us-east-1'), {});
    const job = await s.jobs.start('AwsKeySynchronization', admin(), { kms: [s.account.id] });
    for (let i = 0; i < MAX_ATTEMPTS; i += 1) s.kms.failNext('describeKeyMetadata', new ServiceUnavailableError('AWS KMS is throttling DescribeKey'));

    const delays: number[] = [];
    while (s.queue.waiting.length > 0) {
      const { unit, delaySeconds } = s.queue.waiting.shift()!;
      if (unit.attempt > 0) delays.push(delaySeconds);
      await s.runner.run(unit);
    }

    expect(delays.length).toBe(MAX_ATTEMPTS - 1);
    expect(delays[delays.length - 1]).toBeGreaterThan(delays[0]);
    const ended = await s.jobs.get('AwsKeySynchronization', admin(), job.id);
    expect(ended.overall_status).toBe('failed');
    expect(ended.detailed_status[`${ACCOUNT}/us-east-1`]).toMatch(/^failed: AWS KMS is throttling/);
    expect(backoffSeconds(20, () => 1)).toBe(900);
  });

  it('an uploaded (BYOK) key joins its record: the upload gave it the id synchronization derives from the ARN', async () => {
    const s = await setup({ regions: ['us-east-1'] });
    const imported = await s.kms.createKey(s.at('us-east-1'), {});
    s.kms.keys.get(imported.KeyId)!.metadata = { ...imported, Origin: 'EXTERNAL' };
    const now = new Date().toISOString();
    const uploaded = { kind: 'byok', keyMaterialOrigin: 'cckm', keySource: 'hsm-softhsm', accountId: s.account.id, region: 'us-east-1', linkedState: true, blocked: false, createdAt: now, updatedAt: now };
    await s.state.transact([{ op: 'create', kind: 'awsKey', id: awsKeyRecordId(imported.Arn), data: uploaded }]);

    const job = await s.jobs.start('AwsKeySynchronization', admin(), { kms: [s.account.id] });
    await s.run();

    expect(await s.jobs.get('AwsKeySynchronization', admin(), job.id)).toMatchObject({ found: 1, created: 0, updated: 1 });
    expect((await s.keys()).map((k) => [k.data.kind, (k.data as { keyMaterialOrigin?: string }).keyMaterialOrigin, k.data.kms?.metadata.Origin])).toEqual([['byok', 'cckm', 'EXTERNAL']]);
  });

  it('ties a key found in a custom key store the key manager knows to that store: ours (CloudHSM, counted by it) or remote; a store it does not know leaves the key untied', async () => {
    // Arrange: our CloudHSM key store, a remote store found by Refresh All, and keys made in AWS KMS in them and in an unknown store
    const s = await setup({ regions: ['us-east-1'] });
    const now = new Date().toISOString();
    const at = s.at('us-east-1');
    await s.state.transact([
      { op: 'create', kind: 'cloudHsmKeyStore', id: 'our-cloudhsm-store', data: { name: 'ours', accountId: s.account.id, region: 'us-east-1', customKeyStoreType: 'AWS_CLOUDHSM', cloudHsmClusterId: 'cluster-1', trustAnchorCertificate: '', customKeyStoreId: 'cks-ours', createdAt: now, updatedAt: now }, counters: { awsKeys: 0 } },
      { op: 'create', kind: 'remoteKeyStore', id: remoteKeyStoreId(at, 'cks-foreign'), data: { accountId: s.account.id, region: 'us-east-1', aws: { customKeyStoreId: 'cks-foreign', name: 'foreign', type: 'AWS_CLOUDHSM', connectionState: 'CONNECTED' }, syncedBy: 'an earlier job', syncedAt: now, createdAt: now, updatedAt: now } },
    ]);
    const inOurs = await s.kms.createKey(at, { cloudHsmKeyStore: { customKeyStoreId: 'cks-ours' } });
    const inForeign = await s.kms.createKey(at, { cloudHsmKeyStore: { customKeyStoreId: 'cks-foreign' } });
    const inUnknown = await s.kms.createKey(at, { cloudHsmKeyStore: { customKeyStoreId: 'cks-unknown' } });

    // Act
    const job = await s.jobs.start('AwsKeySynchronization', admin(), { kms: [s.account.id] });
    await s.run();

    // Assert
    expect(await s.jobs.get('AwsKeySynchronization', admin(), job.id)).toMatchObject({ overall_status: 'completed', found: 3, created: 3 });
    const tiedTo = async (arn: string) => ((await s.state.get<AwsKeyData>('awsKey', syncedKeyId(arn)))?.data as { kind: string; customKeyStoreId?: string }) ?? {};
    expect(await tiedTo(inOurs.Arn)).toMatchObject({ kind: 'cloudhsm', customKeyStoreId: 'our-cloudhsm-store' });
    expect(await tiedTo(inForeign.Arn)).toMatchObject({ kind: 'cloudhsm', customKeyStoreId: remoteKeyStoreId(at, 'cks-foreign') });
    expect((await tiedTo(inUnknown.Arn)).customKeyStoreId).toBeUndefined();
    expect((await s.state.get('cloudHsmKeyStore', 'our-cloudhsm-store'))?.counters).toMatchObject({ awsKeys: 1 });
    const awsKeys = new AwsKeyService({ state: s.state, clock, awsKmsKeys: s.kms });
    expect((await awsKeys.get(admin(), syncedKeyId(inForeign.Arn))).custom_key_store_id).toBe(remoteKeyStoreId(at, 'cks-foreign'));

    // A second run changes nothing; removing the records releases our store's count (the remote store counts nothing)
    const again = await s.jobs.start('AwsKeySynchronization', admin(), { kms: [s.account.id] });
    await s.run();
    expect(await s.jobs.get('AwsKeySynchronization', admin(), again.id)).toMatchObject({ found: 3, created: 0, updated: 0 });
    expect((await s.state.get('cloudHsmKeyStore', 'our-cloudhsm-store'))?.counters).toMatchObject({ awsKeys: 1 });
    await awsKeys.delete(admin(), syncedKeyId(inOurs.Arn));
    await awsKeys.delete(admin(), syncedKeyId(inForeign.Arn));
    expect((await s.state.get('cloudHsmKeyStore', 'our-cloudhsm-store'))?.counters).toMatchObject({ awsKeys: 0 });
  });

  it('ties a key synchronized before its store was known once the store is known', async () => {
    const s = await setup({ regions: ['us-east-1'] });
    const at = s.at('us-east-1');
    const key = await s.kms.createKey(at, { cloudHsmKeyStore: { customKeyStoreId: 'cks-foreign' } });
    await s.jobs.start('AwsKeySynchronization', admin(), { kms: [s.account.id] });
    await s.run();
    const now = new Date().toISOString();
    await s.state.transact([{ op: 'create', kind: 'remoteKeyStore', id: remoteKeyStoreId(at, 'cks-foreign'), data: { accountId: s.account.id, region: 'us-east-1', aws: { customKeyStoreId: 'cks-foreign', name: 'foreign', type: 'AWS_CLOUDHSM', connectionState: 'CONNECTED' }, syncedBy: 'a refresh', syncedAt: now, createdAt: now, updatedAt: now } }]);

    const job = await s.jobs.start('AwsKeySynchronization', admin(), { kms: [s.account.id] });
    await s.run();

    expect(await s.jobs.get('AwsKeySynchronization', admin(), job.id)).toMatchObject({ found: 1, created: 0, updated: 1 });
    expect((await s.state.get<AwsKeyData>('awsKey', syncedKeyId(key.Arn)))?.data).toMatchObject({ customKeyStoreId: remoteKeyStoreId(at, 'cks-foreign') });
  });

  it('records a key AWS manages read-only: refresh works, every change is a 409 before AWS KMS is called', async () => {
    const s = await setup({ regions: ['us-east-1'] });
    const managed = await s.kms.createKey(s.at('us-east-1'), {});
    s.kms.keys.get(managed.KeyId)!.metadata = { ...managed, KeyManager: 'AWS' };
    await s.jobs.start('AwsKeySynchronization', admin(), { kms: [s.account.id] });
    await s.run();
    const id = syncedKeyId(managed.Arn);
    const awsKeys = new AwsKeyService({ state: s.state, clock, awsKmsKeys: s.kms });

    expect((await awsKeys.refresh(admin(), id)).aws_param.KeyManager).toBe('AWS');
    const calls = s.kms.calls.length;
    expect(await rejectionOf(awsKeys.disable(admin(), id))).toMatchObject({ statusCode: 409, message: expect.stringMatching(/managed by AWS/) });
    expect(await rejectionOf(awsKeys.addAlias(admin(), id, { alias: 'mine' }))).toMatchObject({ statusCode: 409 });
    expect(s.kms.calls.length).toBe(calls);
  });

  it('answers 400 naming synchronize_all when it comes with kms or regions, and 400 for a region the container does not have', async () => {
    const s = await setup({ regions: ['us-east-1'] });
    const both = await rejectionOf(s.jobs.start('AwsKeySynchronization', admin(), { kms: [s.account.id], synchronize_all: true }));
    expect(both).toMatchObject({ statusCode: 400 });
    expect(both.message).toMatch(/synchronize_all and kms, regions are mutually exclusive/);
    expect(await rejectionOf(s.jobs.start('AwsKeySynchronization', admin(), { kms: [s.account.id], regions: ['ap-south-1'] }))).toMatchObject({ statusCode: 400 });
    expect(s.queue.waiting).toEqual([]);
    expect(await s.state.list('job')).toEqual([]);
  });

  it('lets a user start and see jobs only of containers whose ACL grants keysynchronize', async () => {
    const s = await setup({ regions: ['us-east-1'] });
    const other = await seedAccount(s.state, { regions: ['us-east-1'] });
    expect(await rejectionOf(s.jobs.start('AwsKeySynchronization', user('alice', 'keysynchronize'), { kms: [other.id] }))).toMatchObject({ statusCode: 403 });
    const mine = await s.jobs.start('AwsKeySynchronization', user('alice', 'keysynchronize'), { synchronize_all: true });
    const theirs = await s.jobs.start('AwsKeySynchronization', admin(), { kms: [other.id] });

    expect(mine.kms).toEqual([s.account.id]);
    const listed = await s.jobs.list('AwsKeySynchronization', user('alice', 'keysynchronize'), {});
    expect(listed.resources.map((j) => j.id)).toEqual([mine.id]);
    expect(await rejectionOf(s.jobs.get('AwsKeySynchronization', user('alice', 'keysynchronize'), theirs.id))).toMatchObject({ statusCode: 403 });
    expect((await s.jobs.list('AwsKeySynchronization', admin(), { overall_status: 'in progress' })).total).toBe(2);
  });
});
