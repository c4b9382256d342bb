/**
 * The StateStore contract the control plane relies on (unique names, versioned updates, bounded
 * counters, guarded deletes, all-or-nothing), run against DynamoDbStateStore on DynamoDB Local and
 * against the MemoryStateStore that unit tests use, so that the fake cannot drift from the real one.
 */
import { ConflictError } from '../../../lambdas/core/errors';
import type { StateOp, StateStore } from '../../../lambdas/core/ports/state-store';
import { MemoryStateStore } from '../../helpers/memory-state-store';
import { createTestStateTable } from '../../helpers/state-table';

interface Subject {
  readonly store: StateStore;
  dispose(): Promise<void>;
}

const implementations: [string, () => Promise<Subject>][] = [
  ['DynamoDbStateStore', () => createTestStateTable()],
  ['MemoryStateStore', async () => ({ store: new MemoryStateStore(), dispose: async () => undefined })],
];

let n = 0;
const newId = (prefix: string): string => `${prefix}-${(n += 1)}-${Math.random().toString(36).slice(2, 8)}`;

async function settle(promises: Promise<unknown>[]): Promise<{ fulfilled: number; conflicts: ConflictError[]; others: unknown[] }> {
  const results = await Promise.allSettled(promises);
  const conflicts: ConflictError[] = [];
  const others: unknown[] = [];
  let fulfilled = 0;
  for (const r of results) {
    if (r.status === 'fulfilled') fulfilled += 1;
    else if (r.reason instanceof ConflictError) conflicts.push(r.reason);
    else others.push(r.reason);
  }
  return { fulfilled, conflicts, others };
}

describe.each(implementations)('%s', (_, setUp) => {
  let table: Subject;

  beforeAll(async () => {
    table = await setUp();
  });

  afterAll(async () => {
    await table?.dispose();
  });

  describe('create, get and list', () => {
    it('reads back what was created, with version 1 and its counters', async () => {
      // Arrange
      const id = newId('acc');
      // Act
      await table.store.transact([{ op: 'create', kind: 'account', id, data: { name: id, nested: { a: [1, 'x'] } }, counters: { keyStores: 0 } }]);
      // Assert
      await expect(table.store.get('account', id)).resolves.toEqual({
        kind: 'account',
        id,
        data: { name: id, nested: { a: [1, 'x'] } },
        version: 1,
        counters: { keyStores: 0 },
      });
      await expect(table.store.get('account', 'missing')).resolves.toBeUndefined();
    });

    it('lists every entity of a kind, and never name claims', async () => {
      const partitionA = newId('p');
      const partitionB = newId('p');
      await table.store.transact([
        { op: 'create', kind: 'partition', id: partitionA, data: {}, uniqueName: partitionA },
        { op: 'create', kind: 'partition', id: partitionB, data: {}, uniqueName: partitionB },
        { op: 'create', kind: 'hsmKey', id: 'k1', data: { n: 1 } },
        { op: 'create', kind: 'hsmKey', id: 'k2', data: { n: 2 } },
        { op: 'create', kind: 'hsmKey', id: 'k3', data: { n: 3 } },
      ]);

      expect((await table.store.list('hsmKey')).map((r) => r.id).sort()).toEqual(['k1', 'k2', 'k3']);
      const partitions = await table.store.list('partition');
      expect(partitions.map((r) => r.id)).toEqual(expect.arrayContaining([partitionA, partitionB]));
      expect(partitions.every((r) => r.kind === 'partition')).toBe(true);
    });

    it('pages through a kind in id order, each page at most `limit` long, the cursor after its last id', async () => {
      const prefix = newId('job');
      const ids = Array.from({ length: 5 }, (_, i) => `${prefix}-${i}`);
      await table.store.transact(ids.map((id) => ({ op: 'create' as const, kind: 'job' as const, id, data: {} })));

      const seen: string[] = [];
      let after: string | undefined = `${prefix}-`;
      for (let pages = 0; after !== undefined && pages < 10; pages += 1) {
        const page: { records: { id: string }[]; next?: string } = await table.store.listPage('job', { after, limit: 2 });
        expect(page.records.length).toBeLessThanOrEqual(2);
        seen.push(...page.records.map((r) => r.id).filter((id) => id.startsWith(prefix)));
        after = page.records.some((r) => !r.id.startsWith(prefix)) ? undefined : page.next;
      }

      expect(seen).toEqual(ids);
    });

    it('follows every page of the list index (more than 1 MB of items)', async () => {
      const filler = 'x'.repeat(60_000);
      const ids = Array.from({ length: 25 }, () => newId('vk'));
      for (const id of ids) await table.store.transact([{ op: 'create', kind: 'virtualKey', id, data: { filler } }]);

      const listed = await table.store.list('virtualKey');

      expect(listed.map((r) => r.id).sort()).toEqual([...ids].sort());
    });
  });

  describe('unique names', () => {
    it('lets exactly one of two concurrent creates with the same name win', async () => {
      const name = newId('name');
      const create = (id: string): Promise<void> =>
        table.store.transact([{ op: 'create', kind: 'partition', id, data: { name }, uniqueName: name, conflictMessage: `A partition named ${name} already exists` }]);

      const outcome = await settle([create(newId('p')), create(newId('p'))]);

      expect(outcome.others).toEqual([]);
      expect(outcome.fulfilled).toBe(1);
      expect(outcome.conflicts.map((e) => e.message)).toEqual([`A partition named ${name} already exists`]);
      expect((await table.store.list<{ name: string }>('partition')).filter((r) => r.data.name === name)).toHaveLength(1);
    });

    it('releases the name on delete and moves it on rename', async () => {
      const [first, second] = [newId('p'), newId('p')];
      const [nameA, nameB] = [newId('name'), newId('name')];
      await table.store.transact([{ op: 'create', kind: 'partition', id: first, data: { name: nameA }, uniqueName: nameA }]);
      await table.store.transact([{ op: 'create', kind: 'partition', id: second, data: { name: nameB }, uniqueName: nameB }]);

      // Renaming onto a taken name fails and changes nothing.
      await expect(
        table.store.transact([{ op: 'update', kind: 'partition', id: first, data: { name: nameB }, rename: { from: nameA, to: nameB }, conflictMessage: 'taken' }]),
      ).rejects.toMatchObject({ name: 'ConflictError', message: 'taken' });
      expect((await table.store.get('partition', first))?.data).toEqual({ name: nameA });

      // A successful rename frees the old name for someone else.
      const renamed = newId('name');
      await table.store.transact([{ op: 'update', kind: 'partition', id: first, data: { name: renamed }, rename: { from: nameA, to: renamed } }]);
      await table.store.transact([{ op: 'create', kind: 'partition', id: newId('p'), data: {}, uniqueName: nameA }]);
      await expect(table.store.transact([{ op: 'create', kind: 'partition', id: newId('p'), data: {}, uniqueName: renamed }])).rejects.toBeInstanceOf(ConflictError);

      // Deleting releases the name.
      await table.store.transact([{ op: 'delete', kind: 'partition', id: second, uniqueName: nameB }]);
      await table.store.transact([{ op: 'create', kind: 'partition', id: newId('p'), data: {}, uniqueName: nameB }]);
    });

    it('keeps names per kind', async () => {
      const name = newId('shared');
      await table.store.transact([{ op: 'create', kind: 'partition', id: newId('p'), data: {}, uniqueName: name }]);
      await expect(table.store.transact([{ op: 'create', kind: 'hsmKey', id: newId('k'), data: {}, uniqueName: name }])).resolves.toBeUndefined();
    });

    it('refuses a second entity with the same id', async () => {
      const id = newId('acc');
      await table.store.transact([{ op: 'create', kind: 'account', id, data: { v: 1 } }]);
      await expect(table.store.transact([{ op: 'create', kind: 'account', id, data: { v: 2 } }])).rejects.toThrow(`account ${id} already exists`);
      expect((await table.store.get('account', id))?.data).toEqual({ v: 1 });
    });
  });

  describe('versioned updates', () => {
    it('bumps the version, keeps counters, and refuses a stale expectedVersion', async () => {
      const id = newId('acc');
      await table.store.transact([{ op: 'create', kind: 'account', id, data: { v: 0 }, counters: { keyStores: 2 } }]);

      await table.store.transact([{ op: 'update', kind: 'account', id, data: { v: 1 }, expectedVersion: 1 }]);
      await expect(
        table.store.transact([{ op: 'update', kind: 'account', id, data: { v: 'stale' }, expectedVersion: 1, conflictMessage: 'changed meanwhile' }]),
      ).rejects.toMatchObject({ name: 'ConflictError', message: 'changed meanwhile' });

      await expect(table.store.get('account', id)).resolves.toMatchObject({ data: { v: 1 }, version: 2, counters: { keyStores: 2 } });
    });

    it('lets only one of several concurrent updates of the same version through', async () => {
      const id = newId('acc');
      await table.store.transact([{ op: 'create', kind: 'account', id, data: { v: 0 } }]);

      const outcome = await settle(
        Array.from({ length: 5 }, (_, i) => table.store.transact([{ op: 'update', kind: 'account', id, data: { v: i + 1 }, expectedVersion: 1 }])),
      );

      expect(outcome.others).toEqual([]);
      expect(outcome.fulfilled).toBe(1);
      expect(outcome.conflicts).toHaveLength(4);
      expect((await table.store.get('account', id))?.version).toBe(2);
    });

    it('refuses to update a missing entity', async () => {
      await expect(table.store.transact([{ op: 'update', kind: 'account', id: 'nope', data: {} }])).rejects.toBeInstanceOf(ConflictError);
      await expect(table.store.get('account', 'nope')).resolves.toBeUndefined();
    });
  });

  describe('counters', () => {
    it('never leaves its bounds under 20 concurrent increments', async () => {
      const id = newId('ks');
      await table.store.transact([{ op: 'create', kind: 'keyStore', id, data: {}, counters: { credentials: 0 } }]);

      const outcome = await settle(
        Array.from({ length: 20 }, () =>
          table.store.transact([{ op: 'count', kind: 'keyStore', id, counter: 'credentials', delta: 1, max: 10, conflictMessage: 'too many credentials' }]),
        ),
      );

      expect(outcome.others).toEqual([]);
      const counter = (await table.store.get('keyStore', id))?.counters.credentials;
      expect(counter).toBe(outcome.fulfilled);
      expect(counter).toBeLessThanOrEqual(10);
      expect(outcome.fulfilled).toBe(10);
      // Contention is retried, so every refusal is the bound, and no increment is lost.
      expect(outcome.conflicts.map((e) => e.message)).toEqual(Array(10).fill('too many credentials'));
    });

    it('counts a missing counter as 0 and refuses to go below min', async () => {
      const id = newId('hk');
      await table.store.transact([{ op: 'create', kind: 'hsmKey', id, data: {} }]);

      await expect(table.store.transact([{ op: 'count', kind: 'hsmKey', id, counter: 'references', delta: -1, min: 0 }])).rejects.toThrow(
        `hsmKey ${id}: references would leave its allowed range`,
      );
      await table.store.transact([{ op: 'count', kind: 'hsmKey', id, counter: 'references', delta: 1, min: 0 }]);

      expect((await table.store.get('hsmKey', id))?.counters).toEqual({ references: 1 });
    });

    it('merges several ops on one entity into one write', async () => {
      const id = newId('ks');
      await table.store.transact([{ op: 'create', kind: 'keyStore', id, data: { v: 0 }, counters: { credentials: 2 } }]);

      // Rotate at the maximum: +1 (bounded by max 3) then -1 for the oldest, plus a data update.
      await table.store.transact([
        { op: 'count', kind: 'keyStore', id, counter: 'credentials', delta: 1, max: 3 },
        { op: 'count', kind: 'keyStore', id, counter: 'credentials', delta: -1, min: 0 },
        { op: 'update', kind: 'keyStore', id, data: { v: 1 }, expectedVersion: 1 },
      ]);
      expect(await table.store.get('keyStore', id)).toMatchObject({ data: { v: 1 }, version: 2, counters: { credentials: 2 } });

      // The first op's bound applies to the intermediate value even when the net change is 0.
      await expect(
        table.store.transact([
          { op: 'count', kind: 'keyStore', id, counter: 'credentials', delta: 1, max: 2, conflictMessage: 'at maximum' },
          { op: 'count', kind: 'keyStore', id, counter: 'credentials', delta: -1, min: 0 },
        ]),
      ).rejects.toMatchObject({ name: 'ConflictError', message: 'at maximum' });
    });
  });

  describe('guarded deletes and atomicity', () => {
    it('refuses to delete while a requireZero counter is not 0', async () => {
      const id = newId('acc');
      const name = newId('name');
      await table.store.transact([{ op: 'create', kind: 'account', id, data: {}, uniqueName: name, counters: { keyStores: 1 } }]);
      const remove: StateOp = { op: 'delete', kind: 'account', id, uniqueName: name, requireZero: ['keyStores'], conflictMessage: 'still used by a key store' };

      await expect(table.store.transact([remove])).rejects.toMatchObject({ name: 'ConflictError', message: 'still used by a key store' });
      expect(await table.store.get('account', id)).toBeDefined();
      await expect(table.store.transact([{ op: 'create', kind: 'account', id: newId('acc'), data: {}, uniqueName: name }])).rejects.toBeInstanceOf(ConflictError);

      await table.store.transact([{ op: 'count', kind: 'account', id, counter: 'keyStores', delta: -1, min: 0 }]);
      await table.store.transact([remove]);
      await expect(table.store.get('account', id)).resolves.toBeUndefined();
    });

    it('writes nothing when any op of a transaction fails, and names the failed op', async () => {
      const account = newId('acc');
      const keyStore = newId('ks');
      await table.store.transact([{ op: 'create', kind: 'account', id: account, data: {}, counters: { keyStores: 0 } }]);

      await expect(
        table.store.transact([
          { op: 'create', kind: 'keyStore', id: keyStore, data: {}, uniqueName: keyStore },
          { op: 'count', kind: 'account', id: account, counter: 'keyStores', delta: 1 },
          { op: 'check', kind: 'hsmKey', id: 'missing-key', conflictMessage: 'the health check key is gone' },
        ]),
      ).rejects.toMatchObject({ name: 'ConflictError', message: 'the health check key is gone' });

      await expect(table.store.get('keyStore', keyStore)).resolves.toBeUndefined();
      expect((await table.store.get('account', account))?.counters).toEqual({ keyStores: 0 });
      // The name was not claimed either.
      await table.store.transact([{ op: 'create', kind: 'keyStore', id: newId('ks'), data: {}, uniqueName: keyStore }]);
    });

    it('refuses a stale delete', async () => {
      const id = newId('acc');
      await table.store.transact([{ op: 'create', kind: 'account', id, data: {} }]);
      await table.store.transact([{ op: 'update', kind: 'account', id, data: { v: 2 } }]);
      await expect(table.store.transact([{ op: 'delete', kind: 'account', id, expectedVersion: 1 }])).rejects.toBeInstanceOf(ConflictError);
      expect(await table.store.get('account', id)).toBeDefined();
    });
  });
});
