/**
 * What a unit of work on a partition gets from its session pool (session-pool.ts): one logged-in
 * session for its exclusive use, the call's deadline, and the pool's key-handle cache. Kept apart
 * from the pool so that the key-object functions (key-objects.ts), which the pool itself uses to
 * find keys, depend on the lease and not on the pool.
 */
import type * as pkcs11js from 'pkcs11js';
import type { HsmKeyInfo, HsmType } from '../../contract/hsm';
import { HsmError } from '../../core/ports/hsm';
import type { Deadline } from './deadline';
import { callPkcs11, toHsmError } from './errors';
import { INLINE_SESSION_CALLS, type SessionCallArgs, type SessionCallName, type SessionCallResult, type SessionCalls } from './session-call-workers';

/** A key object found by CKA_ID, with its attributes as read from the HSM. */
export interface CachedKey {
  readonly handle: pkcs11js.Handle;
  readonly info: HsmKeyInfo;
}

/** The pool side of a lease: key handles cached per partition, and the partition test's re-login. */
export interface LeaseOwner {
  key(lease: SessionLease, objectId: string): Promise<CachedKey | undefined>;
  forgetKey(objectId: string): void;
  relogin(lease: SessionLease): Promise<void>;
}

/**
 * Where the session calls (session-call-workers.ts) of one unit of work go, and what holds one
 * that outlived the deadline: a lease, or the pool while it opens and logs in a session.
 */
export interface SessionCallSite {
  readonly pkcs11: pkcs11js.PKCS11;
  readonly deadline: Deadline;
  /** The partition's HSM type: what a failure code means depends on it (errors.ts). */
  readonly hsmType: HsmType;
  /** Set when the partition's session calls run on worker threads; unset: inline. */
  readonly workers?: SessionCalls | undefined;
  /** A native call still running after the deadline: the session is closed once it returns, never reused. */
  inFlight?: Promise<void>;
}

/** What a unit of work gets: one logged-in session for its exclusive use, and the call's deadline. */
export class SessionLease implements SessionCallSite {
  inFlight?: Promise<void>;

  constructor(
    readonly pkcs11: pkcs11js.PKCS11,
    readonly session: pkcs11js.Handle,
    readonly deadline: Deadline,
    private readonly owner: LeaseOwner,
    readonly hsmType: HsmType,
    /** The partition's session-call workers when its session calls run off the event loop. @default - inline */
    readonly workers?: SessionCalls,
  ) {}

  /** A blocking PKCS#11 call: failures mapped to HsmError, then the budget checked. */
  call<T>(pkcs11Function: string, fn: () => T): T {
    const result = callPkcs11(pkcs11Function, fn, this.hsmType);
    this.deadline.check(pkcs11Function);
    return result;
  }

  /** A PKCS#11 call on a worker thread (pkcs11js `…Async`), raced against the budget. */
  callAsync<T>(pkcs11Function: string, fn: () => Promise<T>): Promise<T> {
    return raceOffThread(this.deadline, pkcs11Function, this.hsmType, fn(), (running) => abandon(this, running));
  }

  /** A session call on this lease's session, where the partition runs its session calls (see `sessionCall`). */
  sessionCall<F extends SessionCallName>(fn: F, ...args: SessionCallArgs<F>): Promise<SessionCallResult<F>> {
    return sessionCall(this, fn, ...args);
  }

  /** The key with this CKA_ID (cached with its attributes), or undefined when the partition has none. */
  key(objectId: string): Promise<CachedKey | undefined> {
    return this.owner.key(this, objectId);
  }

  forgetKey(objectId: string): void {
    this.owner.forgetKey(objectId);
  }

  /** Logs the application out and in again with the PIN now in the SecretStore (partition test). */
  async relogin(): Promise<void> {
    await this.owner.relogin(this);
  }
}

/**
 * One session call (session-call-workers.ts): on a worker thread raced against the deadline when
 * the site has workers, inline otherwise (the budget checked after it). Once a call of the site
 * outlived its deadline, nothing more is sent on its session (TIMEOUT at once), and neither is
 * anything once the deadline has passed.
 */
export async function sessionCall<F extends SessionCallName>(site: SessionCallSite, fn: F, ...args: SessionCallArgs<F>): Promise<SessionCallResult<F>> {
  if (site.inFlight) throw new HsmError('TIMEOUT', undefined, `${fn} not sent: an earlier call on the session is still waiting for the HSM`);
  if (!site.workers) {
    const inline = INLINE_SESSION_CALLS[fn] as (pkcs11: pkcs11js.PKCS11, ...rest: SessionCallArgs<F>) => SessionCallResult<F>;
    const result = callPkcs11(fn, () => inline(site.pkcs11, ...args), site.hsmType);
    site.deadline.check(fn);
    return result;
  }
  site.deadline.check(fn);
  const running = site.workers.call(fn, args, Date.now() + site.deadline.remainingMs());
  return raceOffThread(site.deadline, fn, site.hsmType, running, (late) => abandon(site, late));
}

/** Keeps the call that lost its race (with any earlier one) as what the session waits for before it is closed. */
function abandon(site: SessionCallSite, running: Promise<unknown>): void {
  const settled = running.then(
    () => undefined,
    () => undefined,
  );
  const earlier = site.inFlight;
  site.inFlight = earlier ? Promise.all([earlier, settled]).then(() => undefined) : settled;
}

/**
 * A PKCS#11 call running off the event loop, raced against the deadline; failures mapped to
 * HsmError. A call that loses the race is handed to `onAbandoned` (it keeps running: whatever it
 * holds, a session, the module, is released only once it returns).
 */
export async function raceOffThread<T>(
  deadline: Deadline,
  pkcs11Function: string,
  hsmType: HsmType,
  running: Promise<T>,
  onAbandoned: (running: Promise<T>) => void,
): Promise<T> {
  try {
    return await deadline.race(running, pkcs11Function);
  } catch (error) {
    const hsmError = toHsmError(error, pkcs11Function, hsmType);
    if (hsmError.reason === 'TIMEOUT') onAbandoned(running);
    throw hsmError;
  }
}
