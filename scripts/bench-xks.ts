/**
 * XKS proxy benchmark (`npm run bench:xks`): a benchmark, not a test — it prints numbers.
 *
 *   npm run bench:xks [-- --state-dir .local] [--seconds 10] [--rate 1800] [--concurrency 32] [--cold-starts 3]
 *                        [--only REGEX] [--loops closed,open] [--pin 0,1] [--proxy runner|bundled]
 *                        [--warm-up 3] [--open-runs 1] [--request-log-cost] [--cpu-prof DIR]
 *
 * 1. Uses the running local system of `--state-dir` (its endpoints.json, its runner.lock's pid),
 *    or starts one in a temporary folder (test/helpers/local-system.ts, i.e. bin/local.ts as
 *    `npm start` runs it).
 * 2. Provisions through the management API: an account container, two AES-256 keys in the
 *    `local-softhsm` partition, an external key store (its credential) and an HYOK key.
 * 3. Drives the HTTPS proxy over `--concurrency` keep-alive connections with SigV4-signed requests
 *    (signed and serialised before each run, scripts/xks-load-client.ts, so that the client's
 *    work does not compete with the proxy for the two cores):
 *    - closed loop: `--concurrency` requests in flight for `--seconds` (at most 5) → maximum throughput;
 *    - open loop: `--rate` requests per second for `--seconds`, latency measured from each
 *      request's scheduled send time (no coordinated omission) → p50 / p99 at that rate
 *      (`--open-runs N`: N runs in a row per scenario);
 *    for GetHealthStatus, GetKeyMetadata, Encrypt (32 B and 4,300 B) and Decrypt, each after
 *    `--warm-up` seconds of its own traffic (V8 optimises the hot path within seconds; a shorter
 *    warm-up measures the compiler too).
 *    `--proxy bundled` drives a separate process running the bundled proxy alone (as the Lambda
 *    image runs bundled code) instead of the runner's proxy, which shares its process with the
 *    management API and the local AWS stand-in.
 * 4. Cold start: a fresh Node.js process running the bundled proxy over the same state, with the
 *    warm-up the Lambda init runs before it listens: init time (process start → listening), then,
 *    on a TLS connection opened after that, the first request's latency against the p50 of the
 *    requests that follow it on the same connection, and a later request after the same pause.
 * 5. `--request-log-cost`: what the compact per-request log line costs, as proxy CPU per request of
 *    Encrypt 32 B (closed loop) against the bundled proxy with the line on and off, alternated.
 *
 * `--pin C,P` pins this process (the load generator) to CPU C and the proxy process (with its
 * children) to CPU P with taskset, so that the client's lateness and the proxy's can be told
 * apart. `--cpu-prof DIR` writes a V8 CPU profile of the proxy process into DIR when it stops
 * (only for a proxy this script starts).
 */
import { build } from 'esbuild';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, freemem, totalmem, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ENV } from '../lambdas/contract/env';
import { LOCAL_AWS_ENV } from '../lambdas/local/local-aws-env';
import { startLocalSystem, type LocalSystem } from '../test/helpers/local-system';
import type { LocalEndpoints } from '../lambdas/local/runner';
import { callApi, provisionThroughApi, type ApiProvisionedStore } from '../test/xks/support/api-provisioning';
import { decryptBody, encryptBody, healthBody, metadataBody, type EncryptOutput } from '../test/xks/support/bodies';
import { XksLoadClient, type SignedRequest } from './xks-load-client';

const REPOSITORY_ROOT = resolve(__dirname, '..');
const REGION = 'us-east-1';
/** bin/local.ts's table name. */
const STATE_TABLE_NAME = 'key-manager-state';
const SIGNED_POOL_SIZE = 512;
/** Requests after the first one on the cold-start connection, for the p50 it is compared with. */
const AFTER_FIRST_REQUESTS = 200;

interface Options {
  readonly stateDir: string;
  readonly seconds: number;
  readonly rate: number;
  readonly concurrency: number;
  readonly coldStarts: number;
  /** Only the scenarios whose name matches (e.g. `4300`); all when absent. */
  readonly only?: RegExp;
  readonly loops: ReadonlySet<'closed' | 'open'>;
  readonly pin?: { readonly client: string; readonly proxy: string };
  readonly proxy: 'runner' | 'bundled';
  readonly requestLogCost: boolean;
  readonly cpuProfDir?: string;
  /** The bundled proxy reports its own event-loop delay and GC pauses per run. */
  readonly diagnose: boolean;
  /** Open-loop runs per scenario, one after the other (the p99 target holds for three in a row). */
  readonly openRuns: number;
  /** Seconds of closed-loop traffic before each scenario's measurements (V8 optimises hot code within seconds). */
  readonly warmUpSeconds: number;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      'state-dir': { type: 'string', default: '.local' },
      seconds: { type: 'string', default: '10' },
      rate: { type: 'string', default: '1800' },
      concurrency: { type: 'string', default: '32' },
      'cold-starts': { type: 'string', default: '3' },
      only: { type: 'string' },
      loops: { type: 'string', default: 'closed,open' },
      pin: { type: 'string' },
      proxy: { type: 'string', default: 'runner' },
      'request-log-cost': { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
      diagnose: { type: 'boolean', default: false },
      'open-runs': { type: 'string', default: '1' },
      'warm-up': { type: 'string', default: '3' },
    },
  });
  const positive = (name: string, value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, not ${JSON.stringify(value)}`);
    return n;
  };
  const loops = new Set(values.loops.split(',').map((loop) => loop.trim()));
  for (const loop of loops) if (loop !== 'closed' && loop !== 'open') throw new Error(`--loops takes closed and/or open, not ${JSON.stringify(loop)}`);
  let pin: Options['pin'];
  if (values.pin !== undefined) {
    const match = /^(\d+),(\d+)$/.exec(values.pin);
    if (!match) throw new Error(`--pin takes CLIENT_CPU,PROXY_CPU (e.g. 0,1), not ${JSON.stringify(values.pin)}`);
    pin = { client: match[1], proxy: match[2] };
  }
  if (values.proxy !== 'runner' && values.proxy !== 'bundled') throw new Error(`--proxy takes runner or bundled, not ${JSON.stringify(values.proxy)}`);
  return {
    stateDir: resolve(values['state-dir']),
    seconds: positive('seconds', values.seconds),
    rate: positive('rate', values.rate),
    concurrency: positive('concurrency', values.concurrency),
    coldStarts: values['cold-starts'] === '0' ? 0 : Math.floor(positive('cold-starts', values['cold-starts'])),
    only: values.only === undefined ? undefined : new RegExp(values.only),
    loops: loops as ReadonlySet<'closed' | 'open'>,
    pin,
    proxy: values.proxy,
    requestLogCost: values['request-log-cost'],
    cpuProfDir: values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof']),
    diagnose: values.diagnose,
    openRuns: Math.floor(positive('open-runs', values['open-runs'])),
    warmUpSeconds: positive('warm-up', values['warm-up']),
  };
}

// ---------------------------------------------------------------------------------------------
// The local system and provisioning through the management API

interface System extends LocalEndpoints {
  readonly stateDir: string;
  /** The runner's process id (its CPU time is then measured): the one this script started, or the one of runner.lock. */
  readonly runnerPid?: number;
  stop(): Promise<void>;
}

async function apiAnswers(endpoints: LocalEndpoints): Promise<boolean> {
  try {
    await callApi(endpoints, 'GET', '/v1/cckm/aws/kms');
    return true;
  } catch {
    return false;
  }
}

async function connectOrStart(stateDir: string, nodeArgs: readonly string[]): Promise<System> {
  const file = join(stateDir, 'endpoints.json');
  if (existsSync(file)) {
    const endpoints = JSON.parse(readFileSync(file, 'utf8')) as LocalEndpoints;
    if (await apiAnswers(endpoints)) {
      console.log(`using the running local system of ${stateDir}`);
      const lock = join(stateDir, 'runner.lock');
      const lockedPid = existsSync(lock) ? Number(readFileSync(lock, 'utf8').trim()) : Number.NaN;
      return { ...endpoints, stateDir, runnerPid: Number.isInteger(lockedPid) ? lockedPid : undefined, stop: async () => undefined };
    }
  }
  console.log('starting the local system (bin/local.ts) in a temporary folder ...');
  // Its output goes to a file: through a pipe this process, the load generator, would read every request line.
  const system: LocalSystem = await startLocalSystem({ nodeArgs, outputToFile: true });
  return { ...system, runnerPid: system.pid, stop: () => system.stop() };
}

/** A process and its descendants (Linux /proc), for pinning. */
function processTree(pid: number): number[] {
  const pids = [pid];
  for (let i = 0; i < pids.length; i += 1) {
    try {
      for (const task of readdirSync(`/proc/${pids[i]}/task`)) {
        const children = readFileSync(`/proc/${pids[i]}/task/${task}/children`, 'utf8').trim();
        if (children) pids.push(...children.split(/\s+/).map(Number));
      }
    } catch {
      // Exited meanwhile.
    }
  }
  return pids;
}

/** Pins every thread of the process to the CPU list (taskset -a -p -c). */
function pinProcess(pid: number, cpuList: string): void {
  const result = spawnSync('taskset', ['-a', '-p', '-c', cpuList, String(pid)], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`taskset could not pin ${pid} to CPU ${cpuList}: ${result.stderr || result.error}`);
}

/**
 * Pins the proxy process and its children to the proxy's CPU, except DynamoDB Local (java),
 * which goes with the load generator: on AWS the state store is not on the proxy's machine.
 */
function pinProxy(pid: number, cpus: { readonly client: string; readonly proxy: string }): void {
  for (const member of processTree(pid)) {
    let command = '';
    try {
      command = readFileSync(`/proc/${member}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    pinProcess(member, command === 'java' ? cpus.client : cpus.proxy);
  }
}

// ---------------------------------------------------------------------------------------------
// Load patterns

interface RunResult {
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly latenciesMs: number[];
  readonly firstError?: string;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function closedLoop(client: XksLoadClient, pool: readonly SignedRequest[], concurrency: number, seconds: number): Promise<RunResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const request = pool[next++ % pool.length];
      const sent = performance.now();
      try {
        const response = await client.send(request);
        latencies.push(performance.now() - sent);
        if (response.status !== 200) {
          errors += 1;
          firstError ??= `${response.status} ${response.body.slice(0, 200)}`;
        }
      } catch (error) {
        errors += 1;
        firstError ??= String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { requests: latencies.length, errors, seconds: (performance.now() - started) / 1000, latenciesMs: latencies, firstError };
}

/** Sends at a fixed rate whatever the answers do; latency counts from the scheduled send time. */
async function openLoop(client: XksLoadClient, pool: readonly SignedRequest[], rate: number, seconds: number): Promise<RunResult> {
  const total = Math.round(rate * seconds);
  const intervalMs = 1000 / rate;
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const inFlight: Promise<void>[] = [];
  const started = performance.now();
  let issued = 0;
  while (issued < total) {
    const now = performance.now();
    const due = Math.min(total, Math.floor((now - started) / intervalMs) + 1);
    for (; issued < due; issued += 1) {
      const scheduled = started + issued * intervalMs;
      const request = pool[issued % pool.length];
      inFlight.push(
        client.send(request).then(
          (response) => {
            latencies.push(performance.now() - scheduled);
            if (response.status !== 200) {
              errors += 1;
              firstError ??= `${response.status} ${response.body.slice(0, 200)}`;
            }
          },
          (error: unknown) => {
            errors += 1;
            firstError ??= String(error);
          },
        ),
      );
    }
    await new Promise((resolveTick) => setTimeout(resolveTick, 1));
  }
  await Promise.all(inFlight);
  return { requests: latencies.length, errors, seconds: (performance.now() - started) / 1000, latenciesMs: latencies, firstError };
}

interface Row {
  readonly scenario: string;
  readonly load: string;
  readonly requests: number;
  readonly errors: number;
  readonly throughput: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly proxyCpuMsPerRequest?: number;
  readonly proxyMainThreadCpuMsPerRequest?: number;
  readonly clientCpuMsPerRequest: number;
  readonly clientLoopDelayP99Ms: number;
  readonly proxyDiagnostics?: ProxyDiagnostics;
  readonly firstError?: string;
}

/** CPU time (user + system) in ms from a Linux /proc stat line (utime and stime, in clock ticks of 1/100 s). */
function statCpuMs(path: string): number | undefined {
  try {
    const stat = readFileSync(path, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat (11 and 12 after the command name).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

/** CPU time a process has used so far: all its threads, and its main thread (the event loop) alone. */
function processCpuMs(pid: number | undefined): { readonly all: number; readonly main: number } | undefined {
  if (pid === undefined) return undefined;
  const all = statCpuMs(`/proc/${pid}/stat`);
  const main = statCpuMs(`/proc/${pid}/task/${pid}/stat`);
  return all === undefined || main === undefined ? undefined : { all, main };
}

interface Measured extends RunResult {
  readonly proxyCpuMsPerRequest?: number;
  /** The proxy's main thread alone (JavaScript, the event loop, in-line PKCS#11); the rest is GC, compiler and thread-pool threads. */
  readonly proxyMainThreadCpuMsPerRequest?: number;
  /** This process's CPU time (the load generator: TLS, HTTP, timers) per request. */
  readonly clientCpuMsPerRequest: number;
  /** The 99th percentile of this process's event-loop delay: a late client inflates every latency. */
  readonly clientLoopDelayP99Ms: number;
  /** With --diagnose (bundled proxy): the proxy's own loop delay and GC pauses during the run. */
  readonly proxyDiagnostics?: ProxyDiagnostics;
}

/** The proxy being measured: its process id (for its CPU time) and, with --diagnose, its own report. */
interface MeasuredProxy {
  readonly pid?: number;
  readonly diagnostics?: () => Promise<ProxyDiagnostics | undefined>;
}

/**
 * Runs `run` and reports the proxy process's CPU milliseconds per request (when it can be read),
 * and the load generator's own CPU and event-loop delay, so that a client-side bottleneck shows.
 */
async function measured(proxy: MeasuredProxy, run: () => Promise<RunResult>): Promise<Measured> {
  await proxy.diagnostics?.();
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  const before = processCpuMs(proxy.pid);
  const clientBefore = process.cpuUsage();
  loopDelay.enable();
  const result = await run();
  loopDelay.disable();
  const clientCpu = process.cpuUsage(clientBefore);
  const after = processCpuMs(proxy.pid);
  const proxyDiagnostics = await proxy.diagnostics?.();
  const perRequest = (ms: number) => (result.requests > 0 ? ms / result.requests : Number.NaN);
  return {
    ...result,
    proxyCpuMsPerRequest: before !== undefined && after !== undefined ? perRequest(after.all - before.all) : undefined,
    proxyMainThreadCpuMsPerRequest: before !== undefined && after !== undefined ? perRequest(after.main - before.main) : undefined,
    clientCpuMsPerRequest: perRequest((clientCpu.user + clientCpu.system) / 1000),
    clientLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    proxyDiagnostics,
  };
}

function row(scenario: string, load: string, result: Measured): Row {
  const sorted = [...result.latenciesMs].sort((a, b) => a - b);
  return {
    scenario,
    load,
    requests: result.requests,
    errors: result.errors,
    throughput: result.requests / result.seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    proxyCpuMsPerRequest: result.proxyCpuMsPerRequest,
    proxyMainThreadCpuMsPerRequest: result.proxyMainThreadCpuMsPerRequest,
    proxyDiagnostics: result.proxyDiagnostics,
    clientCpuMsPerRequest: result.clientCpuMsPerRequest,
    clientLoopDelayP99Ms: result.clientLoopDelayP99Ms,
    firstError: result.firstError,
  };
}

function printTable(rows: readonly Row[]): void {
  const diagnosed = rows.some((r) => r.proxyDiagnostics);
  const header = ['scenario', 'load', 'requests', 'errors', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'proxy CPU ms/req', 'of it main thread', 'client CPU ms/req', 'client loop delay p99 ms'];
  if (diagnosed) header.push('in proxy p50 / p99 / max ms', 'proxy loop delay p99 / max ms', 'proxy GC pauses: count, total, longest ms (major)', 'proxy stdout writes: count, longest ms');
  const lines = rows.map((r) => {
    const cells = [
      r.scenario, r.load, String(r.requests), String(r.errors), r.throughput.toFixed(0), r.p50.toFixed(2), r.p99.toFixed(2), r.max.toFixed(1),
      r.proxyCpuMsPerRequest?.toFixed(3) ?? 'n/a', r.proxyMainThreadCpuMsPerRequest?.toFixed(3) ?? 'n/a', r.clientCpuMsPerRequest.toFixed(3), r.clientLoopDelayP99Ms.toFixed(2),
    ];
    const d = r.proxyDiagnostics;
    if (diagnosed) {
      cells.push(
        d ? `${d.inProxy.p50Ms.toFixed(2)} / ${d.inProxy.p99Ms.toFixed(2)} / ${d.inProxy.maxMs.toFixed(1)}` : 'n/a',
        d ? `${d.loopP99Ms.toFixed(1)} / ${d.loopMaxMs.toFixed(1)}` : 'n/a',
        d ? `${d.gc.count}, ${d.gc.totalMs.toFixed(0)}, ${d.gc.maxMs.toFixed(1)} (${d.gc.major})` : 'n/a',
        d ? `${d.stdout.writes}, ${d.stdout.maxMs.toFixed(1)}` : 'n/a',
      );
    }
    return cells;
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const format = (cells: string[]) => `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log(format(header));
  console.log(`|${widths.map((w, i) => (i < 2 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const line of lines) console.log(format(line));
}

// ---------------------------------------------------------------------------------------------
// Scenarios

async function signedPool(make: (i: number) => Promise<SignedRequest>): Promise<SignedRequest[]> {
  return Promise.all(Array.from({ length: SIGNED_POOL_SIZE }, (_, i) => make(i)));
}

function keyPath(provisioned: ApiProvisionedStore, operation: string): string {
  return `${provisioned.uriPath}/keys/${provisioned.externalKeyId}/${operation}`;
}

async function scenarios(client: XksLoadClient, provisioned: ApiProvisionedStore): Promise<Record<string, () => Promise<SignedRequest[]>>> {
  const base = provisioned.uriPath;
  // Decrypt needs ciphertexts: made once, through the proxy itself.
  const aad = randomBytes(32);
  const sealed = await Promise.all(
    Array.from({ length: 32 }, async () => {
      const response = await client.send(await client.sign(keyPath(provisioned, 'encrypt'), encryptBody(randomBytes(32), { aad })));
      if (response.status !== 200) throw new Error(`could not prepare ciphertexts: ${response.status} ${response.body}`);
      return JSON.parse(response.body) as EncryptOutput;
    }),
  );
  return {
    GetHealthStatus: () => signedPool(() => client.sign(`${base}/health`, healthBody())),
    GetKeyMetadata: () => signedPool(() => client.sign(keyPath(provisioned, 'metadata'), metadataBody())),
    'Encrypt 32 B': () => encrypt32Pool(client, provisioned),
    'Encrypt 4300 B': () => signedPool(() => client.sign(keyPath(provisioned, 'encrypt'), encryptBody(randomBytes(4300), { aad: randomBytes(32) }))),
    Decrypt: () => signedPool((i) => client.sign(keyPath(provisioned, 'decrypt'), decryptBody(sealed[i % sealed.length], { aad }))),
  };
}

function encrypt32Pool(client: XksLoadClient, provisioned: ApiProvisionedStore): Promise<SignedRequest[]> {
  return signedPool(() => client.sign(keyPath(provisioned, 'encrypt'), encryptBody(randomBytes(32), { aad: randomBytes(32) })));
}

// ---------------------------------------------------------------------------------------------
// The bundled proxy alone (cold starts, `--proxy bundled`, the request log's cost)

const BUNDLED_PROXY_ENTRY = `
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { startXksHttpsServer } from './lambdas/xks-proxy/entry/https-server';
import { createXksLogger, xksProxyDeps } from './lambdas/xks-proxy/entry/composition-root';
import { dependencies } from './lambdas/runtime/dependencies';
import { useLocalAdapterSet } from './lambdas/local/local-adapter-set';
const [keyPath, certPath, requestLog] = process.argv.slice(2);
useLocalAdapterSet();
// An orderly exit on SIGTERM, so that --cpu-prof writes its profile.
process.on('SIGTERM', () => process.exit(0));
if (process.env.BENCH_PROXY_DIAGNOSE === '1') {
  // --diagnose: the proxy's own event-loop delay and garbage-collection pauses, reported (and reset)
  // on SIGUSR2, so that a latency tail can be told apart from the load generator's.
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  let gc = { count: 0, totalMs: 0, maxMs: 0, major: 0 };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gc.count += 1;
      gc.totalMs += entry.duration;
      gc.maxMs = Math.max(gc.maxMs, entry.duration);
      if (entry.detail?.kind === 4) gc.major += 1; // NODE_PERFORMANCE_GC_MAJOR
    }
  }).observe({ entryTypes: ['gc'] });
  // How long the log's writes to stdout take (a file here; on Lambda a pipe, whose writes block while it is full).
  let stdout = { writes: 0, maxMs: 0, totalMs: 0 };
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((...args: Parameters<typeof write>) => {
    const started = performance.now();
    try {
      return write(...args);
    } finally {
      const ms = performance.now() - started;
      stdout.writes += 1;
      stdout.totalMs += ms;
      stdout.maxMs = Math.max(stdout.maxMs, ms);
    }
  }) as typeof process.stdout.write;
  // Each request's time inside the proxy process, from its 'request' event to its response's 'finish'.
  let inProxy: number[] = [];
  const https = require('node:https');
  const createServer = https.createServer;
  https.createServer = (...args: unknown[]) => {
    const server = createServer(...args);
    server.on('request', (_request: unknown, response: { on(event: string, listener: () => void): void }) => {
      const started = performance.now();
      response.on('finish', () => inProxy.push(performance.now() - started));
    });
    return server;
  };
  process.on('SIGUSR2', () => {
    const sorted = inProxy.sort((a, b) => a - b);
    const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0;
    const report = { loopP99Ms: loop.percentile(99) / 1e6, loopMaxMs: loop.max / 1e6, gc, stdout, inProxy: { p50Ms: at(0.5), p99Ms: at(0.99), maxMs: at(1) } };
    inProxy = [];
    process.stderr.write('DIAG ' + JSON.stringify(report) + '\\n');
    stdout = { writes: 0, maxMs: 0, totalMs: 0 };
    loop.reset();
    gc = { count: 0, totalMs: 0, maxMs: 0, major: 0 };
  });
}
const deps = xksProxyDeps(dependencies(), dependencies().config, createXksLogger(), { metrics: false });
startXksHttpsServer({ host: '127.0.0.1', port: 0, keyPath, certPath, warmUp: true, deps: { ...deps, proxyOptions: { logSuccesses: requestLog !== 'off' } } })
  .then((server) => process.stderr.write('READY ' + server.url + '\\n'));
`;

async function bundleProxyEntry(dir: string): Promise<string> {
  const outfile = join(dir, 'xks-proxy-bundled.js');
  await build({
    stdin: { contents: BUNDLED_PROXY_ENTRY, resolveDir: REPOSITORY_ROOT, loader: 'ts', sourcefile: 'bundled-proxy-entry.ts' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    outfile,
    external: ['pkcs11js'],
    logLevel: 'error',
  });
  // pkcs11js is native: the bundle resolves it from the repository's node_modules.
  writeFileSync(join(dir, 'package.json'), '{}');
  return outfile;
}

interface BundledProxy {
  readonly url: string;
  readonly pid: number;
  /** Process start → listening (the init: module load, PKCS#11, login, state and secrets, warm-up). */
  readonly readyMs: number;
  /** With `diagnose`: the proxy's loop delay and GC pauses since the last call (SIGUSR2), else undefined. */
  diagnostics(): Promise<ProxyDiagnostics | undefined>;
  stop(): Promise<void>;
}

/** What the bundled proxy reports of itself with --diagnose (BUNDLED_PROXY_ENTRY). */
export interface ProxyDiagnostics {
  readonly loopP99Ms: number;
  readonly loopMaxMs: number;
  readonly gc: { readonly count: number; readonly totalMs: number; readonly maxMs: number; readonly major: number };
  /** The request log's writes to stdout (a file in the bench's folder). */
  readonly stdout: { readonly writes: number; readonly maxMs: number; readonly totalMs: number };
  /** Each request's time inside the proxy process ('request' event to the response's 'finish'). */
  readonly inProxy: { readonly p50Ms: number; readonly p99Ms: number; readonly maxMs: number };
}

async function startBundledProxy(
  system: System,
  bundle: string,
  dir: string,
  settings: { readonly requestLog?: 'on' | 'off'; readonly nodeArgs?: readonly string[]; readonly diagnose?: boolean } = {},
): Promise<BundledProxy> {
  const tls = { keyPath: join(system.stateDir, 'tls', 'localhost-key.pem'), certPath: join(system.stateDir, 'tls', 'localhost-cert.pem') };
  const env = {
    ...process.env,
    ...LOCAL_AWS_ENV,
    NODE_PATH: join(REPOSITORY_ROOT, 'node_modules'),
    [ENV.mode]: 'local',
    [ENV.stateTableName]: STATE_TABLE_NAME,
    [ENV.dynamoDbEndpoint]: system.dynamoDbEndpoint,
    [ENV.localStateDir]: system.stateDir,
    SOFTHSM2_CONF: join(system.stateDir, 'softhsm', 'softhsm2.conf'),
    BENCH_PROXY_DIAGNOSE: settings.diagnose ? '1' : '0',
  };
  const started = performance.now();
  // Its request lines go to a file, not through a pipe into this process (the load generator).
  const log = openSync(join(dir, 'bundled-proxy.log'), 'a');
  const child: ChildProcess = spawn(process.execPath, [...(settings.nodeArgs ?? []), bundle, tls.keyPath, tls.certPath, settings.requestLog ?? 'on'], {
    env,
    cwd: dir,
    stdio: ['ignore', log, 'pipe'],
  });
  closeSync(log);
  let stderr = '';
  let diagnosed: ((report: ProxyDiagnostics) => void) | undefined;
  let ready: ((url: string) => void) | undefined;
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
    const url = /READY (\S+)\n/.exec(stderr);
    if (url && ready) {
      ready(url[1]);
      ready = undefined;
    }
    const report = /DIAG (\{.*\})\n/.exec(stderr);
    if (report && diagnosed) {
      stderr = stderr.slice((report.index ?? 0) + report[0].length);
      diagnosed(JSON.parse(report[1]) as ProxyDiagnostics);
      diagnosed = undefined;
    }
  });
  const diagnostics = (): Promise<ProxyDiagnostics | undefined> => {
    if (!settings.diagnose) return Promise.resolve(undefined);
    return new Promise((resolveReport) => {
      diagnosed = resolveReport;
      child.kill('SIGUSR2');
    });
  };
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
  };
  try {
    const url = await new Promise<string>((resolveUrl, reject) => {
      ready = resolveUrl;
      child.once('exit', (code) => reject(new Error(`the bundled proxy exited (${code}): ${stderr}`)));
    });
    if (child.pid === undefined) throw new Error('the bundled proxy started without a pid');
    return { url, pid: child.pid, readyMs: performance.now() - started, diagnostics, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

interface ColdStart {
  readonly readyMs: number;
  readonly firstRequestMs: number;
  readonly afterFirstP50Ms: number;
  /** A request after the same pause as the first one's, once the others are done (an idle process's wake-up, not a first time). */
  readonly afterPauseMs: number;
}

/** The pause before the cold start's first request (and before the request it is compared with). */
const COLD_START_PAUSE_MS = 100;

/**
 * A fresh bundled proxy: init time, then, on one TLS connection opened once it listens (on AWS the
 * ALB terminates TLS, so the first request pays no handshake), the first Encrypt's latency, the
 * p50 of the Encrypts that follow it one at a time on the same connection, and one more Encrypt
 * after the same pause as the first: a request that follows an idle spell pays for waking the
 * process (caches, the CPU), which is not the first request's own cost.
 */
async function coldStart(system: System, provisioned: ApiProvisionedStore, bundle: string, dir: string, ca: Buffer): Promise<ColdStart> {
  const proxy = await startBundledProxy(system, bundle, dir);
  const client = new XksLoadClient(proxy.url, ca, provisioned, REGION, 1);
  const pause = () => new Promise((resolvePause) => setTimeout(resolvePause, COLD_START_PAUSE_MS));
  try {
    const requests = await Promise.all(
      Array.from({ length: AFTER_FIRST_REQUESTS + 2 }, () => client.sign(keyPath(provisioned, 'encrypt'), encryptBody(randomBytes(32)))),
    );
    await client.open();
    // The TLS handshake's tail (the server's session tickets) settles first: on AWS the ALB holds
    // the client's TLS connection, so the function's first request pays no handshake work.
    await pause();
    const latencies: number[] = [];
    for (const [index, request] of requests.entries()) {
      if (index === requests.length - 1) await pause();
      const sent = performance.now();
      const response = await client.send(request);
      latencies.push(performance.now() - sent);
      if (response.status !== 200) throw new Error(`an Encrypt after the cold start answered ${response.status}: ${response.body}`);
    }
    const afterPauseMs = latencies.pop() as number;
    const [first, ...rest] = latencies;
    return { readyMs: proxy.readyMs, firstRequestMs: first, afterFirstP50Ms: percentile([...rest].sort((a, b) => a - b), 50), afterPauseMs };
  } finally {
    client.close();
    await proxy.stop();
  }
}

/** Closed-loop Encrypt 32 B against the bundled proxy with the compact line on and off, alternated. */
async function requestLogCost(system: System, provisioned: ApiProvisionedStore, bundle: string, dir: string, ca: Buffer, opts: Options): Promise<Record<'on' | 'off', number[]>> {
  const figures: Record<'on' | 'off', number[]> = { on: [], off: [] };
  for (const requestLog of ['on', 'off', 'on', 'off'] as const) {
    const proxy = await startBundledProxy(system, bundle, dir, { requestLog });
    if (opts.pin) pinProxy(proxy.pid, opts.pin);
    const client = new XksLoadClient(proxy.url, ca, provisioned, REGION, opts.concurrency);
    try {
      await client.open();
      await closedLoop(client, await encrypt32Pool(client, provisioned), opts.concurrency, opts.warmUpSeconds);
      const pool = await encrypt32Pool(client, provisioned);
      const result = await measured(proxy, () => closedLoop(client, pool, opts.concurrency, Math.min(opts.seconds, 5)));
      if (result.errors > 0) throw new Error(`request log cost run (${requestLog}): ${result.errors} errors, first: ${result.firstError}`);
      figures[requestLog].push(result.proxyCpuMsPerRequest ?? Number.NaN);
    } finally {
      client.close();
      await proxy.stop();
    }
  }
  return figures;
}

/**
 * The kernel's CPU pressure (PSI `some avg60`, %): how much of the last minute runnable tasks
 * waited for a CPU. Other work on the machine shows here, and in the latency tails.
 */
function cpuPressure(): string {
  try {
    const match = /^some avg10=([\d.]+) avg60=([\d.]+)/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    return match ? `${match[2]}% (avg60), ${match[1]}% (avg10)` : 'n/a';
  } catch {
    return 'n/a';
  }
}

function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' / ');
  } catch {
    return 'n/a';
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = options();
  const pressureBefore = cpuPressure();
  const loadBefore = loadAverage();
  const cpuProfArgs = opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : [];
  const system = await connectOrStart(opts.stateDir, opts.proxy === 'runner' ? cpuProfArgs : []);
  const workDir = mkdtempSync(join(tmpdir(), 'bench-xks-'));
  let bundled: BundledProxy | undefined;
  try {
    const provisioned = await provisionThroughApi(system);
    console.log(`provisioned key store ${provisioned.storeId} and HYOK key ${provisioned.externalKeyId} through ${system.apiUrl}`);
    const ca = readFileSync(system.xksCaCert);
    const bundle = await bundleProxyEntry(workDir);
    let target: MeasuredProxy & { readonly url: string } = { url: system.xksUrl, pid: system.runnerPid };
    if (opts.proxy === 'bundled') {
      bundled = await startBundledProxy(system, bundle, workDir, { nodeArgs: cpuProfArgs, diagnose: opts.diagnose });
      target = { url: bundled.url, pid: bundled.pid, diagnostics: bundled.diagnostics };
    }
    if (opts.pin) {
      if (target.pid === undefined) throw new Error('--pin needs the proxy process id (a system this script starts, or one with runner.lock)');
      pinProcess(process.pid, opts.pin.client);
      pinProxy(target.pid, opts.pin);
    }
    const client = new XksLoadClient(target.url, ca, provisioned, REGION, opts.concurrency);
    await client.open();
    const rows: Row[] = [];
    for (const [name, makePool] of Object.entries(await scenarios(client, provisioned))) {
      if (opts.only && !opts.only.test(name)) continue;
      await closedLoop(client, await makePool(), Math.min(opts.concurrency, 8), opts.warmUpSeconds);
      if (opts.loops.has('closed')) {
        const closedPool = await makePool();
        rows.push(row(name, `closed loop, ${opts.concurrency} in flight`, await measured(target, () => closedLoop(client, closedPool, opts.concurrency, Math.min(opts.seconds, 5)))));
      }
      for (let run = 1; opts.loops.has('open') && run <= opts.openRuns; run += 1) {
        const openPool = await makePool();
        const load = `open loop, ${opts.rate} req/s${opts.openRuns > 1 ? ` (run ${run})` : ''}`;
        rows.push(row(name, load, await measured(target, () => openLoop(client, openPool, opts.rate, opts.seconds))));
        const last = rows[rows.length - 1];
        console.log(`  ${name}: ${last.throughput.toFixed(0)} req/s at ${opts.rate} req/s offered, p50 ${last.p50.toFixed(2)} ms, p99 ${last.p99.toFixed(2)} ms, errors ${last.errors}`);
      }
    }
    client.close();
    await bundled?.stop();
    bundled = undefined;

    const starts: ColdStart[] = [];
    for (let i = 0; i < opts.coldStarts; i += 1) starts.push(await coldStart(system, provisioned, bundle, workDir, ca));
    const logCost = opts.requestLogCost ? await requestLogCost(system, provisioned, bundle, workDir, ca, opts) : undefined;

    const cpu = cpus();
    console.log('');
    console.log(`machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM (${(freemem() / 2 ** 30).toFixed(1)} free), Node.js ${process.version}, ${process.platform}`);
    console.log(
      opts.proxy === 'runner'
        ? `proxy: the local runner's HTTPS server (one Node.js process with the management API, SoftHSM2 via pkcs11js)`
        : `proxy: the bundled XKS proxy alone in its own Node.js process (SoftHSM2 via pkcs11js)`,
    );
    console.log(opts.pin ? `pinned: this load generator to CPU ${opts.pin.client}, the proxy process to CPU ${opts.pin.proxy} (taskset)` : 'not pinned: the load generator and the proxy share the cores');
    console.log(`load average (1/5/15 min): before the run ${loadBefore}; at its end ${loadAverage()}`);
    console.log(`CPU pressure (PSI: share of time runnable tasks waited for a CPU): before the run ${pressureBefore}; at its end ${cpuPressure()}`);
    console.log(`proxy CPU ms/req: the proxy process's CPU time (all threads, incl. SoftHSM2) per request; a core ÷ it = the proxy's ceiling per core`);
    console.log(`client CPU ms/req, client loop delay p99: the load generator (this process); its lateness counts in the latencies`);
    console.log('');
    printTable(rows);
    console.log('');
    const openRows = rows.filter((r) => r.load.startsWith('open'));
    const closedRows = rows.filter((r) => r.load.startsWith('closed'));
    if (openRows.length > 0) console.log(`at ${opts.rate} req/s offered: ${openRows.map((r) => `${r.scenario}${r.load.includes('(run') ? ` ${r.load.slice(r.load.indexOf('(run'))}` : ''} p50 ${r.p50.toFixed(2)} / p99 ${r.p99.toFixed(2)} ms`).join('; ')}`);
    if (closedRows.length > 0) {
      console.log(`max throughput (closed loop): ${closedRows.map((r) => `${r.scenario} ${r.throughput.toFixed(0)} req/s`).join('; ')}`);
      console.log(`proxy CPU per request (closed loop): ${closedRows.map((r) => `${r.scenario} ${r.proxyCpuMsPerRequest?.toFixed(3) ?? 'n/a'} ms`).join('; ')}`);
    }
    if (starts.length > 0) {
      console.log(`init (fresh bundled proxy process → listening, warm-up included), ${starts.length} runs: ${starts.map((s) => `${s.readyMs.toFixed(0)} ms`).join(', ')}`);
      console.log(
        `first request after init (Encrypt 32 B on a connection opened after init) vs the p50 of the next ${AFTER_FIRST_REQUESTS}: ` +
          starts.map((s) => `${s.firstRequestMs.toFixed(2)} vs ${s.afterFirstP50Ms.toFixed(2)} ms (+${(s.firstRequestMs - s.afterFirstP50Ms).toFixed(2)})`).join(', ') +
          `; a later request after the same ${COLD_START_PAUSE_MS} ms pause: ${starts.map((s) => `${s.afterPauseMs.toFixed(2)} ms`).join(', ')}`,
      );
    }
    if (logCost) {
      const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
      console.log(
        `compact request log line (bundled proxy, Encrypt 32 B, closed loop, runs alternated): proxy CPU ${logCost.on.map((v) => v.toFixed(3)).join(' / ')} ms/req with it, ` +
          `${logCost.off.map((v) => v.toFixed(3)).join(' / ')} without: the line costs ${(mean(logCost.on) - mean(logCost.off)).toFixed(3)} ms/req`,
      );
    }
    const failed = rows.filter((r) => r.errors > 0);
    for (const r of failed) console.log(`errors in ${r.scenario} (${r.load}), first: ${r.firstError}`);
  } finally {
    await bundled?.stop();
    rmSync(workDir, { recursive: true, force: true });
    await system.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
