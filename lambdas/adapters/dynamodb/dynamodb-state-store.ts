/**
 * `StateStore` over one DynamoDB table (layout in ./state-table.ts).
 *
 * Every `transact` is one TransactWriteItems call, so its conditions hold together or nothing is
 * written. Ops on the same entity are merged into one item (DynamoDB refuses two actions on one
 * item in a transaction): e.g. `update` + `count` on a key store, or two `count`s of one counter.
 * A failed condition becomes `ConflictError` with the failing op's `conflictMessage`; a
 * `TransactionConflict` (another transaction held the item) is retried, because it says nothing
 * about our conditions. Throttling and service errors become a 503 (dynamodb-errors.ts).
 *
 * Lists read the sparse `byList` index, which on AWS is eventually consistent: a list right after a
 * create may miss it. Invariants never rely on lists (they use counters and conditions).
 */
import { TransactionCanceledException, type CancellationReason, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  paginateQuery,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { STATE_TABLE } from '../../contract/env';
import { ConflictError } from '../../core/errors';
import { type EntityKind, type EntityRecord, nameScopeOf, type StateOp, type StateStore } from '../../core/ports/state-store';
import { stateStoreFailure } from './dynamodb-errors';
import { ENTITY_SK, entityPk, NAME_SK, namePk } from './state-table';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
type CountOp = Extract<StateOp, { op: 'count' }>;

/** What a transact item stands for: the ops it carries and the message its failure means. */
interface PlannedItem {
  readonly item: TransactItem;
  /** The ops merged into this item, in request order (one, except for merged entity ops). */
  readonly ops: readonly StateOp[];
  /** For name-claim items: the message when the claim fails. */
  readonly claimMessage?: string;
}

interface StoredEntity {
  kind: EntityKind;
  id: string;
  data: unknown;
  version: number;
  counters?: Record<string, number>;
}

export interface DynamoDbStateStoreProps {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /**
   * Attempts of a transaction cancelled only by `TransactionConflict` (no failed condition).
   * @default 8
   */
  readonly maxConflictAttempts?: number;
}

const MAX_TRANSACT_ITEMS = 100;
const { partitionKey: PK, sortKey: SK, listIndex } = STATE_TABLE;

export class DynamoDbStateStore implements StateStore {
  private readonly documents: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly maxConflictAttempts: number;

  constructor(props: DynamoDbStateStoreProps) {
    this.documents = DynamoDBDocumentClient.from(props.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.tableName = props.tableName;
    this.maxConflictAttempts = props.maxConflictAttempts ?? 8;
  }

  async get<T>(kind: EntityKind, id: string): Promise<EntityRecord<T> | undefined> {
    const { Item } = await this.documents
      .send(new GetCommand({ TableName: this.tableName, Key: { [PK]: entityPk(kind, id), [SK]: ENTITY_SK }, ConsistentRead: true }))
      .catch((error: unknown) => Promise.reject(stateStoreFailure(error, false)));
    return Item ? toRecord<T>(Item as StoredEntity) : undefined;
  }

  async list<T>(kind: EntityKind): Promise<EntityRecord<T>[]> {
    try {
      return await this.listAll<T>(kind);
    } catch (error) {
      throw stateStoreFailure(error, false);
    }
  }

  async listPage<T>(kind: EntityKind, options: { readonly after?: string; readonly limit: number }): Promise<{ records: EntityRecord<T>[]; next?: string }> {
    const startKey =
      options.after === undefined
        ? undefined
        : { [listIndex.partitionKey]: kind, [listIndex.sortKey]: options.after, [PK]: entityPk(kind, options.after), [SK]: ENTITY_SK };
    try {
      const { Items = [], LastEvaluatedKey } = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: listIndex.name,
          KeyConditionExpression: '#listPk = :kind',
          ExpressionAttributeNames: { '#listPk': listIndex.partitionKey },
          ExpressionAttributeValues: { ':kind': kind },
          Limit: options.limit,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      const records = Items.map((item) => toRecord<T>(item as StoredEntity));
      return LastEvaluatedKey === undefined || records.length === 0 ? { records } : { records, next: records[records.length - 1].id };
    } catch (error) {
      throw stateStoreFailure(error, false);
    }
  }

  private async listAll<T>(kind: EntityKind): Promise<EntityRecord<T>[]> {
    const records: EntityRecord<T>[] = [];
    const pages = paginateQuery(
      { client: this.documents },
      {
        TableName: this.tableName,
        IndexName: listIndex.name,
        KeyConditionExpression: '#listPk = :kind',
        ExpressionAttributeNames: { '#listPk': listIndex.partitionKey },
        ExpressionAttributeValues: { ':kind': kind },
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) records.push(toRecord<T>(item as StoredEntity));
    }
    return records;
  }

  async transact(ops: readonly StateOp[]): Promise<void> {
    if (ops.length === 0) return;
    const plan = this.plan(ops);
    if (plan.length > MAX_TRANSACT_ITEMS) {
      throw new Error(`A transaction may write at most ${MAX_TRANSACT_ITEMS} items; this one needs ${plan.length}`);
    }
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.documents.send(new TransactWriteCommand({ TransactItems: plan.map((p) => p.item) }));
        return;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw stateStoreFailure(error, true);
        const reasons = error.CancellationReasons ?? [];
        const failed = reasons.findIndex((r) => r.Code === 'ConditionalCheckFailed');
        if (failed >= 0) throw new ConflictError(conflictMessage(plan[failed], reasons[failed]), { cause: error });
        if (!reasons.some((r) => r.Code === 'TransactionConflict')) throw stateStoreFailure(error, true);
        if (attempt >= this.maxConflictAttempts) {
          throw new ConflictError('The resource is being changed by another request; please retry', { cause: error });
        }
        await sleep(Math.random() * 20 * attempt);
      }
    }
  }

  /** One transact item per touched DynamoDB item, in request order. */
  private plan(ops: readonly StateOp[]): PlannedItem[] {
    const byEntity = new Map<string, StateOp[]>();
    for (const op of ops) {
      const key = entityPk(op.kind, op.id);
      byEntity.set(key, [...(byEntity.get(key) ?? []), op]);
    }
    const plan: PlannedItem[] = [];
    for (const group of byEntity.values()) {
      const [first] = group;
      if (group.length > 1 && group.some((op) => op.op === 'create' || op.op === 'delete')) {
        throw new Error(`A transaction cannot combine ${first.op} of ${first.kind} ${first.id} with other ops on it`);
      }
      if (first.op === 'create') plan.push(...this.planCreate(first));
      else if (first.op === 'delete') plan.push(...this.planDelete(first));
      else plan.push(...this.planChange(group));
    }
    return plan;
  }

  private planCreate(op: Extract<StateOp, { op: 'create' }>): PlannedItem[] {
    const entity: Record<string, unknown> = {
      [PK]: entityPk(op.kind, op.id),
      [SK]: ENTITY_SK,
      [listIndex.partitionKey]: op.kind,
      [listIndex.sortKey]: op.id,
      kind: op.kind,
      id: op.id,
      data: op.data,
      version: 1,
      counters: op.counters ?? {},
    };
    const items: PlannedItem[] = [
      { ops: [op], item: { Put: { TableName: this.tableName, Item: entity, ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': PK } } } },
    ];
    if (op.uniqueName !== undefined) items.push(this.claimName(op, op.uniqueName));
    return items;
  }

  private planDelete(op: Extract<StateOp, { op: 'delete' }>): PlannedItem[] {
    const condition = new Condition();
    condition.add(`attribute_exists(${condition.name(PK)})`);
    if (op.expectedVersion !== undefined) condition.add(`${condition.name('version')} = ${condition.value(op.expectedVersion)}`);
    for (const counter of op.requireZero ?? []) {
      const path = `${condition.name('counters')}.${condition.name(counter)}`;
      condition.add(`(attribute_not_exists(${path}) OR ${path} = ${condition.value(0)})`);
    }
    const items: PlannedItem[] = [
      { ops: [op], item: { Delete: { TableName: this.tableName, Key: { [PK]: entityPk(op.kind, op.id), [SK]: ENTITY_SK }, ...condition.expression() } } },
    ];
    if (op.uniqueName !== undefined) items.push(this.releaseName(op, op.uniqueName));
    return items;
  }

  /** `update`, `count` and `check` ops on one entity, merged into one Update (or ConditionCheck). */
  private planChange(group: readonly StateOp[]): PlannedItem[] {
    const { kind, id } = group[0];
    const key = { [PK]: entityPk(kind, id), [SK]: ENTITY_SK };
    const condition = new Condition();
    condition.add(`attribute_exists(${condition.name(PK)})`);
    const sets: string[] = [];
    const items: PlannedItem[] = [];
    let updates = 0;
    let data: unknown;
    for (const op of group) {
      if ((op.op === 'update' || op.op === 'check') && op.expectedVersion !== undefined) {
        condition.add(`${condition.name('version')} = ${condition.value(op.expectedVersion)}`);
      }
      if (op.op === 'update') {
        updates += 1;
        data = op.data;
        if (op.rename && op.rename.from !== op.rename.to) {
          items.push(this.releaseName(op, op.rename.from), this.claimName(op, op.rename.to));
        }
      }
    }
    for (const [counter, { delta, lowest, highest }] of counterRanges(group)) {
      const path = `${condition.name('counters')}.${condition.name(counter)}`;
      const bounds = [
        lowest === undefined ? undefined : `${path} >= ${condition.value(lowest)}`,
        highest === undefined ? undefined : `${path} <= ${condition.value(highest)}`,
      ].filter((b): b is string => b !== undefined);
      if (bounds.length > 0) {
        // A missing counter counts as 0, so it passes exactly when 0 lies in the range.
        const zeroAllowed = (lowest === undefined || lowest <= 0) && (highest === undefined || highest >= 0);
        const within = bounds.join(' AND ');
        condition.add(zeroAllowed ? `(attribute_not_exists(${path}) OR (${within}))` : `(${within})`);
      }
      sets.push(`${path} = if_not_exists(${path}, ${condition.value(0)}) + ${condition.value(delta)}`);
    }
    if (updates > 0) {
      sets.push(`${condition.name('data')} = ${condition.value(data)}`);
      sets.push(`${condition.name('version')} = ${condition.name('version')} + ${condition.value(updates)}`);
    }
    const item: TransactItem =
      sets.length === 0
        ? { ConditionCheck: { TableName: this.tableName, Key: key, ...condition.expression() } }
        : { Update: { TableName: this.tableName, Key: key, UpdateExpression: `SET ${sets.join(', ')}`, ...condition.expression() } };
    return [{ ops: group, item }, ...items];
  }

  private claimName(op: StateOp, name: string): PlannedItem {
    return {
      ops: [op],
      claimMessage: op.conflictMessage ?? `A ${op.kind} named ${JSON.stringify(name)} already exists`,
      item: {
        Put: {
          TableName: this.tableName,
          Item: { [PK]: namePk(nameScopeOf(op.kind), name), [SK]: NAME_SK, kind: op.kind, name, owner: op.id },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PK },
        },
      },
    };
  }

  /** Deletes a name claim if this entity holds it (a claim held by another entity is left alone: conflict). */
  private releaseName(op: StateOp, name: string): PlannedItem {
    return {
      ops: [op],
      claimMessage: op.conflictMessage ?? `The name ${JSON.stringify(name)} of ${op.kind} ${op.id} is held by another ${op.kind}`,
      item: {
        Delete: {
          TableName: this.tableName,
          Key: { [PK]: namePk(nameScopeOf(op.kind), name), [SK]: NAME_SK },
          ConditionExpression: 'attribute_not_exists(#pk) OR #owner = :owner',
          ExpressionAttributeNames: { '#pk': PK, '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': op.id },
        },
      },
    };
  }
}

/**
 * For each counter touched by `count` ops: the total delta, and the range the counter's value
 * *before* the transaction must lie in so that every op's result (applied in order) stays within
 * that op's bounds.
 */
function counterRanges(group: readonly StateOp[]): Map<string, { delta: number; lowest?: number; highest?: number }> {
  const ranges = new Map<string, { delta: number; lowest?: number; highest?: number }>();
  for (const op of group) {
    if (op.op !== 'count') continue;
    const range = ranges.get(op.counter) ?? { delta: 0 };
    const delta = range.delta + op.delta;
    const lowest = op.min === undefined ? range.lowest : Math.max(range.lowest ?? -Infinity, op.min - delta);
    const highest = op.max === undefined ? range.highest : Math.min(range.highest ?? Infinity, op.max - delta);
    ranges.set(op.counter, { delta, lowest, highest });
  }
  return ranges;
}

/** The message of the op whose condition failed, judged from the item DynamoDB returned when it did. */
function conflictMessage(planned: PlannedItem, reason: CancellationReason): string {
  if (planned.claimMessage !== undefined) return planned.claimMessage;
  const old = reason.Item ? unmarshallLoosely(reason.Item) : undefined;
  const culprit = (old ? planned.ops.find((op) => !holds(op, old, planned.ops)) : undefined) ?? planned.ops[0];
  return culprit.conflictMessage ?? defaultMessage(culprit, old);
}

function holds(op: StateOp, old: Partial<StoredEntity>, group: readonly StateOp[]): boolean {
  if (old.version === undefined) return false;
  if ('expectedVersion' in op && op.expectedVersion !== undefined && op.expectedVersion !== old.version) return false;
  if (op.op === 'delete') return (op.requireZero ?? []).every((c) => (old.counters?.[c] ?? 0) === 0);
  if (op.op !== 'count') return true;
  // Value after this op and every earlier count of the same counter in the group.
  const before = group.slice(0, group.indexOf(op) + 1).filter((o): o is CountOp => o.op === 'count' && o.counter === op.counter);
  const value = (old.counters?.[op.counter] ?? 0) + before.reduce((sum, o) => sum + o.delta, 0);
  return (op.min === undefined || value >= op.min) && (op.max === undefined || value <= op.max);
}

function defaultMessage(op: StateOp, old: Partial<StoredEntity> | undefined): string {
  const what = `${op.kind} ${op.id}`;
  switch (op.op) {
    case 'create':
      return `${what} already exists`;
    case 'count':
      return old ? `${what}: ${op.counter} would leave its allowed range` : `${what} does not exist`;
    case 'delete':
      return old && (op.expectedVersion === undefined || op.expectedVersion === old.version) ? `${what} is still in use` : `${what} was changed or removed by another request`;
    default:
      return `${what} was changed or removed by another request`;
  }
}

/** CancellationReason.Item comes back in attribute-value form (`{N: '3'}`); only version and counters are read. */
function unmarshallLoosely(item: Record<string, unknown>): Partial<StoredEntity> {
  const number = (value: unknown): number | undefined =>
    typeof value === 'number' ? value : typeof (value as { N?: unknown } | undefined)?.N === 'string' ? Number((value as { N: string }).N) : undefined;
  const rawCounters = item.counters as { M?: Record<string, unknown> } | Record<string, unknown> | undefined;
  const counterMap = (rawCounters && 'M' in rawCounters ? rawCounters.M : rawCounters) ?? {};
  const counters: Record<string, number> = {};
  for (const [name, value] of Object.entries(counterMap as Record<string, unknown>)) counters[name] = number(value) ?? 0;
  return { version: number(item.version), counters };
}

function toRecord<T>(item: StoredEntity): EntityRecord<T> {
  return {
    kind: item.kind,
    id: item.id,
    data: item.data as T,
    version: item.version,
    counters: item.counters ?? {},
  };
}

/** Builds condition expressions with generated placeholders (counter names are free text). */
class Condition {
  private readonly parts: string[] = [];
  private readonly names: Record<string, string> = {};
  private readonly values: Record<string, unknown> = {};

  add(part: string): void {
    this.parts.push(part);
  }

  name(attribute: string): string {
    const existing = Object.entries(this.names).find(([, n]) => n === attribute);
    if (existing) return existing[0];
    const placeholder = `#n${Object.keys(this.names).length}`;
    this.names[placeholder] = attribute;
    return placeholder;
  }

  value(value: unknown): string {
    const placeholder = `:v${Object.keys(this.values).length}`;
    this.values[placeholder] = value;
    return placeholder;
  }

  expression(): {
    ConditionExpression: string;
    ExpressionAttributeNames: Record<string, string>;
    ExpressionAttributeValues?: Record<string, unknown>;
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD';
  } {
    return {
      ConditionExpression: this.parts.join(' AND '),
      // Lets conflictMessage() tell which of several merged ops failed.
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      ExpressionAttributeNames: this.names,
      ...(Object.keys(this.values).length > 0 ? { ExpressionAttributeValues: this.values } : {}),
    };
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
