import { HsmError, type GcmCiphertext, type KeyCrypto } from '../../../lambdas/core/ports/hsm';
import type { HsmKeyRef } from '../../../lambdas/contract/hsm';
import { ExpiringCache } from '../../../lambdas/xks-proxy/state/expiring-cache';
import { canServe, DeepHealthCheck, type HealthCheckedStore } from '../../../lambdas/xks-proxy/health/deep-health-check';
import { HealthMonitor } from '../../../lambdas/xks-proxy/health/health-monitor';
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

  /** A MemoryKeyCrypto whose calls on the listed token labels fail as a device error. */
  function cryptoFailingOn(labels: Set<string>): MemoryKeyCrypto {
    const crypto = new MemoryKeyCrypto();
    crypto.addKey('hc');
    const encrypt = crypto.encrypt.bind(crypto);
    crypto.encrypt = async (k, p, a) => {
      if (labels.has(k.partition.tokenLabel)) throw new HsmError('DEVICE_ERROR', 'CKR_DEVICE_ERROR', 'member down');
      return encrypt(k, p, a);
    };
    return crypto;
  }

  it('reports ACTIVE, and DEGRADED when the check is slower than degradedAfterMs', async () => {
    const clock = { now: 0 };
    expect((await new DeepHealthCheck(slowCrypto(5, clock), { now: () => clock.now }).checkFleet(store)).members).toMatchObject([{ id: 'partition-1', status: 'ACTIVE' }]);
    expect((await new DeepHealthCheck(slowCrypto(150, clock), { now: () => clock.now }).checkFleet(store)).members).toMatchObject([{ status: 'DEGRADED', latencyMs: 150 }]);
  });

  it('checks each member on its own token: one down is UNAVAILABLE, the store still serves through the others', async () => {
    // Arrange: an HA group of three; the second member's token fails.
    const members = [{ id: 'hsm-1', tokenLabel: 'member-1' }, { id: 'hsm-2', tokenLabel: 'member-2' }, { id: 'hsm-3', tokenLabel: 'member-3' }];
    const down = new Set(['member-2']);
    const check = new DeepHealthCheck(cryptoFailingOn(down));
    // Act
    const fleet = await check.checkFleet({ ...store, partitionMembers: members });
    // Assert
    expect(fleet.members.map((member) => [member.id, member.status])).toEqual([['hsm-1', 'ACTIVE'], ['hsm-2', 'UNAVAILABLE'], ['hsm-3', 'ACTIVE']]);
    expect(fleet.members[1]?.error?.errorName).toBe('InternalException');
    expect(canServe(fleet)).toBe(true);
    down.add('member-1').add('member-3');
    expect(canServe(await check.checkFleet({ ...store, partitionMembers: members }))).toBe(false);
  });

  it('is UNAVAILABLE when the store\'s health-check ciphertext does not open (another key under the CKA_ID)', async () => {
    // Arrange: a ciphertext made by the key, then new material under the same CKA_ID.
    const crypto = new MemoryKeyCrypto();
    crypto.addKey('hc');
    const sealed: HealthCheckedStore = { ...store, healthCheckCiphertext: await sealHealthCheckCiphertext(crypto, key, store.id) };
    expect((await new DeepHealthCheck(crypto).checkFleet(sealed)).members[0]?.status).toBe('ACTIVE');
    crypto.addKey('hc');

    // Act + Assert: the round trip alone would pass; the stored ciphertext does not.
    expect((await new DeepHealthCheck(crypto).checkFleet(store)).members[0]?.status).toBe('ACTIVE');
    expect((await new DeepHealthCheck(crypto).checkFleet(sealed)).members[0]).toMatchObject({ status: 'UNAVAILABLE', error: { errorName: 'InternalException' } });
  });
});

describe('HealthMonitor', () => {
  const key: HsmKeyRef = { partition: TEST_PARTITION, objectId: 'hc' };
  const store: HealthCheckedStore = { id: 'ks-1', healthCheckKey: key };

  function monitorAt(clock: { now: number }, options: { maxAgeMs?: number } = {}) {
    const crypto = new MemoryKeyCrypto();
    crypto.addKey('hc');
    const results: boolean[] = [];
    const monitor = new HealthMonitor(new DeepHealthCheck(crypto, { now: () => clock.now }), { now: () => clock.now, onResult: (_store, fleet) => results.push(canServe(fleet)), ...options });
    return { crypto, monitor, results };
  }

  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it('answers from the latest result without HSM work while it is at most maxAgeMs old; traffic past refreshAfterMs refreshes it without waiting', async () => {
    // Arrange: a result taken at init.
    const clock = { now: 0 };
    const { crypto, monitor } = monitorAt(clock);
    await monitor.refresh(store);
    expect(crypto.calls.encrypt).toBe(1);
    // Act + Assert: young result, no HSM work; traffic before refreshAfterMs starts nothing.
    clock.now = 10_000;
    monitor.noteTraffic(store);
    await monitor.current(store, Date.now() + 200);
    expect(crypto.calls.encrypt).toBe(1);
    // Traffic after 15 s starts one refresh in the background; GetHealthStatus meanwhile answers the old result.
    clock.now = 16_000;
    monitor.noteTraffic(store);
    monitor.noteTraffic(store);
    expect((await monitor.current(store, Date.now() + 200)).checkedAt).toBe(0);
    await settle();
    expect(crypto.calls.encrypt).toBe(2);
    expect((await monitor.current(store, Date.now() + 200)).checkedAt).toBe(16_000);
  });

  it('with no result younger than maxAgeMs, waits for the refresh within the request deadline; a check that does not finish is UNAVAILABLE', async () => {
    // Arrange: an old result, then an HSM that does not answer.
    const clock = { now: 0 };
    const { crypto, monitor } = monitorAt(clock);
    await monitor.refresh(store);
    clock.now = 31_000;
    // Act + Assert: the request waits for the refresh it starts and gets its result.
    expect((await monitor.current(store, Date.now() + 200)).checkedAt).toBe(31_000);
    clock.now = 62_000;
    let answer!: () => void;
    crypto.encrypt = () => new Promise((_resolve, reject) => (answer = () => reject(new HsmError('TIMEOUT', undefined, 'slow'))));
    const started = Date.now();
    const fleet = await monitor.current(store, started + 50);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(fleet.members).toMatchObject([{ id: 'partition-1', status: 'UNAVAILABLE', error: { errorName: 'DependencyTimeoutException' } }]);
    answer();
  });

  it('records every member UNAVAILABLE as a result (a 200 for GetHealthStatus), and shows recovery at the next refresh', async () => {
    const clock = { now: 0 };
    const { crypto, monitor, results } = monitorAt(clock);
    crypto.failure = new HsmError('TOKEN_NOT_FOUND', undefined, 'gone');
    expect((await monitor.refresh(store)).members).toMatchObject([{ status: 'UNAVAILABLE' }]);
    crypto.failure = undefined;
    clock.now = 15_000;
    await monitor.refreshStale();
    expect((await monitor.current(store, Date.now() + 200)).members).toMatchObject([{ status: 'ACTIVE' }]);
    expect(results).toEqual([false, true]);
  });

  it('the ALB ping refreshes stale results of stores in use only, and a changed store is checked afresh', async () => {
    const clock = { now: 0 };
    const { crypto, monitor } = monitorAt(clock);
    await monitor.refresh(store);
    clock.now = 5_000;
    await monitor.refreshStale();
    expect(crypto.calls.encrypt).toBe(1);
    clock.now = 20_000;
    await monitor.refreshStale();
    expect(crypto.calls.encrypt).toBe(2);
    clock.now = 20_000 + 600_000;
    await monitor.refreshStale();
    expect(crypto.calls.encrypt).toBe(2);
    await monitor.current({ ...store, partitionMembers: [{ id: 'other', tokenLabel: 'token-1' }] }, Date.now() + 200);
    expect(crypto.calls.encrypt).toBe(3);
  });

  it('refuses an age limit over one minute (the spec limit)', () => {
    expect(() => new HealthMonitor(new DeepHealthCheck(new MemoryKeyCrypto()), { maxAgeMs: 60_001 })).toThrow(/exceeds/);
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
