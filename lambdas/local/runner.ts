/**
 * The local runner (`npm start`, entered through bin/local.ts): the whole key manager on this
 * machine, no AWS account needed.
 *
 *   npx tsx bin/local.ts [--port 8080] [--xks-port 8443] [--aws-port 4599] [--state-dir .local]
 *
 * 1. takes `<state>/runner.lock` (one runner per state folder);
 * 2. starts DynamoDB Local with its data under `<state>/dynamodb` and creates the state table;
 * 3. points SoftHSM2 at `<state>/softhsm` and sets the environment the composition root reads in
 *    local mode (KEY_MANAGER_MODE=local, STATE_TABLE_NAME, DYNAMODB_ENDPOINT, LOCAL_STATE_DIR, ...);
 * 4. serves the management API (every handler in-process) on http://127.0.0.1:<port>/api, with
 *    tokens signed by a key kept under `<state>/jwt`, and issues an admin token;
 * 5. serves the XKS proxy over HTTPS on 127.0.0.1:<xks-port> (self-signed certificate under `<state>/tls`);
 * 6. starts the local AWS stand-in (AWS KMS and STS, state under `<state>/aws`) on
 *    http://127.0.0.1:<aws-port>, calling that proxy as AWS KMS does, and points the SDK's KMS,
 *    STS and CloudHSMv2 clients at it (AWS_ENDPOINT_URL_KMS / _STS / _CLOUDHSM_V2) with its default
 *    account's credentials, so account containers are described and their roles checked through
 *    its STS; it also holds one local CloudHSM cluster (a SoftHSM2 token of its own, files under
 *    `<state>/cloudhsm`) for AWS_CLOUDHSM key stores;
 * 7. registers the SoftHSM2 token as the HSM partition `local-softhsm` through the API itself;
 *    and starts the daily sweep in-process (at once, then every day: daily-sweep-timer.ts);
 * 8. writes `<state>/endpoints.json` and prints it.
 * Ctrl-C (or SIGTERM) stops everything it started. Reset: stop it and `rm -rf .local`.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createStateTableIfMissing } from '../adapters/dynamodb/state-table';
import { issueLocalToken, loadOrCreateSigningKey, LocalTokenVerifier } from './adapters/local-tokens';
import { ENV, GROUPS } from '../contract/env';
import { portsFor } from '../runtime/adapter-set';
import { loadConfig } from '../runtime/config';
import { useLocalAdapterSet } from './local-adapter-set';
import { type RunningGateway, startLocalGateway } from './local-gateway';
import { cloudHsmHealthOptions, createXksLogger, xksProxyDeps } from '../xks-proxy/entry/composition-root';
import { SdkCloudHsmClusterHsms } from '../adapters/aws/cloudhsm-sdk';
import { terminatePkcs11Workers } from '../adapters/pkcs11/module';
import { startXksHttpsServer, type XksHttpsServer } from '../xks-proxy/entry/https-server';
import { type AwsStandIn, startAwsStandIn } from './aws-stand-in';
import { ensureLocalCloudHsmCluster, type LocalCluster } from './aws-stand-in/cloudhsm/local-cluster';
import { type DynamoDbLocal, startDynamoDbLocal } from './dynamodb-local';
import { applyLocalAwsEnv, LOCAL_AWS_ENV } from './local-aws-env';
import { ensureLocalPartition } from './local-partition';
import { acquireRunnerLock, RunnerAlreadyRunningError, type RunnerLock } from './runner-lock';
import { ensureSelfSignedCert } from './self-signed-cert';
import { writeSoftHsmConfig } from './softhsm-token';
import { LocalScheduler } from './local-scheduler';
import { dependencies } from '../runtime/dependencies';
import { type RunningDailySweep, startDailySweep } from './daily-sweep-timer';

const STATE_TABLE_NAME = 'key-manager-state';
/** Like the deployed API's stage: URLs read `/api/v1/cckm/...`, as in CCKM. */
const API_BASE_PATH = '/api';

/** What `<state>/endpoints.json` holds (and the runner prints). */
export interface LocalEndpoints {
  readonly apiUrl: string;
  readonly adminToken: string;
  /** The XKS proxy over HTTPS: key stores' URI paths go under it. */
  readonly xksUrl: string;
  /** PEM certificate to trust for `xksUrl` (self-signed for localhost and 127.0.0.1). */
  readonly xksCaCert: string;
  readonly dynamoDbEndpoint: string;
  /** The local AWS stand-in (AWS KMS, STS) and the credentials of its default account (containers without a role). */
  readonly aws: {
    readonly endpointUrl: string;
    readonly region: string;
    readonly accountId: string;
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
  };
  /** The local CloudHSM cluster in that account and region, and what CreateCustomKeyStore needs for it. */
  readonly cloudHsm: LocalCluster;
}

interface Running {
  lock?: RunnerLock;
  /** Removed on stop: its URLs die with the runner. */
  endpointsFile?: string;
  dynamoDb?: DynamoDbLocal;
  gateway?: RunningGateway;
  xks?: XksHttpsServer;
  aws?: AwsStandIn;
  scheduler?: LocalScheduler;
  sweep?: RunningDailySweep;
}

/** The local proxy's request deadline (200 ms on AWS): DynamoDB Local and SoftHSM2 share the machine with everything else. */
const LOCAL_PROXY_DEADLINE_MS = 1_000;
/**
 * How long the local AWS KMS waits for the proxy (250 ms on AWS, the stand-in's default): longer
 * than the local proxy's deadline, so that the proxy's own answer (a timeout included) is what the
 * caller sees, not AWS KMS giving up first on a busy machine.
 */
const LOCAL_AWS_KMS_PROXY_TIMEOUT_MS = 1_500;

const log = (message: string): void => console.log(`[local] ${message}`);
const warn = (message: string): void => console.warn(`[local] WARNING: ${message}`);

function parseOptions(): { port: number; xksPort: number; awsPort: number; stateDir: string; schedulerClock: 'system' | 'manual' } {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8080' },
      'xks-port': { type: 'string', default: '8443' },
      'aws-port': { type: 'string', default: '4599' },
      'state-dir': { type: 'string', default: '.local' },
      // Tests: the scheduler's clock moves only when told, over the IPC channel (startScheduler).
      'scheduler-clock': { type: 'string', default: 'system' },
    },
  });
  const port = (name: string, value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--${name} must be a port number, not ${JSON.stringify(value)}`);
    return n;
  };
  return {
    port: port('port', values.port),
    xksPort: port('xks-port', values['xks-port']),
    awsPort: port('aws-port', values['aws-port']),
    stateDir: resolve(values['state-dir']),
    schedulerClock: schedulerClock(values['scheduler-clock']),
  };
}

async function start(running: Running): Promise<void> {
  const options = parseOptions();
  const { stateDir } = options;
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  running.lock = acquireRunnerLock(stateDir);
  const endpointsFile = join(stateDir, 'endpoints.json');
  running.endpointsFile = endpointsFile;
  rmSync(endpointsFile, { force: true }); // a previous run's, if it was killed

  applyLocalAwsEnv();
  process.env.SOFTHSM2_CONF = writeSoftHsmConfig(join(stateDir, 'softhsm'));
  running.dynamoDb = await startDynamoDbLocal({ dbPath: join(stateDir, 'dynamodb') });
  Object.assign(process.env, {
    [ENV.mode]: 'local',
    [ENV.stateTableName]: STATE_TABLE_NAME,
    [ENV.dynamoDbEndpoint]: running.dynamoDb.endpoint,
    [ENV.localStateDir]: stateDir,
  });
  // Every handler and the XKS proxy in this process take the local adapter set.
  useLocalAdapterSet();
  const dynamoDbClient = new DynamoDBClient({ endpoint: running.dynamoDb.endpoint });
  await createStateTableIfMissing(dynamoDbClient, STATE_TABLE_NAME);
  dynamoDbClient.destroy();

  const adminToken = await issueLocalToken(loadOrCreateSigningKey(stateDir), { username: 'admin', groups: [GROUPS.admins] });
  running.gateway = await listenOrExplain('--port', options.port, () =>
    startLocalGateway(
      { port: options.port, host: '127.0.0.1' },
      { basePath: API_BASE_PATH, authorizer: LocalTokenVerifier.fromStateDir(stateDir) },
    ),
  );
  const apiUrl = running.gateway.url;

  // The XKS proxy takes its ports (state, secrets, credential usage) from the local adapter set now; the
  // handlers build theirs at their first request, after the AWS stand-in below has set the SDK's
  // endpoints, so that their configuration names the local STS (runtime/config.ts localStsEndpoint).
  const proxyConfig = loadConfig();
  const proxyLogger = createXksLogger();
  // The deep health check reads the local CloudHSM clusters' HSMs from the stand-in below, which starts after the proxy.
  const proxyPorts = portsFor(proxyConfig, { cloudHsmClusterHsms: new SdkCloudHsmClusterHsms({ endpoint: () => running.aws?.endpointUrl ?? LOCAL_AWS_ENV.AWS_ENDPOINT_URL }) });
  const tls = ensureSelfSignedCert(join(stateDir, 'tls'));
  running.xks = await listenOrExplain('--xks-port', options.xksPort, () =>
    startXksHttpsServer({
      port: options.xksPort,
      host: '127.0.0.1',
      ...tls,
      // DynamoDB Local and SoftHSM2 share this machine with everything else: a wider deadline than
      // the 200 ms on AWS, so that a slow first state read on a busy laptop is not a timeout.
      deps: { ...xksProxyDeps(proxyPorts, proxyConfig, proxyLogger, { metrics: false }), proxyOptions: { requestTimeoutMs: LOCAL_PROXY_DEADLINE_MS, health: { cloudHsm: cloudHsmHealthOptions(proxyPorts, proxyLogger) } } },
    }),
  );
  const xks = { xksUrl: running.xks.url, xksCaCert: tls.certPath };

  // AWS KMS and STS: every XKS proxy URI endpoint leads to the proxy above, as an endpoint
  // service's private DNS name does on AWS. The handlers' SDK clients go there from now on.
  running.aws = await listenOrExplain('--aws-port', options.awsPort, () =>
    startAwsStandIn({
      stateDir: join(stateDir, 'aws'),
      port: options.awsPort,
      xksProxyBaseUrl: xks.xksUrl,
      xksCaCert: tls.certPath,
      xksTimeoutMs: LOCAL_AWS_KMS_PROXY_TIMEOUT_MS,
      log: (message) => log(`aws: ${message}`),
    }),
  );
  const aws = {
    endpointUrl: running.aws.endpointUrl,
    region: running.aws.region,
    accountId: running.aws.accountId,
    accessKeyId: running.aws.accessKeyId,
    secretAccessKey: running.aws.secretAccessKey,
  };
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_KMS: aws.endpointUrl,
    AWS_ENDPOINT_URL_STS: aws.endpointUrl,
    AWS_ENDPOINT_URL_CLOUDHSM_V2: aws.endpointUrl,
    AWS_ACCESS_KEY_ID: aws.accessKeyId,
    AWS_SECRET_ACCESS_KEY: aws.secretAccessKey,
  });

  const partition = await ensureLocalPartition({ apiUrl, adminToken }).catch((error: unknown) => ({
    kind: 'skipped' as const,
    reason: (error as Error).message,
  }));
  if (partition.kind === 'skipped') warn(`HSM partition local-softhsm is not registered: ${partition.reason}`);
  else log(`HSM partition local-softhsm ${partition.kind === 'registered' ? 'registered' : 'found'} (id ${partition.partitionId})`);

  const cloudHsm = await ensureLocalCloudHsmCluster(running.aws.state, { accountId: aws.accountId, region: aws.region, dir: join(stateDir, 'cloudhsm') });

  running.scheduler = startScheduler(stateDir, options.schedulerClock);
  // The daily sweep (unreferenced secrets, PENDING HSM keys), as EventBridge Scheduler runs it on AWS: now, then daily.
  running.sweep = startDailySweep(portsFor(loadConfig()), (message) => log(`sweep: ${message}`));

  const endpoints: LocalEndpoints = { apiUrl, adminToken, ...xks, dynamoDbEndpoint: running.dynamoDb.endpoint, aws, cloudHsm };
  // Written whole and renamed, so a reader polling for it never sees half a file; 0600: it holds the admin token.
  writeFileSync(`${endpointsFile}.tmp`, `${JSON.stringify(endpoints, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${endpointsFile}.tmp`, endpointsFile);

  const shownStateDir = relative(process.cwd(), stateDir).startsWith('..') ? stateDir : relative(process.cwd(), stateDir);
  log(`state in ${stateDir} (reset: stop the runner, then rm -rf ${shownStateDir})`);
  log(`management API: ${apiUrl}   e.g. curl -H "Authorization: Bearer $TOKEN" ${apiUrl}/v1/cckm/aws/kms`);
  log(`XKS proxy:      ${xks.xksUrl}   (trust ${xks.xksCaCert})`);
  log(`AWS KMS, STS:   ${aws.endpointUrl}   (local stand-in, account ${aws.accountId}; e.g. aws kms list-keys --endpoint-url ${aws.endpointUrl}, with the credentials in endpoints.json)`);
  log(`CloudHSM:       cluster ${cloudHsm.clusterId} (aws cloudhsmv2 describe-clusters --endpoint-url ${aws.endpointUrl}; trust anchor ${cloudHsm.trustAnchorCertificatePath})`);
  log(`endpoints written to ${endpointsFile}:`);
  console.log(JSON.stringify(endpoints, null, 2));
  log('running; press Ctrl-C to stop');
}

/** Runs `listen`, turning a taken port into a message that names the option to change. */
async function listenOrExplain<T>(option: string, port: number, listen: () => Promise<T>): Promise<T> {
  try {
    return await listen();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(`port ${port} on 127.0.0.1 is in use: choose another with ${option} N`);
    }
    throw error;
  }
}

function schedulerClock(value: string): 'system' | 'manual' {
  if (value !== 'system' && value !== 'manual') throw new Error(`--scheduler-clock must be system or manual, not ${JSON.stringify(value)}`);
  return value;
}

/**
 * The in-process scheduler of job configurations, running the same job runner as EventBridge
 * Scheduler does on AWS. With `--scheduler-clock manual` (tests) it ticks only when a parent
 * process sends `{type: 'scheduler.tick', now}` over the IPC channel, and answers
 * `{type: 'scheduler.ticked', now, runs}` (or `error`).
 */
function startScheduler(stateDir: string, clock: 'system' | 'manual'): LocalScheduler {
  const scheduler = new LocalScheduler({ stateDir, run: (event) => dependencies().jobRunner.run(event), log, manualClock: clock === 'manual' });
  scheduler.start();
  if (clock === 'manual' && process.send !== undefined) {
    process.on('message', (message: { type?: string; now?: string }) => {
      if (message?.type !== 'scheduler.tick' || typeof message.now !== 'string') return;
      scheduler
        .tick(new Date(message.now))
        .then((runs) => process.send?.({ type: 'scheduler.ticked', now: message.now, runs }))
        .catch((error: unknown) => process.send?.({ type: 'scheduler.ticked', now: message.now, error: String(error) }));
    });
  }
  return scheduler;
}

async function stop(running: Running): Promise<void> {
  await running.scheduler?.stop();
  await running.sweep?.stop();
  await running.aws?.stop().catch((error: unknown) => warn(`AWS stand-in did not stop cleanly: ${String(error)}`));
  await running.xks?.close().catch((error: unknown) => warn(`XKS proxy did not close cleanly: ${String(error)}`));
  await terminatePkcs11Workers();
  await running.gateway?.close();
  await running.dynamoDb?.stop();
  if (running.endpointsFile) rmSync(running.endpointsFile, { force: true });
  running.lock?.release();
}

/** Starts the runner with the process's arguments and stops it on SIGINT/SIGTERM. */
export function main(): void {
  const running: Running = {};
  let stopping = false;
  const shutdown = (code: number): void => {
    if (stopping) return;
    stopping = true;
    if (code === 0) log('stopping');
    stop(running)
      .catch((error: unknown) => console.error('[local] error while stopping:', error))
      .finally(() => process.exit(code));
  };
  // Ctrl-C may arrive twice (run through the tsx CLI, which relays it): shutdown runs once.
  process.on('SIGINT', () => shutdown(0));
  process.on('SIGTERM', () => shutdown(0));
  start(running).catch((error: unknown) => {
    console.error(
      error instanceof RunnerAlreadyRunningError
        ? `[local] ${error.message}`
        : `[local] could not start: ${error instanceof Error ? error.message : String(error)}`,
    );
    shutdown(1);
  });
}
