import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSecretStore } from '../../../lambdas/local/adapters/local-secret-store';

let stateDir: string;

beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'local-secrets-'));
});

afterEach(() => {
  rmSync(stateDir, { recursive: true, force: true });
});

const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));

describe('LocalSecretStore', () => {
  it('round-trips, replaces and deletes secrets', async () => {
    const store = new LocalSecretStore({ stateDir });

    await store.put('xks-key-manager/hsm-pin/p1', 'first');
    await store.put('xks-key-manager/hsm-pin/p1', 'second');
    await store.put('xks-key-manager/xks/ks/c1', 'other');

    await expect(store.get('xks-key-manager/hsm-pin/p1')).resolves.toBe('second');
    await expect(store.get('xks-key-manager/xks/ks/c1')).resolves.toBe('other');
    await store.delete('xks-key-manager/hsm-pin/p1');
    await expect(store.get('xks-key-manager/hsm-pin/p1')).resolves.toBeUndefined();
    await expect(store.delete('never-existed')).resolves.toBeUndefined();
    await expect(store.get('never-existed')).resolves.toBeUndefined();
  });

  it('never writes the plaintext or the name-to-value mapping in the clear, and keeps files private', async () => {
    const plaintext = 'PIN-0123456789-very-recognisable';
    await new LocalSecretStore({ stateDir }).put('xks-key-manager/hsm-pin/p1', plaintext);

    const files = filesUnder(stateDir);
    expect(files).toHaveLength(2); // the key and one secret
    for (const file of files) {
      expect(readFileSync(file).includes(Buffer.from(plaintext))).toBe(false);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    }
    expect(statSync(join(stateDir, 'secrets')).mode & 0o777).toBe(0o700);
  });

  it('creates the key once and reads it back in another instance (a restart)', async () => {
    await new LocalSecretStore({ stateDir }).put('a', 'value');
    const key = readFileSync(join(stateDir, 'secrets.key'));

    await expect(new LocalSecretStore({ stateDir }).get('a')).resolves.toBe('value');
    expect(readFileSync(join(stateDir, 'secrets.key')).equals(key)).toBe(true);
    expect(key).toHaveLength(32);
  });

  it('agrees on one key when several instances start at once', async () => {
    const stores = Array.from({ length: 5 }, () => new LocalSecretStore({ stateDir }));
    await Promise.all(stores.map((s, i) => s.put(`s${i}`, `v${i}`)));

    const reader = new LocalSecretStore({ stateDir });
    await expect(Promise.all(stores.map((_, i) => reader.get(`s${i}`)))).resolves.toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
  });

  it('refuses a secret file moved onto another name', async () => {
    const store = new LocalSecretStore({ stateDir });
    await store.put('victim', 'v');
    await store.put('attacker', 'a');
    const [victimFile, attackerFile] = ['victim', 'attacker'].map((name) => {
      const path = filesUnder(join(stateDir, 'secrets')).find((f) => JSON.parse(readFileSync(f, 'utf8')).name === name);
      return path as string;
    });

    writeFileSync(victimFile, readFileSync(attackerFile));

    await expect(store.get('victim')).rejects.toThrow('The local secret "victim" cannot be decrypted');
  });
});

describe('LocalSecretStore.list', () => {
  it('names the secrets under the kinds\' prefixes with their file times, without decrypting any, and forgets deleted ones', async () => {
    const store = new LocalSecretStore({ stateDir });
    await expect(store.list()).resolves.toEqual([]);
    await store.put('xks-key-manager/hsm-pin/p1', 'pin');
    await store.put('xks-key-manager/xks/ks/c1', 'secret');
    await store.put('something-else/x', 'not ours');
    await store.delete('xks-key-manager/xks/ks/c1');

    const listed = await store.list();

    expect(listed.map((s) => s.name)).toEqual(['xks-key-manager/hsm-pin/p1']);
    expect(listed[0].createdAt.getTime()).toBeGreaterThan(Date.now() - 60_000);
  });
});
