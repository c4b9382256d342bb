/**
 * An in-memory StateStore for unit tests of services. It keeps the port's contract (all-or-nothing
 * transactions, name claims, versions, bounded counters, guarded deletes, ConflictError with the
 * failed op's conflictMessage); test/integration/state runs the same contract tests against it
 * and against DynamoDbStateStore, so that a service tested on it behaves the same on DynamoDB.
 */
import { ConflictError } from '../../lambdas/core/errors';
import { type EntityKind, type EntityRecord, nameScopeOf, type StateOp, type StateStore } from '../../lambdas/core/ports/state-store';

interface Stored {
  kind: EntityKind;
  id: string;
  data: unknown;
  version: number;
  counters: Record<string, number>;
}

const clone = <T>(value: T): T => structuredClone(value);

export class MemoryStateStore implements StateStore {
  private entities = new Map<string, Stored>();
  private names = new Map<string, string>();
  /** Every transaction applied, in order (for tests that assert "no state change"). */
  readonly transactions: (readonly StateOp[])[] = [];

  async get<T>(kind: EntityKind, id: string): Promise<EntityRecord<T> | undefined> {
    const stored = this.entities.get(`${kind}#${id}`);
    return stored ? (toRecord(stored) as EntityRecord<T>) : undefined;
  }

  async list<T>(kind: EntityKind): Promise<EntityRecord<T>[]> {
    return [...this.entities.values()]
      .filter((e) => e.kind === kind)
      .map((e) => toRecord(e) as EntityRecord<T>);
  }

  async listPage<T>(kind: EntityKind, options: { readonly after?: string; readonly limit: number }): Promise<{ records: EntityRecord<T>[]; next?: string }> {
    const after = options.after;
    const all = (await this.list<T>(kind)).filter((r) => after === undefined || r.id > after).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const records = all.slice(0, options.limit);
    return all.length > options.limit ? { records, next: records[records.length - 1].id } : { records };
  }

  async transact(ops: readonly StateOp[]): Promise<void> {
    const entities = clone(this.entities);
    const names = clone(this.names);
    const touched = new Map<string, StateOp['op'][]>();
    for (const op of ops) {
      const key = `${op.kind}#${op.id}`;
      const before = touched.get(key) ?? [];
      if (before.length > 0 && [...before, op.op].some((o) => o === 'create' || o === 'delete')) {
        throw new Error(`A transaction cannot combine ${op.op} of ${op.kind} ${op.id} with other ops on it`);
      }
      touched.set(key, [...before, op.op]);
      apply(op, entities, names);
    }
    this.entities = entities;
    this.names = names;
    this.transactions.push(ops);
  }
}

function apply(op: StateOp, entities: Map<string, Stored>, names: Map<string, string>): void {
  const key = `${op.kind}#${op.id}`;
  const nameKey = (name: string): string => `${nameScopeOf(op.kind)}#${name}`;
  const fail = (fallback: string): never => {
    throw new ConflictError(op.conflictMessage ?? fallback);
  };
  const existing = entities.get(key);
  const changed = `${op.kind} ${op.id} was changed or removed by another request`;
  switch (op.op) {
    case 'create': {
      if (existing) fail(`${op.kind} ${op.id} already exists`);
      if (op.uniqueName !== undefined) {
        if (names.has(nameKey(op.uniqueName))) fail(`A ${op.kind} named ${JSON.stringify(op.uniqueName)} already exists`);
        names.set(nameKey(op.uniqueName), op.id);
      }
      entities.set(key, { kind: op.kind, id: op.id, data: clone(op.data), version: 1, counters: { ...op.counters } });
      return;
    }
    case 'update': {
      if (!existing || (op.expectedVersion !== undefined && existing.version !== op.expectedVersion)) return fail(changed);
      if (op.rename && op.rename.from !== op.rename.to) {
        const owner = names.get(nameKey(op.rename.from));
        if (owner !== undefined && owner !== op.id) fail(`The name ${JSON.stringify(op.rename.from)} of ${op.kind} ${op.id} is held by another ${op.kind}`);
        if (names.has(nameKey(op.rename.to))) fail(`A ${op.kind} named ${JSON.stringify(op.rename.to)} already exists`);
        names.delete(nameKey(op.rename.from));
        names.set(nameKey(op.rename.to), op.id);
      }
      existing.data = clone(op.data);
      existing.version += 1;
      return;
    }
    case 'delete': {
      if (!existing || (op.expectedVersion !== undefined && existing.version !== op.expectedVersion)) return fail(changed);
      if ((op.requireZero ?? []).some((c) => (existing.counters[c] ?? 0) !== 0)) fail(`${op.kind} ${op.id} is still in use`);
      entities.delete(key);
      if (op.uniqueName !== undefined) {
        const owner = names.get(nameKey(op.uniqueName));
        if (owner !== undefined && owner !== op.id) fail(`The name ${JSON.stringify(op.uniqueName)} of ${op.kind} ${op.id} is held by another ${op.kind}`);
        names.delete(nameKey(op.uniqueName));
      }
      return;
    }
    case 'count': {
      if (!existing) return fail(`${op.kind} ${op.id} does not exist`);
      const value = (existing.counters[op.counter] ?? 0) + op.delta;
      if ((op.min !== undefined && value < op.min) || (op.max !== undefined && value > op.max)) {
        fail(`${op.kind} ${op.id}: ${op.counter} would leave its allowed range`);
      }
      existing.counters[op.counter] = value;
      return;
    }
    case 'check': {
      if (!existing || (op.expectedVersion !== undefined && existing.version !== op.expectedVersion)) fail(changed);
      return;
    }
  }
}

function toRecord(stored: Stored): EntityRecord<unknown> {
  return {
    kind: stored.kind,
    id: stored.id,
    data: clone(stored.data),
    version: stored.version,
    counters: { ...stored.counters },
  };
}
