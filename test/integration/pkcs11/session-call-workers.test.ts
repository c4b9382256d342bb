/**
 * The worker-thread path of C_OpenSession, C_Login and C_FindObjects (network HSMs' default),
 * run against SoftHSM2 by configuring SoftHSM2 as Luna and CloudHSM are: a session that a worker
 * thread opened and logged in is a session of the process, used by the event loop's calls.
 */
import { randomBytes } from 'node:crypto';
import { pkcs11Config } from '../../../lambdas/adapters/pkcs11/config';
import { Pkcs11KeyCrypto } from '../../../lambdas/adapters/pkcs11/key-crypto';
import { pkcs11ModuleFor, terminatePkcs11Workers } from '../../../lambdas/adapters/pkcs11/module';
import { SessionCallWorkers } from '../../../lambdas/adapters/pkcs11/session-call-workers';
import type { HsmKeyRef } from '../../../lambdas/contract/hsm';
import { createTestToken, type TestToken } from '../../helpers/softhsm';
import { generatedKey, hsmErrorOf } from './fixtures';

const AAD = Buffer.from('aad');
const onWorkers = pkcs11Config({ callTimeoutMs: 5_000, pinRetryIntervalMs: 0, sessionCallModes: { softhsm: 'worker-thread' }, cipherCallModes: { softhsm: 'worker-thread' } });

let token: TestToken;
let key: HsmKeyRef;

beforeAll(async () => {
  token = await createTestToken({ prefix: 'workers' });
  key = await generatedKey(token);
});

afterEach(() => jest.restoreAllMocks());

afterAll(() => terminatePkcs11Workers());

describe('session calls on worker threads (SoftHSM2 configured as a network HSM)', () => {
  it('open, log in and find the key on a worker; the event loop encrypts and decrypts on that session', async () => {
    // Arrange: a partition view of its own (its own pool, nothing cached), and spies that call through.
    const opened = jest.spyOn(SessionCallWorkers.prototype, 'C_OpenSession');
    const found = jest.spyOn(SessionCallWorkers.prototype, 'findObjects');
    const crypto = new Pkcs11KeyCrypto(onWorkers, token.secretStore);
    const ref: HsmKeyRef = { partition: { ...token.partition, partitionId: `workers-${randomBytes(3).toString('hex')}` }, objectId: key.objectId };
    const plaintext = randomBytes(64);
    // Act
    const sealed = await crypto.encrypt(ref, plaintext, AAD);
    const opened2 = await crypto.decrypt(ref, sealed, AAD);
    // Assert
    expect(opened2).toEqual(plaintext);
    expect(opened).toHaveBeenCalledTimes(1);
    expect(found).toHaveBeenCalledTimes(1);
    const { functions } = pkcs11ModuleFor(onWorkers.libraries.softhsm);
    const session = (await opened.mock.results[0]!.value) as Buffer;
    expect(LOGGED_IN.has(functions.C_GetSessionInfo(session).state)).toBe(true);
  });

  it('a wrong PIN presented by a worker is LOGIN_FAILED with the HSM\'s return code; a missing key is KEY_NOT_FOUND', async () => {
    // Arrange: a token nobody in this process is logged in to, so that the login really runs.
    const fresh = await createTestToken({ prefix: 'workers-pin' });
    const login = jest.spyOn(SessionCallWorkers.prototype, 'C_Login');
    await fresh.secretStore.put(fresh.partition.pinSecretName, 'not-the-pin');
    const crypto = new Pkcs11KeyCrypto(onWorkers, fresh.secretStore);
    const missing: HsmKeyRef = { partition: fresh.partition, objectId: randomBytes(8).toString('hex') };
    // Act + Assert: the PIN is rejected on the worker ...
    const rejected = await hsmErrorOf(crypto.encrypt(missing, Buffer.from('x'), AAD));
    expect({ reason: rejected.reason, returnCode: rejected.returnCode }).toEqual({ reason: 'LOGIN_FAILED', returnCode: 'CKR_PIN_INCORRECT' });
    expect(login).toHaveBeenCalledTimes(1);
    // ... the right one is accepted, and the search on the worker finds nothing.
    await fresh.secretStore.put(fresh.partition.pinSecretName, fresh.pin);
    expect((await hsmErrorOf(crypto.encrypt(missing, Buffer.from('x'), AAD))).reason).toBe('KEY_NOT_FOUND');
    expect(login).toHaveBeenCalledTimes(2);
  });
});

/** CKS_RO_USER_FUNCTIONS, CKS_RW_USER_FUNCTIONS. */
const LOGGED_IN = new Set([1, 3]);
