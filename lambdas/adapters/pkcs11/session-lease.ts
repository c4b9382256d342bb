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
  key(lease: SessionLease, objectId: string): CachedKey | undefined;
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

  /** A PKCS#11 call on a worker thread (pkcs11js `…Async`), raced against the budget. */
  async callAsync<T>(pkcs11Function: string, fn: () => Promise<T>): Promise<T> {
    const running = fn();
    try {
      return await this.deadline.race(running, pkcs11Function);
    } catch (error) {
      const hsmError = toHsmError(error, pkcs11Function, this.hsmType);
      if (hsmError.reason === 'TIMEOUT') {
        this.inFlight = running.then(
          () => undefined,
          () => undefined,
        );
      }
      throw hsmError;
    }
  }

  /** The key with this CKA_ID (cached with its attributes), or undefined when the partition has none. */
  key(objectId: string): CachedKey | undefined {
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
