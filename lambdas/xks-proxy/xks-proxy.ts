/**
 * The XKS proxy core, independent of any transport: an XksRequest in, an XksResponse out.
 * Both front doors (alb-handler.ts, https-server.ts) call `handle`.
 *
 * Per request (README, "Architecture", XKS hot path):
 *   1. route the URI path (unknown → 404 InvalidUriPathException; not POST → 405);
 *   2. resolve the key store from the path (cached ≤ 5 s; unknown → InvalidUriPathException);
 *   3. mTLS for stores that require it, then SigV4 with the store's credentials;
 *   4. a blocked store answers InvalidStateException, whatever the operation;
 *   5. validate the body for the operation, resolve the key (key operations);
 *   6. enact the operation; 7. one audit line.
 */
import { performance } from 'node:perf_hooks';
import { raceDeadline } from '../core/race-deadline';
import type { KeyCrypto } from '../core/ports/hsm';
import type { SecretStore } from '../core/ports/secret-store';
import type { CredentialUsage } from '../core/ports/credential-usage';
import { CredentialUseThrottle } from '../core/key-stores/credential-use-throttle';
import { kmsClientCertificateCn } from '../core/key-stores/key-store';
import type { XksKeyStoreView, XksStateSource } from '../core/ports/xks-state-source';
import { AuditLog, roundLatency, type AuditFields, type XksLogger } from './observability/audit';
import { CredentialSecrets } from './state/credential-secrets';
import { toXksError, XksError } from './errors';
import { canServe, DeepHealthCheck, type DeepHealthCheckOptions } from './health/deep-health-check';
import { HealthMonitor, type HealthMonitorOptions } from './health/health-monitor';
import type { XksMetrics } from './observability/metrics';
import { jsonResponse, type XksRequest, type XksResponse } from './http';
import { decrypt } from './operations/decrypt';
import { encrypt } from './operations/encrypt';
import { getHealthStatus } from './operations/get-health-status';
import { getKeyMetadata } from './operations/get-key-metadata';
import type { AnyOperation, ProxyInfo } from './operations/operation';
import { metadataForAudit, parseJsonObject, type JsonObject } from './operations/request-fields';
import { isValidExternalKeyId, matchRoute, type XksOperation } from './router';
import { SigV4Verifier } from './auth/sigv4';
import { CachedXksStateSource } from './state/state-cache';
import { rehearsalKeyCrypto, rehearse, SILENT_LOGGER, type RehearsalTarget } from './rehearsal';
import { version as packageVersion } from '../../package.json';

const OPERATIONS: Readonly<Record<XksOperation, AnyOperation>> = {
  GetHealthStatus: getHealthStatus,
  GetKeyMetadata: getKeyMetadata,
  Encrypt: encrypt,
  Decrypt: decrypt,
};

export interface XksProxyDeps {
  /** Control-plane state; the proxy wraps it in its ≤ 5 s cache. */
  readonly state: XksStateSource;
  /** AES-GCM inside the HSM (Pkcs11KeyCrypto). */
  readonly keyCrypto: KeyCrypto;
  /** Holds the XKS credentials' secret access keys. */
  readonly secrets: SecretStore;
  /** Powertools Logger (or a recorder in tests). */
  readonly logger: XksLogger;
  /**
   * The init rehearsal's logger: formats lines as `logger` does and writes them nowhere
   * (BatchedLogger.discardingLines), so that the request line's code has run before the first request.
   * @default - the rehearsal's lines are dropped unformatted
   */
  readonly rehearsalLogger?: XksLogger;
  /** CloudWatch metrics (Powertools Metrics on Lambda); none when absent. */
  readonly metrics?: XksMetrics;
  /**
   * Where the last use of each credential is recorded (throttled to once a minute per credential,
   * never awaited by a request), so that the control plane never rotates out a credential AWS KMS
   * is still using. None: nothing recorded.
   */
  readonly credentialUsage?: CredentialUsage;
}

export interface XksProxyOptions {
  /** Staleness of the cached key store / key views. @default 4_000 (at most 5_000) */
  readonly stateMaxAgeMs?: number;
  /** How the deep health check runs and how fresh its result is kept (health-monitor.ts). */
  readonly health?: DeepHealthCheckOptions & Omit<HealthMonitorOptions, 'now' | 'onResult'>;
  /** `xksProxyFleetSize` of GetHealthStatus. @default 1 */
  readonly fleetSize?: number;
  /**
   * One deadline per request, from its arrival: every step draws from it (state and secret
   * lookups, every PKCS#11 call, the CDIV check-decrypt). Past it the request answers
   * DependencyTimeoutException at once. AWS KMS gives the proxy 250 ms in all. @default 200
   */
  readonly requestTimeoutMs?: number;
  /**
   * The client certificate subject CN a store with mTLS accepts.
   * @default - the store's `mtlsClientSubjectCn`, else `cks.kms.<store region>.amazonaws.com`, the name AWS KMS presents (spec, "Authentication")
   */
  readonly mtlsSubjectCn?: (store: XksKeyStoreView) => string;
  /**
   * Write the compact line of every success (the spec: a proxy SHOULD log each request). Only
   * `npm run bench:xks --request-log-cost` turns it off, to measure what the line costs. @default true
   */
  readonly logSuccesses?: boolean;
  readonly now?: () => number;
}

export const XKS_PROXY_VENDOR = 'xks-key-manager';

/** What serving a request does besides answering, and the HSM it uses (the init rehearsal has its own, see rehearsal.ts). */
interface RequestEffects {
  readonly audit: AuditLog;
  readonly metrics?: XksMetrics;
  readonly credentialUse?: CredentialUseThrottle;
  readonly keyCrypto: KeyCrypto;
}

export interface WarmUpResult {
  readonly keyStores: number;
  readonly keys: number;
  readonly failures: readonly { readonly id: string; readonly error: unknown }[];
}

/** Runs `work` over the items, a few at a time (the HSM session pool and DynamoDB take a handful at once). */
async function inBatches<T>(items: readonly T[], work: (item: T) => Promise<void>, size = 8): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(work));
}

/**
 * Rehearsals of each operation at init (rehearsal.ts). V8 gives a function its feedback and its
 * first compiled tiers only after several calls; one round left the first real request ~2-3 ms
 * slower than the ones after it, 100 rounds ~1.5 ms (bench:xks cold starts), for ~80 ms more init.
 */
const REHEARSAL_ROUNDS = 50;

/** The proxy's share of AWS KMS's 250 ms per call (the rest is the network and KMS itself). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 200;

/** The promise's outcome, or DependencyTimeoutException once the request's deadline has passed. */
function withinDeadline<T>(promise: Promise<T>, deadlineAt: number, dependency: string): Promise<T> {
  return raceDeadline(promise, deadlineAt, () => new XksError('DependencyTimeoutException', `The ${dependency} did not answer in time`));
}

export class XksProxy {
  private readonly state: CachedXksStateSource;
  private readonly secrets: CredentialSecrets;
  private readonly keyCrypto: KeyCrypto;
  private readonly verifier: SigV4Verifier;
  private readonly health: HealthMonitor;
  private readonly metrics?: XksMetrics;
  /** What a request does besides answering: its line, its metric, its credential's last use; and the HSM it uses. */
  private readonly effects: RequestEffects;
  private readonly credentialUsage?: CredentialUsage;
  private readonly rehearsalLogger: XksLogger;
  private readonly proxyInfo: ProxyInfo;
  private readonly requestTimeoutMs: number;
  private readonly mtlsSubjectCn: (store: XksKeyStoreView) => string;
  private readonly logSuccesses: boolean;
  private readonly now: () => number;

  constructor(deps: XksProxyDeps, options: XksProxyOptions = {}) {
    this.state = new CachedXksStateSource(deps.state, { maxAgeMs: options.stateMaxAgeMs, now: options.now });
    this.keyCrypto = deps.keyCrypto;
    const secrets = new CredentialSecrets(deps.secrets, { now: options.now });
    this.secrets = secrets;
    this.verifier = new SigV4Verifier({ resolveSecret: (credential, deadlineAt) => withinDeadline(secrets.resolve(credential), deadlineAt, 'secret store'), now: options.now });
    this.metrics = deps.metrics;
    this.health = new HealthMonitor(new DeepHealthCheck(deps.keyCrypto, { now: options.now, ...options.health }), {
      now: options.now,
      ...options.health,
      onResult: (store, fleet) => {
        this.metrics?.healthCheck(canServe(fleet));
        for (const member of fleet.members) {
          if (member.error) deps.logger.warn('deep health check failed', { keyStoreId: store.id, member: member.id, errorName: member.error.errorName, error: member.error.message });
        }
      },
    });
    const credentialUse = deps.credentialUsage
      ? new CredentialUseThrottle(deps.credentialUsage, {
          now: options.now,
          onError: (error) => deps.logger.warn('credential last-use not recorded', { error: error instanceof Error ? error.name : String(error) }),
        })
      : undefined;
    this.effects = { audit: new AuditLog(deps.logger), metrics: deps.metrics, credentialUse, keyCrypto: deps.keyCrypto };
    this.credentialUsage = deps.credentialUsage;
    this.rehearsalLogger = deps.rehearsalLogger ?? SILENT_LOGGER;
    this.now = options.now ?? Date.now;
    const fleetSize = options.fleetSize ?? 1;
    if (!Number.isInteger(fleetSize) || fleetSize < 1) throw new Error(`fleetSize must be an integer > 0, got ${fleetSize}`);
    this.proxyInfo = { fleetSize, vendor: XKS_PROXY_VENDOR, model: `${XKS_PROXY_VENDOR} XKS proxy ${packageVersion}` };
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.mtlsSubjectCn = options.mtlsSubjectCn ?? ((store) => store.mtlsClientSubjectCn ?? kmsClientCertificateCn(store.region));
    this.logSuccesses = options.logSuccesses ?? true;
  }

  /**
   * The init-phase warm-up (the Lambda entry awaits it before the first request): every key store
   * and its credentials' secrets into the caches, a deep health check per store (which loads the
   * PKCS#11 library, logs in to the partition and opens a session), and every HYOK key's view
   * with its current HSM key handle looked up. A store or key that fails is logged by the caller
   * from `failures` and loads on demand later; only a failure to list the state rejects.
   */
  async warmUp(limits: { readonly maxKeyStores?: number; readonly maxKeys?: number } = {}): Promise<WarmUpResult> {
    const ids = await this.state.listIds();
    const failures: { readonly id: string; readonly error: unknown }[] = [];
    let keyStores = 0;
    let keys = 0;
    let rehearsal: RehearsalTarget | undefined;
    const attempt = async (id: string, work: () => Promise<boolean>) => {
      try {
        if (await work()) return true;
      } catch (error) {
        failures.push({ id, error });
      }
      return false;
    };
    await inBatches(ids.keyStoreIds.slice(0, limits.maxKeyStores ?? 1_000), async (id) => {
      const warmed = await attempt(id, async () => {
        const store = await this.state.preloadKeyStore(id);
        if (!store) return false;
        const secrets = await Promise.all(store.credentials.map((credential) => this.secrets.resolve(credential)));
        const health = await this.health.refresh(store);
        if (!canServe(health)) throw health.members.find((member) => member.error)?.error ?? new XksError('InternalException', 'No HSM of the partition can serve');
        const signing = store.credentials.findIndex((_, i) => secrets[i] !== undefined);
        if (!rehearsal && signing >= 0) rehearsal = { store, credential: store.credentials[signing], secret: secrets[signing] as string };
        return true;
      });
      if (warmed) keyStores += 1;
    });
    await inBatches(ids.keys.slice(0, limits.maxKeys ?? 10_000), async ({ keyStoreId, externalKeyId }) => {
      const warmed = await attempt(`${keyStoreId}/${externalKeyId}`, async () => {
        const key = await this.state.getKey(keyStoreId, externalKeyId);
        if (!key) return false;
        const current = key.versions.find((version) => version.version === key.currentVersion);
        const keyInfo = current ? await this.keyCrypto.describe(current.key) : undefined;
        if (rehearsal && !rehearsal.key && keyStoreId === rehearsal.store.id && keyInfo) rehearsal = { ...rehearsal, key, keyInfo };
        return true;
      });
      if (warmed) keys += 1;
    });
    if (rehearsal) {
      const target = rehearsal;
      const effects: RequestEffects = {
        audit: new AuditLog(this.rehearsalLogger),
        keyCrypto: rehearsalKeyCrypto(this.keyCrypto, target.store.healthCheckKey, target.keyInfo),
        credentialUse: this.effects.credentialUse && new CredentialUseThrottle({ recordUse: async () => undefined }),
      };
      await attempt('rehearsal', async () => {
        // Without a state cache (stateMaxAgeMs 0, in tests) every rehearsal request reads the state: one round then.
        const rounds = this.state.maxAgeMs > 0 ? REHEARSAL_ROUNDS : 1;
        for (let round = 0; round < rounds; round += 1) await rehearse(target, this.now(), (request) => this.serve(request, effects));
        await this.rehearseCredentialUse(target);
        return true;
      });
    }
    return { keyStores, keys, failures };
  }

  /**
   * The rehearsal records no credential use, but the first real request starts a use write, whose
   * first run in a process costs the SDK milliseconds of main-thread work (building and signing a
   * transaction it has not built before), in the way of the requests right after it. So the
   * credential's last use is read and written again as it is: a use no later than the one stored
   * changes nothing (CredentialUsage.recordUse), and the write's code has run. A credential with
   * no recorded use yet has nothing to write again: only reading warms the client then.
   */
  private async rehearseCredentialUse(target: RehearsalTarget): Promise<void> {
    if (!this.credentialUsage) return;
    const lastUse = (await this.credentialUsage.lastUses(target.store.id)).get(target.credential.id);
    if (lastUse) await this.credentialUsage.recordUse(target.store.id, target.credential.id, lastUse);
  }

  handle(request: XksRequest): Promise<XksResponse> {
    return this.serve(request, this.effects);
  }

  private async serve(request: XksRequest, effects: RequestEffects): Promise<XksResponse> {
    const started = performance.now();
    const deadlineAt = Date.now() + this.requestTimeoutMs;
    const route = matchRoute(request.path);
    if (route?.kind === 'ping') {
      if (request.method === 'GET' || request.method === 'HEAD') {
        // The load balancer's periodic invocation keeps the deep health results fresh (health-monitor.ts).
        await this.health.refreshStale();
        return { status: 200, headers: { 'content-type': 'text/plain' }, body: 'OK' };
      }
      return new XksError('MethodNotAllowed', 'GET /ping only', { allow: 'GET' }).toResponse();
    }
    const fields: AuditFields = { method: request.method, operation: route?.operation, keyStoreId: route?.keyStoreId, externalKeyId: route?.externalKeyId };
    let store: XksKeyStoreView | undefined;
    let body: JsonObject | undefined;
    try {
      if (!route) throw new XksError('InvalidUriPathException', 'The URI path is not a path of this XKS proxy');
      if (request.method !== 'POST') throw new XksError('MethodNotAllowed', 'XKS operations take POST only', { allow: 'POST' });
      // Everything that needs no state comes first: a stranger's request costs no state read.
      const signed = this.verifier.checkShape(request);
      // Cached state and secrets are used at once: no promise, no deadline timer (nothing to wait for).
      const cachedStore = this.state.cachedKeyStore(route.keyStoreId);
      store = cachedStore ? cachedStore.value : await withinDeadline(this.state.getKeyStore(route.keyStoreId), deadlineAt, 'state');
      if (!store) throw new XksError('InvalidUriPathException', 'No key store answers at this URI path');
      this.checkClientCertificate(request, store);
      const credential = this.verifier.credentialFor(store, signed);
      const secret = this.secrets.cached(credential) ?? (await withinDeadline(this.secrets.resolve(credential), deadlineAt, 'secret store'));
      this.verifier.checkSignature(request, signed, credential, secret);
      fields.accessKeyId = credential.accessKeyId;
      effects.credentialUse?.note(store.id, credential.id);
      this.health.noteTraffic(store);
      const operation = OPERATIONS[route.operation];
      body = (operation.readBody ?? parseJsonObject)(request.rawBody);
      if (store.blocked) throw new XksError('InvalidStateException', 'The key store is blocked');
      const input = operation.parse(body);
      let result: object;
      if (operation.scope === 'store') {
        result = await operation.enact({ store, keyCrypto: effects.keyCrypto, health: this.health, proxyInfo: this.proxyInfo, deadlineAt }, input);
      } else {
        const externalKeyId = route.externalKeyId ?? '';
        if (!isValidExternalKeyId(externalKeyId)) {
          throw new XksError('ValidationException', 'externalKeyId must be at most 128 characters of A-Z, a-z, 0-9, hyphen, period and underscore');
        }
        const cachedKey = this.state.cachedKey(store.id, externalKeyId);
        const key = cachedKey ? cachedKey.value : await withinDeadline(this.state.getKey(store.id, externalKeyId), deadlineAt, 'state');
        if (!key) throw new XksError('KeyNotFoundException', 'The external key was not found');
        result = await operation.enact({ store, key, keyCrypto: effects.keyCrypto, health: this.health, proxyInfo: this.proxyInfo, deadlineAt }, input);
      }
      const latencyMs = roundLatency(performance.now() - started);
      if (store.enableSuccessAuditEvent) effects.audit.success(withRequestMetadata(fields, body), latencyMs);
      else if (this.logSuccesses) effects.audit.successCompact(fields, input.requestMetadata.kmsRequestId, latencyMs);
      effects.metrics?.request({ operation: route.operation, keyStoreId: store.id, latencyMs });
      return jsonResponse(200, result);
    } catch (error) {
      const latencyMs = roundLatency(performance.now() - started);
      const xksError = toXksError(error);
      effects.audit.failure(withRequestMetadata(fields, body), xksError.status, xksError.errorName, latencyMs, xksError);
      effects.metrics?.request({ operation: route?.operation, keyStoreId: store?.id, errorName: xksError.errorName, latencyMs });
      return xksError.toResponse();
    }
  }

  /**
   * A store with mTLS accepts only requests whose client certificate the front door verified
   * against the trusted CA, with the subject name AWS KMS uses for the store's region.
   */
  private checkClientCertificate(request: XksRequest, store: XksKeyStoreView): void {
    if (!store.mtlsEnabled) return;
    if (request.clientCertificateVerified !== true) {
      throw new XksError('AuthenticationFailedException', 'This key store requires a verified TLS client certificate', {
        cause: new Error('no verified client certificate'),
      });
    }
    const expected = this.mtlsSubjectCn(store);
    if (request.clientCertificateSubjectCn !== expected) {
      throw new XksError('AuthenticationFailedException', 'The TLS client certificate subject is not accepted by this key store', {
        cause: new Error(`client certificate CN ${JSON.stringify(request.clientCertificateSubjectCn)} is not ${expected}`),
      });
    }
  }

}

/**
 * The audit line's fields plus the request metadata KMS sent, read from the body only when a line
 * is written (most successes write none); a body that did not parse adds nothing.
 */
function withRequestMetadata(fields: AuditFields, body: JsonObject | undefined): AuditFields {
  return body === undefined ? fields : { ...fields, ...metadataForAudit(body) };
}
