/**
 * The bundles are the code: what `cdk synth` writes for each management function, and what the
 * proxy image's Dockerfile builds for its two entry points, each loaded in a fresh Node.js process
 * (no jest, no tsx, no repository on the module path) and asked to answer one real event against
 * the local system (DynamoDB Local, SoftHSM2, local-mode tokens). A bundling defect (a missing
 * module, an ESM/CommonJS mix-up, a handler that is not exported) fails here instead of on AWS.
 *
 * No deployed bundle contains local-mode code (checked below), so each process first loads the
 * local adapter set from a file this suite builds apart and registers it, as the local runner
 * does (runtime/adapter-set.ts keeps registered sets per process); the bundle then runs unchanged.
 *
 * One synthesis with bundling (esbuild, every route) for the whole file; slow by nature, so it
 * lives apart from test/infra, which skips bundling.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { ENV, GROUPS } from '../../lambdas/contract/env';
import { routes, type RouteDefinition } from '../../lambdas/contract/routes';
import { issueLocalToken, loadOrCreateSigningKey } from '../../lambdas/local/adapters/local-tokens';
import { IMAGE_ENTRIES, PROXY_DOCKERFILE } from '../../lib/constructs/proxy-image';
import { KeyManagerStack } from '../../lib/key-manager-stack';
import { parametersFromContext } from '../../lib/parameters';
import { PROJECT_ROOT } from '../../lib/private/project';
import { apiEvent } from '../helpers/api-events';
import { createTestStateTable, type TestStateTable } from '../helpers/state-table';
import { CDK_JSON_CONTEXT } from '../infra/fixtures';
import { LocalSecretStore } from '../../lambdas/local/adapters/local-secret-store';
import { createTestToken } from '../helpers/softhsm';

jest.setTimeout(900_000);

/**
 * Loads `<dir>/<module>.js` (CommonJS, required) or `<dir>/<module>.mjs` (an ES module, imported) as
 * Lambda's Node.js runtime does from the task root, prints LOADED once the module has finished
 * loading (an ES module's top-level await included: Lambda's init phase), then what its export
 * answers to the event on stdin.
 */
const INVOKE = `
const path = require('node:path');
const fs = require('node:fs');
const { pathToFileURL } = require('node:url');
const [dir, handler, localAdapterSet] = process.argv.slice(1);
require(localAdapterSet).useLocalAdapterSet();
// Counts the worker threads the bundle starts (its ES import of node:worker_threads sees the patched class).
const workerThreads = require('node:worker_threads');
let workersStarted = 0;
workerThreads.Worker = class extends workerThreads.Worker { constructor(...args) { super(...args); workersStarted += 1; } };
require('node:module').syncBuiltinESMExports();
// node -e defines a global require, which Lambda's runtime does not give an ES module: without it, as there.
const requireCommonJs = require;
delete globalThis.require;
const [moduleName, exportName] = [handler.slice(0, handler.lastIndexOf('.')), handler.slice(handler.lastIndexOf('.') + 1)];
let input = '';
process.stdin.on('data', (c) => { input += c; }).on('end', async () => {
  const file = ['.js', '.mjs'].map((ext) => path.join(dir, moduleName + ext)).find((f) => fs.existsSync(f));
  if (!file) { console.error('no module ' + moduleName + ' in ' + dir); process.exit(3); }
  const loaded = file.endsWith('.mjs') ? await import(pathToFileURL(file).href) : requireCommonJs(file);
  process.stdout.write('\\nLOADED\\n');
  const fn = loaded[exportName];
  if (typeof fn !== 'function') { console.error('no function ' + exportName + ' exported by ' + moduleName); process.exit(3); }
  const context = { awsRequestId: 'bundle-test', functionName: 'bundle-test', getRemainingTimeInMillis: () => 20000 };
  const result = await fn(JSON.parse(input), context);
  process.stdout.write('\\nRESULT ' + JSON.stringify(result) + '\\nWORKERS ' + workersStarted + '\\n');
  process.exit(0);
});`;

interface Invocation {
  readonly code: number | null;
  readonly result?: Record<string, any>;
  readonly output: string;
  /** Worker threads the entry started. */
  readonly workers?: number;
}

function invoke(dir: string, handler: string, event: unknown, env: Record<string, string>): Promise<Invocation> {
  return new Promise((resolve, reject) => {
    // A clean environment: nothing of jest's, nor its module paths; the cwd is the bundle's folder, as Lambda's task root.
    const child = spawn(process.execPath, ['-e', INVOKE, dir, handler, localAdapterSetFile], { cwd: dir, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => { output += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { output += c.toString(); });
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = output.split('\n').find((l) => l.startsWith('RESULT '));
      const workers = output.split('\n').find((l) => l.startsWith('WORKERS '));
      resolve({
        code,
        output: output.slice(-4000),
        result: line ? (JSON.parse(line.slice('RESULT '.length)) as Record<string, any>) : undefined,
        workers: workers ? Number(workers.slice('WORKERS '.length)) : undefined,
      });
    });
    child.stdin.end(JSON.stringify(event));
  });
}

/** Runs the project's esbuild with `args` (from the project root). */
function esbuild(args: readonly string[]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(join(PROJECT_ROOT, 'node_modules', '.bin', 'esbuild'), args, { cwd: PROJECT_ROOT, stdio: 'inherit' });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`esbuild exited with ${code}`))));
  });
}

/** The three pkcs11js files the Dockerfile copies into the task root's node_modules (the one module every bundle leaves external). */
function installPkcs11js(root: string): void {
  const pkcs11js = join(PROJECT_ROOT, 'node_modules', 'pkcs11js');
  for (const file of ['package.json', 'index.js', join('build', 'Release', 'pkcs11.node')]) {
    mkdirSync(join(root, 'node_modules', 'pkcs11js', file, '..'), { recursive: true });
    copyFileSync(join(pkcs11js, file), join(root, 'node_modules', 'pkcs11js', file));
  }
}

let outdir: string;
let localAdapterSetFile: string;
let stateDir: string;
let table: TestStateTable;
let stack: KeyManagerStack;
let adminToken: string;

/** What every process gets: local mode on this suite's table and state folder, and no way to reach AWS. */
function localEnv(): Record<string, string> {
  return {
    [ENV.mode]: 'local',
    [ENV.stateTableName]: table.tableName,
    [ENV.dynamoDbEndpoint]: process.env[ENV.dynamoDbEndpoint] ?? '',
    [ENV.localStateDir]: stateDir,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    // Any SDK client without an endpoint of its own gets a closed port on this machine, never AWS.
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    ...(process.env.SOFTHSM2_CONF ? { SOFTHSM2_CONF: process.env.SOFTHSM2_CONF } : {}),
  };
}

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'bundles-'));
  stateDir = mkdtempSync(join(tmpdir(), 'bundles-state-'));
  table = await createTestStateTable('bundles');
  adminToken = await issueLocalToken(loadOrCreateSigningKey(stateDir), { username: 'bundle-admin', groups: [GROUPS.admins] });
  // As `npx cdk synth` builds it: cdk.json's context, bundling on.
  const app = new App({ outdir, context: { ...CDK_JSON_CONTEXT, 'aws:cdk:enable-asset-metadata': true }, builtinCloudFormationValidation: false });
  stack = new KeyManagerStack(app, 'XksKeyManager', { parameters: parametersFromContext(app.node, {}) });
  app.synth();
  // Only local mode reaches PKCS#11 from a management function (on AWS they call the HSM agent):
  // pkcs11js, external in every bundle, is put where the bundles find it, and nothing else is.
  installPkcs11js(outdir);
  localAdapterSetFile = join(outdir, 'local-adapter-set.js');
  await esbuild(['lambdas/local/local-adapter-set.ts', '--bundle', '--platform=node', '--target=node20', '--format=cjs', '--external:pkcs11js', `--outfile=${localAdapterSetFile}`]);
});

afterAll(async () => {
  await table?.dispose();
  for (const dir of [outdir, stateDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The bundle folder cdk synth wrote for `fn`, its handler, and the literal environment the function gets on AWS (mode and endpoints are local). */
function bundleOf(fn: lambda.Function): { dir: string; handler: string; environment: Record<string, string> } {
  const cfn = fn.node.defaultChild as lambda.CfnFunction;
  const assetPath = cfn.getMetadata('aws:asset:path') as string | undefined;
  if (!assetPath) throw new Error(`${fn.node.path} has no bundled asset`);
  const variables = (fn.stack.resolve(cfn.environment) as { variables?: Record<string, unknown> } | undefined)?.variables ?? {};
  const environment = Object.fromEntries(Object.entries(variables).filter((e): e is [string, string] => typeof e[1] === 'string'));
  return { dir: join(outdir, assetPath), handler: cfn.handler!, environment };
}

/** One real event for the route: the admin's token, made-up ids, an empty object as the body when the route takes one. */
function eventFor(route: RouteDefinition): unknown {
  const params = Object.fromEntries([...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => [name!, `bundle-${name}`]));
  return apiEvent(route.operation, { params, token: route.access.kind === 'public' ? undefined : adminToken, body: route.requestSchema ? {} : undefined });
}

describe('management function bundles', () => {
  it.each(routes.map((r) => [r.operation, r] as const))('%s: the bundle loads in a fresh process and answers an API Gateway event', async (_operation, route) => {
    // Arrange
    const bundle = bundleOf(stack.managementApi.functions.get(route.operation)!.function);
    // Act
    const { code, result, output } = await invoke(bundle.dir, bundle.handler, eventFor(route), { ...bundle.environment, ...localEnv() });
    // Assert: an HTTP answer of the handler itself (a CCKM error body for 4xx and the 503 of an unreachable dependency), never a crash or a bare 500.
    expect({ code, output: code === 0 ? '' : output }).toEqual({ code: 0, output: '' });
    expect(result).toEqual(expect.objectContaining({ statusCode: expect.any(Number) }));
    const status = result!.statusCode as number;
    const handled = status >= 200 && (status < 500 || status === 502 || status === 503);
    expect({ operation: route.operation, handled, body: handled ? '' : result!.body }).toEqual({ operation: route.operation, handled: true, body: '' });
    if (status >= 400) expect(JSON.parse(result!.body as string)).toMatchObject({ code: status, codeDesc: expect.any(String) });
    if (route.method === 'GET' && !route.path.includes('{') && !route.querySchema?.required) expect([route.operation, status]).toEqual([route.operation, 200]);
  });
});

describe('job runner bundle', () => {
  it('loads in a fresh process and answers a schedule\'s event: nothing to run for a configuration that does not exist', async () => {
    const bundle = bundleOf(stack.jobScheduling.runner);
    const event = { job_config_id: 'bundle-no-such-config', scheduled_time: '2026-12-01T03:00:00Z' };
    const { code, result, output } = await invoke(bundle.dir, bundle.handler, event, { ...bundle.environment, ...localEnv() });
    expect({ code, output: code === 0 ? '' : output }).toEqual({ code: 0, output: '' });
    expect(result).toEqual({ status: 'skipped' });
    const text = readFileSync(join(bundle.dir, `${bundle.handler.slice(0, bundle.handler.lastIndexOf('.'))}.js`), 'utf8');
    expect(LOCAL_MODE_MARKERS.filter((marker) => text.includes(marker))).toEqual([]);
  });
});

/** What only local-mode code contains (names of its adapters), which no deployed bundle may carry. */
const LOCAL_MODE_MARKERS = ['LocalSecretStore', 'LocalTokenVerifier', 'useLocalAdapterSet'];

describe('deployed code carries no local-mode code', () => {
  it('no management function bundle contains the local adapters', () => {
    const carrying = routes.flatMap((route) => {
      const bundle = bundleOf(stack.managementApi.functions.get(route.operation)!.function);
      const text = readFileSync(join(bundle.dir, `${bundle.handler.slice(0, bundle.handler.lastIndexOf('.'))}.js`), 'utf8');
      return LOCAL_MODE_MARKERS.filter((marker) => text.includes(marker)).map((marker) => `${route.operation}: ${marker}`);
    });
    expect(carrying).toEqual([]);
  });
});

/** The entries and esbuild arguments of the Dockerfile's bundling step (`RUN npx esbuild name=file … --outdir=dist`). */
function dockerfileBundling(): { entries: Record<string, string>; args: string[] } {
  const text = readFileSync(join(PROJECT_ROOT, PROXY_DOCKERFILE), 'utf8').replace(/\\\n/g, ' ');
  const line = text.split('\n').find((l) => /^RUN npx esbuild /.test(l));
  if (!line) throw new Error(`${PROXY_DOCKERFILE} has no "RUN npx esbuild" step`);
  // Shell words: the step has no spaces inside its arguments, and single quotes only around whole ones.
  const words = line.replace(/^RUN npx esbuild /, '').trim().split(/\s+/).map((w) => w.replace(/^'(.*)'$/, '$1'));
  const entries = Object.fromEntries(words.filter((w) => /^[\w-]+=[\w/.-]+\.m?[tj]s$/.test(w)).map((w) => w.split('=') as [string, string]));
  return { entries, args: words.filter((w) => w.startsWith('--') && !w.startsWith('--outdir=')) };
}

/** Whether the entry logged `message` before the runtime could call its handler (the module had not finished loading before). */
function initializedBeforeLoaded(output: string, message: string): boolean {
  const initialized = output.indexOf(message);
  return initialized >= 0 && initialized < output.indexOf('\nLOADED\n');
}

describe('proxy image entry points, built as the Dockerfile builds them', () => {
  let taskRoot: string;

  beforeAll(async () => {
    taskRoot = mkdtempSync(join(tmpdir(), 'image-'));
    const { entries, args } = dockerfileBundling();
    await esbuild([...Object.entries(entries).map(([n, f]) => `${n}=${f}`), ...args, `--outdir=${taskRoot}`]);
    installPkcs11js(taskRoot);
  });

  afterAll(() => rmSync(taskRoot, { recursive: true, force: true }));

  it('carry no local-mode code', () => {
    const texts = Object.values(IMAGE_ENTRIES).map((e) => readFileSync(join(taskRoot, `${e.cmd[0]!.split('.')[0]!}.mjs`), 'utf8'));
    expect(texts.flatMap((text) => LOCAL_MODE_MARKERS.filter((marker) => text.includes(marker)))).toEqual([]);
  });

  it('builds exactly the entries the stack runs, under the names their CMDs give', () => {
    const { entries } = dockerfileBundling();
    expect(entries).toEqual(Object.fromEntries(Object.values(IMAGE_ENTRIES).map((e) => [e.cmd[0]!.split('.')[0]!, e.file])));
  });

  it('the XKS proxy entry finishes its warm-up while it loads (Lambda\'s init phase) and answers the ALB\'s health check', async () => {
    const event = { requestContext: { elb: { targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/xks/1' } }, httpMethod: 'GET', path: '/ping', queryStringParameters: {}, headers: { host: 'xks.example.com' }, body: '', isBase64Encoded: false };
    const { code, result, output } = await invoke(taskRoot, IMAGE_ENTRIES.xksProxy.cmd[0], event, { ...localEnv(), [ENV.serviceName]: 'xks-proxy', AWS_LAMBDA_FUNCTION_NAME: 'bundle-xks-proxy' });
    expect({ code, output: code === 0 ? '' : output }).toEqual({ code: 0, output: '' });
    expect(result).toMatchObject({ statusCode: 200 });
    expect(initializedBeforeLoaded(output, 'xks-proxy initialized')).toBe(true);
  });

  it('the HSM agent entry loads pkcs11js and answers a partition test from the HSM', async () => {
    const request = { operation: 'testPartition', args: [{ partitionId: 'p-bundle', hsmType: 'softhsm', tokenLabel: 'no-such-token-in-this-test', pinSecretName: 'xks-key-manager/hsm-pin/p-bundle' }] };
    const { code, result, output } = await invoke(taskRoot, IMAGE_ENTRIES.hsmAgent.cmd[0], request, { ...localEnv(), [ENV.serviceName]: 'hsm-agent', AWS_LAMBDA_FUNCTION_NAME: 'bundle-hsm-agent' });
    expect({ code, output: code === 0 ? '' : output }).toEqual({ code: 0, output: '' });
    expect(initializedBeforeLoaded(output, 'HSM agent initialized')).toBe(true);
    expect(result).toEqual(expect.objectContaining({ ok: expect.any(Boolean) }));
    expect(JSON.stringify(result)).not.toMatch(/Cannot find module|invalid HSM agent request/);
  });

  it.each([
    ['on the event loop (SoftHSM2\'s default)', 'softhsm=inline', 0],
    ['on its inlined PKCS#11 worker thread (network HSMs\' default)', 'softhsm=worker-thread', 1],
  ])('the HSM agent entry opens a session and logs in to a real token %s', async (_where, callModes, workers) => {
    // Arrange: a real token whose PIN the local secret store holds.
    const token = await createTestToken({ prefix: 'bundle-login' });
    await new LocalSecretStore({ stateDir }).put(token.partition.pinSecretName, token.pin);
    const request = { operation: 'testPartition', args: [token.partition] };
    const env = { ...localEnv(), [ENV.serviceName]: 'hsm-agent', AWS_LAMBDA_FUNCTION_NAME: 'bundle-hsm-agent', [ENV.pkcs11CallModes]: callModes };
    // Act
    const invocation = await invoke(taskRoot, IMAGE_ENTRIES.hsmAgent.cmd[0], request, env);
    // Assert: ready (pkcs11js's constants reach the ES module bundle), with the worker threads expected.
    expect({ code: invocation.code, output: invocation.code === 0 ? '' : invocation.output }).toEqual({ code: 0, output: '' });
    expect(invocation.result).toEqual({ ok: true, result: { ready: true, message: 'ready' } });
    expect(invocation.workers).toBe(workers);
  });
});
