/**
 * The PKCS#11 calls that may wait on the HSM and have no asynchronous form in pkcs11js (the
 * session calls: opening, login and logout, object searches, attribute reads, creating and
 * destroying objects, C_SignInit), in one table with two ways to run it: inline on the event loop
 * (INLINE_SESSION_CALLS), or on worker threads (node:worker_threads, SessionCallWorkers) for
 * network HSMs, where on the event loop a stalled HSM link would hold the whole function.
 * C_Encrypt/C_Decrypt/C_GenerateKey(Pair)/C_WrapKey/C_Sign have pkcs11js `…Async` forms and run
 * on libuv's threads instead (SessionLease.callAsync).
 *
 * A worker loads the same PKCS#11 library through its own pkcs11js instance: the library is
 * loaded once per process (dlopen), so the sessions a worker opens and logs in, and the objects it
 * finds, are the process's, usable by the event loop's calls (a login is per application and token).
 *
 * Each worker runs one call at a time. A call that outlives its deadline keeps its worker busy
 * until the library returns; the next calls go to the other workers (at most `maxWorkers`, then
 * they queue, and a queued call whose deadline passes is dropped without ever running).
 * Workers are unref'd (they never keep the process alive) and ended by `terminate`.
 *
 * The worker's code is inlined (`eval`), so that a bundle (the proxy image is one ES module per
 * entry, see lambdas/xks-proxy/Dockerfile) needs no worker file beside it; it loads pkcs11js from
 * the path this module resolves, the one the event loop uses. Its table mirrors
 * INLINE_SESSION_CALLS entry for entry (test/integration/pkcs11/session-call-workers.test.ts runs
 * both on SoftHSM2).
 */
import { Worker } from 'node:worker_threads';
import type * as pkcs11js from 'pkcs11js';
import { HsmError } from '../../core/ports/hsm';

/**
 * The session calls, as both forms run them. Two are more than the PKCS#11 function of their name:
 * `C_FindObjects` is C_FindObjectsInit + C_FindObjects(max) + C_FindObjectsFinal on one session,
 * and `C_Login` / `C_Logout` succeed when the application is already logged in / out.
 */
export interface SessionCallFunctions {
  C_OpenSession(slot: pkcs11js.Handle, flags: number): pkcs11js.Handle;
  C_CloseSession(session: pkcs11js.Handle): void;
  C_GetSessionInfo(session: pkcs11js.Handle): pkcs11js.SessionInfo;
  C_Login(session: pkcs11js.Handle, userType: number, pin: string): void;
  C_Logout(session: pkcs11js.Handle): void;
  C_FindObjects(session: pkcs11js.Handle, template: pkcs11js.Template, max: number): pkcs11js.Handle[];
  C_GetAttributeValue(session: pkcs11js.Handle, object: pkcs11js.Handle, template: pkcs11js.Template): pkcs11js.Template;
  C_CreateObject(session: pkcs11js.Handle, template: pkcs11js.Template): pkcs11js.Handle;
  C_DestroyObject(session: pkcs11js.Handle, object: pkcs11js.Handle): void;
  C_SignInit(session: pkcs11js.Handle, mechanism: pkcs11js.Mechanism, key: pkcs11js.Handle): void;
}

export type SessionCallName = keyof SessionCallFunctions;
export type SessionCallArgs<F extends SessionCallName> = Parameters<SessionCallFunctions[F]>;
export type SessionCallResult<F extends SessionCallName> = ReturnType<SessionCallFunctions[F]>;

/** The session calls on the event loop, on the given library's functions. */
export const INLINE_SESSION_CALLS: { readonly [F in SessionCallName]: (pkcs11: pkcs11js.PKCS11, ...args: SessionCallArgs<F>) => SessionCallResult<F> } = {
  C_OpenSession: (pkcs11, slot, flags) => pkcs11.C_OpenSession(slot, flags),
  C_CloseSession: (pkcs11, session) => {
    pkcs11.C_CloseSession(session);
  },
  C_GetSessionInfo: (pkcs11, session) => pkcs11.C_GetSessionInfo(session),
  C_Login: (pkcs11, session, userType, pin) => {
    try {
      pkcs11.C_Login(session, userType, pin);
    } catch (error) {
      if (!(error instanceof Error && error.message === 'CKR_USER_ALREADY_LOGGED_IN')) throw error;
    }
  },
  C_Logout: (pkcs11, session) => {
    try {
      pkcs11.C_Logout(session);
    } catch (error) {
      if (!(error instanceof Error && error.message === 'CKR_USER_NOT_LOGGED_IN')) throw error;
    }
  },
  C_FindObjects: (pkcs11, session, template, max) => {
    pkcs11.C_FindObjectsInit(session, template);
    try {
      return pkcs11.C_FindObjects(session, max);
    } finally {
      try {
        pkcs11.C_FindObjectsFinal(session);
      } catch {
        // The search's own outcome is what is reported.
      }
    }
  },
  C_GetAttributeValue: (pkcs11, session, object, template) => pkcs11.C_GetAttributeValue(session, object, template),
  C_CreateObject: (pkcs11, session, template) => pkcs11.C_CreateObject(session, template),
  C_DestroyObject: (pkcs11, session, object) => {
    pkcs11.C_DestroyObject(session, object);
  },
  C_SignInit: (pkcs11, session, mechanism, key) => {
    pkcs11.C_SignInit(session, mechanism, key);
  },
};

/**
 * The session calls on worker threads: each settles at the latest at `deadlineAt` when it never
 * started; one given no deadline (Infinity) waits in the queue for a worker however long it takes.
 */
export interface SessionCalls {
  call<F extends SessionCallName>(fn: F, args: SessionCallArgs<F>, deadlineAt: number): Promise<SessionCallResult<F>>;
}

interface CallMessage {
  readonly fn: SessionCallName;
  readonly args: readonly unknown[];
}

type Reply =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly name: string; readonly message: string };

/**
 * Plain JavaScript (CommonJS, as `eval` workers run): no TypeScript, no imports of the project.
 * Messages carry Buffers as plain Uint8Arrays (structured clone): `buffers` turns them back,
 * wherever they sit in the arguments (handles, template values, mechanism parameters).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const pkcs11js = require(workerData.pkcs11jsPath);
const pkcs11 = new pkcs11js.PKCS11();
pkcs11.load(workerData.libraryPath);
try {
  pkcs11.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
} catch (error) {
  if (error.message !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') throw error;
}
const buffers = (value) => {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value)) return value.map(buffers);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([name, entry]) => [name, buffers(entry)]));
  return value;
};
const tolerating = (returnCode, fn) => {
  try {
    fn();
  } catch (error) {
    if (error.message !== returnCode) throw error;
  }
};
const calls = {
  C_OpenSession: (slot, flags) => pkcs11.C_OpenSession(slot, flags),
  C_CloseSession: (session) => { pkcs11.C_CloseSession(session); },
  C_GetSessionInfo: (session) => pkcs11.C_GetSessionInfo(session),
  C_Login: (session, userType, pin) => tolerating('CKR_USER_ALREADY_LOGGED_IN', () => pkcs11.C_Login(session, userType, pin)),
  C_Logout: (session) => tolerating('CKR_USER_NOT_LOGGED_IN', () => pkcs11.C_Logout(session)),
  C_FindObjects: (session, template, max) => {
    pkcs11.C_FindObjectsInit(session, template);
    try {
      return pkcs11.C_FindObjects(session, max);
    } finally {
      try { pkcs11.C_FindObjectsFinal(session); } catch {}
    }
  },
  C_GetAttributeValue: (session, object, template) => pkcs11.C_GetAttributeValue(session, object, template),
  C_CreateObject: (session, template) => pkcs11.C_CreateObject(session, template),
  C_DestroyObject: (session, object) => { pkcs11.C_DestroyObject(session, object); },
  C_SignInit: (session, mechanism, key) => { pkcs11.C_SignInit(session, mechanism, key); },
};
parentPort.on('message', ({ fn, args }) => {
  try {
    parentPort.postMessage({ ok: true, value: calls[fn](...buffers(args)) });
  } catch (error) {
    // pkcs11js puts no argument (PIN, key bytes) into its errors: the name and CKR_ code only.
    const pkcs11Failure = error && error.name === 'Pkcs11Error';
    parentPort.postMessage({ ok: false, name: pkcs11Failure ? 'Pkcs11Error' : 'Error', message: String(error && error.message) });
  }
});
`;

interface Job {
  readonly message: CallMessage;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  readonly step: string;
  timer?: NodeJS.Timeout;
}

interface PooledWorker {
  readonly worker: Worker;
  job?: Job;
}

export class SessionCallWorkers implements SessionCalls {
  private readonly workers: PooledWorker[] = [];
  private readonly queue: Job[] = [];
  private terminated = false;

  constructor(
    private readonly libraryPath: string,
    /** Workers at most; each runs one call at a time. @default 4 */
    private readonly maxWorkers = 4,
    /** The pkcs11js the workers load; tests give one whose calls block as a stalled HSM's do. @default - the one this module loads */
    private readonly pkcs11jsPath = require.resolve('pkcs11js'),
  ) {}

  /** Threads started so far (alive or ended), for tests. */
  get size(): number {
    return this.workers.length;
  }

  async call<F extends SessionCallName>(fn: F, args: SessionCallArgs<F>, deadlineAt: number): Promise<SessionCallResult<F>> {
    return buffers(await this.submit({ fn, args }, deadlineAt)) as SessionCallResult<F>;
  }

  /** Ends every worker (process shutdown). A worker inside a native call ends when the call returns. */
  async terminate(): Promise<void> {
    this.terminated = true;
    for (const job of this.queue.splice(0)) this.fail(job, new HsmError('DEVICE_ERROR', undefined, `${job.step}: the PKCS#11 workers were shut down`));
    await Promise.all(this.workers.splice(0).map(({ worker }) => worker.terminate()));
  }

  /**
   * Runs the call on a free worker, or queues it. Settles at the latest at `deadlineAt` when it
   * never started; once started, only when the library returns (the caller races its deadline).
   */
  private submit(message: CallMessage, deadlineAt: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const job: Job = { message, resolve, reject, step: message.fn };
      if (this.terminated) {
        reject(new HsmError('DEVICE_ERROR', undefined, `${job.step}: the PKCS#11 workers were shut down`));
        return;
      }
      const free = this.freeWorker();
      if (free) {
        this.start(free, job);
        return;
      }
      this.queue.push(job);
      if (deadlineAt === Number.POSITIVE_INFINITY) return;
      job.timer = setTimeout(() => {
        const index = this.queue.indexOf(job);
        if (index >= 0) this.queue.splice(index, 1);
        reject(new HsmError('TIMEOUT', undefined, `no PKCS#11 worker free before the deadline (${job.step})`));
      }, Math.max(0, deadlineAt - Date.now()));
      job.timer.unref();
    });
  }

  private freeWorker(): PooledWorker | undefined {
    const idle = this.workers.find((pooled) => !pooled.job);
    if (idle) return idle;
    if (this.workers.length >= this.maxWorkers) return undefined;
    const pooled: PooledWorker = {
      worker: new Worker(WORKER_SOURCE, { eval: true, workerData: { pkcs11jsPath: this.pkcs11jsPath, libraryPath: this.libraryPath } }),
    };
    pooled.worker.unref();
    pooled.worker.on('message', (reply: Reply) => this.finish(pooled, reply));
    pooled.worker.on('error', (error) => this.retire(pooled, error));
    pooled.worker.on('exit', (code) => this.retire(pooled, new Error(`the PKCS#11 worker exited with code ${code}`)));
    this.workers.push(pooled);
    return pooled;
  }

  private start(pooled: PooledWorker, job: Job): void {
    pooled.job = job;
    pooled.worker.postMessage(job.message);
  }

  private finish(pooled: PooledWorker, reply: Reply): void {
    const job = pooled.job;
    pooled.job = undefined;
    if (job) {
      if (reply.ok) job.resolve(reply.value);
      else job.reject(failureOf(reply));
    }
    this.next(pooled);
  }

  /** A worker that failed or exited: its call fails as a device error, a new worker takes the queue. */
  private retire(pooled: PooledWorker, cause: unknown): void {
    const index = this.workers.indexOf(pooled);
    if (index < 0) return;
    this.workers.splice(index, 1);
    if (pooled.job) this.fail(pooled.job, new HsmError('DEVICE_ERROR', undefined, `${pooled.job.step}: the PKCS#11 worker failed`, { cause }));
    pooled.job = undefined;
    if (!this.terminated && this.queue.length > 0) {
      const free = this.freeWorker();
      if (free) this.next(free);
    }
  }

  private next(pooled: PooledWorker): void {
    const job = this.queue.shift();
    if (!job) return;
    clearTimeout(job.timer);
    this.start(pooled, job);
  }

  private fail(job: Job, error: HsmError): void {
    clearTimeout(job.timer);
    job.reject(error);
  }
}

/**
 * The worker's failure as pkcs11js reports one on this thread: a `Pkcs11Error` (by name; an ES
 * module bundle sees no named exports of the CommonJS pkcs11js) whose message is the CKR_ name.
 */
function failureOf(reply: { readonly name: string; readonly message: string }): Error {
  const error = new Error(reply.message);
  if (reply.name === 'Pkcs11Error') error.name = 'Pkcs11Error';
  return error;
}

/** A worker's reply with its Uint8Arrays (handles, attribute values) as Buffers again, as pkcs11js gives them on this thread. */
function buffers(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value)) return value.map(buffers);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([name, entry]) => [name, buffers(entry)]));
  return value;
}
