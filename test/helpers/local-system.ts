/**
 * The whole local system for end-to-end tests: bin/local.ts in a child process with its own state
 * folder and free ports, exactly as `npm start` runs it. Resolves once `<state>/endpoints.json`
 * is written.
 *
 *   const system = await startLocalSystem();
 *   await fetch(`${system.apiUrl}/v1/cckm/aws/kms`, { headers: { Authorization: `Bearer ${system.adminToken}` } });
 *   await system.stop();
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { issueLocalToken, loadOrCreateSigningKey } from '../../lambdas/local/adapters/local-tokens';
import type { LocalEndpoints } from '../../lambdas/local/runner';
import { collectOutput, stopChild } from '../../lambdas/local/child-process';
import { freePort } from '../../lambdas/local/free-port';

const REPOSITORY_ROOT = resolve(__dirname, '..', '..');
const OUTPUT_TAIL_CHARS = 20_000;

export interface LocalSystemOptions {
  /**
   * State folder to use (kept after stop, so that a second start finds the same state).
   * @default - a fresh temp folder, removed by stop()
   */
  readonly stateDir?: string;
  /** How long to wait for endpoints.json. @default 90_000 ms */
  readonly startTimeoutMs?: number;
  /** How much of the runner's output `output()` keeps (its last characters). @default 20_000 */
  readonly outputTailChars?: number;
  /**
   * `manual`: the in-process scheduler's clock moves only by `tickScheduler` (`--scheduler-clock manual`,
   * over an IPC channel), so tests make schedules fall due without waiting. @default 'system'
   */
  readonly schedulerClock?: 'system' | 'manual';
  /** Node.js options for the runner process (bench:xks passes `--cpu-prof` here). @default none */
  readonly nodeArgs?: readonly string[];
  /**
   * Write the runner's output to `<stateDir>/runner-output.log` instead of a pipe to this process
   * (`output()` then reads the file's tail). bench:xks does: through a pipe, the load generator
   * would read every request line the proxy logs, and the runner, whose writes to a pipe block
   * once the pipe is full, would wait on it. @default false
   */
  readonly outputToFile?: boolean;
}

/** What one scheduler tick made (the job runs, as GET /v1/scheduler/jobs/{id} shows them). */
export interface SchedulerTick {
  readonly runs: readonly any[];
}

export interface LocalSystem extends LocalEndpoints {
  readonly stateDir: string;
  readonly pid: number;
  /** What the runner printed so far (stdout and stderr, the last `outputTailChars` characters). */
  output(): string;
  /** A token for any user, signed by this system's key (e.g. a non-admin for 403 tests). */
  issueToken(username: string, groups: readonly string[]): Promise<string>;
  /** With `schedulerClock: 'manual'`: runs what is due at `now` (and queued run-nows); resolves when those runs are done. */
  tickScheduler(now: Date): Promise<SchedulerTick>;
  /** SIGTERM (as Ctrl-C would), waits for the runner to exit; removes a temp state folder. */
  stop(): Promise<void>;
}

export interface RunnerProcess {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
}

/** Starts bin/local.ts with `args` (a low-level handle; most tests want startLocalSystem). */
export function spawnRunner(
  args: readonly string[],
  outputTailChars = OUTPUT_TAIL_CHARS,
  options: { readonly ipc?: boolean; readonly nodeArgs?: readonly string[]; readonly outputFile?: string } = {},
): RunnerProcess {
  const { outputFile } = options;
  const outputFd = outputFile === undefined ? undefined : openSync(outputFile, 'a');
  const out = outputFd ?? 'pipe';
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', join(REPOSITORY_ROOT, 'bin', 'local.ts'), ...args], {
    cwd: REPOSITORY_ROOT,
    env: process.env,
    stdio: options.ipc ? ['ignore', out, out, 'ipc'] : ['ignore', out, out],
  });
  if (outputFd !== undefined) closeSync(outputFd); // the child has its own copy
  const output = outputFile === undefined ? collectOutput(child, outputTailChars) : () => fileTail(outputFile, outputTailChars);
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  return { child, output, exited };
}

/** The last `maxChars` characters of a file (empty when it does not exist yet). */
function fileTail(file: string, maxChars: number): string {
  return existsSync(file) ? readFileSync(file, 'utf8').slice(-maxChars) : '';
}

export async function startLocalSystem(options: LocalSystemOptions = {}): Promise<LocalSystem> {
  const ownsStateDir = options.stateDir === undefined;
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), 'local-system-'));
  const endpointsFile = join(stateDir, 'endpoints.json');
  rmSync(endpointsFile, { force: true }); // left by a runner that was killed: not this run's
  const [port, xksPort, awsPort] = [await freePort(), await freePort(), await freePort()];
  const manualClock = options.schedulerClock === 'manual';
  const runner = spawnRunner(
    ['--port', String(port), '--xks-port', String(xksPort), '--aws-port', String(awsPort), '--state-dir', stateDir, ...(manualClock ? ['--scheduler-clock', 'manual'] : [])],
    options.outputTailChars,
    { ipc: manualClock, nodeArgs: options.nodeArgs, outputFile: options.outputToFile ? join(stateDir, 'runner-output.log') : undefined },
  );
  const stop = async (): Promise<void> => {
    await stopChild(runner.child, 15_000);
    if (ownsStateDir) rmSync(stateDir, { recursive: true, force: true });
  };

  try {
    const endpoints = await waitForEndpoints(endpointsFile, runner, options.startTimeoutMs ?? 90_000);
    if (runner.child.pid === undefined) throw new Error('runner started without a pid');
    return {
      ...endpoints,
      stateDir,
      pid: runner.child.pid,
      output: runner.output,
      issueToken: (username, groups) => issueLocalToken(loadOrCreateSigningKey(stateDir), { username, groups, expiresIn: '1h' }),
      tickScheduler: (now) => tickScheduler(runner, manualClock, now),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function tickScheduler(runner: RunnerProcess, manualClock: boolean, now: Date): Promise<SchedulerTick> {
  if (!manualClock) throw new Error("tickScheduler needs startLocalSystem({ schedulerClock: 'manual' })");
  const at = now.toISOString();
  return new Promise((resolveTick, rejectTick) => {
    const onMessage = (message: { type?: string; now?: string; runs?: any[]; error?: string }): void => {
      if (message?.type !== 'scheduler.ticked' || message.now !== at) return;
      runner.child.off('message', onMessage);
      if (message.error !== undefined) rejectTick(new Error(`scheduler tick at ${at} failed: ${message.error}`));
      else resolveTick({ runs: message.runs ?? [] });
    };
    runner.child.on('message', onMessage);
    runner.child.send({ type: 'scheduler.tick', now: at });
  });
}

async function waitForEndpoints(file: string, runner: RunnerProcess, timeoutMs: number): Promise<LocalEndpoints> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void runner.exited.then((code) => {
    exitCode = code;
  });
  for (;;) {
    if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as LocalEndpoints;
    if (exitCode !== undefined) {
      throw new Error(`the local runner exited (code ${exitCode}) before writing ${file}:\n${runner.output()}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`the local runner did not write ${file} within ${timeoutMs} ms:\n${runner.output()}`);
    }
    await new Promise((resolveLater) => setTimeout(resolveLater, 100));
  }
}

/** A management API call with the system's admin token: its status and parsed body, whatever the status. */
export function adminCall(system: LocalSystem): (method: string, path: string, body?: unknown) => Promise<{ status: number; json: any }> {
  return async (method, path, body) => {
    const response = await fetch(`${system.apiUrl}${path}`, {
      method,
      headers: { Authorization: `Bearer ${system.adminToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : undefined };
  };
}

/** A management API caller with the system's admin token: answers the parsed body, or throws when the status is not `expected`. */
export function adminApi(system: LocalSystem): (method: string, path: string, body?: unknown, expected?: number) => Promise<any> {
  return async (method, path, body, expected = 200) => {
    const { status, json } = await adminCall(system)(method, path, body);
    if (status !== expected) throw new Error(`${method} ${path}: expected ${expected}, got ${status} ${JSON.stringify(json)}`);
    return json;
  };
}

/** An AWS KMS client of the local AWS KMS in `region`, with the default account's credentials and no SDK retries. */
export function localKmsClient(system: LocalSystem, region: string): KMSClient {
  return new KMSClient({ endpoint: system.aws.endpointUrl, region, credentials: system.aws, maxAttempts: 1 });
}

/**
 * AWS KMS gives the proxy 250 ms and, when it misses them, says "Retry the request". On this shared
 * two-core machine the proxy's first call for a key (a state read and a PKCS#11 key lookup) can
 * miss them, so AWS KMS calls are retried on that answer only, as AWS advises; any other failure
 * fails at once.
 */
export async function retryingProxyTimeouts<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= 4 || !/did not respond in time/.test(String((error as Error).message))) throw error;
    }
  }
}
