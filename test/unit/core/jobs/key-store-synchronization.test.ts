import { xksProxyUriPath } from '../../../../lambdas/contract/xks-proxy-uri';
import { JobService } from '../../../../lambdas/core/jobs/job-service';
import { JobRunner } from '../../../../lambdas/core/jobs/job-runner';
import { keyStoreSyncStep } from '../../../../lambdas/core/jobs/key-store-sync';
import type { KmsKeyPage, KmsLocation } from '../../../../lambdas/core/ports/aws-kms';
import { FakeAwsKms } from '../../../helpers/fake-aws-kms';
import { FakeAwsKmsKeys } from '../../../helpers/fake-aws-kms-keys';
import { admin, clock, ids, keyServices, keyStoreSetup, rejectionOf, user } from '../../../helpers/key-fixtures';
import { CustomKeyStores } from '../../../../lambdas/core/key-stores/custom-key-stores';
import { CloudHsmKeyStoreService } from '../../../../lambdas/core/key-stores/cloudhsm-key-store-service';
import { RemoteKeyStoreService } from '../../../../lambdas/core/key-stores/remote-key-store-service';
import { MemoryStateStore } from '../../../helpers/memory-state-store';
import { MemorySecretStore } from '../../../helpers/softhsm';
import { fakeListKeys, RecordingJobQueue, stopOnceBeforeCount } from '../../../helpers/sync-fakes';

const credential = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE1', rawSecretAccessKey: 'x'.repeat(43) };

async function setup() {
  const state = new MemoryStateStore();
  const awsKms = new FakeAwsKms();
  const awsKmsKeys = new FakeAwsKmsKeys();
  const services = keyServices(state, new MemorySecretStore(), awsKms, undefined, awsKmsKeys);
  const { account, request } = await keyStoreSetup(state);
  const queue = new RecordingJobQueue();
  const listKeys = fakeListKeys(awsKmsKeys).listKeys;
  const kms = { listCustomKeyStoresPage: (at: KmsLocation) => awsKms.listCustomKeyStoresPage(at), listKeys: (at: KmsLocation, o?: { marker?: string; limit?: number }): Promise<KmsKeyPage> => listKeys(at, o) };
  const runner = new JobRunner({ state, clock, jobQueue: queue }, { KeyStoreSynchronization: keyStoreSyncStep({ state, clock, awsKms: kms, awsKmsKeys }) });
  const jobs = new JobService({ state, clock, ids, jobQueue: queue });
  const at: KmsLocation = { containerId: account.id, accountId: '111122223333', region: 'us-east-1' };
  return { state, awsKms, awsKmsKeys, services, account, request, queue, runner, jobs, at, run: () => queue.drain((u) => runner.run(u)) };
}

/** A foreign store made directly in AWS KMS, and the Refresh All that found it. */
async function foundForeignStore() {
  const s = await setup();
  const foreign = await s.awsKms.createExternalKeyStore(s.at, { name: 'someone-elses', uriEndpoint: 'https://other.example.com', uriPath: '/kms/xks/v1', connectivity: 'PUBLIC_ENDPOINT', credential });
  await s.jobs.start('KeyStoreSynchronization', admin(), { kms: [s.account.id], regions: ['us-east-1'] });
  await s.run();
  return { s, foreign };
}

describe('key store synchronization (Refresh All)', () => {
  it('links our unlinked store that AWS KMS has and shows a foreign one as REMOTE; a second run changes nothing', async () => {
    // Arrange: our unlinked store, a store made directly in AWS KMS for it, and a foreign store
    const s = await setup();
    const ours = await s.services.keyStores.create(admin(), s.request());
    const cks = await s.awsKms.createExternalKeyStore(s.at, { name: 'made-in-aws', uriEndpoint: 'https://xks.example.com', uriPath: xksProxyUriPath(ours.id), connectivity: 'PUBLIC_ENDPOINT', credential });
    const foreign = await s.awsKms.createExternalKeyStore(s.at, { name: 'someone-elses', uriEndpoint: 'https://other.example.com', uriPath: '/kms/xks/v1', connectivity: 'PUBLIC_ENDPOINT', credential });

    // Act
    const job = await s.jobs.start('KeyStoreSynchronization', admin(), { kms: [s.account.id], regions: ['us-east-1'] });
    await s.run();

    // Assert
    expect(await s.jobs.get('KeyStoreSynchronization', admin(), job.id)).toMatchObject({ overall_status: 'completed', found: 2, created: 1, updated: 1 });
    const linked = await s.services.keyStores.get(admin(), ours.id);
    expect(linked).toMatchObject({ type: 'LOCAL', aws_param: { custom_key_store_id: cks }, local_hosted_params: { linked_state: true } });
    const remote = new RemoteKeyStoreService({ state: s.state, clock, awsKms: s.awsKms });
    expect(await remote.listAll(() => true)).toEqual([expect.objectContaining({ type: 'REMOTE', name: 'someone-elses', kms_id: s.account.id, aws_param: expect.objectContaining({ custom_key_store_id: foreign, xks_proxy_uri_endpoint: 'https://other.example.com' }) })]);

    // A second run changes nothing and makes no second REMOTE store
    const again = await s.jobs.start('KeyStoreSynchronization', admin(), { kms: [s.account.id] });
    await s.run();
    expect(await s.jobs.get('KeyStoreSynchronization', admin(), again.id)).toMatchObject({ overall_status: 'completed', found: 2, created: 0, updated: 0 });
    expect((await remote.listAll(() => true)).length).toBe(1);
    expect((await s.services.keyStores.list(admin(), {})).total).toBe(1);
  });

  it('counts a stores page once when its unit is delivered again, after a stop before its counts (the page that links our store too) and after them', async () => {
    const s = await setup();
    const ours = await s.services.keyStores.create(admin(), s.request());
    await s.awsKms.createExternalKeyStore(s.at, { name: 'made-in-aws', uriEndpoint: 'https://xks.example.com', uriPath: xksProxyUriPath(ours.id), connectivity: 'PUBLIC_ENDPOINT', credential });
    await s.awsKms.createExternalKeyStore(s.at, { name: 'someone-elses', uriEndpoint: 'https://other.example.com', uriPath: '/kms/xks/v1', connectivity: 'PUBLIC_ENDPOINT', credential });
    const linked = await s.jobs.start('KeyStoreSynchronization', admin(), { kms: [s.account.id], regions: ['us-east-1'] });
    const linking = s.queue.waiting.shift()!.unit;
    stopOnceBeforeCount(s.state);
    await expect(s.runner.run(linking)).rejects.toThrow('worker stopped');
    await s.runner.run(linking);
    await s.run();
    const job = await s.jobs.start('KeyStoreSynchronization', admin(), { kms: [s.account.id], regions: ['us-east-1'] });
    const first = s.queue.waiting.shift()!.unit;
    stopOnceBeforeCount(s.state);

    await expect(s.runner.run(first)).rejects.toThrow('worker stopped');
    await s.runner.run(first);
    await s.runner.run(first);
    await s.run();

    expect(await s.jobs.get('KeyStoreSynchronization', admin(), linked.id)).toMatchObject({ found: 2, created: 1, updated: 1 });
    expect(await s.jobs.get('KeyStoreSynchronization', admin(), job.id)).toMatchObject({ overall_status: 'completed', found: 2, created: 0, updated: 0 });
  });

  it('renames a REMOTE store in AWS KMS (any connection state) and moves its endpoint only while AWS KMS has it DISCONNECTED; fields a remote store does not have are a 400 naming them', async () => {
    // Arrange: a foreign store made in AWS KMS, found by Refresh All, connected
    const { s, foreign } = await foundForeignStore();
    await s.awsKms.connectCustomKeyStore(s.at, foreign);
    const remote = new RemoteKeyStoreService({ state: s.state, clock, awsKms: s.awsKms });
    const stores = new CustomKeyStores(s.services.keyStores, new CloudHsmKeyStoreService({ state: s.state, secrets: new MemorySecretStore(), clock, ids, awsKms: s.awsKms }), remote);
    const [found] = await remote.listAll(() => true);

    // Act + Assert: renamed through the key store routes' service, in AWS KMS and in the record
    const renamed = await stores.update(admin(), found.id, { name: 'renamed-here' });
    expect(renamed).toMatchObject({ id: found.id, type: 'REMOTE', name: 'renamed-here', aws_param: { custom_key_store_name: 'renamed-here', connection_state: 'CONNECTED' } });
    expect((await s.awsKms.describeCustomKeyStore(s.at, foreign))?.name).toBe('renamed-here');
    expect((await stores.get(admin(), found.id)).name).toBe('renamed-here');

    // The endpoint moves only while DISCONNECTED (AWS KMS's rule), and then it does
    const calls = s.awsKms.calls.length;
    expect(await rejectionOf(stores.update(admin(), found.id, { aws_param: { xks_proxy_uri_endpoint: 'https://moved.example.com' } }))).toMatchObject({ statusCode: 409 });
    await s.awsKms.disconnectCustomKeyStore(s.at, foreign);
    expect(await stores.update(admin(), found.id, { aws_param: { xks_proxy_uri_endpoint: 'https://moved.example.com' } })).toMatchObject({ aws_param: { xks_proxy_uri_endpoint: 'https://moved.example.com' } });
    expect(s.awsKms.calls.length).toBeGreaterThan(calls);

    // What only our stores have: 400 naming the field, nothing asked of AWS KMS
    const before = s.awsKms.calls.length;
    expect(await rejectionOf(stores.update(admin(), found.id, { local_hosted_params: { max_credentials: 5 } }))).toMatchObject({ statusCode: 400, field: 'local_hosted_params' });
    expect(await rejectionOf(stores.update(admin(), found.id, { aws_param: { xks_proxy_uri_path: '/other/kms/xks/v1' } }))).toMatchObject({ statusCode: 400, field: 'aws_param.xks_proxy_uri_path' });
    expect(s.awsKms.calls.length).toBe(before);
    // A user without the container's ACL gets the same 403 as for anything else of it
    expect(await rejectionOf(stores.update(user('mallory', 'keystoreupdate'), found.id, { name: 'theirs' }))).toMatchObject({ statusCode: 403 });
  });

  it('marks a REMOTE store gone once AWS KMS no longer has it; a second run counts it no more, and it can no longer be renamed', async () => {
    const { s, foreign } = await foundForeignStore();
    await s.awsKms.deleteCustomKeyStore(s.at, foreign);

    const job = await s.jobs.start('KeyStoreSynchronization', admin(), { kms: [s.account.id], regions: ['us-east-1'] });
    await s.run();

    expect(await s.jobs.get('KeyStoreSynchronization', admin(), job.id)).toMatchObject({ overall_status: 'completed', found: 0, gone: 1 });
    const remote = new RemoteKeyStoreService({ state: s.state, clock, awsKms: s.awsKms });
    const [gone] = await remote.listAll(() => true);
    expect(gone).toMatchObject({ type: 'REMOTE', name: 'someone-elses', gone: true });
    const again = await s.jobs.start('KeyStoreSynchronization', admin(), { kms: [s.account.id], regions: ['us-east-1'] });
    await s.run();
    expect(await s.jobs.get('KeyStoreSynchronization', admin(), again.id)).toMatchObject({ found: 0, gone: 0 });
    expect(await rejectionOf(remote.update(admin(), gone.id, { name: 'too-late' }))).toMatchObject({ statusCode: 409, message: expect.stringMatching(/no longer has/) });
  });
});
