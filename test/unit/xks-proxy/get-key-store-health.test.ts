import type { HsmKeyRef, PartitionTestResult } from '../../../lambdas/contract/hsm';
import { handler } from '../../../lambdas/handlers/get-key-store-health';
import { KeyStoreHealthService } from '../../../lambdas/core/key-stores/key-store-health-service';
import { createDependencies, setDependencies } from '../../../lambdas/runtime/dependencies';
import { MemorySecretStore } from '../../helpers/softhsm';
import { MemoryStateStore } from '../../helpers/memory-state-store';
import { admin, clock, keyServices, keyStoreSetup } from '../../helpers/key-fixtures';
import { apiEvent, lambdaContext, parseResponse } from '../../helpers/api-events';
import { MemoryXksState, TEST_PARTITION } from '../../xks/support/fakes';
import { MemoryHsmAgent } from '../../helpers/memory-hsm-agent';
import { FakeAwsKms } from '../../helpers/fake-aws-kms';
import { MemoryCredentialUsage } from '../../helpers/memory-credential-usage';
import { FakeAwsKmsKeys } from '../../helpers/fake-aws-kms-keys';

/** An HSM agent whose round-trip check answers what the test says and records the keys it checked. */
class CheckingAgent extends MemoryHsmAgent {
  readonly checked: HsmKeyRef[] = [];
  result: PartitionTestResult = { ready: true, message: 'ready' };
  override async checkKey(key: HsmKeyRef): Promise<PartitionTestResult> {
    this.checked.push(key);
    return this.result;
  }
}


describe('GetKeyStoreHealth handler', () => {
  let agent: CheckingAgent;
  let storeId: string;
  let healthCheckKey: HsmKeyRef;
  let healthCheckCiphertext: string | undefined;

  beforeEach(async () => {
    // Arrange: a key store created by the KeyStoreService on an in-memory state store; the agent
    // made its health-check ciphertext.
    const state = new MemoryStateStore();
    const secrets = new MemorySecretStore();
    const setup = await keyStoreSetup(state);
    agent = new CheckingAgent();
    const store = await keyServices(state, secrets, new FakeAwsKms(), new MemoryCredentialUsage(), new FakeAwsKmsKeys(), agent).keyStores.create(admin('keystoreadd'), setup.request());
    storeId = store.id;
    healthCheckCiphertext = store.local_hosted_params.health_check_ciphertext;
    healthCheckKey = { partition: { partitionId: setup.partition.id, hsmType: 'softhsm', tokenLabel: setup.partition.tokenLabel, pinSecretName: '' }, objectId: setup.healthCheckKey.objectId };
    setDependencies(
      createDependencies(
        { mode: 'aws', stateTableName: 'unused', localStateDir: '/tmp/unused', pkcs11Libraries: {} },
        { state, secrets, hsmAgent: agent, clock },
      ),
    );
  });

  afterEach(() => setDependencies(undefined));

  it('answers 200 with no body, without a token, after a deep check with the health-check key', async () => {
    const result = await handler(apiEvent('GetKeyStoreHealth', { params: { id: storeId } }), lambdaContext());
    expect(result.statusCode).toBe(200);
    expect(result.body).toBe('');
    expect(agent.checked.map((key) => key.objectId)).toEqual([healthCheckKey.objectId]);
    expect(agent.crypto.calls.decrypt).toBe(1); // the creation-time ciphertext (the round trip is scripted)
  });

  it('keeps a 64-byte health-check ciphertext (IV, the store id, tag) that the health-check key made', async () => {
    const bytes = Buffer.from(healthCheckCiphertext ?? '', 'base64');
    expect(bytes).toHaveLength(12 + storeId.length + 16);
    expect(bytes.toString('latin1')).not.toContain(storeId);
  });

  it('answers 502 when the partition holds another key under the health-check key\'s CKA_ID', async () => {
    // Arrange: new material under the same CKA_ID; its own round trip still works.
    agent.replaceKey(healthCheckKey);
    const result = parseResponse(await handler(apiEvent('GetKeyStoreHealth', { params: { id: storeId } }), lambdaContext()));
    expect(agent.checked).toHaveLength(1);
    expect(result.statusCode).toBe(502);
  });

  it('answers 502 when the deep check fails, without the HSM detail', async () => {
    agent.result = { ready: false, message: 'CKR_TOKEN_NOT_PRESENT' };
    const result = parseResponse(await handler(apiEvent('GetKeyStoreHealth', { params: { id: storeId } }), lambdaContext()));
    expect(result.statusCode).toBe(502);
    expect(JSON.stringify(result.body)).not.toContain('CKR_');
  });

  it('answers 404 for an unknown key store', async () => {
    const result = await handler(apiEvent('GetKeyStoreHealth', { params: { id: 'b0c2e0a4-0000-4000-8000-000000000000' } }), lambdaContext());
    expect(result.statusCode).toBe(404);
  });
});

describe('KeyStoreHealthService', () => {
  function service(now: () => number) {
    const state = new MemoryXksState();
    const healthCheckKey = { partition: TEST_PARTITION, objectId: 'hc' };
    for (const id of ['ks-1', 'ks-2']) {
      state.putKeyStore({ id, name: id, region: 'us-east-1', blocked: id === 'ks-2', mtlsEnabled: false, enableSuccessAuditEvent: false, partition: TEST_PARTITION, healthCheckKey, credentials: [] });
    }
    const agent = new CheckingAgent();
    return { agent, state, health: new KeyStoreHealthService(state, agent, { now }) };
  }

  it('allows 2 checks per second per key store, then 429, and refills over time', async () => {
    let now = 0;
    const { health, agent, state } = service(() => now);
    await health.check('ks-1');
    await health.check('ks-1');
    await expect(health.check('ks-1')).rejects.toMatchObject({ statusCode: 429 });
    expect(agent.checked).toHaveLength(2);
    expect(state.reads.keyStore).toBe(2); // the refused call read nothing
    await expect(health.check('ks-2')).rejects.toMatchObject({ statusCode: 409 }); // its own budget; blocked
    now += 500;
    await health.check('ks-1');
    await expect(health.check('ks-1')).rejects.toMatchObject({ statusCode: 429 });
  });
});
