/**
 * XKS proxy benchmark (`npm run bench:xks`): a benchmark, not a test — it prints numbers.
 *
 *   npm run bench:xks [-- --state-dir .local] [--seconds 10] [--rate 1800] [--concurrency 32] [--cold-starts 3] [--only REGEX]
 *
 * 1. Uses the running local system of `--state-dir` (its endpoints.json), or starts one in a
 *    temporary folder (test/helpers/local-system.ts, i.e. bin/local.ts as `npm start` runs it).
 * 2. Provisions through the management API: an account container, two AES-256 keys in the
 *    `local-softhsm` partition, an external key store (its credential) and an HYOK key.
 * 3. Drives the HTTPS proxy with keep-alive connections and SigV4-signed requests (signed before
 *    each run, so that the client's signing does not compete with the proxy for the two cores):
 *    - closed loop: `--concurrency` requests in flight for `--seconds` → maximum throughput;
 *    - open loop: `--rate` requests per second for `--seconds`, latency measured from each
 *      request's scheduled send time (no coordinated omission) → p50 / p99 at that rate;
 *    for GetHealthStatus, GetKeyMetadata, Encrypt (32 B and 4,300 B) and Decrypt.
 * 4. Cold start: a fresh Node.js process running the proxy (bundled with esbuild, as the Lambda
 *    image runs bundled code) over the same state, with the warm-up the Lambda init runs before it
 *    listens; time from process start to listening (init) and to the first successful Encrypt.
 */
import { SignatureV4 } from '@smithy/signature-v4';
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
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

const REPOSITORY_ROOT = resolve(__dirname, '..');
const REGION = 'us-east-1';
/** bin/local.ts's table name. */
const STATE_TABLE_NAME = 'key-manager-state';
const SIGNED_POOL_SIZE = 512;

interface Options {
  readonly stateDir: string;
  readonly seconds: number;
  readonly rate: number;
  readonly concurrency: number;
  readonly coldStarts: number;
  /** Only the scenarios whose name matches (e.g. `4300`); all when absent. */
  readonly only?: RegExp;
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
    },
  });
  const positive = (name: string, value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, not ${JSON.stringify(value)}`);
    return n;
  };
  return {
    stateDir: resolve(values['state-dir']),
    seconds: positive('seconds', values.seconds),
    rate: positive('rate', values.rate),
    concurrency: positive('concurrency', values.concurrency),
    coldStarts: values['cold-starts'] === '0' ? 0 : Math.floor(positive('cold-starts', values['cold-starts'])),
    only: values.only === undefined ? undefined : new RegExp(values.only),
  };
}

// ---------------------------------------------------------------------------------------------
// The local system and provisioning through the management API

interface System extends LocalEndpoints {
  readonly stateDir: string;
  /** The runner's process id when this script started it (its CPU time is then measured). */
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

async function connectOrStart(stateDir: string): Promise<System> {
  const file = join(stateDir, 'endpoints.json');
  if (existsSync(file)) {
    const endpoints = JSON.parse(readFileSync(file, 'utf8')) as LocalEndpoints;
    if (await apiAnswers(endpoints)) {
      console.log(`using the running local system of ${stateDir}`);
      return { ...endpoints, stateDir, stop: async () => undefined };
    }
  }
  console.log('starting the local system (bin/local.ts) in a temporary folder ...');
  const system: LocalSystem = await startLocalSystem();
  return { ...system, runnerPid: system.pid, stop: () => system.stop() };
}

// ---------------------------------------------------------------------------------------------
// Signing and sending

/** SHA-256 for the signer from node:crypto (the JS implementation would slow the client down). */
class NodeSha256 {
  private hash;
  constructor(private readonly secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = this.fresh();
  }
  private fresh() {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret as Buffer);
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(typeof data === 'string' ? data : Buffer.from(data as Uint8Array));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

interface SignedRequest {
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

class XksClient {
  private readonly signer: SignatureV4;
  readonly host: string;
  private readonly port: number;

  constructor(
    url: string,
    private readonly agent: Agent,
    credential: { readonly accessKeyId: string; readonly secretAccessKey: string },
  ) {
    const parsed = new URL(url);
    this.host = parsed.host;
    this.port = Number(parsed.port);
    this.signer = new SignatureV4({ service: 'kms-xks-proxy', region: REGION, credentials: credential, sha256: NodeSha256, applyChecksum: false });
  }

  async sign(path: string, body: unknown): Promise<SignedRequest> {
    const raw = Buffer.from(JSON.stringify(body));
    const signed = await this.signer.sign({ method: 'POST', protocol: 'https:', hostname: this.host.split(':')[0], port: this.port, path, query: {}, headers: { host: this.host, 'content-type': 'application/json' }, body: raw });
    return { path, headers: { ...(signed.headers as Record<string, string>), 'content-length': String(raw.length) }, body: raw };
  }

  send(request: SignedRequest): Promise<{ status: number; body: string }> {
    return new Promise((resolvePromise, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port: this.port, method: 'POST', path: request.path, headers: request.headers, agent: this.agent }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolvePromise({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      });
      req.on('error', reject);
      req.end(request.body);
    });
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

async function closedLoop(client: XksClient, pool: readonly SignedRequest[], concurrency: number, seconds: number): Promise<RunResult> {
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
      const response = await client.send(request);
      latencies.push(performance.now() - sent);
      if (response.status !== 200) {
        errors += 1;
        firstError ??= `${response.status} ${response.body.slice(0, 200)}`;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { requests: latencies.length, errors, seconds: (performance.now() - started) / 1000, latenciesMs: latencies, firstError };
}

/** Sends at a fixed rate whatever the answers do; latency counts from the scheduled send time. */
async function openLoop(client: XksClient, pool: readonly SignedRequest[], rate: number, seconds: number): Promise<RunResult> {
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
  readonly clientCpuMsPerRequest: number;
  readonly clientLoopDelayP99Ms: number;
  readonly firstError?: string;
}

/** CPU time (user + system, all threads) a process has used so far, in ms (Linux /proc). */
function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat (11 and 12 after the command name), in clock ticks (100/s).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

interface Measured extends RunResult {
  readonly proxyCpuMsPerRequest?: number;
  /** This process's CPU time (the load generator: TLS, HTTP, timers) per request. */
  readonly clientCpuMsPerRequest: number;
  /** The 99th percentile of this process's event-loop delay: a late client inflates every latency. */
  readonly clientLoopDelayP99Ms: number;
}

/**
 * Runs `run` and reports the proxy process's CPU milliseconds per request (when it can be read),
 * and the load generator's own CPU and event-loop delay, so that a client-side bottleneck shows.
 */
async function measured(pid: number | undefined, run: () => Promise<RunResult>): Promise<Measured> {
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  const before = processCpuMs(pid);
  const clientBefore = process.cpuUsage();
  loopDelay.enable();
  const result = await run();
  loopDelay.disable();
  const clientCpu = process.cpuUsage(clientBefore);
  const after = processCpuMs(pid);
  const perRequest = (ms: number) => (result.requests > 0 ? ms / result.requests : Number.NaN);
  return {
    ...result,
    proxyCpuMsPerRequest: before !== undefined && after !== undefined ? perRequest(after - before) : undefined,
    clientCpuMsPerRequest: perRequest((clientCpu.user + clientCpu.system) / 1000),
    clientLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
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
    clientCpuMsPerRequest: result.clientCpuMsPerRequest,
    clientLoopDelayP99Ms: result.clientLoopDelayP99Ms,
    firstError: result.firstError,
  };
}

function printTable(rows: readonly Row[]): void {
  const header = ['scenario', 'load', 'requests', 'errors', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'proxy CPU ms/req', 'client CPU ms/req', 'client loop delay p99 ms'];
  const lines = rows.map((r) => [
    r.scenario, r.load, String(r.requests), String(r.errors), r.throughput.toFixed(0), r.p50.toFixed(2), r.p99.toFixed(2), r.max.toFixed(1),
    r.proxyCpuMsPerRequest?.toFixed(3) ?? 'n/a', r.clientCpuMsPerRequest.toFixed(3), r.clientLoopDelayP99Ms.toFixed(2),
  ]);
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

async function scenarios(client: XksClient, provisioned: ApiProvisionedStore): Promise<Record<string, () => Promise<SignedRequest[]>>> {
  const base = provisioned.uriPath;
  const keyPath = (operation: string) => `${base}/keys/${provisioned.externalKeyId}/${operation}`;
  // Decrypt needs ciphertexts: made once, through the proxy itself.
  const aad = randomBytes(32);
  const sealed = await Promise.all(
    Array.from({ length: 32 }, async () => {
      const response = await client.send(await client.sign(keyPath('encrypt'), encryptBody(randomBytes(32), { aad })));
      if (response.status !== 200) throw new Error(`could not prepare ciphertexts: ${response.status} ${response.body}`);
      return JSON.parse(response.body) as EncryptOutput;
    }),
  );
  return {
    GetHealthStatus: () => signedPool(() => client.sign(`${base}/health`, healthBody())),
    GetKeyMetadata: () => signedPool(() => client.sign(keyPath('metadata'), metadataBody())),
    'Encrypt 32 B': () => signedPool(() => client.sign(keyPath('encrypt'), encryptBody(randomBytes(32), { aad: randomBytes(32) }))),
    'Encrypt 4300 B': () => signedPool(() => client.sign(keyPath('encrypt'), encryptBody(randomBytes(4300), { aad: randomBytes(32) }))),
    Decrypt: () => signedPool((i) => client.sign(keyPath('decrypt'), decryptBody(sealed[i % sealed.length], { aad }))),
  };
}

// ---------------------------------------------------------------------------------------------
// Cold start

const COLD_START_ENTRY = `
import { startXksHttpsServer } from './lambdas/xks-proxy/entry/https-server';
import { createXksLogger, xksProxyDeps } from './lambdas/xks-proxy/entry/composition-root';
import { dependencies } from './lambdas/runtime/dependencies';
import { useLocalAdapterSet } from './lambdas/local/local-adapter-set';
const [keyPath, certPath] = process.argv.slice(2);
useLocalAdapterSet();
startXksHttpsServer({ host: '127.0.0.1', port: 0, keyPath, certPath, warmUp: true, deps: xksProxyDeps(dependencies(), dependencies().config, createXksLogger(), { metrics: false }) })
  .then((server) => process.stdout.write('READY ' + server.url + '\\n'));
`;

async function bundleColdStartEntry(dir: string): Promise<string> {
  const outfile = join(dir, 'xks-proxy-cold-start.js');
  await build({
    stdin: { contents: COLD_START_ENTRY, resolveDir: REPOSITORY_ROOT, loader: 'ts', sourcefile: 'cold-start-entry.ts' },
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

async function coldStart(system: System, provisioned: ApiProvisionedStore, bundle: string, dir: string): Promise<{ readyMs: number; firstEncryptMs: number }> {
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
  };
  const started = performance.now();
  const child = spawn(process.execPath, [bundle, tls.keyPath, tls.certPath], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  try {
    const url = await new Promise<string>((resolveUrl, reject) => {
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const match = /READY (\S+)/.exec(stdout);
        if (match) resolveUrl(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`cold-start process exited (${code}): ${stderr.slice(-2000)}`)));
    });
    const readyMs = performance.now() - started;
    const agent = new Agent({ keepAlive: true, ca: readFileSync(tls.certPath) });
    const client = new XksClient(url, agent, provisioned);
    const response = await client.send(
      await client.sign(`${provisioned.uriPath}/keys/${provisioned.externalKeyId}/encrypt`, encryptBody(randomBytes(32))),
    );
    const firstEncryptMs = performance.now() - started;
    agent.destroy();
    if (response.status !== 200) throw new Error(`first encrypt answered ${response.status}: ${response.body}`);
    return { readyMs, firstEncryptMs };
  } finally {
    child.kill('SIGTERM');
  }
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

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = options();
  const pressureBefore = cpuPressure();
  const system = await connectOrStart(opts.stateDir);
  const workDir = mkdtempSync(join(tmpdir(), 'bench-xks-'));
  try {
    const provisioned = await provisionThroughApi(system);
    console.log(`provisioned key store ${provisioned.storeId} and HYOK key ${provisioned.externalKeyId} through ${system.apiUrl}`);
    // A bounded pool, as a KMS host keeps: a hiccup queues requests instead of opening (and TLS-handshaking) new connections.
    const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency, ca: readFileSync(system.xksCaCert) });
    const client = new XksClient(system.xksUrl, agent, provisioned);
    const rows: Row[] = [];
    for (const [name, makePool] of Object.entries(await scenarios(client, provisioned))) {
      if (opts.only && !opts.only.test(name)) continue;
      await closedLoop(client, await makePool(), Math.min(opts.concurrency, 8), 1); // warm-up
      const closedPool = await makePool();
      rows.push(row(name, `closed loop, ${opts.concurrency} in flight`, await measured(system.runnerPid, () => closedLoop(client, closedPool, opts.concurrency, Math.min(opts.seconds, 5)))));
      const openPool = await makePool();
      rows.push(row(name, `open loop, ${opts.rate} req/s`, await measured(system.runnerPid, () => openLoop(client, openPool, opts.rate, opts.seconds))));
      const last = rows[rows.length - 1];
      console.log(`  ${name}: ${last.throughput.toFixed(0)} req/s at ${opts.rate} req/s offered, p50 ${last.p50.toFixed(2)} ms, p99 ${last.p99.toFixed(2)} ms, errors ${last.errors}`);
    }
    agent.destroy();

    const starts: { readyMs: number; firstEncryptMs: number }[] = [];
    const bundle = opts.coldStarts > 0 ? await bundleColdStartEntry(workDir) : '';
    for (let i = 0; i < opts.coldStarts; i += 1) starts.push(await coldStart(system, provisioned, bundle, workDir));

    const cpu = cpus();
    console.log('');
    console.log(`machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM (${(freemem() / 2 ** 30).toFixed(1)} free), Node.js ${process.version}, ${process.platform}`);
    console.log(`proxy: the local runner's HTTPS server (one Node.js process, SoftHSM2 via pkcs11js), client in this process, same machine`);
    console.log(`CPU pressure (PSI: share of time runnable tasks waited for a CPU): before the run ${pressureBefore}; at its end ${cpuPressure()}`);
    console.log(`proxy CPU ms/req: the runner process's CPU time (all threads, incl. SoftHSM2) per request; 2 cores ÷ it = the proxy's own ceiling`);
    console.log(`client CPU ms/req, client loop delay p99: the load generator (this process) shares the cores; its lateness counts in the latencies`);
    console.log('');
    printTable(rows);
    console.log('');
    if (starts.length > 0) console.log(`cold start (fresh process → first successful Encrypt), ${starts.length} runs: ${starts.map((s) => `${s.firstEncryptMs.toFixed(0)} ms`).join(', ')}`);
    if (starts.length > 0) console.log(`  of which process start → listening: ${starts.map((s) => `${s.readyMs.toFixed(0)} ms`).join(', ')}`);
    const failed = rows.filter((r) => r.errors > 0);
    if (failed.length > 0) {
      for (const r of failed) console.log(`errors in ${r.scenario} (${r.load}), first: ${r.firstError}`);
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
    await system.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
