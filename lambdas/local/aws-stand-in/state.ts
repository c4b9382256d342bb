/**
 * The stand-in's state, kept apart per account and region as AWS keeps it, and persisted to a
 * folder so that it survives a restart.
 *
 * A scope (`state.scope(accountId, region)`) holds named collections of JSON records
 * (`scope.collection<KmsKeyRecord>('keys')`). Every `put` and `delete` is appended at once to
 * `<dir>/journal.jsonl`; opening the folder loads `<dir>/snapshot.json`, replays the journal,
 * and writes a fresh snapshot (so the journal stays short). Records are copied on the way in and
 * out: changing an object you got from `get` changes nothing until you `put` it back.
 *
 * One process owns a folder at a time (the runner's lock sees to that for `.local/`).
 * Operations run on one thread, but an operation that awaits (a call to the XKS proxy) must read
 * a record again after the await before it writes it, so that it does not undo a change made
 * meanwhile.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

type JsonRecord = object;

interface JournalEntry {
  /** Scope key: `<accountId>/<region>`, or `global`. */
  readonly s: string;
  /** Collection name. */
  readonly c: string;
  readonly id: string;
  /** The record; absent for a delete. */
  readonly v?: JsonRecord;
}

type Snapshot = Record<string, Record<string, Record<string, JsonRecord>>>;

const SNAPSHOT_FILE = 'snapshot.json';
const JOURNAL_FILE = 'journal.jsonl';
export const GLOBAL_SCOPE = 'global';
/** The state holds key material and secrets: owner only. */
const FILE_MODE = 0o600;

export class Collection<T extends JsonRecord> {
  constructor(
    private readonly records: Map<string, string>,
    private readonly write: (id: string, value: T | undefined) => void,
  ) {}

  get(id: string): T | undefined {
    const text = this.records.get(id);
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }

  has(id: string): boolean {
    return this.records.has(id);
  }

  put(id: string, value: T): void {
    this.write(id, value);
  }

  delete(id: string): boolean {
    if (!this.records.has(id)) return false;
    this.write(id, undefined);
    return true;
  }

  /** Ids in insertion order (the order ListKeys and friends page through). */
  ids(): string[] {
    return [...this.records.keys()];
  }

  /** Every record, in insertion order (copies). */
  values(): T[] {
    return [...this.records.values()].map((text) => JSON.parse(text) as T);
  }

  get size(): number {
    return this.records.size;
  }
}

/** The collections of one account and region (or the global scope). */
export class ScopedState {
  constructor(
    readonly key: string,
    private readonly owner: StandInState,
  ) {}

  collection<T extends JsonRecord>(name: string): Collection<T> {
    return this.owner.collectionOf<T>(this.key, name);
  }
}

export class StandInState {
  /** scope key → collection name → id → serialised record. */
  private readonly data = new Map<string, Map<string, Map<string, string>>>();

  private constructor(private readonly dir: string | undefined) {}

  /** Opens (or creates) a state folder; `undefined` keeps everything in memory only. */
  static open(dir: string | undefined): StandInState {
    const state = new StandInState(dir);
    if (dir === undefined) return state;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const snapshotPath = join(dir, SNAPSHOT_FILE);
    if (existsSync(snapshotPath)) {
      const snapshot = JSON.parse(readFileSync(snapshotPath, 'utf8')) as Snapshot;
      for (const [scope, collections] of Object.entries(snapshot)) {
        for (const [name, records] of Object.entries(collections)) {
          for (const [id, value] of Object.entries(records)) state.records(scope, name).set(id, JSON.stringify(value));
        }
      }
    }
    const journalPath = join(dir, JOURNAL_FILE);
    if (existsSync(journalPath)) {
      for (const line of readFileSync(journalPath, 'utf8').split('\n')) {
        if (!line.trim()) continue;
        let entry: JournalEntry;
        try {
          entry = JSON.parse(line) as JournalEntry;
        } catch {
          continue; // a line cut short by a crash mid-write: the change it held never answered
        }
        state.apply(entry);
      }
    }
    state.compact();
    return state;
  }

  scope(accountId: string, region: string): ScopedState {
    return new ScopedState(`${accountId}/${region}`, this);
  }

  /** State that belongs to no region: accounts, access keys, STS sessions. */
  global(): ScopedState {
    return new ScopedState(GLOBAL_SCOPE, this);
  }

  /** Scope keys (`<accountId>/<region>`) that hold anything in `collection`. */
  scopesWith(collection: string): string[] {
    return [...this.data.entries()].filter(([key, collections]) => key !== GLOBAL_SCOPE && (collections.get(collection)?.size ?? 0) > 0).map(([key]) => key);
  }

  collectionOf<T extends JsonRecord>(scope: string, name: string): Collection<T> {
    const records = this.records(scope, name);
    return new Collection<T>(records, (id, value) => {
      const entry: JournalEntry = value === undefined ? { s: scope, c: name, id } : { s: scope, c: name, id, v: value };
      if (this.dir !== undefined) appendFileSync(join(this.dir, JOURNAL_FILE), `${JSON.stringify(entry)}\n`, { mode: FILE_MODE });
      this.apply(entry);
    });
  }

  /** Writes the snapshot and empties the journal (at open and at stop). */
  compact(): void {
    if (this.dir === undefined) return;
    const snapshot: Snapshot = {};
    for (const [scope, collections] of this.data) {
      for (const [name, records] of collections) {
        if (records.size === 0) continue;
        const out: Record<string, JsonRecord> = {};
        for (const [id, text] of records) out[id] = JSON.parse(text) as JsonRecord;
        (snapshot[scope] ??= {})[name] = out;
      }
    }
    const snapshotPath = join(this.dir, SNAPSHOT_FILE);
    writeFileSync(`${snapshotPath}.tmp`, JSON.stringify(snapshot), { mode: FILE_MODE });
    renameSync(`${snapshotPath}.tmp`, snapshotPath);
    writeFileSync(join(this.dir, JOURNAL_FILE), '', { mode: FILE_MODE });
  }

  private apply(entry: JournalEntry): void {
    const records = this.records(entry.s, entry.c);
    if (entry.v === undefined) records.delete(entry.id);
    else records.set(entry.id, JSON.stringify(entry.v));
  }

  private records(scope: string, name: string): Map<string, string> {
    let collections = this.data.get(scope);
    if (!collections) this.data.set(scope, (collections = new Map()));
    let records = collections.get(name);
    if (!records) collections.set(name, (records = new Map()));
    return records;
  }
}
