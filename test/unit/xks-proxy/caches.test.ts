import { HsmError, type GcmCiphertext, type KeyCrypto } from '../../../lambdas/core/ports/hsm';
import type { HsmKeyRef } from '../../../lambdas/contract/hsm';
import { ExpiringCache } from '../../../lambdas/xks-proxy/state/expiring-cache';
import { DeepHealthCheck, type HealthCheckedStore } from '../../../lambdas/xks-proxy/health/deep-health-check';
import { sealHealthCheckCiphertext } from '../../../lambdas/core/key-stores/health-check-ciphertext';
import { CredentialSecrets } from '../../../lambdas/xks-proxy/state/credential-secrets';
import { MemorySecretStore } from '../../helpers/softhsm';
import { MemoryKeyCrypto, TEST_PARTITION } from '../../xks/support/fakes';

describe('ExpiringCache', () => {
  it('loads once per key while fresh, and again after maxAge', async () => {
    let now = 0;
    let loads = 0;
    const cache = new ExpiringCache<number>({ maxAgeMs: 100, now: () => now });
    const load = async () => ++loads;
    expect(await Promise.all([cache.get('a', load), cache.get('a', load)])).toEqual([1, 1]);
    now = 99;
    expect(await cache.get('a', load)).toBe(1);
    now = 100;
    expect(await cache.get('a', load)).toBe(2);
  });

  it('does not keep failed loads', async () => {
    const cache = new ExpiringCache<string>({ maxAgeMs: 10_000 });
    await expect(cache.get('a', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    await expect(cache.get('a', async () => 'up')).resolves.toBe('up');
  });

  it('evicts the least recently used entry beyond maxEntries', async () => {
    let loads = 0;
    const cache = new ExpiringCache<number>({ maxAgeMs: 10_000, maxEntries: 2 });
    const load = async () => ++loads;
    await cache.get('a', load);
    await cache.get('b', load);
    await cache.get('a', load); // a is now the most recently used
    await cache.get('c', load); // evicts b
    expect(await cache.get('a', load)).toBe(1);
    expect(await cache.get('b', load)).toBe(4);
  });

  it('evicts the oldest entry beyond maxEntries when none was used again', async () => {
    let loads = 0;
    const cache = new ExpiringCache<number>({ maxAgeMs: 10_000, maxEntries: 2 });
    const load = async () => ++loads;
    await cache.get('a', load);
    await cache.get('b', load);
    await cache.get('c', load);
    expect(await cache.get('a', load)).toBe(4);
  });
});

describe('CredentialSecrets', () => {
  it('fetches a secret once, but does not remember that one was missing', async () => {
    const secrets = new MemorySecretStore();
    const get = jest.spyOn(secrets, 'get');
    const credentials = new CredentialSecrets(secrets);
    const credential = { id: 'c1', accessKeyId: 'AK', secretName: 'name' };
    expect(await credentials.resolve(credential)).toBeUndefined();
    await secrets.put('name', 'value');
    expect(await credentials.resolve(credential)).toBe('value');
    expect(await credentials.resolve(credential)).toBe('value');
    expect(get).toHaveBeenCalledTimes(2);
  });
});

describe('DeepHealthCheck', () => {
  const key: HsmKeyRef = { partition: TEST_PARTITION, objectId: 'hc' };
  const store: HealthCheckedStore = { id: 'ks-1', healthCheckKey: key };

  function slowCrypto(delayMs: number, clock: { now: number }): KeyCrypto {
    const inner = new MemoryKeyCrypto();
    inner.addKey('hc');
    return {
      encrypt: async (k, p, a) => {
        clock.now += delayMs;
        return inner.encrypt(k, p, a);
      },
      decrypt: (k, input: GcmCiphertext, a) => inner.decrypt(k, input, a),
      describe: (k) => inner.describe(k),
    };
  }

  it('reports ACTIVE, and DEGRADED when the check is slower than degradedAfterMs', async () => {
    const clock = { now: 0 };
    expect(await new DeepHealthCheck(slowCrypto(5, clock), { now: () => clock.now }).check(store)).toMatchObject({ ok: true, status: 'ACTIVE' });
    expect(await new DeepHealthCheck(slowCrypto(150, clock), { now: () => clock.now }).check(store)).toMatchObject({ ok: true, status: 'DEGRADED', latencyMs: 150 });
  });

  it('reuses a passing result for maxAgeMs and never a failing one', async () => {
    const clock = { now: 0 };
    const crypto = new MemoryKeyCrypto();
    crypto.addKey('hc');
    const results: boolean[] = [];
    const check = new DeepHealthCheck(crypto, { maxAgeMs: 1_000, now: () => clock.now, onResult: (passed) => results.push(passed) });
    await check.check(store);
    await check.check(store);
    clock.now = 1_000;
    crypto.failure = new HsmError('DEVICE_ERROR', 'CKR_DEVICE_ERROR', 'down');
    expect(await check.check(store)).toMatchObject({ ok: false, error: { errorName: 'InternalException' } });
    crypto.failure = undefined;
    expect(await check.check(store)).toMatchObject({ ok: true });
    expect(results).toEqual([true, false, true]);
  });

  it('fails with InternalException when the store\'s health-check ciphertext does not open (another key under the CKA_ID)', async () => {
    // Arrange: a ciphertext made by the key, then new material under the same CKA_ID.
    const crypto = new MemoryKeyCrypto();
    crypto.addKey('hc');
    const sealed: HealthCheckedStore = { ...store, healthCheckCiphertext: await sealHealthCheckCiphertext(crypto, key, store.id) };
    expect(await new DeepHealthCheck(crypto).check(sealed)).toMatchObject({ ok: true });
    crypto.addKey('hc');

    // Act + Assert: the round trip alone would pass; the stored ciphertext does not.
    expect(await new DeepHealthCheck(crypto).check(store)).toMatchObject({ ok: true });
    expect(await new DeepHealthCheck(crypto).check(sealed)).toMatchObject({ ok: false, error: { errorName: 'InternalException' } });
  });

  it('refuses a cache age over one minute (the spec limit)', () => {
    expect(() => new DeepHealthCheck(new MemoryKeyCrypto(), { maxAgeMs: 60_001 })).toThrow(/exceeds/);
  });
});

describe('ExpiringCache refresh ahead', () => {
  it('serves the current value while refreshing in the background, and never past maxAge', async () => {
    let now = 0;
    let loads = 0;
    let release: (() => void) | undefined;
    const cache = new ExpiringCache<number>({ maxAgeMs: 100, refreshAfterMs: 50, now: () => now });
    const load = () => {
      loads += 1;
      const value = loads;
      return loads === 1 ? Promise.resolve(value) : new Promise<number>((resolve) => (release = () => resolve(value)));
    };
    expect(await cache.get('a', load)).toBe(1);
    now = 60;
    expect(await cache.get('a', load)).toBe(1); // refresh started, old value served at once
    expect(await cache.get('a', load)).toBe(1); // one refresh at a time
    expect(loads).toBe(2);
    release?.();
    await new Promise((resolve) => setImmediate(resolve));
    expect(await cache.get('a', load)).toBe(2); // loaded at 60: fresh until 160
    now = 159;
    expect(await cache.get('a', load)).toBe(2);
  });

  it('keeps the value after a failed refresh until maxAge, without retrying at request rate', async () => {
    let now = 0;
    let loads = 0;
    const cache = new ExpiringCache<string>({ maxAgeMs: 100, refreshAfterMs: 50, now: () => now });
    const load = () => (++loads === 1 ? Promise.resolve('v1') : Promise.reject(new Error('down')));
    await cache.get('a', load);
    now = 60;
    expect(await cache.get('a', load)).toBe('v1');
    await new Promise((resolve) => setImmediate(resolve));
    expect(await cache.get('a', load)).toBe('v1');
    expect(loads).toBe(2);
    now = 100;
    await expect(cache.get('a', load)).rejects.toThrow('down');
  });
});
