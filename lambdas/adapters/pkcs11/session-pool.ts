/**
 * Logged-in sessions of one partition, reused across calls, with the key handles found in it.
 *
 * Recovery: a failure that makes the connection suspect (see `invalidatesConnection`) drops the
 * slot, every idle session and every cached key handle; the next call finds the token by label
 * again (re-initialising the library when the label is not seen, see Pkcs11Module), opens new
 * sessions and logs in again. The process is never restarted.
 *
 * The PIN is read from the SecretStore at the first login and kept in memory only. A PIN the HSM
 * rejected is never presented again (HSMs lock a partition after a few wrong PINs): the secret is
 * read again after `pinRetryIntervalMs` and used only if it changed.
 */
import * as pkcs11js from './pkcs11js';
import { HsmError } from '../../core/ports/hsm';
import type { PartitionConnection } from '../../contract/hsm';
import type { SecretStore } from '../../core/ports/secret-store';
import { sessionCallMode, type Pkcs11Config } from './config';
import { Deadline } from './deadline';
import { callPkcs11, invalidatesConnection, toHsmError } from './errors';
import { findSecretKey } from './key-objects';
import { raceOffThread, sessionCall, SessionLease, type CachedKey, type LeaseOwner, type SessionCallSite } from './session-lease';
import type { Pkcs11Module } from './module';
import type { SessionCalls } from './session-call-workers';
import { isError } from '../../core/errors';

/** A slot as found in one generation of the library. */
interface Slot {
  readonly handle: pkcs11js.Handle;
  readonly generation: number;
}

interface PooledSession {
  readonly handle: pkcs11js.Handle;
  /** The pool's epoch and the module's generation when the session was opened. */
  readonly epoch: number;
  readonly generation: number;
}

/** Failures about the request, not the connection: the session stays in the pool. */
const SESSION_KEEPING_REASONS = new Set(['DECRYPT_FAILED', 'KEY_FUNCTION_NOT_PERMITTED', 'KEY_NOT_FOUND']);

/** CKS_RO_USER_FUNCTIONS and CKS_RW_USER_FUNCTIONS (PKCS#11 2.40 §5.7.1; pkcs11js does not export CKS_*). */
const LOGGED_IN_STATES = new Set([1, 3]);

export interface RunOptions {
  /** Run again once after a DEVICE_ERROR. @default true; false for work with side effects (key generation). */
  readonly retry?: boolean;
  /** Read the PIN from the SecretStore again, even one the HSM rejected before (partition test). */
  readonly freshPin?: boolean;
  /**
   * When the caller's whole request must be done (epoch ms): every step here (waiting for a
   * session, opening and logging in, finding the key, the operation, a retry) draws from it.
   * @default - now + callTimeoutMs
   */
  readonly deadlineAt?: number;
}

export class PartitionSessionPool implements LeaseOwner {
  private slot?: Slot;
  /** Bumped by `reset`: sessions of an older epoch are closed instead of reused. */
  private epoch = 0;
  private readonly idle: PooledSession[] = [];
  private open = 0;
  /** Calls waiting for a session, first come first served (see `hand`). */
  private readonly waiters: SessionWaiter[] = [];
  private readonly keys = new Map<string, CachedKey & { readonly foundAt: number; readonly epoch: number }>();
  private pin?: string;
  private rejectedPin?: { readonly value: string; at: number; readonly returnCode: string | undefined };
  /** Whether this partition's session calls (session-call-workers.ts) run on worker threads. */
  private readonly sessionCallsOffThread: boolean;

  constructor(
    readonly partition: PartitionConnection,
    private readonly module: Pkcs11Module,
    private readonly config: Pkcs11Config,
    private readonly secretStore: SecretStore,
  ) {
    this.sessionCallsOffThread = sessionCallMode(partition, config) === 'worker-thread';
  }

  /**
   * Runs `work` with a logged-in session within one call budget. After a failure that drops the
   * connection (a device error, a stale session or handle, a token reported missing) the work
   * runs once more on a fresh connection when `retry` allows and budget remains.
   */
  async run<T>(work: (lease: SessionLease) => Promise<T>, options: RunOptions = {}): Promise<T> {
    const deadline = new Deadline(options.deadlineAt === undefined ? this.config.callTimeoutMs : options.deadlineAt - Date.now());
    if (options.freshPin) {
      this.pin = undefined;
      this.rejectedPin = undefined;
    }
    try {
      // A request whose deadline has passed opens no session and sends nothing to the HSM.
      deadline.check('the start of the call');
      return await this.runOnce(deadline, work);
    } catch (error) {
      const retry = options.retry ?? true;
      if (retry && isError(error, HsmError) && isWorthRetrying(error) && deadline.remainingMs() > 0) {
        return this.runOnce(deadline, work);
      }
      throw error;
    }
  }

  private async runOnce<T>(deadline: Deadline, work: (lease: SessionLease) => Promise<T>): Promise<T> {
    const { pkcs11, slot } = await this.enterWithSlot(deadline);
    let lease: SessionLease | undefined;
    let pooled: PooledSession | undefined;
    let failure: HsmError | undefined;
    const workers = this.sessionCalls;
    // What a C_OpenSession or C_Login that outlives the deadline leaves behind (see openSession).
    const opening: SessionCallSite = { pkcs11, deadline, hsmType: this.partition.hsmType, workers };
    try {
      pooled = await this.acquire(pkcs11, slot, deadline, opening);
      lease = new SessionLease(pkcs11, pooled.handle, deadline, this, this.partition.hsmType, workers);
      return await work(lease);
    } catch (error) {
      failure = toHsmError(error, 'PKCS#11 call');
      if (invalidatesConnection(failure)) {
        this.reset();
        this.config.onConnectionDropped?.(this.partition, failure);
      }
      throw failure;
    } finally {
      const session = pooled;
      const keep = !failure || SESSION_KEEPING_REASONS.has(failure.reason);
      const inFlight = lease?.inFlight ?? opening.inFlight;
      if (inFlight) {
        // The native call still owns the session (and the library must not be finalised under it).
        void inFlight.then(() => {
          if (session) this.discard(session);
          this.module.leave();
        });
      } else {
        if (session) {
          if (keep) this.release(session);
          else this.discard(session);
        }
        this.module.leave();
      }
    }
  }

  /**
   * Enters the module with this partition's slot known. A label the library does not see leads
   * to one re-initialisation of the library (rate-limited), then TOKEN_NOT_FOUND.
   */
  private async enterWithSlot(deadline: Deadline): Promise<{ pkcs11: pkcs11js.PKCS11; slot: Slot }> {
    for (let attempt = 0; ; attempt += 1) {
      const pkcs11 = await this.module.enter(deadline);
      try {
        if (this.slot?.generation !== this.module.generation) {
          // After a re-initialisation every handle number is void and may name another object.
          if (this.slot) this.reset();
          const handle = this.module.findSlot(this.partition.tokenLabel);
          this.slot = handle && { handle, generation: this.module.generation };
        }
      } catch (error) {
        this.module.leave();
        throw error;
      }
      if (this.slot) return { pkcs11, slot: this.slot };
      const seenGeneration = this.module.generation;
      this.module.leave();
      if (attempt > 0) break;
      await this.module.reinitialize(seenGeneration, this.config.reinitializeIntervalMs, deadline);
    }
    throw new HsmError('TOKEN_NOT_FOUND', undefined, `token ${JSON.stringify(this.partition.tokenLabel)} not found`);
  }

  private async acquire(pkcs11: pkcs11js.PKCS11, slot: Slot, deadline: Deadline, opening: SessionCallSite): Promise<PooledSession> {
    for (;;) {
      const idle = this.idle.pop();
      if (idle) {
        if (this.isCurrent(idle)) return idle;
        this.discard(idle);
        continue;
      }
      let grant: SessionGrant;
      if (this.open < this.config.maxSessionsPerPartition) {
        this.open += 1;
        grant = OPEN_SLOT;
      } else {
        grant = await this.waitForGrant(deadline);
      }
      if (grant !== OPEN_SLOT) {
        if (this.isCurrent(grant.session)) return grant.session;
        this.discard(grant.session);
        continue;
      }
      try {
        return await this.openSession(pkcs11, slot, deadline, opening);
      } catch (error) {
        this.freeSlot();
        throw error;
      }
    }
  }

  /**
   * Waits for a session (or room to open one) handed over by `release`, `discard` or a failed
   * open, in arrival order. A grant that arrives as the deadline passes is passed on.
   */
  private async waitForGrant(deadline: Deadline): Promise<SessionGrant> {
    let waiter!: SessionWaiter;
    const granted = new Promise<SessionGrant>((resolve) => {
      waiter = { resolve, settled: false };
    });
    this.waiters.push(waiter);
    try {
      return await deadline.race(granted, 'a free session');
    } catch (error) {
      if (waiter.settled) void granted.then((grant) => (grant === OPEN_SLOT ? this.freeSlot() : this.release(grant.session)));
      waiter.settled = true;
      throw error;
    }
  }

  /**
   * Gives a session (or room to open one) to the longest waiting call. A session set free is handed
   * over directly instead of going back to the idle list: a woken waiter runs only a few microtasks
   * later, and a call arriving meanwhile would take the idle session first, sending the waiter to
   * the back of the line again and again (bench-pkcs11.ts at 32 calls in flight saw calls wait
   * their whole 200 ms deadline for a session).
   */
  private hand(grant: SessionGrant): boolean {
    for (let waiter = this.waiters.shift(); waiter; waiter = this.waiters.shift()) {
      if (waiter.settled) continue;
      waiter.settled = true;
      waiter.resolve(grant);
      return true;
    }
    return false;
  }

  /** Room for one more session: a waiter opens it, or the count goes down. */
  private freeSlot(): void {
    if (!this.hand(OPEN_SLOT)) this.open -= 1;
  }

  /** The module's session-call workers when this partition's session calls run off the event loop. */
  private get sessionCalls(): SessionCalls | undefined {
    return this.sessionCallsOffThread ? this.module.sessionCallWorkers : undefined;
  }

  /**
   * Opens a session on the slot this call found (a concurrent failure may have reset the pool
   * meanwhile: a session on a slot that is gone fails on its own and is mapped). Off the event
   * loop, a C_OpenSession or C_Login that outlives the deadline leaves its session to be closed
   * once the library returns (`opening.inFlight`); it never enters the pool.
   */
  private async openSession(pkcs11: pkcs11js.PKCS11, slot: Slot, deadline: Deadline, opening: SessionCallSite): Promise<PooledSession> {
    const flags = pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION;
    const workers = opening.workers;
    const handle = workers
      ? await raceOffThread(deadline, 'C_OpenSession', this.partition.hsmType, workers.call('C_OpenSession', [slot.handle, flags], deadlineAt(deadline)), (running) => {
          // A session opened too late is nobody's: closed as soon as the library hands it over.
          opening.inFlight = running.then((late) => this.close(late), () => undefined);
        })
      : callPkcs11('C_OpenSession', () => pkcs11.C_OpenSession(slot.handle, flags));
    const pooled: PooledSession = { handle, epoch: this.epoch, generation: slot.generation };
    try {
      const { state } = await sessionCall(opening, 'C_GetSessionInfo', pooled.handle);
      // Login is per application and token: a session opened after the first login is already logged in.
      if (!LOGGED_IN_STATES.has(state)) await this.login(pooled.handle, opening);
      deadline.check('C_OpenSession');
      return pooled;
    } catch (error) {
      if (opening.inFlight) opening.inFlight = opening.inFlight.then(() => this.close(pooled.handle));
      else this.close(pooled.handle);
      throw error;
    }
  }

  /** C_Login on the site's session call path; one that outlives the deadline is left in `site.inFlight`. */
  private async login(session: pkcs11js.Handle, site: SessionCallSite): Promise<void> {
    const pin = await site.deadline.race(this.currentPin(), 'the partition PIN');
    try {
      await sessionCall(site, 'C_Login', session, pkcs11js.CKU_USER, pin);
    } catch (error) {
      const hsmError = toHsmError(error, 'C_Login');
      if (hsmError.reason === 'LOGIN_FAILED') {
        this.pin = undefined;
        this.rejectedPin = { value: pin, at: Date.now(), returnCode: hsmError.returnCode };
      }
      throw hsmError;
    }
  }

  private async currentPin(): Promise<string> {
    if (this.pin !== undefined) return this.pin;
    const rejected = this.rejectedPin;
    if (rejected && Date.now() - rejected.at < this.config.pinRetryIntervalMs) throw this.pinRejected(rejected.returnCode);
    const value = await this.secretStore.get(this.partition.pinSecretName);
    if (value === undefined || value === '') {
      throw new HsmError('LOGIN_FAILED', undefined, `no PIN stored for partition ${JSON.stringify(this.partition.partitionId)}`);
    }
    if (rejected && value === rejected.value) {
      rejected.at = Date.now();
      throw this.pinRejected(rejected.returnCode);
    }
    this.rejectedPin = undefined;
    this.pin = value;
    return value;
  }

  private pinRejected(returnCode: string | undefined): HsmError {
    return new HsmError(
      'LOGIN_FAILED',
      returnCode,
      `the HSM rejected the stored PIN (${returnCode ?? 'login failed'}); it is not presented again until the secret changes`,
    );
  }

  /** Partition test (run with `freshPin`): log out, and log in with the PIN now stored. */
  async relogin(lease: SessionLease): Promise<void> {
    const pin = await lease.deadline.race(this.currentPin(), 'the partition PIN');
    await lease.sessionCall('C_Logout', lease.session);
    // Every session of this application is now logged out; fresh sessions are opened from here on.
    this.epoch += 1;
    this.pin = pin;
    await this.login(lease.session, lease);
  }

  /** Called by SessionLease.key: the cache first, then C_FindObjects + C_GetAttributeValue. */
  async key(lease: SessionLease, objectId: string): Promise<CachedKey | undefined> {
    const cached = this.keys.get(objectId);
    if (cached && cached.epoch === this.epoch && Date.now() - cached.foundAt < this.config.keyCacheMaxAgeMs) return cached;
    const found = await findSecretKey(lease, objectId);
    if (found) this.keys.set(objectId, { ...found, foundAt: Date.now(), epoch: this.epoch });
    else this.keys.delete(objectId);
    return found;
  }

  forgetKey(objectId: string): void {
    this.keys.delete(objectId);
  }

  /** Drops the slot, the idle sessions and the key handles; sessions in use are closed on release. */
  reset(): void {
    this.epoch += 1;
    this.slot = undefined;
    this.keys.clear();
    for (const session of this.idle.splice(0)) this.discard(session);
  }

  private isCurrent(session: PooledSession): boolean {
    return session.epoch === this.epoch && session.generation === this.module.generation;
  }

  private release(session: PooledSession): void {
    if (!this.isCurrent(session)) this.discard(session);
    else if (!this.hand({ session })) this.idle.push(session);
  }

  private discard(session: PooledSession): void {
    // Sessions of an older library generation died with C_Finalize; closing them could hit a
    // reused handle number.
    if (session.generation === this.module.generation) this.close(session.handle);
    this.freeSlot();
  }

  /**
   * C_CloseSession, failures ignored (a session already invalid has nothing left to close), where
   * the partition runs its session calls. Off the event loop nobody waits for it: it takes the
   * next free worker whenever that is (no deadline: a session is never left open for want of
   * one), and holds the module meanwhile, so that no re-initialisation finalises the library
   * under it; during one, nothing is sent (its C_Finalize closes every session).
   */
  private close(session: pkcs11js.Handle): void {
    const workers = this.sessionCalls;
    if (!workers) {
      closeQuietly(this.module.functions, session);
      return;
    }
    const release = this.module.hold();
    if (!release) return;
    workers.call('C_CloseSession', [session], Number.POSITIVE_INFINITY).then(release, release);
  }
}

/** What a waiting call is given: a session to use, or room to open one. */
type SessionGrant = { readonly session: PooledSession } | typeof OPEN_SLOT;
const OPEN_SLOT = Symbol('room to open a session');

interface SessionWaiter {
  readonly resolve: (grant: SessionGrant) => void;
  /** Granted, or given up at its deadline: skipped by `hand` either way. */
  settled: boolean;
}

/**
 * A device error, or a token the library reported missing during the work (a fail-over, a restart):
 * the connection was dropped, so a second attempt finds the token afresh. Not our own "label not
 * found", which already re-initialised the library once.
 */
function isWorthRetrying(error: HsmError): boolean {
  return error.reason === 'DEVICE_ERROR' || (error.reason === 'TOKEN_NOT_FOUND' && error.returnCode !== undefined);
}

function deadlineAt(deadline: Deadline): number {
  return Date.now() + deadline.remainingMs();
}

function closeQuietly(pkcs11: pkcs11js.PKCS11, session: pkcs11js.Handle): void {
  try {
    pkcs11.C_CloseSession(session);
  } catch {
    // Already invalid (token gone, library re-initialised): nothing left to close.
  }
}
