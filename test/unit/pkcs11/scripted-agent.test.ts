/**
 * The HSM agent (Pkcs11HsmAgent) over the scripted library, as on Luna: every session call it
 * makes (object searches, attribute reads, C_DestroyObject, ...) runs on the session-call workers,
 * raced against the call's deadline. A call the HSM never answers costs that one agent call its
 * deadline; its session is never used again, and is closed once the library returns.
 */
import { pkcs11Config } from '../../../lambdas/adapters/pkcs11/config';
import { Pkcs11HsmAgent } from '../../../lambdas/adapters/pkcs11/hsm-agent';
import { Pkcs11Partitions } from '../../../lambdas/adapters/pkcs11/partitions';
import type { SessionCallName } from '../../../lambdas/adapters/pkcs11/session-call-workers';
import { KEY_ATTRIBUTE_NAMES, type HsmType, type KeyAttributes, type PartitionConnection } from '../../../lambdas/contract/hsm';
import { MemorySecretStore } from '../../helpers/softhsm';
import { scriptedLibrary } from './support/scripted-library';

const DEADLINE_MS = 80;
const NO_ATTRIBUTES = Object.fromEntries(KEY_ATTRIBUTE_NAMES.map((name) => [name, false])) as unknown as KeyAttributes;

function agentOverScripted(hsmType: HsmType, partitionOverrides: Partial<PartitionConnection> = {}) {
  const library = scriptedLibrary();
  const partition: PartitionConnection = { partitionId: 'p-agent', hsmType, tokenLabel: 'token', pinSecretName: 'pin', ...partitionOverrides };
  const secrets = new MemorySecretStore();
  void secrets.put('pin', '1234');
  const config = pkcs11Config({ callTimeoutMs: DEADLINE_MS });
  const agent = new Pkcs11HsmAgent(config, secrets, new Pkcs11Partitions(config, secrets, () => library.module));
  const key = { partition, objectId: '0a0b' };
  return { ...library, agent, partition, key };
}

/** The session numbers the scripted library saw a call of `fn` on, inline or on a worker. */
const sessionsOf = (mock: jest.Mock, argIndex = 0) => mock.mock.calls.map((args: unknown[]) => (args[argIndex] as Buffer)[0]);

/** Waits for the library's late return to be handled (the hung session closed, the module left). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('a session call the network HSM never answers, in the HSM agent', () => {
  it.each<[string, SessionCallName, (fixture: ReturnType<typeof agentOverScripted>) => Promise<unknown>]>([
    ['describeKey hung in C_FindObjects', 'C_FindObjects', ({ agent, key }) => agent.describeKey(key)],
    ['describeKey hung in C_GetAttributeValue', 'C_GetAttributeValue', ({ agent, key }) => agent.describeKey(key)],
    ['destroyKey hung in C_DestroyObject', 'C_DestroyObject', ({ agent, key }) => agent.destroyKey(key)],
  ])('%s: that call answers TIMEOUT at its deadline; the next call is served on another session', async (_name, fn, operation) => {
    // Arrange: the first session's `fn` hangs.
    const fixture = agentOverScripted('luna');
    const { functions, hang, releaseHung, workerCalls, workerLog, enter, leave, agent, key } = fixture;
    hang(fn, 1);
    // Act
    const started = Date.now();
    const hung = await operation(fixture).catch((error: unknown) => error);
    const hungAfterMs = Date.now() - started;
    const next = await agent.describeKey(key);
    // Assert: TIMEOUT at the deadline, naming the call; the next call is served on session 2.
    expect(hung).toMatchObject({ reason: 'TIMEOUT', message: expect.stringContaining(fn) });
    expect(hungAfterMs).toBeGreaterThanOrEqual(DEADLINE_MS - 5);
    expect(hungAfterMs).toBeLessThan(DEADLINE_MS + 500);
    expect(next).toMatchObject({ objectId: '0a0b', keyType: 'AES', sizeBits: 256, attributes: { CKA_ENCRYPT: true, CKA_DECRYPT: true } });
    expect(workerCalls(fn)[0]).toBe(1);
    expect(workerCalls('C_GetAttributeValue').at(-1)).toBe(2);
    // Nothing more was sent on the hung session.
    const log = workerLog();
    const hungAt = log.findIndex((entry) => entry.fn === fn && entry.session === 1);
    expect(log.slice(hungAt + 1).filter((entry) => entry.session === 1)).toEqual([]);
    // The session is closed only once the library returns, and then never reused.
    expect(functions.C_CloseSession).not.toHaveBeenCalled();
    expect(leave).toHaveBeenCalledTimes(enter.mock.calls.length - 1);
    releaseHung();
    await settle();
    expect(sessionsOf(functions.C_CloseSession)).toEqual([1]);
    expect(leave).toHaveBeenCalledTimes(enter.mock.calls.length);
    await agent.describeKey(key);
    expect(workerCalls('C_FindObjects').at(-1)).toBe(2);
  });

  it('generateKey hung in the duplicate check: TIMEOUT, and no key is generated', async () => {
    const { functions, hang, releaseHung, agent, partition } = agentOverScripted('cloudhsm');
    hang('C_FindObjects', 1);

    const outcome = await agent.generateKey(partition, { objectId: '0c', label: 'new', sizeBits: 256, attributes: NO_ATTRIBUTES }).catch((error: unknown) => error);
    releaseHung();
    await settle();

    expect(outcome).toMatchObject({ reason: 'TIMEOUT', message: expect.stringContaining('C_FindObjects') });
    expect(functions.C_GenerateKeyAsync).not.toHaveBeenCalled();
    expect(sessionsOf(functions.C_CloseSession)).toEqual([1]);
  });

  it('testPartition hung in C_Logout: not ready (TIMEOUT), the session closed once the library returns', async () => {
    const { functions, hang, releaseHung, agent, partition, workerCalls } = agentOverScripted('luna');
    hang('C_Logout', 1);

    const result = await agent.testPartition(partition);
    releaseHung();
    await settle();

    expect(result).toEqual({ ready: false, message: expect.stringContaining('C_Logout') });
    expect(workerCalls('C_Login')).toEqual([1]);
    expect(sessionsOf(functions.C_CloseSession)).toEqual([1]);
  });
});

describe('where the agent\'s session calls run', () => {
  it('SoftHSM2: inline, on the library\'s functions; no worker is asked', async () => {
    const { functions, sessionCallWorkers, agent, key } = agentOverScripted('softhsm');

    await agent.describeKey(key);
    await agent.destroyKey(key);

    expect(sessionCallWorkers.call).not.toHaveBeenCalled();
    expect(functions.C_FindObjectsInit).toHaveBeenCalled();
    expect(functions.C_DestroyObject).toHaveBeenCalledTimes(1);
  });

  it('a partition\'s pkcs11CallMode comes before its HSM type\'s: a Luna partition set inline, a SoftHSM2 one set to worker threads', async () => {
    const luna = agentOverScripted('luna', { pkcs11CallMode: 'inline' });
    const softhsm = agentOverScripted('softhsm', { pkcs11CallMode: 'worker-thread' });

    await luna.agent.describeKey(luna.key);
    await softhsm.agent.describeKey(softhsm.key);

    expect(luna.sessionCallWorkers.call).not.toHaveBeenCalled();
    expect(luna.functions.C_Login).toHaveBeenCalledTimes(1);
    expect(softhsm.workerCalls('C_FindObjects')).toEqual([1]);
    expect(softhsm.functions.C_FindObjectsInit).toHaveBeenCalledTimes(1); // run by the scripted worker
  });
});
