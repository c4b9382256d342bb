/**
 * The daily sweep over the in-memory stores: unreferenced secrets older than the grace period go,
 * referenced, young and foreign ones stay; a failed delete is reported; PENDING HSM keys are
 * settled through the same run; CloudHSM key stores' kmsuser passwords are judged like the rest;
 * the report holds names only.
 */
import { CloudHsmKeyStoreService } from '../../../../lambdas/core/key-stores/cloudhsm-key-store-service';
import { PendingHsmKeys } from '../../../../lambdas/core/hsm/pending-hsm-keys';
import type { HsmAgent } from '../../../../lambdas/core/ports/hsm';
import { ORPHAN_GRACE_MS, OrphanSecretSweep } from '../../../../lambdas/core/secrets/orphan-secret-sweep';
import { secretNames } from '../../../../lambdas/core/secret-names';
import { runDailySweep } from '../../../../lambdas/sweeps/daily-sweep';
import { FakeAwsKms } from '../../../helpers/fake-aws-kms';
import { admin, ids, keyServices, keyStoreSetup, seedAccount } from '../../../helpers/key-fixtures';
import { MemoryStateStore } from '../../../helpers/memory-state-store';
import { MemorySecretStore } from '../../../helpers/softhsm';

let now: number;
const clock = { now: () => new Date(now) };
const agent = { describeKey: jest.fn(async () => undefined) } as unknown as HsmAgent;

async function world() {
  const state = new MemoryStateStore();
  const secrets = new MemorySecretStore();
  const setup = await keyStoreSetup(state);
  const store = await keyServices(state, secrets).keyStores.create(admin(), setup.request());
  const [credentialId] = [...secrets.values.keys()].map((name) => name.split('/').pop()!);
  const age = (name: string, ms: number) => secrets.createdAt.set(name, new Date(now - ms));
  return { state, secrets, store, credentialId, age };
}

beforeEach(() => {
  now = Date.now();
});

it('removes unreferenced secrets older than an hour, keeps referenced, young and foreign ones, and reports names only', async () => {
  // Arrange
  const { state, secrets, store, credentialId, age } = await world();
  const kept = secretNames.xksCredential(store.id, credentialId);
  const orphanCredential = secretNames.xksCredential(store.id, 'crashed-before-its-record');
  const orphanPin = secretNames.hsmPin('partition-that-never-was');
  const young = secretNames.xksCredential('store-being-created', 'c1');
  const foreign = 'xks-key-manager/xks/something-else-entirely';
  for (const name of [orphanCredential, orphanPin, young, foreign]) await secrets.put(name, 'secret-value-marker');
  for (const name of [kept, orphanCredential, orphanPin, foreign]) age(name, ORPHAN_GRACE_MS + 1);
  age(young, ORPHAN_GRACE_MS - 60_000);
  const logged: unknown[] = [];

  // Act
  const report = await runDailySweep({ state, secrets, hsmAgent: agent, clock }, { info: (...a: unknown[]) => logged.push(a), warn: (...a: unknown[]) => logged.push(a) } as never);

  // Assert
  expect([...report.removedSecrets].sort()).toEqual([orphanCredential, orphanPin].sort());
  expect(report.youngOrphans).toEqual([young]);
  expect([...secrets.values.keys()].sort()).toEqual([kept, young, foreign].sort());
  expect(JSON.stringify(logged)).toContain(orphanPin);
  expect(JSON.stringify(logged)).not.toContain('secret-value-marker');
});

it('reports a delete that failed and goes on with the others', async () => {
  // Arrange
  const { state, secrets, age } = await world();
  const [failing, removed] = [secretNames.hsmPin('p-fails'), secretNames.hsmPin('p-goes')];
  for (const name of [failing, removed]) {
    await secrets.put(name, 'x');
    age(name, 2 * ORPHAN_GRACE_MS);
  }
  const original = secrets.delete.bind(secrets);
  secrets.delete = async (name: string) => (name === failing ? Promise.reject(new Error('throttled')) : original(name));

  // Act
  const report = await new OrphanSecretSweep({ state, secrets, clock, pendingHsmKeys: new PendingHsmKeys({ state, hsmAgent: agent, clock }) }).run();

  // Assert
  expect(report.failedSecrets).toEqual([failing]);
  expect(report.removedSecrets).toEqual([removed]);
  expect(secrets.values.has(failing)).toBe(true);
});

it('judges CloudHSM key stores\' kmsuser password secrets: a store\'s own stays, one no store names goes after the grace period', async () => {
  // Arrange
  const state = new MemoryStateStore();
  const secrets = new MemorySecretStore();
  const kms = new FakeAwsKms();
  kms.clusters.set('cluster-aaaaaaaaaaa', { kmsuserPassword: 'kmsuser-pw-1' });
  const account = await seedAccount(state);
  const cloudHsmStores = new CloudHsmKeyStoreService({ state, secrets, clock, ids, awsKms: kms });
  const store = await cloudHsmStores.create(admin(), {
    name: 'hsm-store', kms: account.name, region: 'us-east-1',
    aws_param: { custom_key_store_type: 'AWS_CLOUDHSM', cloud_hsm_cluster_id: 'cluster-aaaaaaaaaaa', key_store_password: 'kmsuser-pw-1', trust_anchor_certificate: '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n' },
  });
  const kept = secretNames.cloudHsmPassword(store.id);
  const orphan = secretNames.cloudHsmPassword('store-whose-record-never-landed');
  const young = secretNames.cloudHsmPassword('store-being-created');
  const foreign = secretNames.cloudHsmPassword('not/ours');
  for (const name of [orphan, young, foreign]) await secrets.put(name, 'kmsuser-password-marker');
  for (const name of [kept, orphan, foreign]) secrets.createdAt.set(name, new Date(now - ORPHAN_GRACE_MS - 1));
  secrets.createdAt.set(young, new Date(now - ORPHAN_GRACE_MS + 60_000));

  // Act
  const report = await new OrphanSecretSweep({ state, secrets, clock, pendingHsmKeys: new PendingHsmKeys({ state, hsmAgent: agent, clock }) }).run();

  // Assert
  expect(report.removedSecrets).toEqual([orphan]);
  expect(report.youngOrphans).toEqual([young]);
  expect([...secrets.values.keys()].sort()).toEqual([foreign, kept, young].sort());
  expect(JSON.stringify(report)).not.toContain('kmsuser-password-marker');
});
