/**
 * PartitionSessionPool over a scripted PKCS#11 library (Luna and CloudHSM cannot run here): what a
 * device failure does to the partition's sessions, and that the caller's deadline is the budget.
 */
import { pkcs11Config } from '../../../lambdas/adapters/pkcs11/config';
import { gcmDecrypt } from '../../../lambdas/adapters/pkcs11/gcm';
import { PartitionSessionPool } from '../../../lambdas/adapters/pkcs11/session-pool';
import { Pkcs11KeyCrypto } from '../../../lambdas/adapters/pkcs11/key-crypto';
import { Pkcs11Partitions } from '../../../lambdas/adapters/pkcs11/partitions';
import { encryptBody } from '../../xks/support/bodies';
import { operationPath, proxyFixture } from '../../xks/support/proxy-fixture';
import { DEFAULT_GCM_IV_CONVENTION, type HsmType, type PartitionConnection } from '../../../lambdas/contract/hsm';
import type { HsmError } from '../../../lambdas/core/ports/hsm';
import { MemorySecretStore } from '../../helpers/softhsm';
import { scriptedLibrary } from './support/scripted-library';

const SEALED = { iv: Buffer.alloc(12, 1), ciphertext: Buffer.from('abc'), tag: Buffer.alloc(16, 2) };

function poolFor(hsmType: HsmType, settings: { readonly maxSessionsPerPartition?: number } = {}) {
  const library = scriptedLibrary();
  const partition: PartitionConnection = { partitionId: 'p-1', hsmType, tokenLabel: 'token', pinSecretName: 'pin' };
  const secrets = new MemorySecretStore();
  void secrets.put('pin', '1234');
  const dropped: HsmError[] = [];
  const config = pkcs11Config({ ...settings, onConnectionDropped: (_partition, failure) => dropped.push(failure) });
  const pool = new PartitionSessionPool(partition, library.module, config, secrets);
  const device = { hsmType, cipherCallMode: config.cipherCallModes[hsmType], ivConvention: DEFAULT_GCM_IV_CONVENTION[hsmType] };
  const decrypt = (options?: { deadlineAt?: number }) => pool.run((lease) => gcmDecrypt(lease, device, Buffer.from([9]), SEALED, Buffer.alloc(0)), options);
  return { ...library, pool, dropped, decrypt };
}

describe('a C_Decrypt that fails with CKR_GENERAL_ERROR', () => {
  it.each(['luna', 'cloudhsm'] as const)('%s: a device failure: the sessions are dropped, the alarm hook is told, and a fresh session is tried once', async (hsmType) => {
    // Arrange
    const { functions, script, dropped, decrypt } = poolFor(hsmType);
    await decrypt(); // one pooled, logged-in session
    script.decryptFailure = 'CKR_GENERAL_ERROR';
    // Act
    const outcome = await decrypt().catch((error: unknown) => error);
    // Assert: DEVICE_ERROR (InternalException), both attempts' sessions closed, the hook told twice.
    expect(outcome).toMatchObject({ reason: 'DEVICE_ERROR', returnCode: 'CKR_GENERAL_ERROR' });
    expect(dropped.map((failure) => failure.reason)).toEqual(['DEVICE_ERROR', 'DEVICE_ERROR']);
    expect(functions.C_CloseSession).toHaveBeenCalledTimes(2);
    expect(functions.C_OpenSession).toHaveBeenCalledTimes(2);
    // The HSM is back: the next call opens and logs in afresh.
    script.decryptFailure = undefined;
    await expect(decrypt()).resolves.toHaveLength(3);
    expect(functions.C_Login).toHaveBeenCalledTimes(3);
  });

  it('hands a freed session to the call that waited longest, never to one that arrives meanwhile', async () => {
    // Arrange: one session, held; twenty calls wait for it in order.
    const { pool } = poolFor('softhsm', { maxSessionsPerPartition: 1 });
    const started: string[] = [];
    let releaseHolder!: () => void;
    const holder = pool.run(() => new Promise<void>((resolve) => (releaseHolder = resolve)));
    await new Promise((resolve) => setImmediate(resolve));
    const lateArrivals: Promise<void>[] = [];
    // Each waiter, once served, brings a new call that arrives while the next waiter is being woken.
    const waiters = Array.from({ length: 20 }, (_, i) =>
      pool.run(async () => {
        started.push(`waiter-${i}`);
        lateArrivals.push(pool.run(async () => void started.push(`late-after-${i}`)));
      }),
    );
    await new Promise((resolve) => setImmediate(resolve));

    // Act
    releaseHolder();
    await Promise.all([holder, ...waiters]);
    await Promise.all(lateArrivals);

    // Assert: every waiter ran before any call that arrived after it started waiting.
    expect(started.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => `waiter-${i}`));
    expect(started).toHaveLength(40);
  });

  it('a call that gave up waiting at its deadline takes no session: the next call is served', async () => {
    const { pool } = poolFor('softhsm', { maxSessionsPerPartition: 1 });
    let releaseHolder!: () => void;
    const holder = pool.run(() => new Promise<void>((resolve) => (releaseHolder = resolve)));
    await new Promise((resolve) => setImmediate(resolve));
    const impatient = pool.run(async () => 'impatient', { deadlineAt: Date.now() + 20 });
    await expect(impatient).rejects.toMatchObject({ reason: 'TIMEOUT' });
    releaseHolder();
    await holder;
    await expect(pool.run(async () => 'next', { deadlineAt: Date.now() + 1_000 })).resolves.toBe('next');
  });

  it('SoftHSM2: a wrong tag: DECRYPT_FAILED, the session stays in the pool, nobody is told', async () => {
    const { functions, script, dropped, decrypt } = poolFor('softhsm');
    await decrypt();
    script.decryptFailure = 'CKR_GENERAL_ERROR';

    await expect(decrypt()).rejects.toMatchObject({ reason: 'DECRYPT_FAILED' });

    expect(dropped).toEqual([]);
    expect(functions.C_CloseSession).not.toHaveBeenCalled();
    expect(functions.C_OpenSession).toHaveBeenCalledTimes(1);
  });
});

describe('the caller\'s deadline', () => {
  it('is the budget of the whole call: one already spent answers TIMEOUT before any PKCS#11 work', async () => {
    const { functions, decrypt } = poolFor('luna');

    await expect(decrypt({ deadlineAt: Date.now() - 1 })).rejects.toMatchObject({ reason: 'TIMEOUT' });

    expect(functions.C_OpenSession).not.toHaveBeenCalled();
    expect(functions.C_DecryptAsync).not.toHaveBeenCalled();
  });

  it('a decrypt on a worker thread that stalls past the deadline answers TIMEOUT at the deadline', async () => {
    const { functions, decrypt } = poolFor('luna');
    functions.C_DecryptAsync.mockImplementationOnce(() => new Promise<Buffer>(() => undefined));
    const started = Date.now();

    await expect(decrypt({ deadlineAt: started + 50 })).rejects.toMatchObject({ reason: 'TIMEOUT' });

    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('a C_Login that hangs (network HSM, session calls on worker threads)', () => {
  const luna = (partitionId: string, tokenLabel: string): PartitionConnection => ({ partitionId, hsmType: 'luna', tokenLabel, pinSecretName: `pin-${partitionId}` });

  /** The XKS proxy over Pkcs11KeyCrypto over the scripted library: key-1 on partition A, key-2 on partition B. */
  function proxyOverScriptedLuna() {
    const library = scriptedLibrary();
    const pins = new MemorySecretStore();
    const [a, b] = [luna('p-a', 'token-a'), luna('p-b', 'token-b')];
    void pins.put(a.pinSecretName, '1111');
    void pins.put(b.pinSecretName, '2222');
    const config = pkcs11Config();
    const keyCrypto = new Pkcs11KeyCrypto(config, pins, new Pkcs11Partitions(config, pins, () => library.module));
    const fixture = proxyFixture({ requestTimeoutMs: 60 }, { keyCrypto });
    fixture.state.putKey({ ...fixture.key, versions: [{ version: 0, key: { partition: a, objectId: '0a' } }] });
    fixture.state.putKey({ ...fixture.key, externalKeyId: 'key-2', awsKeyId: 'aws-key-2', versions: [{ version: 0, key: { partition: b, objectId: '0b' } }] });
    const encrypt = (keyId: string) => fixture.call(operationPath('encrypt', keyId), encryptBody(Buffer.from('secret data')));
    return { ...library, encrypt };
  }

  it('costs one request its deadline (DependencyTimeoutException) and nothing more; the hung session is never reused', async () => {
    // Arrange: the first session opened (partition A's) hangs in C_Login.
    const { functions, workerCalls, hang, encrypt, releaseHung, enter, leave } = proxyOverScriptedLuna();
    hang('C_Login', 1);
    // Act
    const started = Date.now();
    const hung = await encrypt('key-1');
    const hungAfterMs = Date.now() - started;
    const otherPartition = await encrypt('key-2');
    const samePartitionAgain = await encrypt('key-1');
    // Assert: the hung request answers 503 at its deadline, the next ones are served on new sessions.
    expect({ status: hung.status, errorName: hung.json.errorName }).toEqual({ status: 503, errorName: 'DependencyTimeoutException' });
    expect(hungAfterMs).toBeLessThan(1_000);
    expect(otherPartition.status).toBe(200);
    expect(samePartitionAgain.status).toBe(200);
    expect(workerCalls('C_Login')).toEqual([1, 2, 3]);
    const usedForEncryption = functions.C_EncryptInit.mock.calls.map(([session]) => (session as Buffer)[0]);
    expect(usedForEncryption).toEqual([2, 3]);
    // The library finally returns: only then is the hung session closed, and the module left.
    expect(functions.C_CloseSession).not.toHaveBeenCalled();
    expect(leave).toHaveBeenCalledTimes(enter.mock.calls.length - 1);
    releaseHung();
    await new Promise((resolve) => setImmediate(resolve));
    expect(functions.C_CloseSession.mock.calls.map(([session]) => session[0])).toEqual([1]);
    expect(leave).toHaveBeenCalledTimes(enter.mock.calls.length);
    // ... and it never enters the pool: partition A keeps serving on session 3.
    await encrypt('key-1');
    expect(functions.C_EncryptInit.mock.calls.map(([session]) => (session as Buffer)[0])).toEqual([2, 3, 3]);
  });

  it('SoftHSM2 keeps its session calls on the event loop unless configured otherwise', async () => {
    const { functions, sessionCallWorkers, decrypt } = poolFor('softhsm');
    await decrypt();
    expect(functions.C_Login).toHaveBeenCalledTimes(1);
    expect(sessionCallWorkers.call).not.toHaveBeenCalled();
  });
});

describe('a partition\'s pkcs11CallMode in the XKS proxy\'s KeyCrypto', () => {
  it('a Luna partition set inline runs its session calls and C_Decrypt on the event loop; its HSM type\'s mode is left for the others', async () => {
    // Arrange: two Luna partitions on one scripted library, one set inline.
    const library = scriptedLibrary();
    const pins = new MemorySecretStore();
    const inline: PartitionConnection = { partitionId: 'p-pcie', hsmType: 'luna', tokenLabel: 'pcie', pinSecretName: 'pin', pkcs11CallMode: 'inline' };
    const network: PartitionConnection = { partitionId: 'p-net', hsmType: 'luna', tokenLabel: 'net', pinSecretName: 'pin' };
    await pins.put('pin', '1234');
    const config = pkcs11Config();
    const keyCrypto = new Pkcs11KeyCrypto(config, pins, new Pkcs11Partitions(config, pins, () => library.module));
    // Act
    await keyCrypto.decrypt({ partition: inline, objectId: '0a' }, SEALED, Buffer.alloc(0));
    const inlineWorkerCalls = library.sessionCallWorkers.call.mock.calls.length;
    await keyCrypto.decrypt({ partition: network, objectId: '0a' }, SEALED, Buffer.alloc(0));
    // Assert
    expect(inlineWorkerCalls).toBe(0);
    expect(library.functions.C_Decrypt).toHaveBeenCalledTimes(1);
    expect(library.functions.C_DecryptAsync).toHaveBeenCalledTimes(1);
    expect(library.workerCalls('C_FindObjects')).toEqual([2]);
  });
});
