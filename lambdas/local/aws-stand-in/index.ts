/**
 * Starts the local AWS stand-in (see README.md in this folder): one HTTP server on 127.0.0.1
 * with every module of modules.ts, state in `stateDir`, XKS proxy calls to `xksProxyBaseUrl`.
 *
 *   const aws = await startAwsStandIn({ stateDir: '.local/aws', xksProxyBaseUrl, xksCaCert });
 *   new KMSClient({ endpoint: aws.endpointUrl, region: aws.region, credentials: aws });
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { AddressInfo } from 'node:net';
import { CredentialStore } from './credentials';
import { XksProxyClient } from './kms/xks-proxy-client';
import { STAND_IN_MODULES } from './modules';
import { OperationRegistry, type StandInModule, type StandInRuntime } from './operation-registry';
import { StandInServer } from './server';
import { StandInState } from './state';
import { Throttle, type ThrottleOptions } from './throttle';

/** AWS's documentation examples use this account; so does the stand-in by default. */
export const DEFAULT_ACCOUNT_ID = '111122223333';
export const DEFAULT_REGION = 'us-east-1';

export interface StandInAccount {
  readonly accountId: string;
  /** Fixed credentials for the account. @default - generated once and kept in the state folder */
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
}

export interface AwsStandInOptions {
  /** Folder for the state (created if missing; reused on restart). @default - memory only */
  readonly stateDir?: string;
  /** @default 0 (a free port) */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** The region reported to callers as the default one (any region can be signed for). @default 'us-east-1' */
  readonly region?: string;
  /** Where every XKS proxy URI endpoint leads, e.g. `https://127.0.0.1:8443`. */
  readonly xksProxyBaseUrl: string;
  /** The CA certificate to trust for the proxy: PEM text, or the path of a PEM file. */
  readonly xksCaCert?: string;
  /** @default 250 (AWS KMS's timeout for proxy calls) */
  readonly xksTimeoutMs?: number;
  /** How often a CONNECTED external key store's proxy health is checked. @default 60_000 */
  readonly xksHealthCheckIntervalMs?: number;
  /** The accounts with long-term credentials; the first is the default account. @default [{accountId: '111122223333'}] */
  readonly accounts?: readonly StandInAccount[];
  /** Request-rate limits per operation. @default none */
  readonly throttle?: ThrottleOptions;
  /** Extra modules after the standard ones (tests). */
  readonly modules?: readonly StandInModule[];
  /** @default - no log */
  readonly log?: (message: string) => void;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

export interface AwsStandIn {
  /** `http://127.0.0.1:<port>` */
  readonly endpointUrl: string;
  readonly region: string;
  /** The default account and its long-term credentials. */
  readonly accountId: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Every configured account's credentials. */
  readonly accounts: readonly { readonly accountId: string; readonly accessKeyId: string; readonly secretAccessKey: string }[];
  readonly throttle: Throttle;
  /** The stand-in's state, for set-up that AWS does outside its API (local CloudHSM clusters). */
  readonly state: StandInState;
  /** Stops listening, waits for background work, writes the state snapshot. */
  stop(): Promise<void>;
}

export async function startAwsStandIn(options: AwsStandInOptions): Promise<AwsStandIn> {
  const now = options.now ?? (() => new Date());
  const log = options.log ?? (() => undefined);
  const state = StandInState.open(options.stateDir);
  const credentials = new CredentialStore(state, now);
  credentials.purgeExpired();
  const accounts = (options.accounts ?? [{ accountId: DEFAULT_ACCOUNT_ID }]).map((account) => {
    if (!/^\d{12}$/.test(account.accountId)) throw new Error(`account id ${account.accountId} is not 12 digits`);
    const given = account.accessKeyId && account.secretAccessKey ? { accessKeyId: account.accessKeyId, secretAccessKey: account.secretAccessKey } : undefined;
    const key = credentials.accountKey(account.accountId, given);
    return { accountId: key.accountId, accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
  });
  if (accounts.length === 0) throw new Error('accounts must name at least one account');

  const registry = new OperationRegistry();
  const modules = [...STAND_IN_MODULES, ...(options.modules ?? [])];
  for (const module of modules) module.register(registry);
  const xksProxy = new XksProxyClient({ baseUrl: options.xksProxyBaseUrl, caCert: readPem(options.xksCaCert), timeoutMs: options.xksTimeoutMs });

  const background = new Set<Promise<void>>();
  let stopping = false;
  const stopController = new AbortController();
  const runtime: StandInRuntime = {
    state,
    registry,
    credentials,
    xksProxy,
    now,
    log,
    settings: { xksHealthCheckIntervalMs: options.xksHealthCheckIntervalMs ?? 60_000 },
    isStopping: () => stopping,
    sleep: (ms) =>
      stopping
        ? Promise.resolve(false)
        : delay(ms, true, { signal: stopController.signal }).catch(() => false),
    runInBackground(name, work) {
      if (stopping) return;
      const task = work()
        .catch((error: unknown) => log(`${name} failed: ${error instanceof Error ? error.message : String(error)}`))
        .finally(() => background.delete(task));
      background.add(task);
    },
  };
  const throttle = new Throttle(options.throttle);
  const server = createServer(new StandInServer(runtime, throttle).listener);
  server.keepAliveTimeout = 65_000;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpointUrl = `http://${host}:${port}`;
  log(`AWS stand-in listening on ${endpointUrl}`);
  for (const module of modules) module.start?.(runtime);

  return {
    endpointUrl,
    region: options.region ?? DEFAULT_REGION,
    ...accounts[0],
    accounts,
    throttle,
    state,
    async stop() {
      stopping = true;
      stopController.abort();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await Promise.all([...background]);
      xksProxy.close();
      state.compact();
    },
  };
}

function readPem(value: string | undefined): string | undefined {
  if (value === undefined || value.includes('-----BEGIN')) return value;
  if (!existsSync(value)) throw new Error(`xksCaCert: no such file ${value}`);
  return readFileSync(value, 'utf8');
}
