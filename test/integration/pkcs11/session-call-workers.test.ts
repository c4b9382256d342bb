/**
 * The worker-thread path of the session calls (network HSMs' default: C_OpenSession, C_Login, the
 * object searches, attribute reads, C_CreateObject, C_DestroyObject, ...), run against SoftHSM2
 * by configuring SoftHSM2 as Luna and CloudHSM are, for the whole container or for one
 * partition: a session that a worker thread opened and logged in is a session of the process,
 * used by the event loop's calls, and so are the objects a worker finds and creates.
 */
import { constants, createPublicKey, generateKeyPairSync, privateDecrypt, randomBytes } from 'node:crypto';
import { pkcs11Config } from '../../../lambdas/adapters/pkcs11/config';
import { Pkcs11KeyCrypto } from '../../../lambdas/adapters/pkcs11/key-crypto';
import { pkcs11ModuleFor, terminatePkcs11Workers } from '../../../lambdas/adapters/pkcs11/module';
import { SessionCallWorkers, type SessionCallName } from '../../../lambdas/adapters/pkcs11/session-call-workers';
import type { GenerateKeyRequest, HsmKeyRef } from '../../../lambdas/contract/hsm';
import { createTestToken, type TestToken } from '../../helpers/softhsm';
import { agentFor, attributes, generatedKey, hsmErrorOf, keyRequest } from './fixtures';

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
    const onWorker = jest.spyOn(SessionCallWorkers.prototype, 'call');
    const crypto = new Pkcs11KeyCrypto(onWorkers, token.secretStore);
    const ref: HsmKeyRef = { partition: { ...token.partition, partitionId: `workers-${randomBytes(3).toString('hex')}` }, objectId: key.objectId };
    const plaintext = randomBytes(64);
    // Act
    const sealed = await crypto.encrypt(ref, plaintext, AAD);
    const opened2 = await crypto.decrypt(ref, sealed, AAD);
    // Assert
    expect(opened2).toEqual(plaintext);
    expect(callsOf(onWorker, 'C_OpenSession')).toBe(1);
    expect(callsOf(onWorker, 'C_FindObjects')).toBe(1);
    const { functions } = pkcs11ModuleFor(onWorkers.libraries.softhsm);
    const session = (await onWorker.mock.results[onWorker.mock.calls.findIndex(([fn]) => fn === 'C_OpenSession')]!.value) as Buffer;
    expect(LOGGED_IN.has(functions.C_GetSessionInfo(session).state)).toBe(true);
  });

  it('a wrong PIN presented by a worker is LOGIN_FAILED with the HSM\'s return code; a missing key is KEY_NOT_FOUND', async () => {
    // Arrange: a token nobody in this process is logged in to, so that the login really runs.
    const fresh = await createTestToken({ prefix: 'workers-pin' });
    const onWorker = jest.spyOn(SessionCallWorkers.prototype, 'call');
    await fresh.secretStore.put(fresh.partition.pinSecretName, 'not-the-pin');
    const crypto = new Pkcs11KeyCrypto(onWorkers, fresh.secretStore);
    const missing: HsmKeyRef = { partition: fresh.partition, objectId: randomBytes(8).toString('hex') };
    // Act + Assert: the PIN is rejected on the worker ...
    const rejected = await hsmErrorOf(crypto.encrypt(missing, Buffer.from('x'), AAD));
    expect({ reason: rejected.reason, returnCode: rejected.returnCode }).toEqual({ reason: 'LOGIN_FAILED', returnCode: 'CKR_PIN_INCORRECT' });
    expect(callsOf(onWorker, 'C_Login')).toBe(1);
    // ... the right one is accepted, and the search on the worker finds nothing.
    await fresh.secretStore.put(fresh.partition.pinSecretName, fresh.pin);
    expect((await hsmErrorOf(crypto.encrypt(missing, Buffer.from('x'), AAD))).reason).toBe('KEY_NOT_FOUND');
    expect(callsOf(onWorker, 'C_Login')).toBe(2);
  });
});

describe('the HSM agent on a partition whose pkcs11CallMode is worker-thread (SoftHSM2, in a container whose SoftHSM2 mode is inline)', () => {
  const wrapping = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const wrappingPublicKey = wrapping.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');

  it('generates, describes, wraps and destroys keys with every session call on a worker and none on the event loop', async () => {
    // Arrange: the agent's own config (SoftHSM2 inline), the partition set to worker threads.
    const agent = agentFor(token);
    const partition = { ...token.partition, partitionId: `agent-workers-${randomBytes(3).toString('hex')}`, pkcs11CallMode: 'worker-thread' as const };
    const onWorker = jest.spyOn(SessionCallWorkers.prototype, 'call');
    const { functions } = pkcs11ModuleFor(onWorkers.libraries.softhsm);
    const inline = [jest.spyOn(functions, 'C_FindObjectsInit'), jest.spyOn(functions, 'C_GetAttributeValue'), jest.spyOn(functions, 'C_CreateObject'), jest.spyOn(functions, 'C_DestroyObject'), jest.spyOn(functions, 'C_CloseSession')];
    const pair: GenerateKeyRequest = { ...keyRequest(attributes('CKA_SIGN', 'CKA_VERIFY', 'CKA_TOKEN', 'CKA_PRIVATE'), 'ec-on-workers'), keyType: 'EC', sizeBits: 256, curve: 'P-256' };
    const aes = keyRequest(attributes('CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_SENSITIVE', 'CKA_EXTRACTABLE', 'CKA_TOKEN', 'CKA_PRIVATE'), 'aes-on-workers');
    // Act
    const generated = await agent.generateKey(partition, pair);
    const described = await agent.describeKey({ partition, objectId: pair.objectId });
    await expect(agent.generateKey(partition, pair)).rejects.toMatchObject({ message: expect.stringContaining('already exists') });
    await agent.generateKey(partition, aes);
    const { encryptedKeyMaterial } = await agent.wrapKeyForImport({ partition, objectId: aes.objectId }, { wrappingPublicKey, algorithm: 'RSAES_OAEP_SHA_1' });
    await agent.destroyKey({ partition, objectId: pair.objectId });
    const afterDestroy = await agent.describeKey({ partition, objectId: pair.objectId });
    // Assert: what the HSM reports, read on the workers ...
    expect(generated).toMatchObject({ objectId: pair.objectId, keyType: 'EC', curve: 'P-256', sizeBits: 256, attributes: { CKA_SIGN: true, CKA_VERIFY: true } });
    expect(createPublicKey(generated.publicKeyPem as string).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(described).toEqual(generated);
    expect(afterDestroy).toBeUndefined();
    const material = privateDecrypt({ key: wrapping.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.from(encryptedKeyMaterial, 'base64'));
    expect(material).toHaveLength(32);
    // ... every session call of the agent went to a worker, and none ran on the event loop (the
    // sessions the refused duplicate dropped were closed on a worker too).
    for (const fn of ['C_OpenSession', 'C_GetSessionInfo', 'C_FindObjects', 'C_GetAttributeValue', 'C_CreateObject', 'C_DestroyObject', 'C_CloseSession'] as const) expect({ fn, calls: callsOf(onWorker, fn) > 0 }).toEqual({ fn, calls: true });
    for (const spy of inline) expect(spy).not.toHaveBeenCalled();
  });
});

/** How many calls of `fn` the spied workers were given. */
function callsOf(spy: { readonly mock: { readonly calls: readonly (readonly [SessionCallName, ...unknown[]])[] } }, fn: SessionCallName): number {
  return spy.mock.calls.filter(([name]) => name === fn).length;
}

/** CKS_RO_USER_FUNCTIONS, CKS_RW_USER_FUNCTIONS. */
const LOGGED_IN = new Set([1, 3]);
