/**
 * The conformance suite's system under test: the real HTTPS server (lambdas/xks-proxy/https-server.ts)
 * over a real SoftHSM2 token (Pkcs11KeyCrypto), keys generated inside the token by the HSM agent,
 * a real Powertools logger whose stdout is captured, and key store / key state supplied by a
 * `StateBackend` (control-plane services over DynamoDB Local, or in memory).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_CALL_TIMEOUT_MS, pkcs11Config } from '../../../lambdas/adapters/pkcs11/config';
import { Pkcs11KeyCrypto } from '../../../lambdas/adapters/pkcs11/key-crypto';
import type { KeyAttributeName } from '../../../lambdas/contract/hsm';
import type { XksStateSource } from '../../../lambdas/core/ports/xks-state-source';
import { Pkcs11HsmAgent } from '../../../lambdas/adapters/pkcs11/hsm-agent';
import { startXksHttpsServer, type XksHttpsServer } from '../../../lambdas/xks-proxy/entry/https-server';
import { xksProxyUriPath } from '../../../lambdas/contract/xks-proxy-uri';
import type { XksProxyOptions } from '../../../lambdas/xks-proxy/xks-proxy';
import { ensureSelfSignedCert } from '../../../lambdas/local/self-signed-cert';
import { createTestToken, type TestToken } from '../../helpers/softhsm';
import { createClientPki, type ClientCertFiles, type ClientPki } from './client-certs';
import { signWithSmithy, type XksSigningCredential } from './signing';

export const REGION = 'us-east-1';
export const AES_ATTRIBUTES: readonly KeyAttributeName[] = ['CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_WRAP', 'CKA_UNWRAP', 'CKA_SENSITIVE', 'CKA_TOKEN', 'CKA_PRIVATE'];

/** A key store as provisioned for the suite. */
export interface ProvisionedStore {
  readonly storeId: string;
  readonly region: string;
  /** Its credentials, first one first. */
  readonly credentials: readonly XksSigningCredential[];
}

/** How the suite changes control-plane state (the same operations an operator uses). */
export interface StateBackend {
  readonly source: XksStateSource;
  /** The DynamoDB Local table holding the state, when there is one. */
  readonly stateTableName?: string;
  createStore(options: { readonly mtlsEnabled?: boolean; readonly enableSuccessAuditEvent?: boolean }): Promise<ProvisionedStore>;
  /** A HYOK key in the store over a new HSM key with these attributes; returns its external key id. */
  createKey(storeId: string, attributes?: readonly KeyAttributeName[]): Promise<string>;
  setStoreBlocked(storeId: string, blocked: boolean): Promise<void>;
  setKeyBlocked(storeId: string, externalKeyId: string, blocked: boolean): Promise<void>;
  /** A new version over a new HSM key; new encryptions use it. */
  rotateKey(storeId: string, externalKeyId: string): Promise<void>;
  /** Adds a credential (rotation) and returns it. */
  addCredential(storeId: string): Promise<XksSigningCredential>;
  deleteCredential(storeId: string, accessKeyId: string): Promise<void>;
  dispose(): Promise<void>;
}

export type BackendFactory = (context: { readonly token: TestToken; readonly agent: Pkcs11HsmAgent }) => Promise<StateBackend>;

export interface XksCallOptions {
  readonly credential?: XksSigningCredential;
  readonly region?: string;
  readonly method?: string;
  readonly signingDate?: Date;
  readonly unsigned?: boolean;
  readonly rawBody?: Buffer;
  readonly extraHeaders?: Record<string, string>;
  readonly clientCert?: ClientCertFiles;
}

export interface XksCallResult {
  readonly status: number;
  /** The request went over a connection kept alive from an earlier one. */
  readonly reusedSocket: boolean;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary response fields
  readonly json: any;
}

export interface ConformanceEnv {
  readonly url: string;
  /** `localhost:<port>`: the Host header requests carry. */
  readonly host: string;
  /** The server certificate, which clients use as their CA (curl --cacert). */
  readonly caCertPath: string;
  readonly pki: ClientPki;
  readonly token: TestToken;
  readonly backend: StateBackend;
  readonly workDir: string;
  /** Everything the process wrote to stdout and stderr since the env started (the logger's lines). */
  readonly output: string[];
  /** Signs `call`s that name no credential. */
  defaultCredential?: XksSigningCredential;
  path(storeId: string, operation: 'health' | 'metadata' | 'encrypt' | 'decrypt', externalKeyId?: string): string;
  call(path: string, body: unknown, options?: XksCallOptions): Promise<XksCallResult>;
  close(): Promise<void>;
}

export async function startConformanceEnv(createBackend: BackendFactory, proxyOptions: XksProxyOptions = {}): Promise<ConformanceEnv> {
  const workDir = mkdtempSync(join(tmpdir(), 'xks-conformance-'));
  const token = await createTestToken({ prefix: 'xks' });
  const agent = new Pkcs11HsmAgent(pkcs11Config({ callTimeoutMs: AGENT_CALL_TIMEOUT_MS }), token.secretStore);
  const backend = await createBackend({ token, agent });
  const tls = ensureSelfSignedCert(join(workDir, 'tls'));
  const pki = createClientPki(workDir, REGION);

  // Powertools writes info to stdout and warn/error to stderr: both are captured (and kept out of
  // the test report; a failing test can print `output`).
  const output: string[] = [];
  const restoreStreams = [process.stdout, process.stderr].map((stream) => {
    const originalWrite = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      output.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const callback = rest.find((arg): arg is () => void => typeof arg === 'function');
      callback?.();
      return true;
    }) as typeof stream.write;
    return () => {
      stream.write = originalWrite;
    };
  });

  // A generous HSM budget: the suite checks results on a busy test machine; the benchmark measures speed.
  const keyCrypto = new Pkcs11KeyCrypto(pkcs11Config({ callTimeoutMs: 5_000 }), token.secretStore);
  const server: XksHttpsServer = await startXksHttpsServer({
    host: 'localhost',
    port: 0,
    keyPath: tls.keyPath,
    certPath: tls.certPath,
    clientCaPath: pki.caCertPath,
    deps: {
      state: backend.source,
      keyCrypto,
      secrets: token.secretStore,
      logger: new Logger({ serviceName: 'xks-proxy-conformance' }),
      // As for the HSM: results, not speed, on a busy test machine (DynamoDB Local may be slow).
      proxyOptions: { requestTimeoutMs: 10_000, ...proxyOptions },
    },
  });
  const host = `localhost:${new URL(server.url).port}`;
  const agents = new Map<string, Agent>();
  const agentFor = (cert?: ClientCertFiles): Agent => {
    const id = cert?.certPath ?? 'none';
    let found = agents.get(id);
    if (!found) {
      found = new Agent({
        keepAlive: true,
        ca: readFileSync(tls.certPath),
        ...(cert ? { cert: readFileSync(cert.certPath), key: readFileSync(cert.keyPath) } : {}),
      });
      agents.set(id, found);
    }
    return found;
  };

  async function call(path: string, body: unknown, options: XksCallOptions = {}): Promise<XksCallResult> {
    const rawBody = options.rawBody ?? Buffer.from(JSON.stringify(body));
    const method = options.method ?? 'POST';
    const headers = options.unsigned
      ? { host, 'content-type': 'application/json', ...options.extraHeaders }
      : await signWithSmithy({
          credential: options.credential ?? requireDefaultCredential(),
          region: options.region ?? REGION,
          host,
          path,
          body: rawBody,
          method,
          signingDate: options.signingDate,
          extraHeaders: options.extraHeaders,
        });
    return new Promise((resolve, reject) => {
      const request = httpsRequest(
        { host: 'localhost', port: Number(new URL(server.url).port), path, method, headers: { ...headers, 'content-length': String(rawBody.length) }, agent: agentFor(options.clientCert) },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = text ? JSON.parse(text) : undefined;
            } catch {
              json = undefined;
            }
            resolve({ status: response.statusCode ?? 0, reusedSocket: request.reusedSocket, headers: response.headers, text, json });
          });
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(rawBody);
    });
  }

  function requireDefaultCredential(): XksSigningCredential {
    if (!env.defaultCredential) throw new Error('call() needs options.credential or env.defaultCredential');
    return env.defaultCredential;
  }

  const env: ConformanceEnv = {
    url: server.url,
    host,
    caCertPath: tls.certPath,
    pki,
    token,
    backend,
    workDir,
    output,
    path: (storeId, operation, externalKeyId) =>
      operation === 'health' ? `${xksProxyUriPath(storeId)}/health` : `${xksProxyUriPath(storeId)}/keys/${externalKeyId}/${operation}`,
    call,
    async close() {
      for (const agentInstance of agents.values()) agentInstance.destroy();
      await server.close();
      await backend.dispose();
      for (const restore of restoreStreams) restore();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
  return env;
}

/** Random bytes recorded as sensitive, so the suite can check that no log line carries them. */
export class SensitiveValues {
  private readonly values: Buffer[] = [];

  random(size: number): Buffer {
    const value = randomBytes(size);
    this.values.push(value);
    return value;
  }

  add(value: Buffer | string): void {
    this.values.push(Buffer.isBuffer(value) ? value : Buffer.from(value));
  }

  /** The encodings a leak could take: Base64 (as sent), hex, and raw text for printable values. */
  forms(): string[] {
    const forms: string[] = [];
    for (const value of this.values) {
      if (value.length < 6) continue;
      forms.push(value.toString('base64'), value.toString('hex'));
      const text = value.toString('utf8');
      if (/^[\x20-\x7e]+$/.test(text)) forms.push(text);
    }
    return forms;
  }
}
