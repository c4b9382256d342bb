/**
 * Schedules end to end through the local runner (what `npm start` runs) and the local AWS KMS, with
 * the in-process scheduler's clock driven by the test (`--scheduler-clock manual`) instead of
 * waiting for it: a credential rotation configuration running every minute, assigned to a linked
 * store, rotates it (AWS KMS gets the new credential, checks it against the proxy, and keeps
 * encrypting through it) and its job run lists the store as done; a key rotation configuration adds
 * a version to the HYOK key assigned to it while older ciphertexts still decrypt, on schedule and
 * by run-now, the key showing `rotation_status`, `rotated_from` and `rotated_to`, and the version a
 * rotation replaced stops decrypting through AWS KMS once its `expire_in`/`expiration` has passed;
 * configurations with day and month names and EventBridge's day rules (`MON#1`, `L`) run on the
 * days they name. The refusals: cron expressions EventBridge cannot express, deleting an assigned
 * configuration.
 */
import { DecryptCommand, DescribeCustomKeyStoresCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { adminApi, adminCall, localKmsClient, type LocalSystem, retryingProxyTimeouts, startLocalSystem } from '../helpers/local-system';
import { timeUntil } from '../xks/support/poll';

const REGION = 'us-east-1';
let system: LocalSystem;
let kms: KMSClient;
let api: ReturnType<typeof adminApi>;

beforeAll(async () => {
  system = await startLocalSystem({ schedulerClock: 'manual' });
  kms = localKmsClient(system, REGION);
  api = adminApi(system);
});

afterAll(async () => {
  kms?.destroy();
  await system?.stop();
});

async function awsAccessKeyId(cks: string): Promise<string | undefined> {
  const [store] = (await kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: cks }))).CustomKeyStores ?? [];
  return store?.XksProxyConfiguration?.AccessKeyId;
}

it('runs credential rotation and HYOK key rotation on schedule and by run-now', async () => {
  // Arrange: a linked, connected store (room for three credentials) with an HYOK key and its KMS key.
  await api('POST', '/v1/cckm/aws/kms', { name: 'scheduled', account_id: system.aws.accountId, regions: [REGION] }, 201);
  const partitionId: string = (await api('GET', '/v1/cckm/hsm/partitions?name=local-softhsm')).resources[0].id;
  const hsmKey = (label: string, attributes: string[]) =>
    api('POST', '/v1/cckm/hsm/keys', { partition_id: partitionId, label, mechanism: 'CKM_AES_KEY_GEN', size: 256, attributes }, 201);
  const healthCheckKey = await hsmKey('scheduled-health', ['CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_WRAP', 'CKA_UNWRAP', 'CKA_SENSITIVE']);
  const sourceKey = await hsmKey('scheduled-source', ['CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_SENSITIVE']);
  const store = await api('POST', '/v1/cckm/aws/custom-key-stores', {
    name: 'scheduled-store', kms: 'scheduled', region: REGION, linked_state: true,
    local_hosted_params: { partition_id: partitionId, health_check_key_id: healthCheckKey.id, max_credentials: 3 },
    aws_param: { xks_proxy_uri_endpoint: 'https://xks.example.com', xks_proxy_connectivity: 'PUBLIC_ENDPOINT' },
  }, 201);
  const cks: string = store.aws_param.custom_key_store_id;
  await api('POST', `/v1/cckm/aws/custom-key-stores/${store.id}/connect`);
  await timeUntil(async () => (await api('GET', `/v1/cckm/aws/custom-key-stores/${store.id}`)).aws_param.connection_state === 'CONNECTED', 30_000, 500);
  const hyok = await retryingProxyTimeouts(() =>
    api('POST', '/v1/cckm/aws/create-hyok-key', { local_hosted_params: { source_key_id: sourceKey.id, custom_key_store_id: store.id }, aws_param: { Description: 'scheduled rotation' } }, 201),
  );
  const kmsKeyId: string = hyok.aws_param.KeyID;
  const encrypt = (text: string) => retryingProxyTimeouts(() => kms.send(new EncryptCommand({ KeyId: kmsKeyId, Plaintext: Buffer.from(text) })));
  const decrypt = async (blob: Uint8Array | undefined) =>
    Buffer.from((await retryingProxyTimeouts(() => kms.send(new DecryptCommand({ CiphertextBlob: blob })))).Plaintext as Uint8Array).toString();
  const sealedBefore = await encrypt('sealed before any rotation');

  // A cron expression EventBridge Scheduler cannot express is a 400 naming run_at; nothing is made.
  const refused = await fetch(`${system.apiUrl}/v1/scheduler/job-configs`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${system.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'both-days', operation: 'cckm_xks_credential_rotation', run_at: '0 0 1 * 1' }),
  });
  expect(refused.status).toBe(400);
  expect(((await refused.json()) as any).message).toMatch(/^run_at: day of month \(1\) and day of week \(1\) cannot both be restricted/);
  expect((await api('GET', '/v1/scheduler/job-configs')).total).toBe(0);

  // Act 1: a credential rotation configuration every minute, assigned to the store.
  const rotation = await api('POST', '/v1/scheduler/job-configs', {
    name: 'rotate-credentials', operation: 'cckm_xks_credential_rotation', run_at: '* * * * *',
    cckm_xks_credential_rotation_params: { cloud_name: 'aws' },
  }, 201);
  expect(rotation).toMatchObject({ run_at: '* * * * *', timezone: 'UTC', disabled: false, job_config_params: { cloud_name: 'aws' } });
  const assigned = await api('POST', `/v1/cckm/aws/custom-key-stores/${store.id}/enable-credential-rotation-job`, { job_config_id: rotation.id });
  expect(assigned.labels).toEqual({ job_config_id: rotation.id });
  const inUse = await fetch(`${system.apiUrl}/v1/scheduler/job-configs/${rotation.id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${system.adminToken}` } });
  expect(inUse.status).toBe(409);
  expect(((await inUse.json()) as any).message).toContain(`key store ${store.id} (scheduled-store)`);

  // Act 2: the scheduler's clock passes the next minute (10 s into a minute, so that 5 s later is still the same one).
  const t1 = new Date(Math.floor((Date.now() + 61_000) / 60_000) * 60_000 + 10_000);
  const first = await system.tickScheduler(t1);

  // Assert: one run, the store done; AWS KMS holds the new credential, which the proxy accepted.
  expect(first.runs).toHaveLength(1);
  const run = await api('GET', `/v1/scheduler/jobs/${first.runs[0].id}`);
  expect(run).toMatchObject({ job_config_id: rotation.id, trigger: 'schedule', status: 'completed', done_count: 1, failed_count: 0 });
  expect(run.results).toEqual([expect.objectContaining({ target_type: 'key_store', target_id: store.id, status: 'done' })]);
  const credentials = (await api('GET', `/v1/cckm/aws/custom-key-stores/${store.id}/credentials?sort=-createdAt`)).resources;
  expect(credentials).toHaveLength(2);
  expect(credentials[0].access_key_id).not.toBe(store.access_key_id);
  expect(await awsAccessKeyId(cks)).toBe(credentials[0].access_key_id);
  expect(await decrypt((await encrypt('through the new credential')).CiphertextBlob)).toBe('through the new credential');
  // the same minute again runs nothing more
  expect((await system.tickScheduler(new Date(t1.getTime() + 5_000))).runs).toHaveLength(0);

  // Unassigned, the configuration can be deleted.
  const unassigned = await api('POST', `/v1/cckm/aws/custom-key-stores/${store.id}/disable-credential-rotation-job`);
  expect(unassigned.labels).toEqual({});
  await api('DELETE', `/v1/scheduler/job-configs/${rotation.id}`, undefined, 204);

  // Act 3: a key rotation configuration at 03:00 UTC whose replaced versions expire 30 days on, assigned to the HYOK key; the clock passes 03:00.
  expect(await api('GET', `/v1/cckm/aws/keys/${hyok.id}`)).toMatchObject({ rotation_status: '' });
  const keyRotation = await api('POST', '/v1/scheduler/job-configs', {
    name: 'rotate-keys', operation: 'cckm_key_rotation', run_at: '0 3 * * ?', cckm_key_rotation_params: { cloud_name: 'aws', expire_in: 30 },
  }, 201);
  await api('POST', `/v1/cckm/aws/keys/${hyok.id}/enable-rotation-job`, { job_config_id: keyRotation.id });
  const next3am = new Date(t1);
  next3am.setUTCHours(3, 0, 30, 0);
  if (next3am <= t1) next3am.setUTCDate(next3am.getUTCDate() + 1);
  const rotatingFrom = Date.now();
  const second = await system.tickScheduler(next3am);

  // Assert: a new version, and the key says it rotated, from which source key to which; the replaced version expires in 30 days, so old and new ciphertexts decrypt through AWS KMS.
  expect(second.runs).toEqual([expect.objectContaining({ job_config_id: keyRotation.id, status: 'completed', done_count: 1 })]);
  expect(second.runs[0].scheduled_time).toBe(new Date(next3am.getTime() - 30_000).toISOString());
  const rotated = await api('GET', `/v1/cckm/aws/keys/${hyok.id}`);
  expect(rotated.version).toBe(hyok.version + 1);
  expect(rotated.labels).toEqual({ job_config_id: keyRotation.id });
  expect(rotated).toMatchObject({ rotation_status: 'ACTIVE', rotated_from: sourceKey.id, rotated_to: rotated.local_key_id });
  expect(rotated.local_key_id).not.toBe(sourceKey.id);
  const listed = (await api('GET', `/v1/cckm/aws/keys?id=${hyok.id}`)).resources[0];
  expect(listed).toMatchObject({ rotation_status: 'ACTIVE', rotated_from: sourceKey.id, rotated_to: rotated.local_key_id, rotated_at: rotated.rotated_at });
  const versionsAfterFirst = (await api('GET', `/v1/cckm/aws/keys/${hyok.id}/versions`)).resources;
  const replacedV0 = versionsAfterFirst.find((v: any) => v.version === hyok.version);
  const expiresIn = Date.parse(replacedV0.expires_at) - 30 * 86_400_000;
  expect(expiresIn).toBeGreaterThanOrEqual(rotatingFrom - 1_000);
  expect(expiresIn).toBeLessThanOrEqual(Date.now() + 1_000);
  expect(versionsAfterFirst.find((v: any) => v.version === rotated.version).expires_at).toBeUndefined();
  expect(second.runs[0].results[0].message).toContain(`the version it replaced stops decrypting at ${replacedV0.expires_at}`);
  expect(await decrypt(sealedBefore.CiphertextBlob)).toBe('sealed before any rotation');
  // The proxy's state is at most 5 s old (README, Architecture, "XKS hot path"): past that, new encryptions use the new version.
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  const sealedAfter = await encrypt('sealed after the rotation');
  expect(await decrypt(sealedAfter.CiphertextBlob)).toBe('sealed after the rotation');

  // Act 4: the configuration now also says that what it replaces expires a few seconds from now (earlier than 30 days); run-now queues a run that the scheduler takes at once.
  const expiration = new Date(Date.now() + 15_000).toISOString();
  await api('PATCH', `/v1/scheduler/job-configs/${keyRotation.id}`, { cckm_key_rotation_params: { cloud_name: 'aws', expire_in: 30, expiration } });
  const queued = await api('POST', `/v1/scheduler/job-configs/${keyRotation.id}/run-now`, undefined, 201);
  expect(queued).toMatchObject({ trigger: 'run-now', status: 'queued' });
  await system.tickScheduler(new Date(next3am.getTime() + 1_000));
  expect(await api('GET', `/v1/scheduler/jobs/${queued.id}`)).toMatchObject({ status: 'completed', done_count: 1 });
  const rotatedAgain = await api('GET', `/v1/cckm/aws/keys/${hyok.id}`);
  expect(rotatedAgain).toMatchObject({ version: hyok.version + 2, rotation_status: 'ACTIVE', rotated_from: rotated.local_key_id, rotated_to: rotatedAgain.local_key_id });
  const versions = (await api('GET', `/v1/cckm/aws/keys/${hyok.id}/versions`)).resources;
  expect(versions.find((v: any) => v.version === rotated.version).expires_at).toBe(expiration);
  expect(versions.find((v: any) => v.version === hyok.version).expires_at).toBe(replacedV0.expires_at);

  // Assert: once its expiry has passed, the version replaced second no longer decrypts through AWS KMS (the proxy refuses it), while the first (30 days) and the newest still do.
  await timeUntil(async () => (await decrypt(sealedAfter.CiphertextBlob).catch((error: Error) => error.name)) === 'KMSInvalidStateException', 45_000, 1_000);
  const sealedLast = await encrypt('sealed after the second rotation');
  expect(await decrypt(sealedBefore.CiphertextBlob)).toBe('sealed before any rotation');
  expect(await decrypt(sealedLast.CiphertextBlob)).toBe('sealed after the second rotation');
  expect((await api('GET', `/v1/scheduler/jobs?job_config_id=${keyRotation.id}`)).total).toBe(2);
}, 240_000);

it('run-now of a synchronization configuration starts an AWS key synchronization job, which completes', async () => {
  // Arrange: an account container of the local AWS KMS's default account.
  await api('POST', '/v1/cckm/aws/kms', { name: 'synced-by-schedule', account_id: system.aws.accountId, regions: [REGION] }, 201);
  const config = await api('POST', '/v1/scheduler/job-configs', {
    name: 'nightly-sync', operation: 'cckm_synchronization', run_at: '0 2 * * *',
    cckm_synchronization_params: { cloud_name: 'aws', kms: ['synced-by-schedule'] },
  }, 201);
  // Act: run-now, taken by a tick whose time makes no schedule due (only the queued run-now runs).
  const queued = await api('POST', `/v1/scheduler/job-configs/${config.id}/run-now`, undefined, 201);
  await system.tickScheduler(new Date(0));
  const run = await api('GET', `/v1/scheduler/jobs/${queued.id}`);
  // Assert: the run lists the job it started, and the job synchronizes that container and completes.
  expect(run).toMatchObject({ status: 'completed', done_count: 1, results: [{ target_type: 'synchronization_job', status: 'done' }] });
  const jobId: string = run.results[0].target_id;
  await timeUntil(async () => (await api('GET', `/v1/cckm/aws/synchronization-jobs/${jobId}`)).overall_status === 'completed', 60_000, 500);
  expect(await api('GET', `/v1/cckm/aws/synchronization-jobs/${jobId}`)).toMatchObject({ kms: ['synced-by-schedule'], overall_status: 'completed' });
}, 120_000);

it('runs configurations with names and EventBridge day rules (MON#1, L) when they fall due, and refuses ones EventBridge would not take', async () => {
  // Arrange: only this test's configurations are enabled; credential rotation with nothing assigned makes an empty run.
  const call = adminCall(system);
  for (const other of (await api('GET', '/v1/scheduler/job-configs')).resources) {
    await api('PATCH', `/v1/scheduler/job-configs/${other.id}`, { disabled: true });
  }
  const make = (name: string, runAt: string) =>
    api('POST', '/v1/scheduler/job-configs', { name, operation: 'cckm_xks_credential_rotation', run_at: runAt, cckm_xks_credential_rotation_params: { cloud_name: 'aws' } }, 201);
  const firstMonday = await make('first-monday', '30 6 ? * mon#1');
  const endOfFebruary = await make('end-of-february', '0 0 L FEB ?');
  const ticked = async (at: string) =>
    (await system.tickScheduler(new Date(at))).runs.map((run) => `${run.job_config_name} ${run.scheduled_time}`);

  // Act + Assert: 1 Feb 2027 is the month's first Monday; 8 Feb its second; 28 Feb the last day; 1 Mar again a first Monday.
  expect(await ticked('2027-02-01T06:30:10Z')).toEqual(['first-monday 2027-02-01T06:30:00.000Z']);
  expect(await ticked('2027-02-08T06:30:10Z')).toEqual([]);
  expect(await ticked('2027-02-28T00:00:10Z')).toEqual(['end-of-february 2027-02-28T00:00:00.000Z']);
  expect(await ticked('2027-03-01T06:30:10Z')).toEqual(['first-monday 2027-03-01T06:30:00.000Z']);

  // Expressions EventBridge Scheduler would refuse are a 400 naming run_at, on create and on update; nothing changes.
  const refusedCreate = await call('POST', '/v1/scheduler/job-configs', { name: 'sixth-friday', operation: 'cckm_xks_credential_rotation', run_at: '0 0 ? * FRI#6' });
  expect(refusedCreate.status).toBe(400);
  expect(refusedCreate.json.message).toBe('run_at: day of week field: occurrence after # 6 is outside 1-5');
  const refusedUpdate = await call('PATCH', `/v1/scheduler/job-configs/${endOfFebruary.id}`, { run_at: '0 0 LW * ?' });
  expect(refusedUpdate.status).toBe(400);
  expect(refusedUpdate.json.message).toMatch(/^run_at: day of month field: "LW": L \(the last day\) and nW/);
  expect((await api('GET', `/v1/scheduler/job-configs/${endOfFebruary.id}`)).run_at).toBe('0 0 L FEB ?');
  expect((await api('GET', '/v1/scheduler/job-configs?name=sixth-friday')).total).toBe(0);
  expect((await api('GET', `/v1/scheduler/jobs?job_config_id=${firstMonday.id}`)).total).toBe(2);
}, 120_000);
