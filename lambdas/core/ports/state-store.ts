/**
 * The state port: every control-plane object is an entity record in one store (DynamoDB on AWS
 * and locally, DynamoDB Local in tests). Invariants are kept by conditions inside one
 * all-or-nothing transaction, never by read-then-write:
 *  - unique names: a `uniqueName` claims (kind, name) in the same transaction as the entity;
 *  - lost updates: `update`/`delete` may carry `expectedVersion`; every update bumps `version`;
 *  - multi-item invariants (credential count ≤ max, no delete while in use): `counters`
 *    adjusted with bounds, and `delete` guarded by `requireZero` counters.
 * When a condition fails the store throws `ConflictError` with the failing op's `conflictMessage`.
 */

export type EntityKind =
  | 'account' // AWS account container
  | 'partition' // HSM partition
  | 'hsmKey' // HSM source key
  | 'keyStore' // external custom key store, with its XKS credentials inside
  | 'cloudHsmKeyStore' // CloudHSM custom key store (AWS_CLOUDHSM)
  | 'virtualKey' // with its versions inside
  | 'awsKey' // AWS key of any kind (HYOK, native, BYOK, CloudHSM)
  | 'jobConfig' // schedule: a job configuration (README "Schedules")
  | 'jobRun' // one run of a job configuration, with its per-target results
  | 'job' // synchronization job (core/jobs/)
  | 'jobPage' // a page of a job's unit whose counts were added to the job (core/jobs/job-runner.ts)
  | 'remoteKeyStore'; // a custom key store found in AWS KMS that is not one of ours (type REMOTE)

/**
 * The kind whose names a kind's `uniqueName` claims share: custom key stores of both types have one
 * namespace, as AWS KMS names them; every other kind has its own.
 */
export function nameScopeOf(kind: EntityKind): EntityKind {
  return kind === 'cloudHsmKeyStore' ? 'keyStore' : kind;
}

export interface EntityRecord<T> {
  readonly kind: EntityKind;
  readonly id: string;
  readonly data: T;
  /** Starts at 1, +1 on every `update`. */
  readonly version: number;
  /** Reference counts and the like, kept apart from `data` so that `update` never overwrites them. */
  readonly counters: Readonly<Record<string, number>>;
}

interface OpBase {
  readonly kind: EntityKind;
  readonly id: string;
  /** Message of the ConflictError thrown when this op's condition fails. */
  readonly conflictMessage?: string;
}

export type StateOp =
  /** Fails if the id exists, or if `uniqueName` is already claimed for the kind. */
  | (OpBase & { readonly op: 'create'; readonly data: unknown; readonly uniqueName?: string; readonly counters?: Record<string, number> })
  /** Replaces `data`. Fails if the entity is missing or its version differs from `expectedVersion`. Moves the name claim when `rename` is given. */
  | (OpBase & { readonly op: 'update'; readonly data: unknown; readonly expectedVersion?: number; readonly rename?: { readonly from: string; readonly to: string } })
  /** Fails if missing, on version mismatch, or if any `requireZero` counter is not 0. Releases `uniqueName`. */
  | (OpBase & { readonly op: 'delete'; readonly expectedVersion?: number; readonly uniqueName?: string; readonly requireZero?: readonly string[] })
  /** Adds `delta` to a counter (missing = 0). Fails if the entity is missing or the result leaves [min, max]. */
  | (OpBase & { readonly op: 'count'; readonly counter: string; readonly delta: number; readonly min?: number; readonly max?: number })
  /** Only a condition: the entity exists (and has `expectedVersion`, when given). */
  | (OpBase & { readonly op: 'check'; readonly expectedVersion?: number });

export interface StateStore {
  get<T>(kind: EntityKind, id: string): Promise<EntityRecord<T> | undefined>;
  /** Every entity of a kind. Unordered. */
  list<T>(kind: EntityKind): Promise<EntityRecord<T>[]>;
  /**
   * At most `limit` entities of a kind, in id order, after the id `after`: what a job reads in one
   * bounded step. `next` is the cursor for the following page; absent on the last one.
   */
  listPage<T>(kind: EntityKind, options: { readonly after?: string; readonly limit: number }): Promise<{ readonly records: EntityRecord<T>[]; readonly next?: string }>;
  /** Applies every op or none. Throws ConflictError (first failed op's message) on a failed condition. */
  transact(ops: readonly StateOp[]): Promise<void>;
}
