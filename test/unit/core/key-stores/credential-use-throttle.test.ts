import { CredentialUseThrottle } from '../../../../lambdas/core/key-stores/credential-use-throttle';
import type { CredentialUsage } from '../../../../lambdas/core/ports/credential-usage';
import { MemoryCredentialUsage } from '../../../helpers/memory-credential-usage';

describe('CredentialUseThrottle', () => {
  it('writes a credential\'s use at most once a minute, each credential on its own', async () => {
    // Arrange
    const usage = new MemoryCredentialUsage();
    const recordUse = jest.spyOn(usage, 'recordUse');
    let now = 1_000_000;
    const throttle = new CredentialUseThrottle(usage, { now: () => now });

    // Act
    await throttle.note('store', 'a');
    for (let i = 0; i < 100; i += 1) expect(throttle.note('store', 'a')).toBeUndefined();
    await throttle.note('store', 'b');
    now += 59_999;
    expect(throttle.note('store', 'a')).toBeUndefined();
    now += 1;
    await throttle.note('store', 'a');

    // Assert
    expect(recordUse.mock.calls).toEqual([
      ['store', 'a', new Date(1_000_000)],
      ['store', 'b', new Date(1_000_000)],
      ['store', 'a', new Date(1_060_000)],
    ]);
    expect((await usage.lastUses('store')).get('a')).toEqual(new Date(1_060_000));
  });

  it('does not make the caller wait for the write, reports a failed one and tries again on the next use', async () => {
    // Arrange
    let release: () => void = () => undefined;
    const calls: string[] = [];
    const failing: CredentialUsage = {
      recordUse: (_s, id) => {
        calls.push(id);
        return calls.length === 1 ? new Promise((_resolve, reject) => (release = () => reject(new Error('throttled')))) : Promise.resolve();
      },
      lastUses: async () => new Map(),
      forgetStore: async () => undefined,
    };
    const errors: unknown[] = [];
    const throttle = new CredentialUseThrottle(failing, { now: () => 5, onError: (e) => errors.push(e) });

    // Act
    const pending = throttle.note('store', 'a'); // returns at once, the write still open
    const whileOpen = throttle.note('store', 'a');
    const beforeTurnEnded = [...calls];
    await new Promise((resolve) => setImmediate(resolve)); // the write starts once this turn is done
    release();
    await pending;
    await throttle.note('store', 'a');

    // Assert
    expect(beforeTurnEnded).toEqual([]);
    expect(whileOpen).toBeUndefined();
    expect(errors).toHaveLength(1);
    expect(calls).toEqual(['a', 'a']);
  });

  it('remembers a bounded number of credentials', async () => {
    // Arrange
    const usage = new MemoryCredentialUsage();
    const recordUse = jest.spyOn(usage, 'recordUse');
    const throttle = new CredentialUseThrottle(usage, { now: () => 0, maxTracked: 2 });

    // Act
    for (const id of ['a', 'b', 'c', 'a']) await throttle.note('store', id);

    // Assert: 'a' was forgotten when 'c' came, so it is written again.
    expect(recordUse).toHaveBeenCalledTimes(4);
  });
});
