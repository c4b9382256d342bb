/**
 * The time budget of one call. pkcs11js can run C_Encrypt/C_Decrypt/C_GenerateKey on libuv
 * worker threads (`…Async`), so those can be raced against a timer (network HSMs always do, see
 * CipherCallMode); the other PKCS#11 functions have no async variant and block the event loop, so
 * the budget is checked after each of them instead, as after an in-line C_Encrypt/C_Decrypt.
 * A native call that loses the race keeps running on its thread; its session is closed when it
 * returns (see SessionLease.abandon), never reused.
 */
import { HsmError } from '../../core/ports/hsm';
import { raceDeadline } from '../../core/race-deadline';

export class Deadline {
  private readonly expiresAt: number;

  constructor(readonly budgetMs: number) {
    this.expiresAt = Date.now() + budgetMs;
  }

  remainingMs(): number {
    return this.expiresAt - Date.now();
  }

  /** Throws TIMEOUT when the budget is spent; `step` says what was being waited for. */
  check(step: string): void {
    if (this.remainingMs() <= 0) throw this.timeout(step);
  }

  /** The promise's outcome, or TIMEOUT if it does not settle within the remaining budget. */
  race<T>(promise: Promise<T>, step: string): Promise<T> {
    return raceDeadline(promise, this.expiresAt, () => this.timeout(step));
  }


  private timeout(step: string): HsmError {
    return new HsmError('TIMEOUT', undefined, `no answer from the HSM within ${this.budgetMs} ms (${step})`);
  }
}
