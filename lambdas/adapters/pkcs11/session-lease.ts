/**
 * What a unit of work on a partition gets from its session pool (session-pool.ts): one logged-in
 * session for its exclusive use, the call's deadline, and the pool's key-handle cache. Kept apart
 * from the pool so that the key-object functions (key-objects.ts), which the pool itself uses to
 * find keys, depend on the lease and not on the pool.
 */
import type * as pkcs11js from 'pkcs11js';
import type { HsmKeyInfo, HsmType } from '../../contract/hsm';
import type { Deadline } from './deadline';
import { callPkcs11, toHsmError } from './errors';

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

/** What a unit of work gets: one logged-in session for its exclusive use, and the call's deadline. */
export class SessionLease {
  /** A native call still running after the deadline: the session is closed once it returns. */
  inFlight?: Promise<void>;

  constructor(
    readonly pkcs11: pkcs11js.PKCS11,
    readonly session: pkcs11js.Handle,
    readonly deadline: Deadline,
    private readonly owner: LeaseOwner,
    /** The partition's HSM type: what a failure code means depends on it (errors.ts). */
    readonly hsmType: HsmType,
  ) {}

  /** A blocking PKCS#11 call: failures mapped to HsmError, then the budget checked. */
  call<T>(pkcs11Function: string, fn: () => T): T {
    const result = callPkcs11(pkcs11Function, fn, this.hsmType);
    this.deadline.check(pkcs11Function);
    return result;
  }

  /** A PKCS#11 call on a worker thread (pkcs11js `…Async`, or session-call-workers.ts), raced against the budget. */
  callAsync<T>(pkcs11Function: string, fn: () => Promise<T>): Promise<T> {
    return raceOffThread(this.deadline, pkcs11Function, this.hsmType, fn(), (running) => {
      this.inFlight = running.then(
        () => undefined,
        () => undefined,
      );
    });
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
