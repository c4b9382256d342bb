/**
 * C_OpenSession, C_Login and the object search (C_FindObjectsInit + C_FindObjects +
 * C_FindObjectsFinal) on worker threads (node:worker_threads), for network HSMs: pkcs11js has no
 * asynchronous form of them, so on the event loop a stalled HSM link would hold the whole
 * function. A worker loads the same PKCS#11 library through its own pkcs11js instance: the
 * library is loaded once per process (dlopen), so the sessions a worker opens and logs in are
 * the process's sessions, usable by the event loop's calls (a login is per application and token).
 *
 * Each worker runs one call at a time. A call that outlives its deadline keeps its worker busy
 * until the library returns; the next calls go to the other workers (at most `maxWorkers`, then
 * they queue, and a queued call whose deadline passes is dropped without ever running).
 * Workers are unref'd (they never keep the process alive) and ended by `terminate`.
 *
 * The worker's code is inlined (`eval`), so that a bundle (the proxy image is one ES module per
 * entry, see lambdas/xks-proxy/Dockerfile) needs no worker file beside it; it loads pkcs11js from
 * the path this module resolves, the one the event loop uses.
 */
import { Worker } from 'node:worker_threads';
import type * as pkcs11js from 'pkcs11js';
import { HsmError } from '../../core/ports/hsm';

/** What runs off the event loop; every other PKCS#11 call stays inline. */
export interface SessionCalls {
  C_OpenSession(slot: pkcs11js.Handle, flags: number, deadlineAt: number): Promise<pkcs11js.Handle>;
  /** Resolves when logged in, CKR_USER_ALREADY_LOGGED_IN included. */
  C_Login(session: pkcs11js.Handle, userType: number, pin: string, deadlineAt: number): Promise<void>;
  /** C_FindObjectsInit + C_FindObjects(max) + C_FindObjectsFinal, as one call. */
  findObjects(session: pkcs11js.Handle, template: pkcs11js.Template, max: number, deadlineAt: number): Promise<pkcs11js.Handle[]>;
}

type CallMessage =
  | { readonly fn: 'C_OpenSession'; readonly args: [Uint8Array, number] }
  | { readonly fn: 'C_Login'; readonly args: [Uint8Array, number, string] }
  | { readonly fn: 'findObjects'; readonly args: [Uint8Array, pkcs11js.Template, number] };

type Reply =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly name: string; readonly message: string };

/** Plain JavaScript (CommonJS, as `eval` workers run): no TypeScript, no imports of the project. */
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
const bytes = (value) => Buffer.from(value.buffer, value.byteOffset, value.byteLength);
const calls = {
  C_OpenSession: (slot, flags) => pkcs11.C_OpenSession(bytes(slot), flags),
  C_Login: (session, userType, pin) => {
    try {
      pkcs11.C_Login(bytes(session), userType, pin);
    } catch (error) {
      if (error.message !== 'CKR_USER_ALREADY_LOGGED_IN') throw error;
    }
  },
  findObjects: (session, template, max) => {
    const handle = bytes(session);
    pkcs11.C_FindObjectsInit(handle, template.map((entry) => (entry.value instanceof Uint8Array ? { type: entry.type, value: bytes(entry.value) } : entry)));
    try {
      return pkcs11.C_FindObjects(handle, max);
    } finally {
      try { pkcs11.C_FindObjectsFinal(handle); } catch {}
    }
  },
};
parentPort.on('message', ({ fn, args }) => {
  try {
    parentPort.postMessage({ ok: true, value: calls[fn](...args) });
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
  ) {}

  /** Threads started so far (alive or ended), for tests. */
  get size(): number {
    return this.workers.length;
  }

  async C_OpenSession(slot: pkcs11js.Handle, flags: number, deadlineAt: number): Promise<pkcs11js.Handle> {
    return Buffer.from((await this.submit({ fn: 'C_OpenSession', args: [slot, flags] }, deadlineAt)) as Uint8Array);
  }

  async C_Login(session: pkcs11js.Handle, userType: number, pin: string, deadlineAt: number): Promise<void> {
    await this.submit({ fn: 'C_Login', args: [session, userType, pin] }, deadlineAt);
  }

  async findObjects(session: pkcs11js.Handle, template: pkcs11js.Template, max: number, deadlineAt: number): Promise<pkcs11js.Handle[]> {
    const handles = (await this.submit({ fn: 'findObjects', args: [session, template, max] }, deadlineAt)) as Uint8Array[];
    return handles.map((handle) => Buffer.from(handle));
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
      worker: new Worker(WORKER_SOURCE, { eval: true, workerData: { pkcs11jsPath: require.resolve('pkcs11js'), libraryPath: this.libraryPath } }),
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
