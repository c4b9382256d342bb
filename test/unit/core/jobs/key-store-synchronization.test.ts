import { xksProxyUriPath } from '../../../../lambdas/contract/xks-proxy-uri';
import { JobService } from '../../../../lambdas/core/jobs/job-service';
import { JobRunner } from '../../../../lambdas/core/jobs/job-runner';
import { keyStoreSyncStep } from '../../../../lambdas/core/jobs/key-store-sync';
import type { KmsKeyPage, KmsLocation } from '../../../../lambdas/core/ports/aws-kms';
import { FakeAwsKms } from '../../../helpers/fake-aws-kms';
import { FakeAwsKmsKeys } from '../../../helpers/fake-aws-kms-keys';
import { admin, clock, ids, keyServices, keyStoreSetup } from '../../../helpers/key-fixtures';
import { RemoteKeyStoreService } from '../../../../lambdas/core/key-stores/remote-key-store-service';
import { MemoryStateStore } from '../../../helpers/memory-state-store';
import { MemorySecretStore } from '../../../helpers/softhsm';
import { fakeListKeys, RecordingJobQueue } from '../../../helpers/sync-fakes';

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
    const remote = new RemoteKeyStoreService({ state: s.state });
    expect(await remote.listAll(() => true)).toEqual([expect.objectContaining({ type: 'REMOTE', name: 'someone-elses', kms_id: s.account.id, aws_param: expect.objectContaining({ custom_key_store_id: foreign, xks_proxy_uri_endpoint: 'https://other.example.com' }) })]);

    // A second run changes nothing and makes no second REMOTE store
    const again = await s.jobs.start('KeyStoreSynchronization', admin(), { kms: [s.account.id] });
    await s.run();
    expect(await s.jobs.get('KeyStoreSynchronization', admin(), again.id)).toMatchObject({ overall_status: 'completed', found: 2, created: 0, updated: 0 });
    expect((await remote.listAll(() => true)).length).toBe(1);
    expect((await s.services.keyStores.list(admin(), {})).total).toBe(1);
  });
});
