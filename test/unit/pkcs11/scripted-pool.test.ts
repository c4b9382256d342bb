/**
 * PartitionSessionPool over a scripted PKCS#11 library (Luna and CloudHSM cannot run here): what a
 * device failure does to the partition's sessions, and that the caller's deadline is the budget.
 */
import * as pkcs11js from 'pkcs11js';
import { pkcs11Config } from '../../../lambdas/adapters/pkcs11/config';
import { gcmDecrypt } from '../../../lambdas/adapters/pkcs11/gcm';
import type { Pkcs11Module } from '../../../lambdas/adapters/pkcs11/module';
import { PartitionSessionPool } from '../../../lambdas/adapters/pkcs11/session-pool';
import { DEFAULT_GCM_IV_CONVENTION, type HsmType, type PartitionConnection } from '../../../lambdas/contract/hsm';
import type { HsmError } from '../../../lambdas/core/ports/hsm';
import { MemorySecretStore } from '../../helpers/softhsm';

const SLOT = Buffer.from([7]);
const SEALED = { iv: Buffer.alloc(12, 1), ciphertext: Buffer.from('abc'), tag: Buffer.alloc(16, 2) };

/** A library with one token; sessions are numbered; C_Decrypt(Async) fails with `decryptFailure` while it is set. */
function scriptedLibrary() {
  let nextSession = 1;
  const script = { decryptFailure: undefined as string | undefined };
  const failIfScripted = () => {
    if (script.decryptFailure) throw new pkcs11js.Pkcs11Error(`${script.decryptFailure}:0`);
  };
  const functions = {
    C_OpenSession: jest.fn(() => Buffer.from([nextSession++])),
    C_GetSessionInfo: jest.fn(() => ({ state: 0 })),
    C_Login: jest.fn(),
    C_CloseSession: jest.fn(),
    C_DecryptInit: jest.fn(),
    C_Decrypt: jest.fn((_s: Buffer, data: Buffer, out: Buffer) => (failIfScripted(), out.subarray(0, data.length - 16))),
    C_DecryptAsync: jest.fn(async (_s: Buffer, data: Buffer, out: Buffer) => (failIfScripted(), out.subarray(0, data.length - 16))),
  };
  const module = {
    generation: 0,
    functions,
    enter: jest.fn(async () => functions),
    leave: jest.fn(),
    findSlot: jest.fn(() => SLOT),
    reinitialize: jest.fn(async () => undefined),
  };
  return { functions, module: module as unknown as Pkcs11Module, script };
}

function poolFor(hsmType: HsmType) {
  const library = scriptedLibrary();
  const partition: PartitionConnection = { partitionId: 'p-1', hsmType, tokenLabel: 'token', pinSecretName: 'pin' };
  const secrets = new MemorySecretStore();
  void secrets.put('pin', '1234');
  const dropped: HsmError[] = [];
  const config = pkcs11Config({ onConnectionDropped: (_partition, failure) => dropped.push(failure) });
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
