import type { HsmAgent } from '../../../lambdas/core/ports/hsm';
import type { HsmKeyRef, PartitionTestResult } from '../../../lambdas/contract/hsm';
import { handler } from '../../../lambdas/handlers/get-key-store-health';
import { KeyStoreHealthService } from '../../../lambdas/core/key-stores/key-store-health-service';
import { createDependencies, setDependencies } from '../../../lambdas/runtime/dependencies';
import { MemorySecretStore } from '../../helpers/softhsm';
import { MemoryStateStore } from '../../helpers/memory-state-store';
import { admin, clock, keyServices, keyStoreSetup } from '../../helpers/key-fixtures';
import { apiEvent, lambdaContext, parseResponse } from '../../helpers/api-events';
import { MemoryXksState, TEST_PARTITION } from '../../xks/support/fakes';

/** An HSM agent whose deep check answers what the test says and records the keys it checked. */
class CheckingAgent implements Pick<HsmAgent, 'checkKey'> {
  readonly checked: HsmKeyRef[] = [];
  result: PartitionTestResult = { ready: true, message: 'ready' };
  async checkKey(key: HsmKeyRef): Promise<PartitionTestResult> {
    this.checked.push(key);
    return this.result;
  }
}

const unused = (): never => {
  throw new Error('not used by GetKeyStoreHealth');
};
const agentPort = (agent: CheckingAgent): HsmAgent => ({ checkKey: (key) => agent.checkKey(key), testPartition: unused, generateKey: unused, describeKey: unused, destroyKey: unused, wrapKeyForImport: unused, signHmac: unused });

describe('GetKeyStoreHealth handler', () => {
  let agent: CheckingAgent;
  let storeId: string;
  let healthCheckObjectId: string;

  beforeEach(async () => {
    // Arrange: a key store created by the KeyStoreService on an in-memory state store.
    const state = new MemoryStateStore();
    const secrets = new MemorySecretStore();
    const setup = await keyStoreSetup(state);
    storeId = (await keyServices(state, secrets).keyStores.create(admin('keystoreadd'), setup.request())).id;
    healthCheckObjectId = setup.healthCheckKey.objectId;
    agent = new CheckingAgent();
    setDependencies(
      createDependencies(
        { mode: 'aws', stateTableName: 'unused', localStateDir: '/tmp/unused', pkcs11Libraries: {} },
        { state, secrets, hsmAgent: agentPort(agent), clock },
      ),
    );
  });

  afterEach(() => setDependencies(undefined));

  it('answers 200 with no body, without a token, after a deep check with the health-check key', async () => {
    const result = await handler(apiEvent('GetKeyStoreHealth', { params: { id: storeId } }), lambdaContext());
    expect(result.statusCode).toBe(200);
    expect(result.body).toBe('');
    expect(agent.checked.map((key) => key.objectId)).toEqual([healthCheckObjectId]);
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
    return { agent, state, health: new KeyStoreHealthService(state, agentPort(agent), { now }) };
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
