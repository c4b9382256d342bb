/**
 * One loaded PKCS#11 library per path, for the whole process. A library is a process-wide
 * resource: C_Initialize/C_Finalize act on every session any caller opened through it, so the
 * XKS proxy and the HSM agent, when they share a process (local mode), must share the module.
 *
 * Re-initialisation: SoftHSM2 (and some vendor libraries) enumerate tokens only in C_Initialize,
 * so a token that was unavailable and comes back, or one created after the library was loaded,
 * is only seen after C_Finalize + C_Initialize. `reinitialize` does that safely: it lets calls in
 * flight finish (drain), holds new calls, and bumps `generation` so every pool drops the sessions
 * and handles that C_Finalize invalidated.
 */
import * as pkcs11js from './pkcs11js';
import type { Deadline } from './deadline';
import { callPkcs11, toHsmError } from './errors';
import { SessionCallWorkers, type SessionCalls } from './session-call-workers';

export class Pkcs11Module {
  private initializations = 0;
  private readonly pkcs11 = new pkcs11js.PKCS11();
  private loaded = false;
  private active = 0;
  private readonly idleWaiters: (() => void)[] = [];
  private reinitializing?: Promise<void>;
  private lastReinitializedAt = Number.NEGATIVE_INFINITY;
  private workers?: SessionCallWorkers;

  constructor(readonly libraryPath: string) {}

  /** Increases with every re-initialisation; sessions, slots and handles belong to one generation. */
  get generation(): number {
    return this.initializations;
  }

  /** The library's functions, for calls made while entered (see `enter`). */
  get functions(): pkcs11js.PKCS11 {
    return this.pkcs11;
  }

  /**
   * The session calls (session-call-workers.ts) on worker threads (started on first use), for
   * partitions whose session calls run off the event loop (config.ts sessionCallMode). Call
   * while entered: the workers use the library this module loaded and initialised.
   */
  get sessionCallWorkers(): SessionCalls {
    this.workers ??= new SessionCallWorkers(this.libraryPath);
    return this.workers;
  }

  /** Ends the worker threads, if any were started (process shutdown). */
  async terminateWorkers(): Promise<void> {
    const workers = this.workers;
    this.workers = undefined;
    await workers?.terminate();
  }

  /**
   * Admits one call: waits while a re-initialisation runs, loads the library on first use and
   * returns its PKCS#11 functions. Every `enter` is paired with one `leave`.
   */
  async enter(deadline: Deadline): Promise<pkcs11js.PKCS11> {
    while (this.reinitializing) await deadline.race(this.reinitializing, 'library re-initialisation');
    this.ensureInitialized();
    this.active += 1;
    return this.pkcs11;
  }

  /**
   * For work that outlives the call that entered (a C_CloseSession left to a worker thread): one
   * more hold, released by calling the returned function once. Until then the module is not idle,
   * so no re-initialisation or shutdown finalises the library under it. Undefined while a
   * re-initialisation is under way: it may already have found the module idle, and its
   * C_Finalize ends every session anyway.
   */
  hold(): (() => void) | undefined {
    if (this.reinitializing) return undefined;
    this.active += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.leave();
    };
  }

  leave(): void {
    this.active -= 1;
    if (this.active === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /**
   * Resolves when no call is in flight, including native calls that outlived their budget and
   * still run on a worker thread. Before unloading or finalising anything (process shutdown,
   * re-initialisation), wait for this: finalising under a running call crashes the process.
   */
  whenIdle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** The slot holding the token with this label, if the library currently sees one. Call while entered. */
  findSlot(tokenLabel: string): pkcs11js.Handle | undefined {
    let slots: pkcs11js.Handle[];
    try {
      slots = this.pkcs11.C_GetSlotList(true);
    } catch (error) {
      // Finalised behind our back (another loader of the library in this process): the caller re-initialises.
      if (error instanceof Error && error.message === 'CKR_CRYPTOKI_NOT_INITIALIZED') return undefined;
      throw toHsmError(error, 'C_GetSlotList');
    }
    for (const slot of slots) {
      try {
        if (this.pkcs11.C_GetTokenInfo(slot).label.trimEnd() === tokenLabel) return slot;
      } catch {
        // A token going away between C_GetSlotList and C_GetTokenInfo: not the one we look for.
      }
    }
    return undefined;
  }

  /**
   * C_Finalize + C_Initialize so that the library enumerates its tokens again. Does nothing when
   * another caller already re-initialised since `seenGeneration` (concurrent callers share one
   * run). Runs at most once per `minIntervalMs`, since it drops the sessions of every partition on
   * this library: a caller arriving sooner waits for the next window if its budget reaches it, or
   * returns at once. Call while NOT entered: it waits for every entered call to leave.
   */
  async reinitialize(seenGeneration: number, minIntervalMs: number, deadline: Deadline): Promise<void> {
    for (;;) {
      if (this.reinitializing) return deadline.race(this.reinitializing, 'C_Initialize');
      if (seenGeneration !== this.generation) return;
      const wait = this.lastReinitializedAt + minIntervalMs - Date.now();
      if (wait <= 0) break;
      if (wait >= deadline.remainingMs()) return;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
    this.reinitializing = this.drainAndReinitialize().finally(() => {
      this.reinitializing = undefined;
    });
    return deadline.race(this.reinitializing, 'C_Initialize');
  }

  private async drainAndReinitialize(): Promise<void> {
    await this.whenIdle();
    try {
      this.pkcs11.C_Finalize();
    } catch {
      // Already finalised or never initialised: initialising again is what matters.
    }
    this.initialize();
    this.initializations += 1;
    this.lastReinitializedAt = Date.now();
  }

  private ensureInitialized(): void {
    if (this.loaded) return;
    callPkcs11('load', () => this.pkcs11.load(this.libraryPath));
    this.loaded = true;
    this.initialize();
  }

  private initialize(): void {
    try {
      // OS locking: pkcs11js runs the …Async calls on several worker threads at once.
      this.pkcs11.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    } catch (error) {
      if (!(error instanceof Error && error.message === 'CKR_CRYPTOKI_ALREADY_INITIALIZED')) throw toHsmError(error, 'C_Initialize');
    }
  }

}

const modules = new Map<string, Pkcs11Module>();

/** Resolves when no PKCS#11 call of this process is in flight (graceful shutdown). */
export async function whenPkcs11Idle(): Promise<void> {
  await Promise.all([...modules.values()].map((module) => module.whenIdle()));
}

/**
 * Ends every PKCS#11 worker thread of the process (graceful shutdown, after `whenPkcs11Idle`).
 * They are unref'd, so they never hold a process open; this ends them at once.
 */
export async function terminatePkcs11Workers(): Promise<void> {
  await Promise.all([...modules.values()].map((module) => module.terminateWorkers()));
}

/** The process's module for this library path (created, not yet loaded, on first request). */
export function pkcs11ModuleFor(libraryPath: string): Pkcs11Module {
  let module = modules.get(libraryPath);
  if (!module) {
    module = new Pkcs11Module(libraryPath);
    modules.set(libraryPath, module);
  }
  return module;
}
