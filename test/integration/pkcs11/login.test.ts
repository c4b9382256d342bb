/**
 * Login with the PIN from the SecretStore: a wrong PIN is LOGIN_FAILED and is never presented to
 * the HSM twice (real HSMs lock a partition after a few wrong PINs); a corrected secret is picked
 * up without a restart.
 */
import { pkcs11Config } from '../../../lambdas/adapters/pkcs11/config';
import { Pkcs11KeyCrypto } from '../../../lambdas/adapters/pkcs11/key-crypto';
import { pkcs11ModuleFor } from '../../../lambdas/adapters/pkcs11/module';
import type { HsmKeyRef } from '../../../lambdas/contract/hsm';
import { createTestToken, type TestToken } from '../../helpers/softhsm';
import { agentFor, generatedKey, hsmErrorOf } from './fixtures';

const AAD = Buffer.from('aad');
const library = pkcs11Config().libraries.softhsm;

let token: TestToken;
let key: HsmKeyRef;

beforeAll(async () => {
  token = await createTestToken({ prefix: 'login' });
  key = await generatedKey(token);
});

afterEach(async () => {
  jest.restoreAllMocks();
  await token.secretStore.put(token.partition.pinSecretName, token.pin);
});

/** A partition view of the token with its own secret name, so that each test starts logged out of nothing cached. */
async function partitionWithPin(
  name: string,
  pin: string | undefined,
): Promise<{ crypto: Pkcs11KeyCrypto; key: HsmKeyRef; setPin: (value: string) => Promise<void> }> {
  const pinSecretName = `xks-key-manager/hsm-pin/${name}`;
  const ref: HsmKeyRef = { partition: { ...token.partition, partitionId: name, pinSecretName }, objectId: key.objectId };
  const setPin = (value: string): Promise<void> => token.secretStore.put(pinSecretName, value);
  if (pin !== undefined) await setPin(pin);
  return { crypto: new Pkcs11KeyCrypto(pkcs11Config({ callTimeoutMs: 5_000, pinRetryIntervalMs: 0 }), token.secretStore), key: ref, setPin };
}

/** Logs the whole application out of the token, as a fresh process would be. */
async function logOutOfToken(): Promise<void> {
  const agent = agentFor(token);
  await token.secretStore.put(token.partition.pinSecretName, 'not-the-pin');
  await agent.testPartition(token.partition); // C_Logout, then a failing C_Login
  await token.secretStore.put(token.partition.pinSecretName, token.pin);
}

it('fails with LOGIN_FAILED (CKR_PIN_INCORRECT) for a wrong PIN, without the PIN in the error', async () => {
  await logOutOfToken();
  const view = await partitionWithPin('wrong-pin', 'wrong-pin-value');

  const error = await hsmErrorOf(view.crypto.encrypt(view.key, Buffer.from('x'), AAD));

  expect(error).toMatchObject({ reason: 'LOGIN_FAILED', returnCode: 'CKR_PIN_INCORRECT' });
  expect(JSON.stringify({ message: error.message, stack: error.stack })).not.toContain('wrong-pin-value');
});

it('never presents a rejected PIN again, and logs in once the secret holds the right PIN', async () => {
  // Arrange
  await logOutOfToken();
  const view = await partitionWithPin('rejected-once', 'rejected-pin-value');
  const login = jest.spyOn(pkcs11ModuleFor(library).functions, 'C_Login');
  await hsmErrorOf(view.crypto.encrypt(view.key, Buffer.from('x'), AAD));
  expect(login).toHaveBeenCalledTimes(1);

  // Act 1: the same wrong PIN is still stored.
  const again = await hsmErrorOf(view.crypto.encrypt(view.key, Buffer.from('x'), AAD));

  // Assert 1: refused without asking the HSM.
  expect(again).toMatchObject({ reason: 'LOGIN_FAILED', returnCode: 'CKR_PIN_INCORRECT' });
  expect(again.message).toContain('not presented again');
  expect(login).toHaveBeenCalledTimes(1);

  // Act 2: the operator stores the right PIN.
  await view.setPin(token.pin);
  const sealed = await view.crypto.encrypt(view.key, Buffer.from('x'), AAD);

  // Assert 2
  expect(sealed.tag).toHaveLength(16);
  expect(login).toHaveBeenCalledTimes(2);
});

it('fails with LOGIN_FAILED when the partition has no PIN stored', async () => {
  await logOutOfToken();
  const view = await partitionWithPin('no-pin', undefined);

  const error = await hsmErrorOf(view.crypto.encrypt(view.key, Buffer.from('x'), AAD));

  expect(error).toMatchObject({ reason: 'LOGIN_FAILED', message: 'no PIN stored for partition "no-pin"' });
});
