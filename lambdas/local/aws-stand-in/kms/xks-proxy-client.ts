/**
 * Calls an external key store's XKS proxy as AWS KMS does: `POST <UriPath>/health`,
 * `<UriPath>/keys/<XksKeyId>/metadata|encrypt|decrypt`, JSON bodies, SigV4-signed (service
 * `kms-xks-proxy`, the store's region) with the store's current credential, over HTTPS trusting
 * the given CA, with AWS KMS's 250 ms timeout.
 *
 * Locally every URI endpoint reaches one proxy (`baseUrl`), as the VPC endpoint service's private
 * DNS name or the public DNS name would on AWS: the connection, TLS server name and Host header
 * are the base URL's, the path is the store's.
 *
 * Outcomes are values, not exceptions: what went wrong decides a different KMS exception per
 * calling operation (xks-errors.ts).
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { Agent, request } from 'node:https';
import { request as httpRequest, Agent as HttpAgent } from 'node:http';
import type { JsonObject } from '../operation-registry';
import type { XksStoreFields } from './custom-key-store-record';

export const XKS_SIGNING_SERVICE = 'kms-xks-proxy';
/** AWS KMS waits this long for each proxy answer. */
export const XKS_TIMEOUT_MS = 250;

export type XksCallFailure =
  /** The proxy answered with the spec's error body. */
  | { readonly kind: 'errorName'; readonly errorName: string; readonly status: number }
  | { readonly kind: 'unreachable'; readonly detail: string }
  | { readonly kind: 'tls'; readonly detail: string }
  | { readonly kind: 'timeout' }
  /** Not JSON, or not the spec's shape. */
  | { readonly kind: 'malformed'; readonly detail: string };

export type XksCallResult = { readonly ok: true; readonly body: JsonObject } | { readonly ok: false; readonly failure: XksCallFailure };

export interface XksProxyClientOptions {
  /** Where every URI endpoint leads, e.g. `https://127.0.0.1:8443`. */
  readonly baseUrl: string;
  /** PEM text of the CA to trust for the proxy's certificate (the system CAs when absent). */
  readonly caCert?: string;
  /** @default 250 (AWS KMS's timeout) */
  readonly timeoutMs?: number;
}

export class XksProxyClient {
  private readonly base: URL;
  private readonly agent: Agent | HttpAgent;
  private readonly timeoutMs: number;

  constructor(options: XksProxyClientOptions) {
    this.base = new URL(options.baseUrl);
    this.timeoutMs = options.timeoutMs ?? XKS_TIMEOUT_MS;
    this.agent = this.base.protocol === 'https:' ? new Agent({ keepAlive: true, ca: options.caCert }) : new HttpAgent({ keepAlive: true });
  }

  /** `operationPath` is `health` or `keys/<id>/metadata|encrypt|decrypt`. */
  async call(store: XksStoreFields, region: string, operationPath: string, body: JsonObject): Promise<XksCallResult> {
    const path = `${this.base.pathname.replace(/\/$/, '')}${store.uriPath}/${operationPath}`;
    const payload = JSON.stringify(body);
    const signer = new SignatureV4({
      service: XKS_SIGNING_SERVICE,
      region,
      credentials: { accessKeyId: store.credential.accessKeyId, secretAccessKey: store.credential.rawSecretAccessKey },
      sha256: Sha256,
    });
    const signed = await signer.sign({
      method: 'POST',
      protocol: this.base.protocol,
      hostname: this.base.hostname,
      port: this.base.port ? Number(this.base.port) : undefined,
      path,
      query: {},
      headers: { host: this.base.host, 'content-type': 'application/json' },
      body: payload,
    });
    return this.send(path, signed.headers as Record<string, string>, payload);
  }

  close(): void {
    this.agent.destroy();
  }

  private send(path: string, headers: Record<string, string>, payload: string): Promise<XksCallResult> {
    const send = this.base.protocol === 'https:' ? request : httpRequest;
    return new Promise((resolve) => {
      let settled = false;
      const finish = (result: XksCallResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const outgoing = send(
        { method: 'POST', host: this.base.hostname, port: this.base.port || undefined, path, headers, agent: this.agent },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', (error) => finish({ ok: false, failure: { kind: 'unreachable', detail: error.message } }));
          response.on('end', () => finish(interpret(response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))));
        },
      );
      const timer = setTimeout(() => {
        finish({ ok: false, failure: { kind: 'timeout' } });
        outgoing.destroy();
      }, this.timeoutMs);
      outgoing.on('error', (error: NodeJS.ErrnoException) => finish({ ok: false, failure: classifyNetworkError(error) }));
      outgoing.end(payload);
    });
  }
}

function interpret(status: number, text: string): XksCallResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, failure: { kind: 'malformed', detail: `HTTP ${status}, body is not JSON` } };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { ok: false, failure: { kind: 'malformed', detail: `HTTP ${status}, body is not an object` } };
  const body = parsed as JsonObject;
  if (status >= 200 && status < 300) return { ok: true, body };
  if (typeof body.errorName === 'string') return { ok: false, failure: { kind: 'errorName', errorName: body.errorName, status } };
  return { ok: false, failure: { kind: 'malformed', detail: `HTTP ${status} without errorName` } };
}

const TLS_ERROR = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME|ALTNAME/i;

function classifyNetworkError(error: NodeJS.ErrnoException): XksCallFailure {
  const code = error.code ?? '';
  if (TLS_ERROR.test(code) || TLS_ERROR.test(error.message)) return { kind: 'tls', detail: `${code} ${error.message}` };
  return { kind: 'unreachable', detail: `${code} ${error.message}` };
}
