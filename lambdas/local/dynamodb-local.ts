/**
 * DynamoDB Local (the jar AWS ships inside the npm package `amplify-dynamodb-simulator`), run on
 * Debian's JRE. Used by jest's globalSetup (one in-memory instance for the whole run) and by
 * bin/local.ts (state on disk under `.local/dynamodb`, surviving restarts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { collectOutput, stopChild } from './child-process';
import { freePort } from './free-port';

export interface DynamoDbLocalOptions {
  /**
   * Folder for the database file (`-dbPath`); created if missing. Without it the data lives in
   * memory (`-inMemory`) and is gone when the process stops.
   * @default - in memory
   */
  readonly dbPath?: string;
  /**
   * Port on 127.0.0.1.
   * @default - a free port chosen by the kernel (retried if another process takes it first)
   */
  readonly port?: number;
  /** How long to wait for the first answer. @default 60_000 ms */
  readonly startTimeoutMs?: number;
}

export interface DynamoDbLocal {
  /** `http://127.0.0.1:<port>`, for the SDK's `endpoint` option and `DYNAMODB_ENDPOINT`. */
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number;
  /** Stops the process (SIGTERM, then SIGKILL after 5 s) and waits for it to exit. */
  stop(): Promise<void>;
}

/** The folder holding DynamoDBLocal.jar and its native libraries (DynamoDBLocal_lib). */
export function dynamoDbLocalDir(): string {
  return join(dirname(require.resolve('amplify-dynamodb-simulator/package.json')), 'emulator');
}

const OUTPUT_TAIL_CHARS = 4096;
const PORT_ATTEMPTS = 3;

/** Starts DynamoDB Local and resolves once it answers HTTP requests. */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const attempts = options.port === undefined ? PORT_ATTEMPTS : 1;
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    const port = options.port ?? (await freePort());
    try {
      return await startOnPort(port, options);
    } catch (error) {
      lastError = error as Error;
      // Only a lost race for the port is worth another try.
      if (!/address already in use|BindException/i.test(lastError.message)) break;
    }
  }
  throw lastError;
}

async function startOnPort(port: number, options: DynamoDbLocalOptions): Promise<DynamoDbLocal> {
  const dir = dynamoDbLocalDir();
  const storage = options.dbPath === undefined ? ['-inMemory'] : ['-dbPath', resolve(options.dbPath)];
  if (options.dbPath !== undefined) mkdirSync(options.dbPath, { recursive: true });
  const child = spawn(
    'java',
    [
      `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(dir, 'DynamoDBLocal.jar'),
      '-sharedDb',
      ...storage,
      '-port',
      String(port),
      // Never phone home: this machine (and CI) reaches only loopback.
      '-disableTelemetry',
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output = collectOutput(child, OUTPUT_TAIL_CHARS);

  // If the parent dies without calling stop(), do not leave a JVM behind.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilAnswering(child, port, options.startTimeoutMs ?? 60_000, output);
  } catch (error) {
    process.removeListener('exit', killOnExit);
    await stopChild(child);
    throw error;
  }
  if (child.pid === undefined) throw new Error('DynamoDB Local started without a pid');
  return {
    endpoint,
    port,
    pid: child.pid,
    stop: async () => {
      process.removeListener('exit', killOnExit);
      await stopChild(child);
    },
  };
}

function waitUntilAnswering(child: ChildProcess, port: number, timeoutMs: number, output: () => string): Promise<void> {
  return new Promise((resolveReady, reject) => {
    const deadline = Date.now() + timeoutMs;
    let settled = false;
    const fail = (message: string): void => {
      if (settled) return;
      settled = true;
      reject(new Error(`${message}\n--- DynamoDB Local output ---\n${output().trim()}`));
    };
    child.once('error', (error) =>
      fail(`could not run java (${error.message}): run scripts/ensure-deps.sh to install default-jre-headless`),
    );
    child.once('exit', (code, signal) => fail(`DynamoDB Local exited early (code ${code}, signal ${signal})`));
    const probe = (): void => {
      if (settled) return;
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', timeout: 1000 }, (res) => {
        res.resume();
        if (settled) return;
        settled = true;
        resolveReady();
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        if (Date.now() > deadline) fail(`DynamoDB Local did not answer on port ${port} within ${timeoutMs} ms`);
        else setTimeout(probe, 100);
      });
      req.end();
    };
    probe();
  });
}
