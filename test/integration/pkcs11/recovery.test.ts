/**
 * Recovery without a restart: a SoftHSM2 token taken away (its folder moved out of the token
 * directory, as an unplugged HSM) and put back; a call that outlives its budget.
 *
 * SoftHSM2 notices a vanished token only partly (object handles fail, C_GetTokenInfo fails) and
 * never notices a token that comes back: it enumerates tokens in C_Initialize. So the adapter
 * re-initialises the library (C_Finalize + C_Initialize, after draining calls in flight) when a
 * label is not found; these tests exercise exactly that path.
 */
import { pkcs11Config } from '../../../lambdas/adapters/pkcs11/config';
import { Pkcs11KeyCrypto } from '../../../lambdas/adapters/pkcs11/key-crypto';
import { whenPkcs11Idle } from '../../../lambdas/adapters/pkcs11/module';
import type { HsmKeyRef } from '../../../lambdas/contract/hsm';
import { createTestToken, makeTokenUnavailable, type TestToken } from '../../helpers/softhsm';
import { agentFor, generatedKey, hsmErrorOf } from './fixtures';

const AAD = Buffer.from('aad');

async function tokenWithKey(prefix: string): Promise<{ token: TestToken; key: HsmKeyRef }> {
  const token = await createTestToken({ prefix });
  return { token, key: await generatedKey(token) };
}

/** Calls `attempt` until it succeeds (at most `limit` times, 100 ms apart); returns the result and the failures seen. */
async function untilItSucceeds<T>(attempt: () => Promise<T>, limit = 100): Promise<{ result: T; failures: unknown[] }> {
  const failures: unknown[] = [];
  for (;;) {
    try {
      return { result: await attempt(), failures };
    } catch (error) {
      failures.push(error);
      if (failures.length >= limit) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe('a token that goes away and comes back', () => {
  it('fails with TOKEN_NOT_FOUND while away, serves other tokens meanwhile, and works again once back', async () => {
    // Arrange: two partitions on the same library, both warmed up (sessions, logins, cached handles),
    // used with the proxy's own budget.
    const a = await tokenWithKey('away');
    const b = await tokenWithKey('stays');
    const cryptoA = new Pkcs11KeyCrypto(pkcs11Config(), a.token.secretStore);
    const cryptoB = new Pkcs11KeyCrypto(pkcs11Config(), b.token.secretStore);
    const sealedBefore = await untilItSucceeds(() => cryptoA.encrypt(a.key, Buffer.from('before'), AAD));
    await untilItSucceeds(() => cryptoB.encrypt(b.key, Buffer.from('b'), AAD));

    // Act 1: the token goes away.
    const restore = makeTokenUnavailable(a.token.partition.tokenLabel);
    let whileAway;
    try {
      whileAway = [await hsmErrorOf(cryptoA.encrypt(a.key, Buffer.from('x'), AAD)), await hsmErrorOf(cryptoA.decrypt(a.key, sealedBefore.result, AAD))];
      // The other partition on the same library keeps working (its sessions are rebuilt after the re-initialisation).
      await expect(untilItSucceeds(() => cryptoB.encrypt(b.key, Buffer.from('b'), AAD), 3)).resolves.toBeDefined();
    } finally {
      restore();
    }

    // Assert 1
    expect(whileAway.map((error) => error.reason)).toEqual(['TOKEN_NOT_FOUND', 'TOKEN_NOT_FOUND']);

    // Act 2 + Assert 2: back, in the same process, same adapter instance.
    const { result: opened, failures } = await untilItSucceeds(() => cryptoA.decrypt(a.key, sealedBefore.result, AAD));
    expect(opened).toEqual(Buffer.from('before'));
    for (const failure of failures) expect(failure).toMatchObject({ reason: expect.stringMatching(/^(TOKEN_NOT_FOUND|TIMEOUT)$/) });
    await expect(cryptoA.encrypt(a.key, Buffer.from('after'), AAD)).resolves.toMatchObject({ iv: expect.any(Buffer) });
  });

  it('the HSM agent reports the missing token and finds it again', async () => {
    const { token, key } = await tokenWithKey('agent-away');
    const agent = agentFor(token);
    await expect(agent.checkKey(key)).resolves.toEqual({ ready: true, message: 'ready' });

    const restore = makeTokenUnavailable(token.partition.tokenLabel);
    try {
      await expect(agent.testPartition(token.partition)).resolves.toEqual({ ready: false, message: `token "${token.partition.tokenLabel}" not found` });
    } finally {
      restore();
    }

    // The agent's budget reaches the next re-initialisation window: no polling needed.
    await expect(agent.testPartition(token.partition)).resolves.toEqual({ ready: true, message: 'ready' });
    await expect(agent.checkKey(key)).resolves.toEqual({ ready: true, message: 'ready' });
  });
});

describe('a call that outlives its budget', () => {
  it('fails with TIMEOUT, and the partition keeps serving calls while the late one finishes', async () => {
    // Arrange: ~64 MB takes SoftHSM2 hundreds of milliseconds; the budget is 50 ms. SoftHSM2 is
    // driven on a worker thread here, as Luna and CloudHSM always are, so that the call is raced.
    const { token, key } = await tokenWithKey('slow');
    const crypto = new Pkcs11KeyCrypto(pkcs11Config({ callTimeoutMs: 50, cipherCallModes: { softhsm: 'worker-thread' } }), token.secretStore);
    await untilItSucceeds(() => crypto.encrypt(key, Buffer.from('warm'), AAD));

    // Act
    const error = await hsmErrorOf(crypto.encrypt(key, Buffer.alloc(64 << 20), AAD));

    // Assert
    expect(error.reason).toBe('TIMEOUT');
    // Small calls keep being served. On a loaded machine one of them may itself miss the 50 ms
    // budget, so each is retried; the only failure allowed along the way is that same TIMEOUT.
    for (let index = 0; index < 20; index += 1) {
      const sealed = await untilItSucceeds(() => crypto.encrypt(key, Buffer.from(`p${index}`), AAD));
      const opened = await untilItSucceeds(() => crypto.decrypt(key, sealed.result, AAD));
      expect(opened.result).toEqual(Buffer.from(`p${index}`));
      for (const failure of [...sealed.failures, ...opened.failures]) expect(failure).toMatchObject({ reason: 'TIMEOUT' });
    }
    // The late call still runs on a worker thread: let it end before jest tears this file down
    // (a native callback into a torn-down context, or C_Finalize under it, crashes the worker).
    await whenPkcs11Idle();
  });
});
